/* [gate] The attestation-gate policy section and the spec modifier that wires a sandbox's gate
 * socket in place of the TEE socket.
 *
 *   "gate": { "enabled": false, "upstream": "/run/container_launcher/teeserver.sock", ... }
 *
 * Owned by the gate work; this is the initial stub. */
#ifndef RH_GATE_POLICY_H
#define RH_GATE_POLICY_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"
#include "log.h"

struct rh_policy;
struct rh_rewrite_ctx;

struct rh_gate_policy
{
  bool enabled;
  char *upstream;   /* absolute path of the real TEE server socket */
  char *socket_dir; /* where per-sandbox sockets live */
};

int rh_gate_policy_parse (json_t *section, struct rh_policy *p, rh_error *err);
void rh_gate_policy_free (struct rh_gate_policy *g);

/* Spec modifier: when enabled, bind-mount the sandbox's gate socket at RH_TEE_SOCKET. */
int rh_gate_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);

/* Called by `runsc-host create/run` after the rewrite and before runsc starts: make sure the
 * sandbox's gate socket exists (the bind mount needs its source). No-op when disabled. */
int rh_gate_prepare (const struct rh_policy *p, const char *container_id, const struct rh_logger *log,
                     rh_error *err);
/* Called by `runsc-host delete`: drop the sandbox's gate socket. Idempotent. */
int rh_gate_release (const struct rh_policy *p, const char *container_id, const struct rh_logger *log,
                     rh_error *err);

#endif
