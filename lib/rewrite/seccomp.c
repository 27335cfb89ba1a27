/* [seccomp] The seccomp modifier: every container gets a profile (the policy's default when the
 * spec has none), checked as runsc will read it, then merged with the policy's deny rules
 * (seccomp_merge.c). The policy section and the profile checks are policy/seccomp_policy.c. */
#include "seccomp.h"

#include <errno.h>

#include "policy.h"
#include "seccomp_int.h"
#include "spec_keys.h"
#include "spec_rewrite.h"

/* The fields runsc reads on the way to the profile (see seccomp_policy.c for why twins count). */
static const char *const spec_fields[] = { "linux", NULL };
static const char *const linux_fields[] = { "seccomp", NULL };

int
rh_seccomp_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  const struct rh_seccomp_policy *sp = &ctx->policy->seccomp;
  json_t *lnx = json_object_get (spec, "linux");
  json_t *prof;

  if (rh_json_check_go_keys (spec, "spec", spec_fields, err) < 0)
    return -1;
  if (!rh_seccomp_is_absent (lnx) && !json_is_object (lnx))
    return rh_error_set (err, EINVAL, "linux: expected an object");
  if (json_is_object (lnx) && rh_json_check_go_keys (lnx, "linux", linux_fields, err) < 0)
    return -1;
  prof = json_object_get (lnx, "seccomp");
  if (rh_seccomp_is_absent (prof))
    {
      /* No profile (a client that leaves seccomp to the runtime, or --privileged, or
       * seccomp=unconfined): the sandbox still gets one. Without it runsc applies none. */
      const json_t *dflt;
      const char *source;
      if (rh_seccomp_default_profile (sp, &dflt, &source, err) < 0)
        {
          if (err->code == ENOENT)
            return rh_error_prefix (err, "the spec has no linux.seccomp and the default seccomp profile cannot be "
                                         "read (policy key seccomp.default_profile)");
          return rh_error_prefix (err, "the spec has no linux.seccomp and the default seccomp profile is refused");
        }
      if (rh_seccomp_is_absent (lnx))
        {
          lnx = json_object ();
          json_object_set_new (spec, "linux", lnx);
        }
      prof = json_deep_copy (dflt);
      json_object_set_new (lnx, "seccomp", prof);
      rh_log_info (ctx->log, "seccomp: the spec has no profile; installed the default profile %s (policy key "
                             "seccomp.default_profile)", source);
    }
  if (rh_seccomp_check_profile (prof, "linux.seccomp", err) < 0)
    return rh_error_prefix (err, "seccomp profile refused");
  return rh_seccomp_merge (prof, sp, ctx->log, err);
}

