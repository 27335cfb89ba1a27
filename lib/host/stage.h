/* Staging: what runsc mounts is the object that was checked.
 *
 * The rewrite resolves root.path and every bind source and pins the resolved path into the spec
 * (spec_rewrite.c). A path is still a name, though: between the check and runsc's own mount, a
 * process that can write a directory on the way (a workload's volume) could rename a directory
 * and put a symlink in its place. Staging closes that gap. runsc-host enters a mount namespace
 * of its own (runsc, its gofer and its sandbox inherit it; the host never sees it), mounts a
 * private tmpfs at <state_dir>/stage, opens each pinned bind source with openat2(RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS) (so a symlink appearing anywhere on the path fails the open), checks
 * that the descriptor is the pinned path, bind-mounts it from the descriptor into the tmpfs, and
 * points the spec at that copy. Nothing is left on the host: the namespace, and the mounts in it,
 * go away with the last process in it (the sandbox). docs/rewrite.md, "Pinning and staging". */
#ifndef RH_STAGE_H
#define RH_STAGE_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"
#include "log.h"
#include "policy.h"

struct rh_stage
{
  const char *dir;           /* <state_dir>/stage: the tmpfs goes here, in our namespace only */
  const struct rh_logger *log;
  const struct rh_policy *policy; /* to leave the gate's own mount alone (made after staging) */
  const char *container_id;
  bool entered;              /* the namespace and the tmpfs exist */
};

/* Stage the source of every bind mount of a rewritten spec (whose paths are already pinned:
 * absolute and resolved), and check that root.path still is exactly its pinned path (the root is
 * not moved: runsc's delete uses root.path from the host's namespace). Enters the private mount
 * namespace on first use, so it must run in the process that then execs runsc. On a kernel without openat2 nothing is
 * staged (the pinned paths stay) and a warning is logged. */
int rh_stage_spec (json_t *spec, struct rh_stage *st, rh_error *err);

#endif
