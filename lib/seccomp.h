/* [seccomp] The seccomp policy section and the spec modifier that merges it.
 *
 *   "seccomp": { "default_profile": "/etc/runsc-host/seccomp/default.json",
 *                "deny": [ { "names": ["unshare"], "errno": "EPERM" } ] }
 *
 * Owned by the seccomp work; this is the initial stub. */
#ifndef RH_SECCOMP_H
#define RH_SECCOMP_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

struct rh_policy;
struct rh_rewrite_ctx;

struct rh_seccomp_policy
{
  char *default_profile; /* absolute path; used when the spec has no linux.seccomp */
  json_t *deny;          /* validated rule array (owned) */
};

int rh_seccomp_policy_parse (json_t *section, struct rh_policy *p, rh_error *err);
void rh_seccomp_policy_free (struct rh_seccomp_policy *s);

/* Spec modifier: merge policy rules into linux.seccomp (or install the default profile). */
int rh_seccomp_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);

#endif
