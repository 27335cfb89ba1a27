/* The "allow_sandbox_join" policy key (see joins.h for the reasons; the modifier is
 * rewrite/joins.c). */
#include "joins.h"

#include <errno.h>

#include "policy.h"

int
rh_joins_policy_parse (json_t *value, struct rh_policy *p, rh_error *err)
{
  p->allow_sandbox_join = false;
  if (value == NULL)
    return 0;
  if (!json_is_boolean (value))
    return rh_error_set (err, EINVAL, "policy key allow_sandbox_join: expected true or false");
  p->allow_sandbox_join = json_is_true (value);
  return 0;
}
