/* The cgroupsPath modifier of the spec rewrite (see cgroups_path.h for the reasons). */
#include "cgroups_path.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "policy.h"
#include "spec_rewrite.h"
#include "util.h"


static bool
any_match (char *const *pats, const char *s, int flags)
{
  for (; pats && *pats; pats++)
    if (fnmatch (*pats, s, flags) == 0)
      return true;
  return false;
}

#define DENY(key, ...)                                                                                     \
  rh_error_set (err, EPERM, "linux.cgroupsPath %s denied by policy (cgroups." key "): " __VA_ARGS__)

static int
check_cgroupfs (const char *path, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  const struct rh_cgroups_policy *c = &ctx->policy->cgroups;
  _cleanup_free_ char *parent = NULL, *egress = NULL;
  const char *leaf, *s;

  if (path[0] != '/')
    return DENY ("allowed_parents", "not an absolute path (runsc would put it under its own group)", path);
  for (s = path + 1;; )
    {
      size_t n = strcspn (s, "/");
      if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return DENY ("allowed_parents", "empty, \".\" or \"..\" component", path);
      if (s[n] == '\0')
        break;
      s += n + 1;
    }
  leaf = strrchr (path, '/') + 1;
  if (leaf == path + 1)
    return DENY ("allowed_parents", "a top-level group has no parent of the runtime's", path);
  parent = rh_xstrdup (path);
  parent[leaf - 1 - path] = '\0';
  egress = rh_xasprintf ("/%s", ctx->policy->egress.cgroup_parent ? ctx->policy->egress.cgroup_parent : "");
  if (ctx->policy->egress.cgroup_parent && (strcmp (parent, egress) == 0 || rh_str_has_prefix (parent, egress)))
    {
      size_t el = strlen (egress);
      if (parent[el] == '\0' || parent[el] == '/')
        return DENY ("denied_parents", "inside runsc-host's egress parent (egress.cgroup_parent)", path);
    }
  if (any_match (c->denied_parents, parent, FNM_PATHNAME))
    return DENY ("denied_parents", "parent %s is denied", path, parent);
  if (!any_match (c->allowed_parents, parent, FNM_PATHNAME))
    return DENY ("allowed_parents", "parent %s is not allowed", path, parent);
  if (c->leaf_is_container_id && ctx->container_id && strcmp (leaf, ctx->container_id) != 0)
    return DENY ("leaf_is_container_id", "the last component must be the container id %s", path, ctx->container_id);
  return 0;
}

static int
check_systemd (const char *path, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  const struct rh_cgroups_policy *c = &ctx->policy->cgroups;
  _cleanup_free_ char *copy = rh_xstrdup (path);
  char *slice = copy, *prefix, *name;

  prefix = strchr (slice, ':');
  name = prefix ? strchr (prefix + 1, ':') : NULL;
  if (prefix == NULL || name == NULL || strchr (name + 1, ':') != NULL)
    return DENY ("allowed_slices", "a systemd path has exactly three parts, slice:prefix:name", path);
  *prefix++ = '\0';
  *name++ = '\0';
  if (strchr (path, '/') != NULL || strstr (path, "..") != NULL)
    return DENY ("allowed_slices", "\"/\" or \"..\" in a systemd path", path);
  if (*prefix == '\0' || *name == '\0')
    return DENY ("allowed_slices", "empty prefix or name", path);
  /* runc and runsc read an empty slice as system.slice. */
  if (!any_match (c->allowed_slices, *slice ? slice : "system.slice", 0))
    return DENY ("allowed_slices", "slice %s is not allowed", path, *slice ? slice : "system.slice");
  if (c->leaf_is_container_id && ctx->container_id && strcmp (name, ctx->container_id) != 0)
    return DENY ("leaf_is_container_id", "the name must be the container id %s", path, ctx->container_id);
  return 0;
}

int
rh_cgroups_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  json_t *lnx = json_object_get (spec, "linux");
  json_t *cp;
  const char *path;

  if (lnx == NULL || json_is_null (lnx))
    return 0;
  if (!json_is_object (lnx))
    return rh_error_set (err, EINVAL, "linux: expected an object");
  cp = json_object_get (lnx, "cgroupsPath");
  if (cp == NULL || json_is_null (cp))
    return 0;
  if (!json_is_string (cp))
    return rh_error_set (err, EINVAL, "linux.cgroupsPath: expected a string");
  path = json_string_value (cp);
  if (json_string_length (cp) != strlen (path))
    return rh_error_set (err, EPERM, "linux.cgroupsPath denied by policy (cgroups.allowed_parents): NUL byte");
  if (*path == '\0')
    return 0;
  if (path[0] != '/' && strchr (path, ':') != NULL)
    return check_systemd (path, ctx, err);
  return check_cgroupfs (path, ctx, err);
}
