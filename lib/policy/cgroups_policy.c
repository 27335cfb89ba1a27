/* The "cgroups" policy section: the parents and slices a container's cgroupsPath may name (see
 * cgroups_path.h for the reasons; the modifier is rewrite/cgroups_path.c). */
#include "cgroups_path.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "policy.h"
#include "util.h"

/* containerd puts a container at /<namespace>/<id> (ctr, nerdctl, and docker's /docker/<id>
 * or its --cgroup-parent), so any one top-level group is a parent, except the host's own
 * systemd groups and the bare kubepods roots. The kubelet's cgroupfs driver gives
 * /kubepods[/burstable|/besteffort]/pod<uid>/<id>. */
static const char *const default_allowed_parents[] = { "/*", "/kubepods/pod*", "/kubepods/burstable/pod*",
                                                       "/kubepods/besteffort/pod*", NULL };
static const char *const default_denied_parents[] = { "/system.slice", "/user.slice", "/init.scope", "/machine.slice",
                                                      "/kubepods",     "/kubepods.slice", NULL };
/* systemd driver: docker and nerdctl use system.slice:<prefix>:<id>, the kubelet
 * kubepods[-<qos>]-pod<uid>.slice:cri-containerd:<id>. */
static const char *const default_allowed_slices[] = { "system.slice", "kubepods.slice", "kubepods-*.slice", NULL };

void
rh_cgroups_policy_free (struct rh_cgroups_policy *c)
{
  rh_strv_free (c->allowed_parents);
  rh_strv_free (c->denied_parents);
  rh_strv_free (c->allowed_slices);
  memset (c, 0, sizeof *c);
}

static char **
strv_of (const char *const *v)
{
  char **out = rh_xmalloc0 (sizeof (char *));
  for (; *v; v++)
    rh_strv_push (&out, *v);
  return out;
}

static int
check_patterns (char **v, const char *key, bool absolute, rh_error *err)
{
  for (size_t i = 0; v[i]; i++)
    {
      if (absolute ? v[i][0] != '/' : (v[i][0] == '\0' || strchr (v[i], '/') != NULL))
        return rh_error_set (err, EINVAL, "policy key cgroups.%s[%zu]: %s must be %s", key, i, v[i],
                             absolute ? "an absolute pattern" : "a slice name pattern without '/'");
      if (strstr (v[i], "..") != NULL)
        return rh_error_set (err, EINVAL, "policy key cgroups.%s[%zu]: %s contains \"..\"", key, i, v[i]);
    }
  return 0;
}

int
rh_cgroups_policy_parse (json_t *section, struct rh_policy *p, rh_error *err)
{
  static const char *const keys[] = { "allowed_parents", "denied_parents", "allowed_slices", "leaf_is_container_id",
                                      "comment", NULL };
  struct rh_cgroups_policy *c = &p->cgroups;

  memset (c, 0, sizeof *c);
  c->leaf_is_container_id = true;
  if (rh_policy_expect_object (section, "cgroups", err) < 0)
    return -1;
  if (section)
    {
      json_t *cm = json_object_get (section, "comment");
      if (rh_policy_check_keys (section, "cgroups", keys, err) < 0)
        return -1;
      if (cm && !json_is_string (cm))
        return rh_error_set (err, EINVAL, "policy key cgroups.comment: expected a string");
      if (rh_policy_get_strv (section, "cgroups", "allowed_parents", &c->allowed_parents, err) < 0
          || rh_policy_get_strv (section, "cgroups", "denied_parents", &c->denied_parents, err) < 0
          || rh_policy_get_strv (section, "cgroups", "allowed_slices", &c->allowed_slices, err) < 0
          || rh_policy_get_bool (section, "cgroups", "leaf_is_container_id", &c->leaf_is_container_id, err) < 0)
        return -1;
    }
  if (c->allowed_parents == NULL)
    c->allowed_parents = strv_of (default_allowed_parents);
  if (c->denied_parents == NULL)
    c->denied_parents = strv_of (default_denied_parents);
  if (c->allowed_slices == NULL)
    c->allowed_slices = strv_of (default_allowed_slices);
  if (check_patterns (c->allowed_parents, "allowed_parents", true, err) < 0
      || check_patterns (c->denied_parents, "denied_parents", true, err) < 0
      || check_patterns (c->allowed_slices, "allowed_slices", false, err) < 0)
    return -1;
  return 0;
}
