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
  /* Resolve every symlink in an absolute, clean path as the host sees it; components that do
   * not exist are kept as they are. Returns a malloc'd absolute clean path, or NULL with errno
   * set (ELOOP for too many links). */
  char *(*resolve) (void *data, const char *path);
  /* Host device nodes whose path matches the fnmatch pattern. *out is malloc'd (free each path
   * with rh_devnodes_free). */
  int (*glob_devices) (void *data, const char *pattern, struct rh_devnode **out, size_t *n);
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

/* The real host resolver (walks symlinks component by component with lstat/readlink). */
const struct rh_resolver *rh_host_resolver (void);

void rh_devnodes_free (struct rh_devnode *v, size_t n);

#endif
