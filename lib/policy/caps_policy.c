/* The "capabilities" and "no_new_privileges" policy sections, and the capability names both the
 * policy and the rewrite (rewrite/caps.c) spell. See caps.h and docs/seccomp.md. */
#include "caps.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "cleanup.h"
#include "policy.h"
#include "util.h"

/* libcap's number for any spelling it accepts, or -1. */
int
rh_cap_number (const char *name)
{
  cap_value_t v;
  if (cap_from_name (name, &v) < 0 || v < 0 || v > 63)
    return -1;
  return (int) v;
}

/* "CAP_SYS_ADMIN" for 21 (libcap spells it in lower case). Caller frees. */
char *
rh_cap_canonical (int v)
{
  char *lower = cap_to_name ((cap_value_t) v);
  char *up;

  if (lower == NULL)
    return rh_xasprintf ("%d", v);
  up = rh_xstrdup (lower);
  cap_free (lower);
  for (char *c = up; *c; c++)
    *c = (char) toupper ((unsigned char) *c);
  return up;
}

char *
rh_cap_mask_names (uint64_t mask)
{
  char *s = rh_xstrdup ("");
  for (int v = 0; v < 64; v++)
    if (mask & (UINT64_C (1) << v))
      {
        _cleanup_free_ char *n = rh_cap_canonical (v);
        char *next = rh_xasprintf ("%s%s%s", s, *s ? ", " : "", n);
        free (s);
        s = next;
      }
  return s;
}
/* ---- policy ---- */

int
rh_caps_policy_parse (json_t *section, struct rh_policy *p, rh_error *err)
{
  static const char *const keys[] = { "drop", "comment", NULL };
  static const char *const defaults[] = { RH_CAPS_DEFAULT_DROP, NULL };
  struct rh_caps_policy *c = &p->caps;
  _cleanup_strv_ char **names = NULL;
  json_t *comment;

  if (rh_policy_expect_object (section, "capabilities", err) < 0)
    return -1;
  if (section != NULL)
    {
      if (rh_policy_check_keys (section, "capabilities", keys, err) < 0
          || rh_policy_get_strv (section, "capabilities", "drop", &names, err) < 0)
        return -1;
      comment = json_object_get (section, "comment");
      if (comment != NULL && !json_is_string (comment))
        return rh_error_set (err, EINVAL, "policy key capabilities.comment: expected a string");
    }
  if (names == NULL)
    names = rh_strv_dup ((char *const *) defaults);
  rh_strv_free (c->drop);
  c->drop = rh_xmalloc0 (sizeof (char *));
  c->drop_mask = 0;
  for (size_t i = 0; names[i]; i++)
    {
      int v = rh_cap_number (names[i]);
      _cleanup_free_ char *canon = v >= 0 ? rh_cap_canonical (v) : NULL;

      /* Only the canonical spelling: cap_from_name also takes "21", lower case, and
       * "CAP_A,CAP_B" (silently the first), none of which a policy should say. */
      if (canon == NULL || strcmp (canon, names[i]) != 0)
        return rh_error_set (err, EINVAL, "policy key capabilities.drop[%zu]: unknown capability \"%s\" (expected "
                                          "a name such as CAP_SYS_ADMIN)", i, names[i]);
      if (c->drop_mask & (UINT64_C (1) << v))
        continue;
      c->drop_mask |= UINT64_C (1) << v;
      rh_strv_push (&c->drop, canon);
    }
  return 0;
}

int
rh_nnp_policy_parse (json_t *value, struct rh_policy *p, rh_error *err)
{
  p->caps.no_new_privileges = true;
  if (value == NULL)
    return 0;
  if (!json_is_boolean (value))
    return rh_error_set (err, EINVAL, "policy key no_new_privileges: expected true or false");
  p->caps.no_new_privileges = json_is_true (value);
  return 0;
}

void
rh_caps_policy_free (struct rh_caps_policy *c)
{
  rh_strv_free (c->drop);
  memset (c, 0, sizeof *c);
}

bool
rh_caps_is_dropped (const struct rh_policy *policy, const char *cap)
{
  int v = cap ? rh_cap_number (cap) : -1;
  return v >= 0 && (policy->caps.drop_mask & (UINT64_C (1) << v));
}
