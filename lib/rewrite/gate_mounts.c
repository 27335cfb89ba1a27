/* [gate] The gate's spec modifier: the sandbox's own gate directory bound at the TEE directory,
 * and, with the gate on, bind sources held to gate.allowed_bind_sources (runsc's --host-uds=open
 * is sandbox-wide). The policy section is policy/gate_policy.c; docs/gate.md. */
#include "gate_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "paths.h"
#include "policy.h"
#include "rewrite_view.h"
#include "spec_rewrite.h"
#include "util.h"

/* With the gate on, runsc runs with --host-uds=open, which is sandbox-wide: the workload can
 * connect to any host socket found under any of its bind mounts, not only the gate's. When the
 * operator lists where bind sources may come from, enforce it. Returns 1 to drop the mount. */
static int
police_bind_source (const struct rh_rewrite_ctx *ctx, json_t *m, size_t idx, rh_error *err)
{
  const struct rh_gate_policy *g = &ctx->policy->gate;
  const char *src = json_string_value (json_object_get (m, "source"));
  const char *dst = json_string_value (json_object_get (m, "destination"));
  _cleanup_free_ char *lex = NULL;
  _cleanup_free_ char *res = NULL;

  if (g->allowed_bind_sources == NULL || !rh_mount_is_bind (m) || src == NULL || src[0] == '\0')
    return 0;
  lex = rh_path_clean (rh_rewrite_bundle_dir (ctx), src);
  res = rh_resolve (ctx->resolver, lex, NULL);
  for (size_t i = 0; res && g->allowed_bind_sources[i]; i++)
    {
      _cleanup_free_ char *allowed = rh_resolve (ctx->resolver, g->allowed_bind_sources[i], NULL);
      if (rh_path_within (lex, g->allowed_bind_sources[i]) && allowed && rh_path_within (res, allowed))
        return 0;
    }
  if (ctx->policy->mount_action == RH_MOUNT_DENY)
    return rh_error_set (err, EPERM, "mount of %s denied by policy (gate.allowed_bind_sources): with the "
                                     "attestation gate on, a sandbox can reach host sockets under its bind mounts; "
                                     "container path %s", src, dst ? dst : "(none)");
  rh_log_info (ctx->log, "mount of %s stripped by policy (gate.allowed_bind_sources): with the attestation gate on, "
                         "a sandbox can reach host sockets under its bind mounts; container path %s (mounts[%zu])",
               src, dst ? dst : "(none)", idx);
  return 1;
}

int
rh_gate_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  const struct rh_policy *p = ctx->policy;
  _cleanup_free_ char *dir = NULL;
  json_t *mounts, *m;
  size_t i = 0;

  if (!p->gate.enabled)
    return 0;
  if (rh_gate_check_id (&p->gate, ctx->container_id, err) < 0)
    return -1;
  dir = rh_gate_sandbox_dir (&p->gate, ctx->container_id);
  mounts = json_object_get (spec, "mounts");
  if (mounts == NULL || json_is_null (mounts))
    {
      mounts = json_array ();
      json_object_set_new (spec, "mounts", mounts);
    }
  if (!json_is_array (mounts))
    return rh_error_set (err, EINVAL, "mounts: expected an array");

  /* Nothing else may sit at or below the TEE directory: a client mount there would hide our
   * socket or stand in for it. Mounts above it (a tmpfs on /run) stay; ours comes after them. */
  while (i < json_array_size (mounts))
    {
      json_t *d;
      _cleanup_free_ char *dst = NULL;

      m = json_array_get (mounts, i);
      d = json_object_get (m, "destination");
      if (!json_is_string (d))
        {
          i++;
          continue;
        }
      dst = rh_path_clean (NULL, json_string_value (d));
      if (!rh_path_within (dst, RH_TEE_DIR))
        {
          if (rh_spec_drop_or_next (mounts, &i, police_bind_source (ctx, m, i, err)) < 0)
            return -1;
          continue;
        }
      if (!rh_gate_is_own_mount (p, ctx->container_id, json_string_value (json_object_get (m, "source")),
                                 json_string_value (d)))
        rh_log_info (ctx->log, "mount at %s replaced by the sandbox's attestation gate socket (gate.enabled)",
                     json_string_value (d));
      json_array_remove (mounts, i);
    }

  /* The sandbox's own directory, read-only: the workload can connect to the socket in it but
   * not create anything there. runsc needs --host-uds=open to connect to a host socket. */
  m = json_pack ("{s:s, s:s, s:s, s:[s,s,s,s,s]}", "destination", RH_TEE_DIR, "type", "bind", "source", dir,
                 "options", "bind", "ro", "nosuid", "nodev", "noexec");
  if (m == NULL)
    return rh_error_set (err, ENOMEM, "gate: cannot build the mount");
  json_array_append_new (mounts, m);
  rh_log_debug (ctx->log, "gate: %s bound at %s", dir, RH_TEE_DIR);
  return 0;
}

