/* STUB: platform "auto" probing, to be replaced by the bench work. */
#include <string.h>

#include "policy.h"
#include "runsc_flags.h"
#include "util.h"

int
rh_runsc_resolve_platform (const struct rh_policy *p, const struct rh_logger *log, char **out, rh_error *err)
{
  if (strcmp (p->runsc.platform, "auto") == 0)
    *out = rh_xstrdup ("ptrace");
  else
    *out = rh_xstrdup (p->runsc.platform);
  return 0;
}
