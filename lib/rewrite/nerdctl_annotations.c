/* The nerdctl annotation checks of the spec rewrite (see nerdctl_annotations.h for why). */
#include "nerdctl_annotations.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "cleanup.h"
#include "paths.h"
#include "policy.h"
#include "spec_rewrite.h"
#include "util.h"

#define K_NETWORKS "nerdctl/networks"
#define K_STATE_DIR "nerdctl/state-dir"

static int
check_networks (const char *text, rh_error *err)
{
  _cleanup_json_ json_t *list = json_loads (text, JSON_REJECT_DUPLICATES, NULL);
  json_t *n;
  size_t i;

  if (!json_is_array (list))
    return rh_error_set (err, EINVAL, "annotation %s: expected a JSON list of network names, got %.80s", K_NETWORKS,
                         text);
  json_array_foreach (list, i, n)
    {
      const char *name = json_string_value (n);
      if (name == NULL)
        return rh_error_set (err, EINVAL, "annotation %s[%zu]: expected a network name", K_NETWORKS, i);
      if (strcmp (name, "host") != 0)
        return rh_error_set (err, EPERM,
                             "nerdctl network %.80s denied by policy (built-in rule: host networking): runsc-host "
                             "runs every container on the host's network, and nerdctl's hook would wire this "
                             "network into it; use --net=host (compose: network_mode: host)",
                             name);
    }
  return 0;
}

/* Is clean (an absolute clean path) nerdctl's layout for container id:
 * <data root>/<hash>/containers/<namespace>/<id>? */
static bool
nerdctl_layout (const char *clean, const char *id)
{
  const char *comp[4] = { NULL };
  size_t len[4] = { 0 };
  const char *end = clean + strlen (clean);
  int k = 0;

  /* The last four components, from the end. */
  while (k < 4 && end > clean)
    {
      const char *start = end;
      while (start > clean && start[-1] != '/')
        start--;
      comp[3 - k] = start;
      len[3 - k] = (size_t) (end - start);
      end = start - 1;
      k++;
    }
  if (k < 4 || end <= clean) /* and at least a data root above <hash> */
    return false;
  return len[1] == strlen ("containers") && strncmp (comp[1], "containers", len[1]) == 0
         && (id == NULL || (len[3] == strlen (id) && strncmp (comp[3], id, len[3]) == 0));
}

static int
check_state_dir (const char *dir, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  _cleanup_free_ char *clean = NULL;
  _cleanup_free_ char *res = NULL;
  const char *id = ctx->container_id;

  if (dir[0] != '/')
    return rh_error_set (err, EPERM, "annotation %s %.200s denied by policy (built-in rule: nerdctl state dir): not "
                         "an absolute path", K_STATE_DIR, dir);
  clean = rh_path_clean (NULL, dir);
  if (strcmp (clean, dir) != 0)
    return rh_error_set (err, EPERM, "annotation %s %.200s denied by policy (built-in rule: nerdctl state dir): not "
                         "a clean path (%s)", K_STATE_DIR, dir, clean);
  if (!nerdctl_layout (clean, id))
    return rh_error_set (err, EPERM, "annotation %s %.200s denied by policy (built-in rule: nerdctl state dir): not "
                         "nerdctl's layout for this container (<data root>/<hash>/containers/<namespace>/%s)",
                         K_STATE_DIR, dir, id ? id : "<id>");
  res = rh_resolve (ctx->resolver, clean, NULL);
  if (res == NULL)
    return rh_error_sys (err, errno, "annotation %s %.200s: cannot resolve on the host", K_STATE_DIR, dir);
  for (char **pp = ctx->policy->protected_paths; pp && *pp; pp++)
    if (rh_path_overlaps (clean, *pp) || rh_path_overlaps (res, *pp))
      return rh_error_set (err, EPERM, "annotation %s %.200s denied by policy (protected_paths): nerdctl's hook "
                           "would write there as root, and it overlaps protected path %s", K_STATE_DIR, dir, *pp);
  return 0;
}

int
rh_nerdctl_annotations_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  json_t *ann = json_object_get (spec, "annotations");
  const char *v;

  if (!json_is_object (ann))
    return 0;
  v = json_string_value (json_object_get (ann, K_NETWORKS));
  if (json_object_get (ann, K_NETWORKS) && v == NULL)
    return rh_error_set (err, EINVAL, "annotation %s: expected a string", K_NETWORKS);
  if (v && check_networks (v, err) < 0)
    return -1;
  v = json_string_value (json_object_get (ann, K_STATE_DIR));
  if (json_object_get (ann, K_STATE_DIR) && v == NULL)
    return rh_error_set (err, EINVAL, "annotation %s: expected a string", K_STATE_DIR);
  if (v && check_state_dir (v, ctx, err) < 0)
    return -1;
  return 0;
}
