/* STUB: to be replaced by the seccomp work. */
#include "seccomp.h"

#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "spec_rewrite.h"

int
rh_seccomp_policy_parse (json_t *section, struct rh_policy *p, rh_error *err)
{
  static const char *const keys[] = { "default_profile", "deny", NULL };
  if (section == NULL)
    return 0;
  if (rh_policy_expect_object (section, "seccomp", err) < 0)
    return -1;
  return rh_policy_check_keys (section, "seccomp", keys, err);
}

void
rh_seccomp_policy_free (struct rh_seccomp_policy *s)
{
  free (s->default_profile);
  if (s->deny)
    json_decref (s->deny);
  memset (s, 0, sizeof *s);
}

int
rh_seccomp_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  return 0;
}
