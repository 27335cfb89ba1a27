/* [sec-mods] Spec modifier: linux.cgroupsPath must stay under the runtime's cgroup parent
 * (issue 11, class 9).
 *
 * runsc creates (or joins, when it exists) the group named by linux.cgroupsPath, moves the
 * sandbox into it and writes the spec's resource limits there; `delete` removes it again. For a
 * cgroupfs path it joins the path to each controller's mount with Go's filepath.Join, which
 * cleans ".." lexically: "/default/../../x" is "/x", a group beside every container's parent,
 * and "/" is the root group. A relative path is placed under runsc's own group. So a spec could
 * put the sandbox into, and set limits on, a group that belongs to something else: the host's
 * system.slice, another container, or runsc-host's own egress parent (whose groups the egress
 * firewall rules match).
 *
 *   "cgroups": {
 *     "allowed_parents": [...],   fnmatch (FNM_PATHNAME) patterns on the parent
 *     "denied_parents":  ["/system.slice", ...],          the same; wins over allowed_parents
 *     "allowed_slices":  ["system.slice", "kubepods-*.slice", ...],  systemd form
 *     "leaf_is_container_id": true
 *   }
 *
 * A cgroupfs path must be absolute with plain components (no "", ".", ".."), its parent (all
 * but the last component) must match an allowed and no denied pattern, and its last component
 * must be the container id. "/" + egress.cgroup_parent is always denied. A systemd path
 * ("slice:prefix:name", the form runsc --systemd-cgroup reads) must have exactly three parts,
 * none with "/" or "..", a slice matching allowed_slices, and the container id as its name. An
 * absent or empty cgroupsPath is kept (runsc then creates no group). There is no strip action:
 * removing the path would take the sandbox out of the limits its client asked for. */
#ifndef RH_CGROUPS_PATH_H
#define RH_CGROUPS_PATH_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

struct rh_policy;
struct rh_rewrite_ctx;

struct rh_cgroups_policy
{
  char **allowed_parents;
  char **denied_parents;
  char **allowed_slices;
  bool leaf_is_container_id;
};

int rh_cgroups_policy_parse (json_t *section, struct rh_policy *p, rh_error *err);
void rh_cgroups_policy_free (struct rh_cgroups_policy *c);

/* Spec modifier. */
int rh_cgroups_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);

#endif
