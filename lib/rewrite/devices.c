/* The devices modifier: protected devices out of linux.devices (by name and by numbers), device
 * cgroup rules that would grant them removed or followed by explicit denies, and the broad allow
 * rules of privileged specs tamed (called by the capabilities modifier). One rule parser. */
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "spec_keys.h"
#include "rewrite_view.h"
#include "util.h"

/* ---- devices ---- */

void
rh_devnum_add (struct rh_devnum **set, size_t *n, char type, long major, long minor)
{
  for (size_t i = 0; i < *n; i++)
    if ((*set)[i].type == type && (*set)[i].major == major && (*set)[i].minor == minor)
      return;
  *set = rh_xrealloc (*set, (*n + 1) * sizeof **set);
  (*set)[*n] = (struct rh_devnum) { type, major, minor };
  (*n)++;
}

/* OCI device types: c and u are character devices, b block, p a FIFO. */
static char
entry_class (const char *t)
{
  if (t == NULL)
    return 0;
  if (strcmp (t, "c") == 0 || strcmp (t, "u") == 0)
    return 'c';
  if (strcmp (t, "b") == 0)
    return 'b';
  return 0;
}

/* ---- the one device cgroup rule parser ---- */

static bool
is_absent (json_t *v)
{
  return v == NULL || json_is_null (v);
}

static const char *const linux_fields[] = { "resources", NULL };
static const char *const resources_fields[] = { "devices", NULL };
static const char *const devrule_fields[] = { "allow", "type", "major", "minor", "access", NULL };

/* Read major/minor of a cgroup rule: an integer, or absent/null/-1 for "any". */
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

struct devrule
{
  bool allow;
  const char *type; /* "a" when absent, null or "" */
  bool any_type;    /* type is "a" */
  bool any_major, any_minor;
  long major, minor;
  bool rw; /* access grants read or write (absent access means all) */
};

/* Parse linux.resources.devices[idx]. strict (the capabilities step, which runs after the
 * devices step) also refuses Go-folded twins of the rule's keys and a non-string access. err
 * may be NULL (a predicate that only asks). */
static int
parse_devrule (json_t *r, size_t idx, bool strict, struct devrule *d, rh_error *err)
{
  json_t *allow = json_object_get (r, "allow");
  json_t *type = json_object_get (r, "type");
  json_t *access = json_object_get (r, "access");

  memset (d, 0, sizeof *d);
  if (!json_is_object (r))
    return rh_error_set (err, EINVAL, "linux.resources.devices[%zu]: expected an object", idx);
  if (strict && err != NULL)
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
  if (strict && !is_absent (access) && !json_is_string (access))
    return rh_error_set (err, EINVAL, "linux.resources.devices[%zu].access: expected a string", idx);
  d->allow = json_is_true (allow);
  d->type = json_is_string (type) && json_string_value (type)[0] ? json_string_value (type) : "a";
  d->any_type = strcmp (d->type, "a") == 0;
  d->rw = !json_is_string (access) || strpbrk (json_string_value (access), "rw") != NULL;
  return rule_num (r, "major", idx, &d->any_major, &d->major, err) < 0
                 || rule_num (r, "minor", idx, &d->any_minor, &d->minor, err) < 0
             ? -1
             : 0;
}

static bool
rule_grants (const struct devrule *r, const struct rh_devnum *d)
{
  bool type_ok = r->any_type || (r->type[0] == d->type && r->type[1] == '\0');
  return r->allow && type_ok && (r->any_major || r->major == d->major) && (r->any_minor || r->minor == d->minor);
}

static bool
is_deny_for (json_t *r, const struct rh_devnum *d)
{
  struct devrule x;
  const char *access = json_string_value (json_object_get (r, "access"));
  if (parse_devrule (r, 0, false, &x, NULL) < 0 || x.allow || x.any_major || x.any_minor)
    return false;
  /* Only a deny of every access (read, write, mknod) counts. */
  if (access == NULL || !strchr (access, 'r') || !strchr (access, 'w') || !strchr (access, 'm'))
    return false;
  return x.type[0] == d->type && x.type[1] == '\0' && x.major == d->major && x.minor == d->minor;
}

static int
strip_device_entries (json_t *lnx, const struct rh_rewrite_ctx *ctx, const struct view *v, struct rh_devnum **set,
                      size_t *nset, rh_error *err)
{
  json_t *devs = json_object_get (lnx, "devices");
  size_t i = 0;

  if (devs == NULL || json_is_null (devs))
    return 0;
  if (!json_is_array (devs))
    return rh_error_set (err, EINVAL, "linux.devices: expected an array");
  while (i < json_array_size (devs))
    {
      json_t *d = json_array_get (devs, i);
      const char *path, *type;
      json_t *maj, *min;
      _cleanup_free_ char *clean = NULL;
      const char *why = NULL, *key = "protected_devices";
      char cls;

      if (!json_is_object (d))
        return rh_error_set (err, EINVAL, "linux.devices[%zu]: expected an object", i);
      if (rh_spec_get_opt_string (d, "path", "linux.devices", i, &path, err) < 0
          || rh_spec_get_opt_string (d, "type", "linux.devices", i, &type, err) < 0)
        return -1;
      maj = json_object_get (d, "major");
      min = json_object_get (d, "minor");
      cls = entry_class (type);
      clean = rh_path_clean (NULL, path ? path : "");
      for (size_t g = 0; g < v->ndg && why == NULL; g++)
        {
          if (fnmatch (v->dg[g].pattern, clean, FNM_PATHNAME) == 0)
            why = v->dg[g].pattern;
          /* The node is made from its numbers, not its name: a protected device under another
           * name is still a protected device. */
          for (size_t k = 0; k < v->dg[g].n && why == NULL && cls; k++)
            if (v->dg[g].nodes[k].type == cls && json_is_integer (maj) && json_is_integer (min)
                && json_integer_value (maj) == v->dg[g].nodes[k].major
                && json_integer_value (min) == v->dg[g].nodes[k].minor)
              why = v->dg[g].pattern;
        }
      for (size_t k = 0; k < ctx->policy->n_protected_devnums && why == NULL && cls; k++)
        {
          const struct rh_devnum *pn = &ctx->policy->protected_devnums[k];
          if (pn->type == cls && json_is_integer (maj) && json_is_integer (min) && json_integer_value (maj) == pn->major
              && json_integer_value (min) == pn->minor)
            {
              why = "its numbers";
              key = "protected_device_numbers";
            }
        }
      if (why == NULL)
        {
          i++;
          continue;
        }
      if (cls && json_is_integer (maj) && json_is_integer (min))
        rh_devnum_add (set, nset, cls, (long) json_integer_value (maj), (long) json_integer_value (min));
      rh_log_info (ctx->log, "device %s stripped by policy (%s): matches %s (linux.devices[%zu])",
                   path ? path : "(no path)", key, why, i);
      json_array_remove (devs, i);
    }
  return 0;
}

int
rh_rewrite_devices_viewed (json_t *spec, const struct rh_rewrite_ctx *ctx, struct view_once *once, rh_error *err)
{
  json_t *lnx = json_object_get (spec, "linux");
  json_t *res, *rules;
  const struct view *vp;
  _cleanup_free_ struct rh_devnum *set = NULL;
  size_t nset = 0, i;
  ssize_t last_wild = -1;

  if (lnx == NULL || json_is_null (lnx))
    return 0;
  if (!json_is_object (lnx))
    return rh_error_set (err, EINVAL, "linux: expected an object");
  res = json_object_get (lnx, "resources");
  if (res != NULL && !json_is_null (res) && !json_is_object (res))
    return rh_error_set (err, EINVAL, "linux.resources: expected an object");
  rules = json_object_get (res, "devices");
  if (rules != NULL && !json_is_null (rules) && !json_is_array (rules))
    return rh_error_set (err, EINVAL, "linux.resources.devices: expected an array");

  if (rh_view_get (spec, ctx, once, &vp, err) < 0)
    return -1;
  for (size_t k = 0; k < vp->nnums; k++)
    rh_devnum_add (&set, &nset, vp->nums[k].type, vp->nums[k].major, vp->nums[k].minor);
  if (strip_device_entries (lnx, ctx, vp, &set, &nset, err) < 0)
    return -1;

  /* Remove allow rules that name a protected major (exactly, or a whole major's minors). An
   * allow rule with a wildcard major (the "allow everything" rule of privileged containers) is
   * left to the capabilities modifier; protected numbers get explicit deny rules after it,
   * because device rules are applied in order and the last match wins. */
  i = 0;
  while (i < json_array_size (rules))
    {
      struct devrule r;
      bool grants = false, removed = false;
      if (parse_devrule (json_array_get (rules, i), i, false, &r, err) < 0)
        return -1;
      for (size_t k = 0; k < nset && !removed; k++)
        {
          if (!rule_grants (&r, &set[k]))
            continue;
          grants = true;
          if (!r.any_major)
            {
              rh_log_info (ctx->log, "device rule linux.resources.devices[%zu] removed by policy "
                           "(protected_devices): it allows %c %ld:%ld", i, set[k].type, set[k].major,
                           set[k].minor);
              json_array_remove (rules, i);
              removed = true;
            }
        }
      if (removed)
        continue;
      if (grants)
        last_wild = (ssize_t) i;
      i++;
    }
  if (last_wild >= 0)
    for (size_t k = 0; k < nset; k++)
      {
        bool have = false;
        for (size_t j = (size_t) last_wild + 1; j < json_array_size (rules) && !have; j++)
          have = is_deny_for (json_array_get (rules, j), &set[k]);
        if (have)
          continue;
        json_array_append_new (rules, json_pack ("{s:b, s:s#, s:I, s:I, s:s}", "allow", 0, "type", &set[k].type,
                                                 (int) 1, "major", (json_int_t) set[k].major, "minor",
                                                 (json_int_t) set[k].minor, "access", "rwm"));
        rh_log_info (ctx->log, "device rule added by policy (protected_devices): deny %c %ld:%ld after the "
                     "allow-all rule", set[k].type, set[k].major, set[k].minor);
      }
  return 0;
}

int
rh_rewrite_devices (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  struct view_once once = { 0 };
  int ret = rh_rewrite_devices_viewed (spec, ctx, &once, err);
  rh_view_once_free (&once);
  return ret;
}


/* ---- device rules of privileged specs (called by the capabilities modifier) ---- */

/* An allow rule that opens a whole class of devices: all of them (the allow-all rule that
 * `--privileged` writes), every device of a type, or every minor of a major. The Unix98 pty
 * slaves (c 136:*) are the one such rule every runtime grants. mknod-only rules ("m") open
 * nothing. */
static bool
is_broad (const struct devrule *d)
{
  if (!d->allow || !d->rw)
    return false;
  if (!d->any_type && d->type[0] == 'c' && !d->any_major && d->major == 136 && d->any_minor)
    return false;
  return d->any_type || d->any_major || d->any_minor;
}

static bool
is_deny_all (json_t *r)
{
  struct devrule d;
  json_t *access = json_object_get (r, "access");
  if (parse_devrule (r, 0, false, &d, NULL) < 0)
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

int
rh_devices_tame_privileged (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
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
      if (parse_devrule (json_array_get (rules, i), i, true, &d, err) < 0)
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

