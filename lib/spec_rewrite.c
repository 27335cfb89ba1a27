/* The spec rewrite (see spec_rewrite.h for the modifier order). Everything here is pure: the
 * host file system is only seen through ctx->resolver, and rh_rewrite_bundle (at the end) is the
 * only function that touches files. docs/rewrite.md explains each rule and the choices made. */
#include "spec_rewrite.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "caps.h"
#include "cgroups_path.h"
#include "client_hooks.h"
#include "cleanup.h"
#include "fsutil.h"
#include "gate_policy.h"
#include "hookspec.h"
#include "joins.h"
#include "seccomp.h"
#include "spec_keys.h"
#include "util.h"

/* ---- the protected set, in the forms the checks compare against ---- */

struct devglob
{
  const char *pattern;      /* as in the policy */
  char *literal;            /* its fixed directory prefix ("/dev" for "/dev/tpm*"), or itself */
  struct rh_devnode *nodes; /* host nodes that match it */
  size_t n;
};

struct view
{
  const char **plex; /* protected paths as written (clean) */
  char **pres;       /* ... and resolved on the host */
  size_t np;
  struct devglob *dg;
  size_t ndg;
  char *root_lex, *root_res; /* the container's rootfs, when known */
};

static void
view_free (struct view *v)
{
  for (size_t i = 0; i < v->np; i++)
    free (v->pres[i]);
  free (v->pres);
  free (v->plex);
  for (size_t i = 0; i < v->ndg; i++)
    {
      free (v->dg[i].literal);
      rh_devnodes_free (v->dg[i].nodes, v->dg[i].n);
    }
  free (v->dg);
  free (v->root_lex);
  free (v->root_res);
  memset (v, 0, sizeof *v);
}

static char *
resolve (const struct rh_rewrite_ctx *ctx, const char *clean)
{
  if (ctx->resolver == NULL || ctx->resolver->resolve == NULL)
    return rh_xstrdup (clean);
  return ctx->resolver->resolve (ctx->resolver->data, clean);
}

/* The literal directory part of a glob: everything before the last '/' preceding the first
 * metacharacter. A pattern without metacharacters is its own literal. */
static char *
glob_literal (const char *pattern)
{
  size_t meta = strcspn (pattern, "*?[\\");
  _cleanup_free_ char *head = NULL;
  char *slash;

  if (pattern[meta] == '\0')
    return rh_path_clean (NULL, pattern);
  head = rh_xstrdup (pattern);
  head[meta] = '\0';
  slash = strrchr (head, '/');
  if (slash)
    slash[slash == head ? 1 : 0] = '\0';
  return rh_path_clean (NULL, head);
}

static const char *
bundle_dir (const struct rh_rewrite_ctx *ctx)
{
  return ctx->bundle ? ctx->bundle : "/";
}

static int
view_build (json_t *spec, const struct rh_rewrite_ctx *ctx, bool with_devices, struct view *v, rh_error *err)
{
  const struct rh_policy *p = ctx->policy;
  json_t *rootpath = json_object_get (json_object_get (spec, "root"), "path");

  memset (v, 0, sizeof *v);
  v->np = rh_strv_len (p->protected_paths);
  v->plex = rh_xmalloc0 ((v->np + 1) * sizeof *v->plex);
  v->pres = rh_xmalloc0 ((v->np + 1) * sizeof *v->pres);
  for (size_t i = 0; i < v->np; i++)
    {
      v->plex[i] = p->protected_paths[i];
      v->pres[i] = resolve (ctx, p->protected_paths[i]);
      if (v->pres[i] == NULL)
        return rh_error_sys (err, errno, "policy key protected_paths: cannot resolve %s on the host",
                             p->protected_paths[i]);
    }
  if (with_devices)
    {
      size_t n = rh_strv_len (p->protected_devices);
      v->dg = rh_xmalloc0 ((n + 1) * sizeof *v->dg);
      for (size_t i = 0; i < n; i++, v->ndg++)
        {
          struct devglob *g = &v->dg[i];
          g->pattern = p->protected_devices[i];
          g->literal = glob_literal (g->pattern);
          if (ctx->resolver && ctx->resolver->glob_devices
              && ctx->resolver->glob_devices (ctx->resolver->data, g->pattern, &g->nodes, &g->n) < 0)
            {
              v->ndg++;
              return rh_error_sys (err, errno, "policy key protected_devices: cannot list host devices %s",
                                   g->pattern);
            }
        }
    }
  if (json_is_string (rootpath) && json_string_value (rootpath)[0] != '\0')
    {
      const char *rp = json_string_value (rootpath);
      _cleanup_free_ char *raw = rp[0] == '/' ? rh_xstrdup (rp) : rh_xasprintf ("%s/%s", bundle_dir (ctx), rp);
      v->root_lex = rh_path_clean (bundle_dir (ctx), rp);
      v->root_res = resolve (ctx, raw);
      if (v->root_res == NULL)
        return rh_error_sys (err, errno, "root.path %s: cannot resolve on the host", json_string_value (rootpath));
    }
  return 0;
}

/* The view is the same for root, mounts and devices (none of them changes root.path), and
 * building it costs system calls: every protected path resolved component by component, every
 * device glob read from /dev. rh_spec_rewrite builds it once, when the first of the three needs
 * it; each public modifier called on its own builds its own. */
struct view_once
{
  bool built;
  struct view v;
};

static int
view_get (json_t *spec, const struct rh_rewrite_ctx *ctx, struct view_once *once, const struct view **out,
          rh_error *err)
{
  if (!once->built)
    {
      if (view_build (spec, ctx, true, &once->v, err) < 0)
        {
          view_free (&once->v);
          return -1;
        }
      once->built = true;
    }
  *out = &once->v;
  return 0;
}

static void
view_once_free (struct view_once *once)
{
  if (once->built)
    view_free (&once->v);
  once->built = false;
}

/* ---- checking one host path ---- */

struct hit
{
  const char *key;   /* policy key to name */
  char *detail;      /* what it touched */
};

/* Host /proc holds magic links (/proc/PID/root, /proc/PID/fd/N) that reach files in other
 * mount namespaces; no lexical or readlink-based check can see where they lead. */
static bool
in_host_proc (const char *p)
{
  return rh_path_within (p, "/proc");
}

/* Does a host mount source (clean form lex, resolved form res) touch the protected set? */
static bool
check_source (const struct view *v, const char *lex, const char *res, struct hit *h)
{
  const char *forms[2] = { lex, res };
  bool in_rootfs = v->root_lex && rh_path_within (lex, v->root_lex) && rh_path_within (res, v->root_res);

  for (size_t i = 0; i < v->np; i++)
    for (int f = 0; f < 2; f++)
      {
        const char *prot[2] = { v->plex[i], v->pres[i] };
        for (int q = 0; q < 2; q++)
          {
            /* A source inside the container's own rootfs is allowed even when the bundle sits
             * in a protected dir (containerd bundles live under /run/containerd), as long as it
             * does not contain a protected path itself. */
            if (in_rootfs && !rh_path_within (prot[q], forms[f]))
              continue;
            if (rh_path_overlaps (forms[f], prot[q]))
              {
                h->key = "protected_paths";
                h->detail = rh_xasprintf ("overlaps protected path %s", v->plex[i]);
                return true;
              }
          }
      }
  for (int f = 0; f < 2; f++)
    if (in_host_proc (forms[f]))
      {
        h->key = "built-in rule: host /proc";
        h->detail = rh_xstrdup ("host /proc magic links can reach any file");
        return true;
      }
  for (size_t i = 0; i < v->ndg; i++)
    {
      const struct devglob *g = &v->dg[i];
      for (int f = 0; f < 2; f++)
        {
          if (fnmatch (g->pattern, forms[f], FNM_PATHNAME | FNM_LEADING_DIR) == 0
              || rh_path_within (g->literal, forms[f]))
            {
              h->key = "protected_devices";
              h->detail = rh_xasprintf ("overlaps protected devices %s", g->pattern);
              return true;
            }
          for (size_t k = 0; k < g->n; k++)
            if (rh_path_within (g->nodes[k].path, forms[f]))
              {
                h->key = "protected_devices";
                h->detail = rh_xasprintf ("contains protected device %s", g->nodes[k].path);
                return true;
              }
        }
    }
  return false;
}

static char *
describe_source (const char *written, const char *res)
{
  if (strcmp (written, res) == 0)
    return rh_xasprintf ("mount of %s", written);
  return rh_xasprintf ("mount of %s (resolves to %s)", written, res);
}

/* ---- root ---- */

static int
rewrite_root (json_t *spec, const struct rh_rewrite_ctx *ctx, struct view_once *once, rh_error *err)
{
  json_t *root = json_object_get (spec, "root");
  json_t *path;
  const struct view *vp;
  int ret = 0;

  if (root == NULL)
    return 0;
  if (!json_is_object (root))
    return rh_error_set (err, EINVAL, "root: expected an object");
  path = json_object_get (root, "path");
  if (path == NULL)
    return 0;
  if (!json_is_string (path) || json_string_value (path)[0] == '\0')
    return rh_error_set (err, EINVAL, "root.path: expected a non-empty string");
  if (view_get (spec, ctx, once, &vp, err) < 0)
    return -1;

  /* The rootfs may live inside a protected dir (containerd's bundles do), but must not be a
   * protected path or one of its ancestors: that would hand the whole protected tree over. */
  {
    const struct view v = *vp;
    const char *forms[2] = { v.root_lex, v.root_res };
    const char *wrote = json_string_value (path);
    for (int f = 0; f < 2 && ret == 0; f++)
      {
        for (size_t i = 0; i < v.np && ret == 0; i++)
          if (rh_path_within (v.plex[i], forms[f]) || rh_path_within (v.pres[i], forms[f]))
            ret = rh_error_set (err, EPERM, "root.path %s (%s) denied by policy (protected_paths): it contains "
                                "protected path %s", wrote, forms[f], v.plex[i]);
        for (size_t i = 0; i < v.ndg && ret == 0; i++)
          {
            bool bad = rh_path_within (v.dg[i].literal, forms[f]);
            for (size_t k = 0; k < v.dg[i].n && !bad; k++)
              bad = rh_path_within (v.dg[i].nodes[k].path, forms[f]);
            if (bad)
              ret = rh_error_set (err, EPERM, "root.path %s (%s) denied by policy (protected_devices): it "
                                  "contains protected devices %s", wrote, forms[f], v.dg[i].pattern);
          }
        if (ret == 0 && in_host_proc (forms[f]))
          ret = rh_error_set (err, EPERM, "root.path %s (%s) denied by policy (built-in rule: host /proc)",
                              wrote, forms[f]);
      }
  }
  return ret;
}

int
rh_rewrite_root (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  struct view_once once = { 0 };
  int ret = rewrite_root (spec, ctx, &once, err);
  view_once_free (&once);
  return ret;
}

/* ---- mounts ---- */

static int
get_opt_string (json_t *obj, const char *key, const char *where, size_t idx, const char **out, rh_error *err)
{
  json_t *v = json_object_get (obj, key);
  *out = NULL;
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_string (v))
    return rh_error_set (err, EINVAL, "%s[%zu].%s: expected a string", where, idx, key);
  *out = json_string_value (v);
  return 0;
}

/* Does an option string (which may hold several comma-separated flags) ask for a bind? */
static bool
option_is_bind (const char *opt)
{
  _cleanup_free_ char *copy = rh_xstrdup (opt);
  char *save = NULL;

  for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
    if (strcasecmp (t, "bind") == 0 || strcasecmp (t, "rbind") == 0)
      return true;
  return false;
}

/* Check one host path of mount idx. Returns 1 (remove the mount), 0 (keep), -1 (error). */
static int
police_path (const struct rh_rewrite_ctx *ctx, const struct view *v, size_t idx, const char *written,
             const char *dest, rh_error *err)
{
  _cleanup_free_ char *lex = rh_path_clean (bundle_dir (ctx), written);
  _cleanup_free_ char *raw = written[0] == '/' ? rh_xstrdup (written) : rh_xasprintf ("%s/%s", bundle_dir (ctx), written);
  /* The resolver walks the path as written: "link/.." goes to the link target's parent, as
   * the kernel does, not to where lexical cleaning would go. */
  _cleanup_free_ char *res = resolve (ctx, raw);
  _cleanup_free_ char *what = NULL;
  struct hit h = { 0 };

  if (res == NULL && in_host_proc (lex))
    res = rh_xstrdup (lex); /* refused below whatever it leads to */
  if (res == NULL)
    {
      /* Fail closed: a source we cannot follow could lead anywhere. */
      return rh_error_sys (err, errno, "mount of %s denied by policy (protected_paths): cannot resolve host path %s",
                           written, lex);
    }
  if (!check_source (v, lex, res, &h))
    return 0;
  what = describe_source (written, res);
  if (ctx->policy->mount_action == RH_MOUNT_DENY)
    {
      rh_error_set (err, EPERM, "%s denied by policy (%s): %s; container path %s", what, h.key, h.detail, dest);
      free (h.detail);
      return -1;
    }
  rh_log_info (ctx->log, "%s stripped by policy (%s): %s; container path %s (mounts[%zu])", what, h.key,
               h.detail, dest, idx);
  free (h.detail);
  return 1;
}

/* Overlay-style options carry host paths too: lowerdir=/a:/b, upperdir=, workdir=. */
static int
police_options (const struct rh_rewrite_ctx *ctx, const struct view *v, size_t idx, const char *opt,
                const char *dest, rh_error *err)
{
  static const char *const keys[] = { "lowerdir=", "upperdir=", "workdir=", NULL };
  _cleanup_free_ char *copy = rh_xstrdup (opt);
  char *save = NULL;

  for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
    for (const char *const *k = keys; *k; k++)
      {
        char *save2 = NULL;
        if (strncasecmp (t, *k, strlen (*k)) != 0)
          continue;
        for (char *d = strtok_r (t + strlen (*k), ":", &save2); d; d = strtok_r (NULL, ":", &save2))
          {
            int r = police_path (ctx, v, idx, d, dest, err);
            if (r != 0)
              return r;
          }
      }
  return 0;
}

static int
police_mount (const struct rh_rewrite_ctx *ctx, const struct view *v, json_t *m, size_t idx, rh_error *err)
{
  const char *type, *source, *dest;
  json_t *opts = json_object_get (m, "options");
  bool bind = false;
  size_t i;
  json_t *o;

  if (!json_is_object (m))
    return rh_error_set (err, EINVAL, "mounts[%zu]: expected an object", idx);
  if (get_opt_string (m, "type", "mounts", idx, &type, err) < 0
      || get_opt_string (m, "source", "mounts", idx, &source, err) < 0
      || get_opt_string (m, "destination", "mounts", idx, &dest, err) < 0)
    return -1;
  if (dest == NULL)
    dest = "(none)";
  if (opts != NULL && !json_is_null (opts) && !json_is_array (opts))
    return rh_error_set (err, EINVAL, "mounts[%zu].options: expected an array of strings", idx);
  json_array_foreach (opts, i, o)
    {
      if (!json_is_string (o))
        return rh_error_set (err, EINVAL, "mounts[%zu].options[%zu]: expected a string", idx, i);
      if (option_is_bind (json_string_value (o)))
        bind = true;
    }
  if (type && (strcasecmp (type, "bind") == 0 || strcasecmp (type, "rbind") == 0))
    bind = true;
  /* The gate's own mount (its per-sandbox dir, under a protected path, at the TEE dir) is left
   * for the gate modifier, which removes every mount at the TEE dir and re-adds exactly one
   * read-only copy. Without this a second pass over our own output would strip or deny it. */
  if (bind && rh_gate_is_own_mount (ctx->policy, ctx->container_id, source, dest))
    return 0;

  /* Police the source of binds (absolute or bundle-relative), of any mount whose source is an
   * absolute host path (a block device, say), and of mounts with no type (a runtime may treat
   * them as binds). proc/tmpfs/sysfs style sources ("proc", "tmpfs") are names, not paths. */
  if (source && source[0] != '\0' && (bind || source[0] == '/' || type == NULL || type[0] == '\0'))
    {
      int r = police_path (ctx, v, idx, source, dest, err);
      if (r != 0)
        return r;
    }
  json_array_foreach (opts, i, o)
    {
      int r = police_options (ctx, v, idx, json_string_value (o), dest, err);
      if (r != 0)
        return r;
    }
  return 0;
}

static int
rewrite_mounts (json_t *spec, const struct rh_rewrite_ctx *ctx, struct view_once *once, rh_error *err)
{
  json_t *mounts = json_object_get (spec, "mounts");
  const struct view *v;
  size_t i = 0;

  if (mounts == NULL || json_is_null (mounts))
    return 0;
  if (!json_is_array (mounts))
    return rh_error_set (err, EINVAL, "mounts: expected an array");
  if (view_get (spec, ctx, once, &v, err) < 0)
    return -1;
  while (i < json_array_size (mounts))
    {
      int r = police_mount (ctx, v, json_array_get (mounts, i), i, err);
      if (r < 0)
        return -1;
      if (r > 0)
        json_array_remove (mounts, i);
      else
        i++;
    }
  return 0;
}

int
rh_rewrite_mounts (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  struct view_once once = { 0 };
  int ret = rewrite_mounts (spec, ctx, &once, err);
  view_once_free (&once);
  return ret;
}

/* ---- devices ---- */

struct devnum
{
  char type; /* 'c' or 'b' */
  long major, minor;
};

static void
devnum_add (struct devnum **set, size_t *n, char type, long major, long minor)
{
  for (size_t i = 0; i < *n; i++)
    if ((*set)[i].type == type && (*set)[i].major == major && (*set)[i].minor == minor)
      return;
  *set = rh_xrealloc (*set, (*n + 1) * sizeof **set);
  (*set)[*n] = (struct devnum) { type, major, minor };
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

/* Read major/minor of a cgroup rule: an integer, or absent/null/-1 for "any". */
static int
rule_number (json_t *rule, const char *key, size_t idx, bool *any, long *val, rh_error *err)
{
  json_t *n = json_object_get (rule, key);
  *any = false;
  *val = 0;
  if (n == NULL || json_is_null (n))
    {
      *any = true;
      return 0;
    }
  if (!json_is_integer (n))
    return rh_error_set (err, EINVAL, "linux.resources.devices[%zu].%s: expected an integer", idx, key);
  *val = (long) json_integer_value (n);
  if (*val < 0)
    *any = true;
  return 0;
}

struct rule
{
  bool allow;
  const char *type; /* "a", "c" or "b" */
  bool any_major, any_minor;
  long major, minor;
};

static int
parse_rule (json_t *r, size_t idx, struct rule *out, rh_error *err)
{
  json_t *allow = json_object_get (r, "allow");
  json_t *type = json_object_get (r, "type");

  if (!json_is_object (r))
    return rh_error_set (err, EINVAL, "linux.resources.devices[%zu]: expected an object", idx);
  if (allow != NULL && !json_is_boolean (allow))
    return rh_error_set (err, EINVAL, "linux.resources.devices[%zu].allow: expected true or false", idx);
  if (type != NULL && !json_is_null (type) && !json_is_string (type))
    return rh_error_set (err, EINVAL, "linux.resources.devices[%zu].type: expected a string", idx);
  out->allow = json_is_true (allow);
  out->type = json_is_string (type) && json_string_value (type)[0] ? json_string_value (type) : "a";
  if (rule_number (r, "major", idx, &out->any_major, &out->major, err) < 0
      || rule_number (r, "minor", idx, &out->any_minor, &out->minor, err) < 0)
    return -1;
  return 0;
}

static bool
rule_grants (const struct rule *r, const struct devnum *d)
{
  bool type_ok = strcmp (r->type, "a") == 0 || (r->type[0] == d->type && r->type[1] == '\0');
  return r->allow && type_ok && (r->any_major || r->major == d->major) && (r->any_minor || r->minor == d->minor);
}

static bool
is_deny_for (json_t *r, const struct devnum *d)
{
  struct rule x;
  const char *access = json_string_value (json_object_get (r, "access"));
  if (parse_rule (r, 0, &x, NULL) < 0 || x.allow || x.any_major || x.any_minor)
    return false;
  /* Only a deny of every access (read, write, mknod) counts. */
  if (access == NULL || !strchr (access, 'r') || !strchr (access, 'w') || !strchr (access, 'm'))
    return false;
  return x.type[0] == d->type && x.type[1] == '\0' && x.major == d->major && x.minor == d->minor;
}

static int
strip_device_entries (json_t *lnx, const struct rh_rewrite_ctx *ctx, const struct view *v, struct devnum **set,
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
      const char *why = NULL;
      char cls;

      if (!json_is_object (d))
        return rh_error_set (err, EINVAL, "linux.devices[%zu]: expected an object", i);
      if (get_opt_string (d, "path", "linux.devices", i, &path, err) < 0
          || get_opt_string (d, "type", "linux.devices", i, &type, err) < 0)
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
      if (why == NULL)
        {
          i++;
          continue;
        }
      if (cls && json_is_integer (maj) && json_is_integer (min))
        devnum_add (set, nset, cls, (long) json_integer_value (maj), (long) json_integer_value (min));
      rh_log_info (ctx->log, "device %s stripped by policy (protected_devices): matches %s (linux.devices[%zu])",
                   path ? path : "(no path)", why, i);
      json_array_remove (devs, i);
    }
  return 0;
}

static int
rewrite_devices (json_t *spec, const struct rh_rewrite_ctx *ctx, struct view_once *once, rh_error *err)
{
  json_t *lnx = json_object_get (spec, "linux");
  json_t *res, *rules;
  const struct view *vp;
  _cleanup_free_ struct devnum *set = NULL;
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

  if (view_get (spec, ctx, once, &vp, err) < 0)
    return -1;
  for (size_t g = 0; g < vp->ndg; g++)
    for (size_t k = 0; k < vp->dg[g].n; k++)
      devnum_add (&set, &nset, vp->dg[g].nodes[k].type, vp->dg[g].nodes[k].major, vp->dg[g].nodes[k].minor);
  if (strip_device_entries (lnx, ctx, vp, &set, &nset, err) < 0)
    return -1;

  /* Remove allow rules that name a protected major (exactly, or a whole major's minors). An
   * allow rule with a wildcard major (the "allow everything" rule of privileged containers) is
   * left to the capabilities modifier; protected numbers get explicit deny rules after it,
   * because device rules are applied in order and the last match wins. */
  i = 0;
  while (i < json_array_size (rules))
    {
      struct rule r;
      bool grants = false, removed = false;
      if (parse_rule (json_array_get (rules, i), i, &r, err) < 0)
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
  int ret = rewrite_devices (spec, ctx, &once, err);
  view_once_free (&once);
  return ret;
}

/* ---- network ---- */

int
rh_rewrite_network (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  json_t *lnx = json_object_get (spec, "linux");
  json_t *ns;
  size_t i = 0;

  if (lnx == NULL || json_is_null (lnx))
    return 0;
  if (!json_is_object (lnx))
    return rh_error_set (err, EINVAL, "linux: expected an object");
  ns = json_object_get (lnx, "namespaces");
  if (ns == NULL || json_is_null (ns))
    return 0;
  if (!json_is_array (ns))
    return rh_error_set (err, EINVAL, "linux.namespaces: expected an array");
  while (i < json_array_size (ns))
    {
      json_t *e = json_array_get (ns, i);
      const char *type;
      if (!json_is_object (e))
        return rh_error_set (err, EINVAL, "linux.namespaces[%zu]: expected an object", i);
      if (get_opt_string (e, "type", "linux.namespaces", i, &type, err) < 0)
        return -1;
      if (type && strcmp (type, "network") == 0)
        {
          /* runsc runs with --network=host: the sandbox uses the host's (the sandboxer's) stack. */
          rh_log_info (ctx->log, "network namespace removed (runsc runs with --network=host)");
          json_array_remove (ns, i);
          continue;
        }
      i++;
    }
  return 0;
}

/* ---- annotations ---- */

int
rh_rewrite_annotations (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  json_t *ann = json_object_get (spec, "annotations");
  const char *key;
  json_t *val;
  void *tmp;

  if (ann == NULL || json_is_null (ann))
    return 0;
  if (!json_is_object (ann))
    return rh_error_set (err, EINVAL, "annotations: expected an object");
  json_object_foreach_safe (ann, tmp, key, val)
    {
      const char *why = NULL;
      for (char **p = ctx->policy->strip_annotation_prefixes; p && *p && !why; p++)
        if (rh_str_has_prefix (key, *p))
          why = "strip_annotation_prefixes";
      if (!why && rh_str_has_prefix (key, RH_ANNOTATION_PREFIX))
        why = "reserved for runsc-host";
      if (!why)
        continue;
      rh_log_info (ctx->log, "annotation %s stripped by policy (%s)", key, why);
      json_object_del (ann, key);
    }
  return 0;
}

/* ---- mark ---- */

int
rh_rewrite_mark (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  json_t *ann = json_object_get (spec, "annotations");

  if (ann == NULL || json_is_null (ann))
    {
      ann = json_object ();
      json_object_set_new (spec, "annotations", ann);
    }
  if (!json_is_object (ann))
    return rh_error_set (err, EINVAL, "annotations: expected an object");
  json_object_set_new (ann, RH_ANNOTATION_POLICY, json_string (ctx->policy->sha256));
  return 0;
}

/* ---- the whole rewrite ---- */

int
rh_spec_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  /* root, mounts and devices share one view of the protected set (view_get). */
  static int (*const viewed[]) (json_t *, const struct rh_rewrite_ctx *, struct view_once *, rh_error *) = {
    rewrite_root,
    rewrite_mounts,
    rewrite_devices,
  };
  static const struct
  {
    const char *name;
    int (*fn) (json_t *, const struct rh_rewrite_ctx *, rh_error *);
  } steps[] = {
    { "joins", rh_joins_rewrite },
    { "cgroups", rh_cgroups_rewrite },
    { "network", rh_rewrite_network },
    { "annotations", rh_rewrite_annotations },
    { "caps", rh_caps_rewrite },
    { "seccomp", rh_seccomp_rewrite },
    { "gate", rh_gate_rewrite },
    { "client_hooks", rh_client_hooks_rewrite }, /* before hooks: it leaves our own hook_path to it */
    { "hooks", rh_hooks_rewrite },
    { "mark", rh_rewrite_mark },
  };

  if (!json_is_object (spec))
    return rh_error_set (err, EINVAL, "spec: expected a JSON object");
  /* Before any modifier: each one looks its keys up exactly, while runsc (Go) also takes
   * "Mounts" or "mounſ" for "mounts", the last spelling winning. A twin would let runsc run a
   * spec that no modifier saw (spec_keys.h). */
  if (rh_spec_check_keys (spec, err) < 0)
    return -1;
  {
    struct view_once once = { 0 };
    int r = 0;
    for (size_t i = 0; i < sizeof viewed / sizeof viewed[0] && r == 0; i++)
      r = viewed[i] (spec, ctx, &once, err);
    view_once_free (&once);
    if (r < 0)
      return -1;
  }
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
    if (steps[i].fn (spec, ctx, err) < 0)
      return -1;
  return 0;
}

/* ---- the bundle ---- */

/* Parsing hands no jansson memory to anything but jansson, and does not log: its nodes may
 * come from the arena when the process installed it (arena.h). */
int
rh_spec_parse (const char *path, const char *text, size_t len, json_t **out, rh_error *err)
{
  json_error_t jerr;
  bool was = rh_arena_json_bump (true);
  json_t *j = json_loadb (text, len, JSON_REJECT_DUPLICATES, &jerr);

  rh_arena_json_bump (was);
  if (j == NULL)
    return rh_error_set (err, EINVAL, "%s: invalid JSON at line %d column %d: %s", path, jerr.line, jerr.column,
                         jerr.text);
  if (!json_is_object (j))
    {
      json_decref (j);
      return rh_error_set (err, EINVAL, "%s: expected a JSON object", path);
    }
  *out = j;
  return 0;
}

/* The serialised spec, in a buffer of our own (json_dumps would build the text in one buffer
 * and copy it into another, allocated by jansson). */
struct outbuf
{
  char *p;
  size_t len, cap;
};

static int
outbuf_add (const char *chunk, size_t n, void *data)
{
  struct outbuf *b = data;

  /* Most pieces are one byte (a quote, a comma, a newline). */
  if (n == 1 && b->len < b->cap)
    {
      b->p[b->len++] = chunk[0];
      return 0;
    }
  if (n > b->cap - b->len)
    {
      size_t cap = b->cap;
      while (n > cap - b->len)
        {
          if (cap > SIZE_MAX / 2)
            return -1;
          cap *= 2;
        }
      b->p = rh_xrealloc (b->p, cap);
      b->cap = cap;
    }
  memcpy (b->p + b->len, chunk, n);
  b->len += n;
  return 0;
}

/* The dumper's own bookkeeping (a loop check per object and array) may come from the arena: it
 * is released in stack order, and the dumper does not log. */
char *
rh_spec_serialise (json_t *spec, size_t in_len, size_t *len)
{
  /* Indented output is about twice the size of a compact input. */
  size_t hint = in_len < SIZE_MAX / 4 ? 2 * in_len + 64 : in_len;
  struct outbuf b = { NULL, 0, hint < 4096 ? 4096 : hint };
  bool was;
  int r;

  b.p = rh_xrealloc (NULL, b.cap);
  was = rh_arena_json_bump (true);
  r = json_dump_callback (spec, outbuf_add, &b, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  rh_arena_json_bump (was);
  if (r < 0 || outbuf_add ("\n", 2, &b) < 0)
    {
      free (b.p);
      return NULL;
    }
  *len = b.len - 1; /* the NUL is not part of the file */
  return b.p;
}

int
rh_rewrite_bundle (const char *bundle, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  _cleanup_free_ char *abs_bundle = NULL;
  _cleanup_free_ char *path = NULL;
  _cleanup_free_ char *orig_path = NULL;
  _cleanup_free_ char *text = NULL;
  _cleanup_free_ char *out = NULL;
  _cleanup_json_ json_t *spec = NULL;
  struct rh_rewrite_ctx local = *ctx;
  struct stat st, ost;
  size_t len = 0, out_len = 0;
  bool ours, from_orig = false, wrote_orig = false;

  if (bundle[0] == '/')
    abs_bundle = rh_path_clean (NULL, bundle);
  else
    {
      _cleanup_free_ char *cwd = getcwd (NULL, 0);
      if (cwd == NULL)
        return rh_error_sys (err, errno, "bundle %s: getcwd", bundle);
      abs_bundle = rh_path_clean (cwd, bundle);
    }
  path = rh_xasprintf ("%s/config.json", abs_bundle);
  orig_path = rh_xasprintf ("%s/config.json.orig", abs_bundle);
  local.bundle = abs_bundle;

  /* lstat: a config.json that is a symlink could make us read (and copy to .orig) a file the
   * bundle's creator chose anywhere on the host. */
  if (lstat (path, &st) < 0)
    return rh_error_sys (err, errno, "%s", path);
  if (!S_ISREG (st.st_mode))
    return rh_error_set (err, EINVAL, "%s: not a regular file", path);
  if (rh_read_file_capped (path, RH_SPEC_MAX_BYTES, &text, &len, err) < 0)
    return -1;
  if (rh_spec_parse (path, text, len, &spec, err) < 0)
    return -1;

  /* A retried create finds our own output in config.json. Rewrite the client's original again
   * (kept in config.json.orig) rather than our output: the result is the same, and modifiers
   * that add mounts of their own (the gate) are not judged by the mount policy a second time.
   * A client-set mark alone (no .orig from us) changes nothing. */
  ours = json_object_get (json_object_get (spec, "annotations"), RH_ANNOTATION_POLICY) != NULL;
  if (ours && lstat (orig_path, &ost) == 0 && S_ISREG (ost.st_mode))
    {
      free (text);
      text = NULL;
      json_decref (spec);
      spec = NULL;
      if (rh_read_file_capped (orig_path, RH_SPEC_MAX_BYTES, &text, &len, err) < 0)
        return -1;
      if (rh_spec_parse (orig_path, text, len, &spec, err) < 0)
        return -1;
      from_orig = true;
    }
  /* The tree is rewritten in place: the client's original is text (kept in config.json.orig),
   * and on an error the partly rewritten tree is dropped, never written. */
  if (rh_spec_rewrite (spec, &local, err) < 0)
    return rh_error_prefix (err, "%s", path);
  out = rh_spec_serialise (spec, len, &out_len);
  if (out == NULL)
    return rh_error_set (err, ENOMEM, "%s: cannot serialise the rewritten spec", path);
  /* A process that installed the arena (runsc-host create) execs runsc next, which drops the
   * heap at once: the tree is left in place rather than taken apart node by node. Where it is
   * not installed (sanitizer builds; every test but the arena's own) the tree is freed. */
  if (rh_arena_json_installed ())
    (void) steal_pointer (&spec);

  /* Keep the client's original for auditors (written first: config.json is replaced only once
   * the original is safe on disk). */
  if (!from_orig)
    {
      if (rh_write_file_atomic (orig_path, text, len, st.st_mode & 07777, err) < 0)
        return rh_error_prefix (err, "keep original spec");
      wrote_orig = true;
    }
  if (rh_write_file_atomic (path, out, out_len, st.st_mode & 07777, err) < 0)
    {
      if (wrote_orig)
        unlink (orig_path);
      return rh_error_prefix (err, "write rewritten spec");
    }
  rh_log_debug (ctx->log, "rewrote %s under policy %s", path, ctx->policy->sha256);
  return 0;
}
