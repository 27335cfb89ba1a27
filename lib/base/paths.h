/* Host path handling for the protected-path check.
 *
 * A bind mount is refused when its host source, after lexical cleaning AND after symlink
 * resolution on the host, equals, lies inside, or is an ancestor of a protected path (itself
 * compared both lexically and resolved). Resolution goes through a resolver so that the rewrite
 * stays pure and unit-testable with a fake file system. */
#ifndef RH_PATHS_H
#define RH_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "error.h"

struct rh_devnode
{
  char *path;
  char type; /* 'c' or 'b' */
  long major;
  long minor;
};

struct rh_resolver
{
  /* Resolve every symlink in an absolute path as the host kernel would walk it ("." and ".."
   * are taken physically, after the symlinks before them); from the first component that does
   * not exist on, the rest is kept lexically and *missing (when not NULL) is set to true.
   * Returns a malloc'd absolute clean path, or NULL with errno set (ELOOP for too many links). */
  char *(*resolve) (void *data, const char *path, bool *missing);
  /* Host device nodes whose path matches the fnmatch pattern. *out is malloc'd (free each path
   * with rh_devnodes_free). */
  int (*glob_devices) (void *data, const char *pattern, struct rh_devnode **out, size_t *n);
  /* When path (absolute, resolved) is a character or block device: 1 with its type ('c'/'b')
   * and numbers; 0 when it is something else or does not exist. May be NULL. */
  int (*stat_device) (void *data, const char *path, char *type, long *major, long *minor);
  void *data;
};

/* Lexical cleaning, like Go's filepath.Clean for absolute paths: collapse "//", drop ".",
 * resolve ".." against the preceding component (never above "/"). Relative input is joined to
 * base first (base may be NULL for "/"). Returns malloc'd path. */
char *rh_path_clean (const char *base, const char *path);

/* true when a == b, a is inside b, or a is an ancestor of b (all clean absolute paths). */
bool rh_path_overlaps (const char *a, const char *b);
/* true when a == b or a lies inside b. */
bool rh_path_within (const char *a, const char *b);

/* The host path runsc itself opens for a root.path or mount source: an absolute path as
 * written (the kernel walks it, ".." physically), a relative one joined to the bundle directory
 * and cleaned lexically first, as Go's filepath.Join does (so "nope/../rootfs" is
 * "<bundle>/rootfs" whether or not "nope" exists). Returns a malloc'd string. */
char *rh_path_runsc (const char *bundle, const char *written);

/* Resolve path through r; with no resolver (or none given), the path is only cleaned. The one
 * entry point that the modifiers use. missing may be NULL. */
char *rh_resolve (const struct rh_resolver *r, const char *path, bool *missing);

/* The real host resolver (walks symlinks component by component with lstat/readlink). */
const struct rh_resolver *rh_host_resolver (void);

void rh_devnodes_free (struct rh_devnode *v, size_t n);

/* A resolver over a described file system, for unit tests and fuzzing (no I/O):
 *   {"symlinks": {"/var/run": "/run", "/vol/x": "../y"},
 *    "missing": ["/bundle/nope"],
 *    "devices": [{"path": "/dev/tpm0", "type": "c", "major": 10, "minor": 224}]}
 * Every path that is not a listed symlink, and not inside a "missing" path, counts as an
 * existing non-link. Link targets follow the host resolver's rules (relative to the link's
 * directory, 40 links at most). */
struct rh_resolver *rh_fake_resolver_new (json_t *desc, rh_error *err);
void rh_fake_resolver_free (struct rh_resolver *r);

#endif
