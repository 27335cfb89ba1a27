/* The spec rewrite (see spec_rewrite.h for the modifier order). Everything here is pure: the
 * host file system is only seen through ctx->resolver, and rh_rewrite_bundle (at the end) is the
 * only function that touches files. docs/rewrite.md explains each rule and the choices made. */
#include "spec_rewrite.h"

#include <errno.h>
#include <fcntl.h>
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
#include "nerdctl_annotations.h"
#include "seccomp.h"
#include "spec_keys.h"
#include "util.h"

/* ---- the protected set, in the forms the checks compare against ---- */

static void devnum_add (struct rh_devnum **set, size_t *n, char type, long major, long minor);

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
  const char **pkey; /* the policy key that protects each */
  size_t np;
  struct devglob *dg;
  size_t ndg;
  char *root_lex, *root_res; /* the container's rootfs, when known */
  bool root_missing;         /* part of root_res does not exist on the host */
  struct rh_devnum *nums;    /* protected device numbers: host nodes of the patterns + the policy's */
  size_t nnums;
  char *bundle_lex, *bundle_res; /* the bundle directory, as given and resolved */
};

static void
view_free (struct view *v)
{
  for (size_t i = 0; i < v->np; i++)
    free (v->pres[i]);
  free (v->pres);
  free (v->plex);
  free (v->pkey);
  for (size_t i = 0; i < v->ndg; i++)
    {
      free (v->dg[i].literal);
      rh_devnodes_free (v->dg[i].nodes, v->dg[i].n);
    }
  free (v->dg);
  free (v->root_lex);
  free (v->root_res);
  free (v->bundle_lex);
  free (v->bundle_res);
  free (v->nums);
  memset (v, 0, sizeof *v);
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

  /* The binaries that run as root for every container are protected too, whatever the list says:
   * a writable bind of one (or of its directory) would let a workload replace runsc, the hook or
   * the gate that the next container runs on the host. The policy's key names them. */
  const char *const binaries[] = { p->runsc.path, p->hook_path, p->gate.binary, ctx->self_exe };
  static const char *const bin_keys[] = { "runsc.path", "hook_path", "gate.binary", "built-in rule: runsc-host's own binary" };
  size_t nb = sizeof binaries / sizeof binaries[0], npol = rh_strv_len (p->protected_paths);

  memset (v, 0, sizeof *v);
  v->plex = rh_xmalloc0 ((npol + nb + 1) * sizeof *v->plex);
  v->pres = rh_xmalloc0 ((npol + nb + 1) * sizeof *v->pres);
  v->pkey = rh_xmalloc0 ((npol + nb + 1) * sizeof *v->pkey);
  for (size_t i = 0; i < npol; i++, v->np++)
    {
      v->plex[v->np] = p->protected_paths[i];
      v->pkey[v->np] = "protected_paths";
    }
  for (size_t i = 0; i < nb; i++)
    if (binaries[i] && binaries[i][0] == '/')
      {
        v->plex[v->np] = binaries[i];
        v->pkey[v->np++] = bin_keys[i];
      }
  for (size_t i = 0; i < v->np; i++)
    {
      v->pres[i] = rh_resolve (ctx->resolver, v->plex[i], NULL);
      if (v->pres[i] == NULL)
        return rh_error_sys (err, errno, "policy key protected_paths: cannot resolve %s on the host", v->plex[i]);
    }
  v->bundle_lex = rh_path_clean (NULL, bundle_dir (ctx));
  v->bundle_res = rh_resolve (ctx->resolver, v->bundle_lex, NULL);
  if (v->bundle_res == NULL)
    return rh_error_sys (err, errno, "bundle %s: cannot resolve on the host", v->bundle_lex);
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
          for (size_t k = 0; k < g->n; k++)
            devnum_add (&v->nums, &v->nnums, g->nodes[k].type, g->nodes[k].major, g->nodes[k].minor);
        }
      for (size_t i = 0; i < p->n_protected_devnums; i++)
        devnum_add (&v->nums, &v->nnums, p->protected_devnums[i].type, p->protected_devnums[i].major,
                    p->protected_devnums[i].minor);
    }
  if (json_is_string (rootpath) && json_string_value (rootpath)[0] != '\0')
    {
      const char *rp = json_string_value (rootpath);
      /* runsc opens the path that Go's filepath.Join makes of a relative root: cleaned lexically
       * before the kernel follows any symlink ("nope/../rootfs" is "<bundle>/rootfs" even when
       * "nope" does not exist). */
      _cleanup_free_ char *target = rh_path_runsc (bundle_dir (ctx), rp);
      v->root_lex = rh_path_clean (bundle_dir (ctx), rp);
      v->root_res = rh_resolve (ctx->resolver, target, &v->root_missing);
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
check_source (const struct rh_rewrite_ctx *ctx, const struct view *v, const char *lex, const char *res,
              struct hit *h)
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
                h->key = v->pkey[i];
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
  /* A node is the device its numbers say, whatever it is called (a copy of the TPM's node made
   * with mknod somewhere else is still the TPM). */
  if (ctx->resolver && ctx->resolver->stat_device)
    {
      char type = 0;
      long major = 0, minor = 0;
      if (ctx->resolver->stat_device (ctx->resolver->data, res, &type, &major, &minor) > 0)
        for (size_t i = 0; i < v->nnums; i++)
          if (v->nums[i].type == type && v->nums[i].major == major && v->nums[i].minor == minor)
            {
              /* Name the key that lists the number (a host node's numbers come from a pattern). */
              h->key = "protected_devices";
              for (size_t k = 0; k < ctx->policy->n_protected_devnums; k++)
                if (ctx->policy->protected_devnums[k].type == type && ctx->policy->protected_devnums[k].major == major
                    && ctx->policy->protected_devnums[k].minor == minor)
                  h->key = "protected_device_numbers";
              h->detail = rh_xasprintf ("is protected device %c %ld:%ld", type, major, minor);
              return true;
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

  {
    const struct view v = *vp;
    const char *forms[2] = { v.root_lex, v.root_res };
    const char *wrote = json_string_value (path);
    /* The one place a rootfs may lie inside a protected tree: its own bundle (containerd's
     * bundles live under /run/containerd/io.containerd.runtime.v2.task, which is protected),
     * strictly inside it, each form against the same form of the bundle. */
    const char *bforms[2] = { v.bundle_lex, v.bundle_res };

    if (v.root_missing)
      return rh_error_set (err, ENOENT, "root.path %s (%s) denied by policy (built-in rule: root must exist): it "
                           "does not exist on the host, and a path made after the check could lead anywhere",
                           wrote, v.root_res);
    /* A rootfs that is, or holds, a protected path hands the whole protected tree over. */
    for (int f = 0; f < 2 && ret == 0; f++)
      for (size_t i = 0; i < v.np && ret == 0; i++)
        if (rh_path_within (v.plex[i], forms[f]) || rh_path_within (v.pres[i], forms[f]))
          ret = rh_error_set (err, EPERM, "root.path %s (%s) denied by policy (%s): it contains protected path %s",
                              wrote, forms[f], v.pkey[i], v.plex[i]);
    for (int f = 0; f < 2 && ret == 0; f++)
      {
        /* One inside a protected tree shows the container what the tree holds (runsc-host's own
         * records, another container's files, the TEE directory). */
        bool in_bundle = rh_path_within (forms[f], bforms[f]) && strcmp (forms[f], bforms[f]) != 0;
        for (size_t i = 0; i < v.np && ret == 0 && !in_bundle; i++)
          if (rh_path_within (forms[f], v.plex[i]) || rh_path_within (forms[f], v.pres[i]))
            ret = rh_error_set (err, EPERM, "root.path %s (%s) denied by policy (%s): it lies inside protected path %s",
                                wrote, forms[f], v.pkey[i], v.plex[i]);
        for (size_t i = 0; i < v.ndg && ret == 0; i++)
          {
            bool bad = rh_path_overlaps (v.dg[i].literal, forms[f])
                       || fnmatch (v.dg[i].pattern, forms[f], FNM_PATHNAME | FNM_LEADING_DIR) == 0;
            for (size_t k = 0; k < v.dg[i].n && !bad; k++)
              bad = rh_path_within (v.dg[i].nodes[k].path, forms[f]);
            if (bad)
              ret = rh_error_set (err, EPERM, "root.path %s (%s) denied by policy (protected_devices): it "
                                  "overlaps protected devices %s", wrote, forms[f], v.dg[i].pattern);
          }
        if (ret == 0 && in_host_proc (forms[f]))
          ret = rh_error_set (err, EPERM, "root.path %s (%s) denied by policy (built-in rule: host /proc)",
                              wrote, forms[f]);
      }
    /* Pin what was checked: runsc gets the resolved absolute path, so neither its own join with
     * the bundle nor a symlink re-pointed after this check changes what it opens. */
    if (ret == 0 && strcmp (wrote, v.root_res) != 0)
      {
        rh_log_debug (ctx->log, "root.path %s pinned to %s", wrote, v.root_res);
        json_object_set_new (root, "path", json_string (v.root_res));
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

bool
rh_mount_is_bind (json_t *m)
{
  const char *type = json_string_value (json_object_get (m, "type"));
  json_t *o;
  size_t i;

  if (type && (strcasecmp (type, "bind") == 0 || strcasecmp (type, "rbind") == 0))
    return true;
  json_array_foreach (json_object_get (m, "options"), i, o)
    if (json_is_string (o) && option_is_bind (json_string_value (o)))
      return true;
  return false;
}

/* Check one host path of mount idx. Returns 1 (remove the mount), 0 (keep), -1 (error). When it
 * is kept and pinned is not NULL, *pinned is the resolved path (malloc'd) that the mount must use.
 * must_exist: a bind's source; a part that does not exist is refused, since whatever is made
 * there after this check (a symlink to the TEE directory) is what runsc would mount. */
static int
police_path (const struct rh_rewrite_ctx *ctx, const struct view *v, size_t idx, const char *written,
             const char *dest, bool must_exist, char **pinned, rh_error *err)
{
  _cleanup_free_ char *lex = rh_path_clean (bundle_dir (ctx), written);
  /* The path runsc opens: a relative one is joined to the bundle and cleaned lexically first
   * (Go's filepath.Join), so "q/../ev" is "<bundle>/ev" whether or not "q" exists or is a
   * link; then the kernel walks it, following "ev". */
  _cleanup_free_ char *target = rh_path_runsc (bundle_dir (ctx), written);
  bool missing = false;
  _cleanup_free_ char *res = rh_resolve (ctx->resolver, target, &missing);
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
  if (!check_source (ctx, v, lex, res, &h))
    {
      if (must_exist && missing)
        return rh_error_set (err, ENOENT, "mount of %s denied by policy (built-in rule: bind source must exist): "
                             "%s does not exist on the host; container path %s", written, res, dest);
      if (pinned)
        *pinned = steal_pointer (&res);
      return 0;
    }
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
            int r = police_path (ctx, v, idx, d, dest, false, NULL, err);
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
  _cleanup_free_ char *pinned = NULL;
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
    if (!json_is_string (o))
      return rh_error_set (err, EINVAL, "mounts[%zu].options[%zu]: expected a string", idx, i);
  bind = rh_mount_is_bind (m);
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
      bool host_path = bind || type == NULL || type[0] == '\0';
      int r = police_path (ctx, v, idx, source, dest, host_path, &pinned, err);
      if (r != 0)
        return r;
    }
  json_array_foreach (opts, i, o)
    {
      int r = police_options (ctx, v, idx, json_string_value (o), dest, err);
      if (r != 0)
        return r;
    }
  /* Pin what was checked: the source becomes the resolved absolute path, so runsc neither joins
   * it to the bundle in its own way nor follows a symlink re-pointed after this check. */
  if (pinned && strcmp (pinned, source) != 0)
    {
      rh_log_debug (ctx->log, "mount source %s pinned to %s (mounts[%zu])", source, pinned, idx);
      json_object_set_new (m, "source", json_string (pinned));
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

static void
devnum_add (struct rh_devnum **set, size_t *n, char type, long major, long minor)
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
rule_grants (const struct rule *r, const struct rh_devnum *d)
{
  bool type_ok = strcmp (r->type, "a") == 0 || (r->type[0] == d->type && r->type[1] == '\0');
  return r->allow && type_ok && (r->any_major || r->major == d->major) && (r->any_minor || r->minor == d->minor);
}

static bool
is_deny_for (json_t *r, const struct rh_devnum *d)
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
        devnum_add (set, nset, cls, (long) json_integer_value (maj), (long) json_integer_value (min));
      rh_log_info (ctx->log, "device %s stripped by policy (%s): matches %s (linux.devices[%zu])",
                   path ? path : "(no path)", key, why, i);
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

  if (view_get (spec, ctx, once, &vp, err) < 0)
    return -1;
  for (size_t k = 0; k < vp->nnums; k++)
    devnum_add (&set, &nset, vp->nums[k].type, vp->nums[k].major, vp->nums[k].minor);
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
          const char *nspath = json_string_value (json_object_get (e, "path"));
          if (nspath && nspath[0])
            rh_log_info (ctx->log, "network namespace path %s removed by policy (built-in rule: host networking): "
                         "runsc runs with --network=host", nspath);
          else
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
    { "nerdctl", rh_nerdctl_annotations_rewrite },
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

/* Who may write the bundle directory decides who could swap config.json between our check and
 * runsc's read. Only its owner (root, or the user we run as) may. */
static int
check_bundle_dir (int dfd, const char *dir, rh_error *err)
{
  struct stat st;

  if (fstat (dfd, &st) < 0)
    return rh_error_sys (err, errno, "%s", dir);
  if ((st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != 0)
      || (st.st_uid != 0 && st.st_uid != geteuid ()))
    return rh_error_set (err, EPERM, "bundle %s (owner %u, mode %04o) denied by policy (built-in rule: bundle "
                         "writable only by its owner): another user could replace config.json after the check",
                         dir, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
  return 0;
}

int
rh_rewrite_bundle (const char *bundle, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  _cleanup_free_ char *abs_bundle = NULL;
  _cleanup_free_ char *path = NULL;
  _cleanup_free_ char *text = NULL;
  _cleanup_free_ char *out = NULL;
  _cleanup_free_ char *check = NULL;
  _cleanup_json_ json_t *spec = NULL;
  _cleanup_close_ int dfd = -1;
  struct rh_rewrite_ctx local = *ctx;
  struct stat dst, pst;
  size_t len = 0, out_len = 0, check_len = 0;
  bool ours, from_orig = false, wrote_orig = false, replaced = false;

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
  local.bundle = abs_bundle;

  /* Everything below goes through one descriptor of the bundle directory: config.json is read
   * once from an fd opened with O_NOFOLLOW (a symlink could make us read, and copy to .orig, a
   * file chosen anywhere on the host), and written with openat/renameat. */
  dfd = open (abs_bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return rh_error_sys (err, errno, "bundle %s", abs_bundle);
  if (check_bundle_dir (dfd, abs_bundle, err) < 0)
    return -1;
  if (rh_read_file_at_capped (dfd, "config.json", RH_SPEC_MAX_BYTES, &text, &len, NULL, err) < 0)
    return rh_error_prefix (err, "bundle %s", abs_bundle);
  if (rh_spec_parse (path, text, len, &spec, err) < 0)
    return -1;

  /* A retried create finds our own output in config.json. Rewrite the client's original again
   * (kept in config.json.orig) rather than our output: the result is the same, and modifiers
   * that add mounts of their own (the gate) are not judged by the mount policy a second time.
   * A client-set mark alone (no .orig from us) changes nothing. */
  ours = json_object_get (json_object_get (spec, "annotations"), RH_ANNOTATION_POLICY) != NULL;
  if (ours)
    {
      _cleanup_free_ char *otext = NULL;
      size_t olen = 0;
      rh_error oerr = { 0 };
      if (rh_read_file_at_capped (dfd, "config.json.orig", RH_SPEC_MAX_BYTES, &otext, &olen, NULL, &oerr) == 0)
        {
          _cleanup_free_ char *opath = rh_xasprintf ("%s.orig", path);
          json_decref (spec);
          spec = NULL;
          free (text);
          text = steal_pointer (&otext);
          len = olen;
          if (rh_spec_parse (opath, text, len, &spec, err) < 0)
            return -1;
          from_orig = true;
        }
      else if (oerr.code != ENOENT)
        return rh_error_set (err, oerr.code, "bundle %s: %s", abs_bundle, oerr.msg);
    }
  /* The tree is rewritten in place: the client's original is text (kept in config.json.orig),
   * and on an error the partly rewritten tree is dropped, never written. */
  if (rh_spec_rewrite (spec, &local, err) < 0)
    return rh_error_prefix (err, "%s", path);
  if (ctx->stage && ctx->stage (spec, ctx->stage_data, err) < 0)
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
   * the original is safe on disk). Both files get a mode of our own: the client's mode bits
   * (setuid, world-writable...) are never copied onto files root writes. */
  if (!from_orig)
    {
      if (rh_write_file_atomic_at (dfd, "config.json.orig", text, len, 0600, err) < 0)
        return rh_error_prefix (err, "bundle %s: keep original spec", abs_bundle);
      wrote_orig = true;
    }
  if (rh_write_file_atomic_at (dfd, "config.json", out, out_len, 0600, err) < 0)
    {
      rh_error_prefix (err, "bundle %s: write rewritten spec", abs_bundle);
      goto fail;
    }
  replaced = true;

  /* runsc opens <bundle>/config.json by path. Make sure that path leads to the directory we
   * wrote in, and that what it holds now is, byte for byte, what we checked. */
  if (stat (abs_bundle, &pst) < 0 || fstat (dfd, &dst) < 0 || pst.st_dev != dst.st_dev || pst.st_ino != dst.st_ino)
    {
      rh_error_set (err, EPERM, "bundle %s was replaced during the rewrite", abs_bundle);
      goto fail;
    }
  if (rh_read_file_at_capped (dfd, "config.json", RH_SPEC_MAX_BYTES, &check, &check_len, NULL, err) < 0)
    {
      rh_error_prefix (err, "bundle %s: read back", abs_bundle);
      goto fail;
    }
  if (check_len != out_len || memcmp (check, out, out_len) != 0)
    {
      rh_error_set (err, EPERM, "%s changed during the rewrite", path);
      goto fail;
    }
  rh_log_debug (ctx->log, "rewrote %s under policy %s", path, ctx->policy->sha256);
  return 0;

fail:
  /* Nothing half-done: config.json is put back as the client wrote it, and a .orig written by
   * this call goes. */
  {
    rh_error ignored;
    if (replaced && !from_orig)
      replaced = rh_write_file_atomic_at (dfd, "config.json", text, len, 0600, &ignored) < 0;
    if (wrote_orig && !replaced)
      unlinkat (dfd, "config.json.orig", 0);
  }
  return -1;
}
