/* STUB: to be replaced by the seccomp work. */
#include "caps.h"

#include <string.h>

#include "policy.h"
#include "spec_rewrite.h"
#include "util.h"

int
rh_caps_policy_parse (json_t *section, struct rh_policy *p, rh_error *err)
{
  static const char *const keys[] = { "drop", NULL };
  if (section == NULL)
    return 0;
  if (rh_policy_expect_object (section, "capabilities", err) < 0)
    return -1;
  return rh_policy_check_keys (section, "capabilities", keys, err);
}

int
rh_nnp_policy_parse (json_t *value, struct rh_policy *p, rh_error *err)
{
  p->caps.no_new_privileges = true;
  if (value == NULL)
    return 0;
  if (!json_is_boolean (value))
    return rh_error_set (err, 22, "policy key no_new_privileges: expected true or false");
  p->caps.no_new_privileges = json_is_true (value);
  return 0;
}

void
rh_caps_policy_free (struct rh_caps_policy *c)
{
  rh_strv_free (c->drop);
  memset (c, 0, sizeof *c);
}

int
rh_caps_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  return 0;
}
