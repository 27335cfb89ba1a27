/* [execcaps] The capability policy for exec'd processes. See caps_exec.h and docs/cli.md. The
 * drop-list and noNewPrivileges logic itself is caps.c's (rh_caps_rewrite_process): this file
 * adds what an exec's process.json needs on top: the key-spelling check (spec_keys.c), parsing
 * and serialising, and the check of inline --cap flags. */
#include "caps_exec.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "caps.h"
#include "cleanup.h"
#include "jsonutil.h"
#include "policy.h"

int
rh_caps_filter_process (json_t *process, const struct rh_policy *p, const struct rh_logger *log, rh_error *err)
{
  if (!json_is_object (process))
    return rh_error_set (err, EINVAL, "process: expected an object");
  /* Every key of the process, at every level (user, capabilities, rlimits, ...): a twin of any
   * field would make runsc run something other than what is checked here. */
  if (rh_spec_check_process_keys (process, err) < 0)
    return -1;
  /* Types, the drop-list on the five sets, noNewPrivileges and the info log: the same code as
   * the container's own process at create, so the two can never disagree. */
  return rh_caps_rewrite_process (process, p, log, "process", err);
}

int
rh_caps_filter_process_text (const char *text, size_t len, const struct rh_policy *p,
                             const struct rh_logger *log, char **out, rh_error *err)
{
  _cleanup_json_ json_t *process = NULL;
  char *dumped;

  if (rh_json_parse ("process.json", text, len, 0, &process, err) < 0)
    return -1;
  if (rh_caps_filter_process (process, p, log, err) < 0)
    return -1;
  dumped = json_dumps (process, JSON_COMPACT);
  if (dumped == NULL)
    return rh_error_set (err, ENOMEM, "process.json: cannot serialise the filtered process");
  *out = dumped;
  return 0;
}

int
rh_caps_check_exec_caps (char *const *caps, const struct rh_policy *p, rh_error *err)
{
  for (char *const *c = caps; c && *c; c++)
    if (rh_caps_is_dropped (p, *c))
      return rh_error_set (err, EPERM, "exec --cap %s refused: the capability is dropped by policy (policy key "
                                       "capabilities.drop)", *c);
  return 0;
}
