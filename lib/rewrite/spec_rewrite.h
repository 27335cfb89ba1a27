/* The spec rewrite: a pure function from (OCI spec tree, policy, resolver) to a rewritten tree
 * or an error. It runs on create/run only.
 *
 * First the key-spelling check (spec_keys.h): a key that runsc (Go's encoding/json, which
 * matches keys case-insensitively) would read as an OCI field without it being spelled so is
 * refused, so every modifier below sees the same spec as runsc. Then modifiers run in a fixed
 * order; each is small and tested on its own:
 *   root       refuse a rootfs that is, or contains, a protected path         (mounts.c)
 *   mounts     strip/deny bind mounts that touch protected paths             (mounts.c, view.c)
 *   devices    strip protected devices and their cgroup allow rules          (devices.c)
 *   joins      sandbox joins (CRI annotations, namespace paths)              (joins.c)
 *   cgroups    cgroupsPath under an allowed parent                           (cgroups_path.c)
 *   network    remove the network namespace (runsc runs --network=host)
 *   annotations strip untrusted prefixes (dev.gvisor.*) and our own namespace
 *   caps       capability drop-list, noNewPrivileges, privileged taming     (caps.c, devices.c)
 *   seccomp    merge policy rules into linux.seccomp                        (seccomp.c)
 *   gate       bind the sandbox's gate socket at the TEE socket path        (gate_mounts.c)
 *   nerdctl    nerdctl's network and state-dir annotations                   (nerdctl_annotations.c)
 *   client_hooks  the client's hooks against the allow-list                  (client_hooks.c)
 *   hooks      inject runsc-host-hook, validate exposed ports               (hookspec.c)
 *   mark       record the policy's SHA-256 in an annotation
 * Running the rewrite on its own output gives the same output. */
#ifndef RH_SPEC_REWRITE_H
#define RH_SPEC_REWRITE_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"
#include "log.h"
#include "paths.h"
#include "policy.h"

struct rh_rewrite_ctx
{
  const struct rh_policy *policy;
  const struct rh_resolver *resolver;
  const struct rh_logger *log;  /* decisions are logged at info (changes) / debug; may be NULL */
  const char *bundle;           /* absolute bundle directory (for relative mount sources) */
  const char *container_id;
  const char *self_exe;         /* runsc-host's own binary (protected like runsc); may be NULL */
  /* rh_rewrite_bundle only: called on the rewritten tree before it is written (runsc-host
   * create stages the pinned paths here, stage.h). May be NULL. */
  int (*stage) (json_t *spec, void *data, rh_error *err);
  void *stage_data;
};

/* Rewrite spec in place. On error the tree may be partly modified: callers drop it and never
 * write it (rh_rewrite_bundle discards it; the client's original is kept as text). */
int rh_spec_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);

/* Does mount m (an object of "mounts") ask for a bind: type bind/rbind, or an option bind/rbind
 * (also inside a comma-joined option such as "ro,rbind"), in any case? The one detector that the
 * modifiers and staging use. */
bool rh_mount_is_bind (json_t *m);

/* Individual modifiers (exposed for unit tests). */
int rh_rewrite_root (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);
int rh_rewrite_mounts (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);
int rh_rewrite_devices (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);
/* The capabilities step's part of the devices modifier (devices.c): a privileged spec's broad allow
 * rules replaced by deny-all and the standard devices. */
int rh_devices_tame_privileged (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);
int rh_rewrite_network (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);
int rh_rewrite_annotations (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);
int rh_rewrite_mark (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);

/* The two ends of rh_rewrite_bundle, exposed for the benchmark. Parse a config.json text (path
 * names it in errors): a JSON object without duplicate keys. */
int rh_spec_parse (const char *path, const char *text, size_t len, json_t **out, rh_error *err);
/* The text written to config.json: JSON_INDENT (2) | JSON_PRESERVE_ORDER and one trailing
 * newline, in a malloc'd buffer of *len bytes (NUL-terminated); in_len (the input's size) sizes
 * the first buffer. NULL when the dump fails. */
char *rh_spec_serialise (json_t *spec, size_t in_len, size_t *len);

/* The whole create-time step on a bundle directory: read <bundle>/config.json (size-capped),
 * parse, rewrite the parsed tree, keep the original text as config.json.orig (unless the input is
 * already our output), and replace config.json atomically. On any error config.json is
 * untouched. */
int rh_rewrite_bundle (const char *bundle, const struct rh_rewrite_ctx *ctx, rh_error *err);

#endif
