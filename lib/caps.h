/* [seccomp] Capability policy: a drop-list applied to all five capability sets, and
 * noNewPrivileges.
 *
 *   "capabilities": { "drop": ["CAP_SYS_ADMIN", ...] }, "no_new_privileges": true
 *
 * Owned by the seccomp work; this is the initial stub. */
#ifndef RH_CAPS_H
#define RH_CAPS_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

struct rh_policy;
struct rh_rewrite_ctx;

struct rh_caps_policy
{
  char **drop;            /* "CAP_SYS_ADMIN", validated with cap_from_name */
  bool no_new_privileges; /* force process.noNewPrivileges */
};

int rh_caps_policy_parse (json_t *section, struct rh_policy *p, rh_error *err);
int rh_nnp_policy_parse (json_t *value, struct rh_policy *p, rh_error *err);
void rh_caps_policy_free (struct rh_caps_policy *c);

/* Spec modifier: drop capabilities, force noNewPrivileges, tame privileged device rules. */
int rh_caps_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);

#endif
