/* STUB: to be replaced by the gate work. */
#include "gate_policy.h"

#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "spec_rewrite.h"

int
rh_gate_policy_parse (json_t *section, struct rh_policy *p, rh_error *err)
{
  static const char *const keys[] = { "enabled", "upstream", "socket_dir", NULL };
  if (section == NULL)
    return 0;
  if (rh_policy_expect_object (section, "gate", err) < 0 || rh_policy_check_keys (section, "gate", keys, err) < 0)
    return -1;
  return rh_policy_get_bool (section, "gate", "enabled", &p->gate.enabled, err);
}

void
rh_gate_policy_free (struct rh_gate_policy *g)
{
  free (g->upstream);
  free (g->socket_dir);
  memset (g, 0, sizeof *g);
}

int
rh_gate_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  return 0;
}

int
rh_gate_prepare (const struct rh_policy *p, const char *container_id, const struct rh_logger *log,
                 rh_error *err)
{
  return 0;
}

int
rh_gate_release (const struct rh_policy *p, const char *container_id, const struct rh_logger *log,
                 rh_error *err)
{
  return 0;
}
