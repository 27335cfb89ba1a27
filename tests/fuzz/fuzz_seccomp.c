/* Fuzz the seccomp merge (and the capability rewrite of a process object).
 *
 * Input: JSON. An object with "defaultAction" is taken as a client's linux.seccomp; any object
 * is also taken as an OCI process. Whatever is accepted must come out such that:
 *   - the result passes rh_seccomp_check_profile and merging it again changes nothing;
 *   - its rules are ordered by strictness (runsc takes the first match);
 *   - every policy rule still decides its names: an identical rule is present, or an earlier
 *     unconditional rule at least as strict decides the name;
 *   - no dropped capability is left in any set, and rewriting again changes nothing.
 * A violation aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "policy.h"
#include "seccomp.h"

static const char policy_text[]
    = "{\"runsc\": {\"path\": \"/usr/bin/runsc\"}, \"protected_paths\": [], \"hook_path\": \"/h\","
      " \"seccomp\": {\"default_profile\": \"/nonexistent/runsc-host-fuzz.json\", \"deny\": ["
      "  {\"names\": [\"chroot\", \"pselect6\"], \"errno\": \"EPERM\"},"
      "  {\"names\": [\"socket\"], \"errno\": \"EAFNOSUPPORT\", \"args\": [{\"index\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\","
      "   \"value\": 4294967295, \"valueTwo\": 17}]},"
      "  {\"names\": [\"socket\"], \"args\": [{\"index\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\", \"value\": 4294967295,"
      "   \"valueTwo\": 16}, {\"index\": 2, \"op\": \"SCMP_CMP_GT\", \"value\": 0}]},"
      "  {\"names\": [\"kexec_load\", \"unshare\"], \"action\": \"SCMP_ACT_KILL\"}]}}";

static struct rh_policy *
get_policy (void)
{
  static struct rh_policy *p;
  rh_error err;
  if (p == NULL && rh_policy_parse (policy_text, strlen (policy_text), NULL, &p, &err) < 0)
    abort ();
  return p;
}

static bool
has_name (json_t *rule, const char *name)
{
  size_t i;
  json_t *n;
  json_array_foreach (json_object_get (rule, "names"), i, n)
    if (strcmp (json_string_value (n), name) == 0)
      return true;
  return false;
}

static bool
same_effect (json_t *a, json_t *b)
{
  json_t *aa = json_object_get (a, "args"), *ba = json_object_get (b, "args");
  return json_equal (json_object_get (a, "action"), json_object_get (b, "action"))
         && json_equal (json_object_get (a, "errnoRet"), json_object_get (b, "errnoRet"))
         && ((json_array_size (aa) == 0 && json_array_size (ba) == 0) || json_equal (aa, ba));
}

static void
check_merged (json_t *prof, const struct rh_policy *p)
{
  json_t *sys = json_object_get (prof, "syscalls");
  json_t *r, *ours, *name;
  size_t i, j, k;
  int last = -1;
  rh_error err;

  if (rh_seccomp_check_profile (prof, "merged", &err) < 0)
    abort ();
  json_array_foreach (sys, i, r)
    {
      int rank = rh_seccomp_action_rank (json_string_value (json_object_get (r, "action")));
      if (rank < last || json_array_size (json_object_get (r, "names")) == 0)
        abort ();
      last = rank;
    }
  json_array_foreach (p->seccomp.deny, i, ours)
    json_array_foreach (json_object_get (ours, "names"), j, name)
      {
        int our_rank = rh_seccomp_action_rank (json_string_value (json_object_get (ours, "action")));
        bool decided = false;
        json_array_foreach (sys, k, r)
          {
            if (!has_name (r, json_string_value (name)))
              continue;
            if (same_effect (r, ours))
              decided = true;
            else if (json_array_size (json_object_get (r, "args")) == 0
                     && rh_seccomp_action_rank (json_string_value (json_object_get (r, "action"))) <= our_rank)
              decided = true;
            if (decided)
              break;
          }
        if (!decided)
          abort ();
      }
}

static void
check_caps (json_t *proc, const struct rh_policy *p)
{
  static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted", "ambient", NULL };
  json_t *caps = json_object_get (proc, "capabilities");
  json_t *c;
  size_t i;

  for (const char *const *s = sets; *s; s++)
    json_array_foreach (json_object_get (caps, *s), i, c)
      if (rh_caps_is_dropped (p, json_string_value (c)))
        abort ();
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct rh_policy *p = get_policy ();
  json_t *in = json_loadb ((const char *) data, size, JSON_ALLOW_NUL, NULL);
  rh_error err;

  if (in == NULL)
    return 0;
  if (json_is_object (in) && json_object_get (in, "defaultAction"))
    {
      json_t *prof = json_deep_copy (in);
      if (rh_seccomp_check_profile (prof, "linux.seccomp", &err) == 0)
        {
          json_t *once;
          if (rh_seccomp_merge (prof, &p->seccomp, NULL, &err) < 0)
            abort ();
          check_merged (prof, p);
          once = json_deep_copy (prof);
          if (rh_seccomp_merge (prof, &p->seccomp, NULL, &err) < 0 || !json_equal (once, prof))
            abort ();
          json_decref (once);
        }
      json_decref (prof);
    }
  if (json_is_object (in))
    {
      json_t *proc = json_deep_copy (in);
      if (rh_caps_rewrite_process (proc, p, NULL, "process", &err) == 0)
        {
          json_t *once = json_deep_copy (proc);
          check_caps (proc, p);
          if (!json_is_true (json_object_get (proc, "noNewPrivileges")))
            abort ();
          if (rh_caps_rewrite_process (proc, p, NULL, "process", &err) < 0 || !json_equal (once, proc))
            abort ();
          json_decref (once);
        }
      json_decref (proc);
    }
  json_decref (in);
  return 0;
}
