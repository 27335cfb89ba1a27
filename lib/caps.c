/* [seccomp] Capabilities, noNewPrivileges, and privileged device rules. See caps.h and
 * docs/seccomp.md. */
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
static const char *const linux_fields[] = { "resources", NULL };
static const char *const resources_fields[] = { "devices", NULL };
static const char *const devrule_fields[] = { "allow", "type", "major", "minor", "access", NULL };

static bool
is_absent (json_t *v)
{
  return v == NULL || json_is_null (v);
}

/* libcap's number for any spelling it accepts, or -1. */
static int
cap_number (const char *name)
{
  cap_value_t v;
  if (cap_from_name (name, &v) < 0 || v < 0 || v > 63)
    return -1;
  return (int) v;
}

/* "CAP_SYS_ADMIN" for 21 (libcap spells it in lower case). Caller frees. */
static char *
cap_canonical (int v)
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

static char *
mask_names (uint64_t mask)
{
  char *s = rh_xstrdup ("");
  for (int v = 0; v < 64; v++)
    if (mask & (UINT64_C (1) << v))
      {
        _cleanup_free_ char *n = cap_canonical (v);
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
      int v = cap_number (names[i]);
      _cleanup_free_ char *canon = v >= 0 ? cap_canonical (v) : NULL;

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
  int v = cap ? cap_number (cap) : -1;
  return v >= 0 && (policy->caps.drop_mask & (UINT64_C (1) << v));
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
          v = cap_number (json_string_value (e));
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
      _cleanup_free_ char *names = mask_names (dropped);
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

/* ---- device rules of privileged specs ---- */

struct devrule
{
  bool allow;
  bool any_type; /* type absent, "" or "a" */
  char type;
  bool any_major, any_minor;
  long major, minor;
  bool rw; /* access grants read or write (absent access means all) */
};

static int
rule_num (json_t *r, const char *key, size_t idx, bool *any, long *val, rh_error *err)
{
  json_t *n = json_object_get (r, key);
  *any = false;
  *val = 0;
  if (is_absent (n))
    {
      *any = true;
      return 0;
    }
  if (!json_is_integer (n))
    return rh_error_set (err, EINVAL, "linux.resources.devices[%zu].%s: expected an integer", idx, key);
  *val = (long) json_integer_value (n);
  *any = *val < 0;
  return 0;
}

static int
parse_devrule (json_t *r, size_t idx, struct devrule *d, rh_error *err)
{
  json_t *allow = json_object_get (r, "allow");
  json_t *type = json_object_get (r, "type");
  json_t *access = json_object_get (r, "access");
  const char *t;

  memset (d, 0, sizeof *d);
  if (!json_is_object (r))
    return rh_error_set (err, EINVAL, "linux.resources.devices[%zu]: expected an object", idx);
  if (err != NULL)
    {
      char where[64];
      snprintf (where, sizeof where, "linux.resources.devices[%zu]", idx);
      if (rh_json_check_go_keys (r, where, devrule_fields, err) < 0)
        return -1;
    }
  if (!is_absent (allow) && !json_is_boolean (allow))
    return rh_error_set (err, EINVAL, "linux.resources.devices[%zu].allow: expected true or false", idx);
  if (!is_absent (type) && !json_is_string (type))
    return rh_error_set (err, EINVAL, "linux.resources.devices[%zu].type: expected a string", idx);
  if (!is_absent (access) && !json_is_string (access))
    return rh_error_set (err, EINVAL, "linux.resources.devices[%zu].access: expected a string", idx);
  d->allow = json_is_true (allow);
  t = json_is_string (type) ? json_string_value (type) : "";
  d->any_type = t[0] == '\0' || strcmp (t, "a") == 0;
  d->type = t[0];
  d->rw = !json_is_string (access) || strpbrk (json_string_value (access), "rw") != NULL;
  return rule_num (r, "major", idx, &d->any_major, &d->major, err) < 0
                 || rule_num (r, "minor", idx, &d->any_minor, &d->minor, err) < 0
             ? -1
             : 0;
}

/* An allow rule that opens a whole class of devices: all of them (the allow-all rule that
 * `--privileged` writes), every device of a type, or every minor of a major. The Unix98 pty
 * slaves (c 136:*) are the one such rule every runtime grants. mknod-only rules ("m") open
 * nothing. */
static bool
is_broad (const struct devrule *d)
{
  if (!d->allow || !d->rw)
    return false;
  if (!d->any_type && d->type == 'c' && !d->any_major && d->major == 136 && d->any_minor)
    return false;
  return d->any_type || d->any_major || d->any_minor;
}

static bool
is_deny_all (json_t *r)
{
  struct devrule d;
  json_t *access = json_object_get (r, "access");
  if (parse_devrule (r, 0, &d, NULL) < 0)
    return false;
  return !d.allow && d.any_type && d.any_major && d.any_minor
         && (!json_is_string (access)
             || (strchr (json_string_value (access), 'r') && strchr (json_string_value (access), 'w')
                 && strchr (json_string_value (access), 'm')));
}

/* The devices every runtime gives a container (runc's default list, without tun). */
static const struct
{
  const char *name;
  long major, minor; /* minor -1: all */
} std_devices[] = {
  { "null", 1, 3 }, { "zero", 1, 5 },    { "full", 1, 7 },    { "random", 1, 8 }, { "urandom", 1, 9 },
  { "tty", 5, 0 },  { "console", 5, 1 }, { "ptmx", 5, 2 },    { "pts", 136, -1 },
};

static int
tame_device_rules (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  json_t *lnx = json_object_get (spec, "linux");
  json_t *res, *rules;
  struct rh_devnode *prot = NULL;
  size_t nprot = 0, i = 0, removed = 0, pos;
  int ret = -1;

  if (is_absent (lnx))
    return 0;
  if (!json_is_object (lnx))
    return rh_error_set (err, EINVAL, "linux: expected an object");
  if (rh_json_check_go_keys (lnx, "linux", linux_fields, err) < 0)
    return -1;
  res = json_object_get (lnx, "resources");
  if (is_absent (res))
    return 0;
  if (!json_is_object (res))
    return rh_error_set (err, EINVAL, "linux.resources: expected an object");
  if (rh_json_check_go_keys (res, "linux.resources", resources_fields, err) < 0)
    return -1;
  rules = json_object_get (res, "devices");
  if (is_absent (rules))
    return 0;
  if (!json_is_array (rules))
    return rh_error_set (err, EINVAL, "linux.resources.devices: expected an array");

  while (i < json_array_size (rules))
    {
      struct devrule d;
      if (parse_devrule (json_array_get (rules, i), i, &d, err) < 0)
        return -1;
      if (!is_broad (&d))
        {
          i++;
          continue;
        }
      rh_log_info (ctx->log, "device rule linux.resources.devices[%zu] removed by policy (privileged taming): it "
                   "allows a whole class of devices", i + removed);
      json_array_remove (rules, i);
      removed++;
    }
  if (removed == 0)
    return 0;

  /* Host nodes of the protected devices: the default list must not grant their numbers back
   * (the devices modifier has appended deny rules for them, which must stay last). */
  for (size_t g = 0; ctx->policy->protected_devices && ctx->policy->protected_devices[g]; g++)
    {
      struct rh_devnode *nodes = NULL;
      size_t n = 0;
      if (ctx->resolver == NULL || ctx->resolver->glob_devices == NULL)
        break;
      if (ctx->resolver->glob_devices (ctx->resolver->data, ctx->policy->protected_devices[g], &nodes, &n) < 0)
        {
          rh_error_sys (err, errno, "policy key protected_devices: cannot list host devices %s",
                        ctx->policy->protected_devices[g]);
          goto out;
        }
      if (n > 0)
        {
          prot = rh_xrealloc (prot, (nprot + n) * sizeof *prot);
          memcpy (prot + nprot, nodes, n * sizeof *nodes);
          nprot += n;
        }
      free (nodes); /* the paths now belong to prot */
    }

  if (json_array_size (rules) == 0 || !is_deny_all (json_array_get (rules, 0)))
    json_array_insert_new (rules, 0, json_pack ("{s:b, s:s}", "allow", 0, "access", "rwm"));
  pos = 1;
  for (size_t k = 0; k < sizeof std_devices / sizeof std_devices[0]; k++)
    {
      _cleanup_json_ json_t *r = json_pack ("{s:b, s:s, s:I}", "allow", 1, "type", "c", "major",
                                            (json_int_t) std_devices[k].major);
      bool skip = false;
      if (std_devices[k].minor >= 0)
        json_object_set_new (r, "minor", json_integer (std_devices[k].minor));
      json_object_set_new (r, "access", json_string ("rwm"));
      for (size_t p = 0; p < nprot && !skip; p++)
        skip = prot[p].type == 'c' && prot[p].major == std_devices[k].major
               && (std_devices[k].minor < 0 || prot[p].minor == std_devices[k].minor);
      if (skip)
        {
          rh_log_info (ctx->log, "device rule for /dev/%s not added: c %ld:%ld is a protected device on this host",
                       std_devices[k].name, std_devices[k].major, std_devices[k].minor);
          continue;
        }
      for (size_t j = 0; j < json_array_size (rules) && !skip; j++)
        skip = json_equal (json_array_get (rules, j), r);
      if (!skip)
        json_array_insert (rules, pos++, r);
    }
  rh_log_info (ctx->log, "device rules of a privileged spec tamed by policy: deny all, then allow only null, zero, full, "
               "random, urandom, tty, console, ptmx and pts");
  ret = 0;
out:
  rh_devnodes_free (prot, nprot);
  return ret;
}

int
rh_caps_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  json_t *process = json_object_get (spec, "process");

  if (rh_json_check_go_keys (spec, "spec", spec_fields, err) < 0)
    return -1;
  if (!is_absent (process) && rh_caps_rewrite_process (process, ctx->policy, ctx->log, "process", err) < 0)
    return -1;
  return tame_device_rules (spec, ctx, err);
}
