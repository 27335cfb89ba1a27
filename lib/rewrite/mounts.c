/* The root and mounts modifiers: root.path and every mount source (and overlay-style option
 * path) checked against the protected set, by every spelling and as runsc will join it; the one
 * bind-mount detector (rh_mount_is_bind). docs/rewrite.md explains each rule. */
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "rewrite_view.h"
#include "util.h"

/* ---- root ---- */

int
rh_rewrite_root_viewed (json_t *spec, const struct rh_rewrite_ctx *ctx, struct view_once *once, rh_error *err)
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
  if (rh_view_get (spec, ctx, once, &vp, err) < 0)
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
        if (ret == 0 && rh_in_host_proc (forms[f]))
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
  int ret = rh_rewrite_root_viewed (spec, ctx, &once, err);
  rh_view_once_free (&once);
  return ret;
}

/* ---- mounts ---- */

int
rh_spec_get_opt_string (json_t *obj, const char *key, const char *where, size_t idx, const char **out, rh_error *err)
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

int
rh_spec_drop_or_next (json_t *arr, size_t *i, int verdict)
{
  if (verdict < 0)
    return -1;
  if (verdict > 0)
    json_array_remove (arr, *i);
  else
    (*i)++;
  return 0;
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
  _cleanup_free_ char *lex = rh_path_clean (rh_rewrite_bundle_dir (ctx), written);
  /* The path runsc opens: a relative one is joined to the bundle and cleaned lexically first
   * (Go's filepath.Join), so "q/../ev" is "<bundle>/ev" whether or not "q" exists or is a
   * link; then the kernel walks it, following "ev". */
  _cleanup_free_ char *target = rh_path_runsc (rh_rewrite_bundle_dir (ctx), written);
  bool missing = false;
  _cleanup_free_ char *res = rh_resolve (ctx->resolver, target, &missing);
  _cleanup_free_ char *what = NULL;
  struct hit h = { 0 };

  if (res == NULL && rh_in_host_proc (lex))
    res = rh_xstrdup (lex); /* refused below whatever it leads to */
  if (res == NULL)
    {
      /* Fail closed: a source we cannot follow could lead anywhere. */
      return rh_error_sys (err, errno, "mount of %s denied by policy (protected_paths): cannot resolve host path %s",
                           written, lex);
    }
  if (!rh_view_check_source (ctx, v, lex, res, &h))
    {
      if (must_exist && missing)
        return rh_error_set (err, ENOENT, "mount of %s denied by policy (built-in rule: bind source must exist): "
                             "%s does not exist on the host; container path %s", written, res, dest);
      if (pinned)
        *pinned = steal_pointer (&res);
      return 0;
    }
  what = rh_view_describe_source (written, res);
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
  if (rh_spec_get_opt_string (m, "type", "mounts", idx, &type, err) < 0
      || rh_spec_get_opt_string (m, "source", "mounts", idx, &source, err) < 0
      || rh_spec_get_opt_string (m, "destination", "mounts", idx, &dest, err) < 0)
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

int
rh_rewrite_mounts_viewed (json_t *spec, const struct rh_rewrite_ctx *ctx, struct view_once *once, rh_error *err)
{
  json_t *mounts = json_object_get (spec, "mounts");
  const struct view *v;
  size_t i = 0;

  if (mounts == NULL || json_is_null (mounts))
    return 0;
  if (!json_is_array (mounts))
    return rh_error_set (err, EINVAL, "mounts: expected an array");
  if (rh_view_get (spec, ctx, once, &v, err) < 0)
    return -1;
  while (i < json_array_size (mounts))
    {
      if (rh_spec_drop_or_next (mounts, &i, police_mount (ctx, v, json_array_get (mounts, i), i, err)) < 0)
        return -1;
    }
  return 0;
}

int
rh_rewrite_mounts (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  struct view_once once = { 0 };
  int ret = rh_rewrite_mounts_viewed (spec, ctx, &once, err);
  rh_view_once_free (&once);
  return ret;
}

