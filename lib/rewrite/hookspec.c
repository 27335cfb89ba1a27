/* The hooks modifier of the spec rewrite (see hookspec.h for the reasons). */
#include "hookspec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "container_id.h"
#include "paths.h"
#include "spec_rewrite.h"
#include "util.h"

/* The hook lists of the OCI runtime spec; other keys under "hooks" are left alone but are
 * searched for our path too. */
static const char *const hook_kinds[] = { "prestart", "createRuntime", "createContainer", "startContainer",
                                          "poststart", "poststop", NULL };

static json_t *
our_hook (const struct rh_policy *p, const char *command)
{
  json_t *args = json_array ();
  json_t *h;

  const char *pol[3];

  json_array_append_new (args, json_string ("runsc-host-hook"));
  rh_policy_child_args (p, pol);
  for (const char **a = pol; *a; a++)
    json_array_append_new (args, json_string (*a));
  json_array_append_new (args, json_string (command));
  h = json_object ();
  json_object_set_new (h, "path", json_string (p->hook_path));
  json_object_set_new (h, "args", args);
  /* runsc runs a hook without "env" in its own environment (Go's exec with a nil Env), which is
   * whatever the shim and containerd had: LD_LIBRARY_PATH, LD_PRELOAD, ... A fixed one keeps the
   * hook's behaviour independent of who started the runtime (and spares the loader a search). */
  json_object_set_new (h, "env", json_pack ("[s, s]", RH_HOOK_ENV_PATH, "LC_ALL=C"));
  json_object_set_new (h, "timeout", json_integer (RH_HOOK_TIMEOUT_S));
  return h;
}

/* Drop every entry of list that runs our binary; check the others' shape. */
static int
strip_ours (json_t *list, const char *kind, const char *hook_path, const struct rh_logger *log, rh_error *err)
{
  size_t i = 0;

  if (!json_is_array (list))
    return rh_error_set (err, EINVAL, "hooks.%s: expected an array", kind);
  while (i < json_array_size (list))
    {
      json_t *h = json_array_get (list, i);
      json_t *path = json_object_get (h, "path");
      _cleanup_free_ char *clean = NULL;

      if (!json_is_object (h) || !json_is_string (path))
        return rh_error_set (err, EINVAL, "hooks.%s[%zu]: expected an object with a string \"path\"", kind, i);
      if (json_string_length (path) == strlen (json_string_value (path)) && json_string_value (path)[0] == '/')
        clean = rh_path_clean (NULL, json_string_value (path));
      if (clean && strcmp (clean, hook_path) == 0)
        {
          json_t *args = json_object_get (h, "args");
          json_t *last = json_is_array (args) ? json_array_get (args, json_array_size (args) - 1) : NULL;
          /* Our own earlier output (createRuntime/poststop) goes quietly; anything else is a
           * client trying to run our binary its own way. */
          if (!(json_is_string (last)
                && ((strcmp (kind, "createRuntime") == 0 && strcmp (json_string_value (last), "createRuntime") == 0)
                    || (strcmp (kind, "poststop") == 0 && strcmp (json_string_value (last), "poststop") == 0))))
            rh_log_info (log, "hooks.%s[%zu]: removed a client hook that runs %s", kind, i, hook_path);
          json_array_remove (list, i);
          continue;
        }
      i++;
    }
  return 0;
}

int
rh_hooks_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  const struct rh_policy *p = ctx->policy;
  json_t *ann = json_object_get (spec, "annotations");
  json_t *hooks = json_object_get (spec, "hooks");
  _cleanup_free_ struct rh_port *ports = NULL;
  _cleanup_free_ char *list = NULL;
  size_t n = 0;
  const char *key;
  json_t *val;

  /* The id ends up in rule comments, a cgroup name and a file name: refuse odd ones now, not in
   * the hook after runsc has started the sandbox. */
  if (ctx->container_id && rh_container_id_check (ctx->container_id, err) < 0)
    return rh_error_prefix (err, "exposed ports");

  if (ann != NULL && json_is_null (ann))
    ann = NULL;
  if (ann != NULL && !json_is_object (ann))
    return rh_error_set (err, EINVAL, "annotations: expected an object");
  if (rh_ports_compute (ann, &p->ports, &ports, &n, err) < 0)
    return rh_error_prefix (err, "exposed ports");
  list = rh_ports_format (ports, n);

  if (hooks == NULL || json_is_null (hooks))
    {
      hooks = json_object ();
      json_object_set_new (spec, "hooks", hooks);
    }
  if (!json_is_object (hooks))
    return rh_error_set (err, EINVAL, "hooks: expected an object");
  json_object_foreach (hooks, key, val)
    {
      if (json_is_null (val))
        continue;
      if (strip_ours (val, key, p->hook_path, ctx->log, err) < 0)
        return -1;
    }
  for (const char *const *k = hook_kinds; *k; k++)
    {
      json_t *l = json_object_get (hooks, *k);
      if ((strcmp (*k, "createRuntime") == 0 || strcmp (*k, "poststop") == 0) && !json_is_array (l))
        {
          l = json_array ();
          json_object_set_new (hooks, *k, l);
        }
      if (strcmp (*k, "createRuntime") == 0)
        json_array_append_new (l, our_hook (p, "createRuntime"));
      else if (strcmp (*k, "poststop") == 0)
        json_array_append_new (l, our_hook (p, "poststop"));
    }
  rh_log_debug (ctx->log, "hooks: %s runs at createRuntime and poststop; exposed ports [%s]", p->hook_path, list);
  return 0;
}
