/* The protected set as the root, mounts and devices modifiers see it (rewrite_view.h): protected
 * paths and binaries resolved on the host, device globs read from /dev, and the check of one host
 * path against them. Pure but for ctx->resolver and the /dev listing. */
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

/* ---- the protected set, in the forms the checks compare against ---- */

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

const char *
rh_rewrite_bundle_dir (const struct rh_rewrite_ctx *ctx)
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
  v->bundle_lex = rh_path_clean (NULL, rh_rewrite_bundle_dir (ctx));
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
            rh_devnum_add (&v->nums, &v->nnums, g->nodes[k].type, g->nodes[k].major, g->nodes[k].minor);
        }
      for (size_t i = 0; i < p->n_protected_devnums; i++)
        rh_devnum_add (&v->nums, &v->nnums, p->protected_devnums[i].type, p->protected_devnums[i].major,
                    p->protected_devnums[i].minor);
    }
  if (json_is_string (rootpath) && json_string_value (rootpath)[0] != '\0')
    {
      const char *rp = json_string_value (rootpath);
      /* runsc opens the path that Go's filepath.Join makes of a relative root: cleaned lexically
       * before the kernel follows any symlink ("nope/../rootfs" is "<bundle>/rootfs" even when
       * "nope" does not exist). */
      _cleanup_free_ char *target = rh_path_runsc (rh_rewrite_bundle_dir (ctx), rp);
      v->root_lex = rh_path_clean (rh_rewrite_bundle_dir (ctx), rp);
      v->root_res = rh_resolve (ctx->resolver, target, &v->root_missing);
      if (v->root_res == NULL)
        return rh_error_sys (err, errno, "root.path %s: cannot resolve on the host", json_string_value (rootpath));
    }
  return 0;
}

int
rh_view_get (json_t *spec, const struct rh_rewrite_ctx *ctx, struct view_once *once, const struct view **out,
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

void
rh_view_once_free (struct view_once *once)
{
  if (once->built)
    view_free (&once->v);
  once->built = false;
}

/* ---- checking one host path ---- */

/* Host /proc holds magic links (/proc/PID/root, /proc/PID/fd/N) that reach files in other
 * mount namespaces; no lexical or readlink-based check can see where they lead. */
bool
rh_in_host_proc (const char *p)
{
  return rh_path_within (p, "/proc");
}

/* Does a host mount source (clean form lex, resolved form res) touch the protected set? */
bool
rh_view_check_source (const struct rh_rewrite_ctx *ctx, const struct view *v, const char *lex, const char *res,
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
    if (rh_in_host_proc (forms[f]))
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

char *
rh_view_describe_source (const char *written, const char *res)
{
  if (strcmp (written, res) == 0)
    return rh_xasprintf ("mount of %s", written);
  return rh_xasprintf ("mount of %s (resolves to %s)", written, res);
}
