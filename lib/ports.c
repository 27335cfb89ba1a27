/* STUB: to be replaced by the hooks work. */
#include "ports.h"

#include <string.h>

#include "policy.h"
#include "util.h"

int
rh_ports_policy_parse (json_t *section, struct rh_policy *p, rh_error *err)
{
  static const char *const keys[] = { "static", "allow", "deny", "protocols", "max_count", NULL };
  if (section == NULL)
    return 0;
  if (rh_policy_expect_object (section, "ports", err) < 0)
    return -1;
  return rh_policy_check_keys (section, "ports", keys, err);
}

int
rh_egress_policy_parse (json_t *section, struct rh_policy *p, rh_error *err)
{
  static const char *const keys[] = { "deny", NULL };
  if (section == NULL)
    return 0;
  if (rh_policy_expect_object (section, "egress", err) < 0)
    return -1;
  return rh_policy_check_keys (section, "egress", keys, err);
}

void
rh_ports_policy_free (struct rh_ports_policy *pp)
{
  rh_strv_free (pp->static_ports);
  rh_strv_free (pp->allow);
  rh_strv_free (pp->deny);
  rh_strv_free (pp->protocols);
  memset (pp, 0, sizeof *pp);
}

void
rh_egress_policy_free (struct rh_egress_policy *e)
{
  rh_strv_free (e->deny);
  memset (e, 0, sizeof *e);
}
