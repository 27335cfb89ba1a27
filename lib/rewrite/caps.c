/* [seccomp] The capabilities and noNewPrivileges modifier (the policy sections are parsed by
 * policy/caps_policy.c; device rules are rewrite/devices.c). See caps.h and docs/seccomp.md. */
#include "caps.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "caps_exec.h"
#include "cleanup.h"
#include "paths.h"
#include "policy.h"
#include "spec_rewrite.h"
#include "util.h"

static const char *const cap_sets[] = { "bounding", "effective", "inheritable", "permitted", "ambient", NULL };

/* The fields this module governs, at each level. runsc reads the spec with Go's encoding/json,
 * which also takes "Capabilities" or "NOnewprivileges" for them (the last spelling wins): such a
 * twin would undo the rewrite, so any non-canonical spelling is refused (rh_json_check_go_keys). */
static const char *const spec_fields[] = { "process", "linux", NULL };
static const char *const process_fields[] = { "capabilities", "noNewPrivileges", NULL };

static bool
is_absent (json_t *v)
{
  return v == NULL || json_is_null (v);
}

/* ---- process ---- */

int
rh_caps_rewrite_process (json_t *process, const struct rh_policy *policy, const struct rh_logger *log,
                         const char *where, rh_error *err)
{
  json_t *caps, *nnp;
  uint64_t dropped = 0;
  _cleanup_free_ char *sets = rh_xstrdup ("");

  if (!json_is_object (process))
    return rh_error_set (err, EINVAL, "%s: expected an object", where);
  if (rh_json_check_go_keys (process, where, process_fields, err) < 0)
    return -1;
  caps = json_object_get (process, "capabilities");
  if (!is_absent (caps) && !json_is_object (caps))
    return rh_error_set (err, EINVAL, "%s.capabilities: expected an object", where);
  if (json_is_object (caps))
    {
      _cleanup_free_ char *w = rh_xasprintf ("%s.capabilities", where);
      if (rh_json_check_go_keys (caps, w, cap_sets, err) < 0)
        return -1;
    }
  for (const char *const *set = cap_sets; !is_absent (caps) && *set; set++)
    {
      json_t *arr = json_object_get (caps, *set);
      size_t i = 0;
      bool touched = false;

      if (is_absent (arr))
        continue;
      if (!json_is_array (arr))
        return rh_error_set (err, EINVAL, "%s.capabilities.%s: expected an array of strings", where, *set);
      while (i < json_array_size (arr))
        {
          json_t *e = json_array_get (arr, i);
          int v;
          if (!json_is_string (e) || strlen (json_string_value (e)) != json_string_length (e))
            return rh_error_set (err, EINVAL, "%s.capabilities.%s[%zu]: expected a capability name", where, *set, i);
          /* Any spelling libcap reads as a dropped capability goes, so that no runtime can read
           * it back in ("cap_sys_admin", "21"); names libcap does not know are left to runsc,
           * which refuses them. */
          v = rh_cap_number (json_string_value (e));
          if (v >= 0 && (policy->caps.drop_mask & (UINT64_C (1) << v)))
            {
              dropped |= UINT64_C (1) << v;
              touched = true;
              json_array_remove (arr, i);
              continue;
            }
          i++;
        }
      if (touched)
        {
          char *next = rh_xasprintf ("%s%s%s", sets, *sets ? ", " : "", *set);
          free (sets);
          sets = next;
        }
    }
  if (dropped)
    {
      _cleanup_free_ char *names = rh_cap_mask_names (dropped);
      rh_log_info (log, "capabilities %s dropped from %s.capabilities (%s) by policy (capabilities.drop)", names, where,
                   sets);
    }

  nnp = json_object_get (process, "noNewPrivileges");
  if (!is_absent (nnp) && !json_is_boolean (nnp))
    return rh_error_set (err, EINVAL, "%s.noNewPrivileges: expected true or false", where);
  if (policy->caps.no_new_privileges && !json_is_true (nnp))
    {
      /* setuid binaries and file capabilities inside the sandbox can then never raise what the
       * drop-list took away. */
      json_object_set_new (process, "noNewPrivileges", json_true ());
      rh_log_info (log, "%s.noNewPrivileges set to true by policy (no_new_privileges)", where);
    }
  return 0;
}

int
rh_caps_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  json_t *process = json_object_get (spec, "process");

  if (rh_json_check_go_keys (spec, "spec", spec_fields, err) < 0)
    return -1;
  if (!is_absent (process) && rh_caps_rewrite_process (process, ctx->policy, ctx->log, "process", err) < 0)
    return -1;
  return rh_devices_tame_privileged (spec, ctx, err);
}
