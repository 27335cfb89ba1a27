/* STUB: to be replaced by the hooks work. */
#include "netrules.h"

#include "policy.h"

int
rh_netrules_remove (const struct rh_policy *p, const char *container_id, const struct rh_logger *log,
                    rh_error *err)
{
  return 0;
}
