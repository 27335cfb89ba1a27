/* The sandbox-join modifier of the spec rewrite (see joins.h for the reasons). */
#include "joins.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "policy.h"
#include "rewrite_view.h"
#include "spec_rewrite.h"

#define K_CRI_TYPE "io.kubernetes.cri.container-type"
#define K_CRI_SANDBOX "io.kubernetes.cri.sandbox-id"
#define K_CRIO_TYPE "io.kubernetes.cri-o.ContainerType"
#define K_CRIO_SANDBOX "io.kubernetes.cri-o.SandboxID"

static const char *const type_keys[] = { K_CRI_TYPE, K_CRIO_TYPE, NULL };
static const char *const sandbox_keys[] = { K_CRI_SANDBOX, K_CRIO_SANDBOX, NULL };


static const char *
in_list (const char *key, const char *const *list, bool fold)
{
  for (const char *const *k = list; *k; k++)
    if (fold ? strcasecmp (key, *k) == 0 : strcmp (key, *k) == 0)
      return *k;
  return NULL;
}

static int
check_annotations (json_t *ann, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  const char *key;
  json_t *val;

  json_object_foreach (ann, key, val)
    {
      const char *v = json_string_value (val);
      const char *twin;
      bool is_type = in_list (key, type_keys, false) != NULL;
      bool is_sandbox = in_list (key, sandbox_keys, false) != NULL;

      if (!is_type && !is_sandbox)
        {
          twin = in_list (key, type_keys, true);
          if (twin == NULL)
            twin = in_list (key, sandbox_keys, true);
          if (twin)
            return rh_error_set (err, EPERM,
                                 "annotation %s denied by policy (allow_sandbox_join): a case variant of %s, "
                                 "which makes runsc join another sandbox",
                                 key, twin);
          continue;
        }
      if (ctx->policy->allow_sandbox_join)
        continue;
      if (v == NULL)
        return rh_error_set (err, EINVAL, "annotations.%s: expected a string", key);
      if (is_type && strcmp (v, "sandbox") != 0)
        return rh_error_set (err, EPERM,
                             "annotation %s=%s denied by policy (allow_sandbox_join): it makes runsc start the "
                             "container inside another sandbox",
                             key, v);
      if (is_sandbox && (ctx->container_id == NULL || strcmp (v, ctx->container_id) != 0))
        return rh_error_set (err, EPERM,
                             "annotation %s=%s denied by policy (allow_sandbox_join): it names another sandbox "
                             "than the container's own",
                             key, v);
    }
  return 0;
}

static int
check_namespaces (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  static const char *const joinable[] = { "pid", "ipc", "uts", "user", NULL };
  json_t *ns, *e;
  size_t i;

  if (rh_spec_namespaces (spec, &ns, err) < 0)
    return -1;
  if (ns == NULL)
    return 0;
  json_array_foreach (ns, i, e)
    {
      json_t *type = json_object_get (e, "type");
      json_t *path = json_object_get (e, "path");
      const char *t;

      if (!json_is_object (e))
        return rh_error_set (err, EINVAL, "linux.namespaces[%zu]: expected an object", i);
      if (type != NULL && !json_is_string (type))
        return rh_error_set (err, EINVAL, "linux.namespaces[%zu].type: expected a string", i);
      if (path == NULL || json_is_null (path))
        continue;
      if (!json_is_string (path))
        return rh_error_set (err, EINVAL, "linux.namespaces[%zu].path: expected a string", i);
      t = type ? json_string_value (type) : "";
      /* Go reads "" as no path. The network namespace goes in the network modifier. */
      if (json_string_length (path) == 0 || strcmp (t, "network") == 0)
        continue;
      if (ctx->policy->allow_sandbox_join && in_list (t, joinable, false))
        continue;
      return rh_error_set (err, EPERM,
                           "linux.namespaces[%zu] (%s) path %s denied by policy (allow_sandbox_join): joining "
                           "another process's namespace%s",
                           i, t, json_string_value (path),
                           ctx->policy->allow_sandbox_join ? " of this type is never allowed" : "");
    }
  return 0;
}

int
rh_joins_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  json_t *ann = json_object_get (spec, "annotations");

  if (ann != NULL && !json_is_null (ann))
    {
      if (!json_is_object (ann))
        return rh_error_set (err, EINVAL, "annotations: expected an object");
      if (check_annotations (ann, ctx, err) < 0)
        return -1;
    }
  return check_namespaces (spec, ctx, err);
}
