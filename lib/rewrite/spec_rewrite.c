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
#include "jsonutil.h"
#include "seccomp.h"
#include "spec_keys.h"
#include "rewrite_view.h"
#include "util.h"

/* ---- network ---- */

int
rh_spec_namespaces (json_t *spec, json_t **out, rh_error *err)
{
  json_t *lnx = json_object_get (spec, "linux");
  json_t *ns;

  *out = NULL;
  if (lnx == NULL || json_is_null (lnx))
    return 0;
  if (!json_is_object (lnx))
    return rh_error_set (err, EINVAL, "linux: expected an object");
  ns = json_object_get (lnx, "namespaces");
  if (ns == NULL || json_is_null (ns))
    return 0;
  if (!json_is_array (ns))
    return rh_error_set (err, EINVAL, "linux.namespaces: expected an array");
  *out = ns;
  return 0;
}

int
rh_rewrite_network (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  json_t *ns;
  size_t i = 0;

  if (rh_spec_namespaces (spec, &ns, err) < 0)
    return -1;
  if (ns == NULL)
    return 0;
  while (i < json_array_size (ns))
    {
      json_t *e = json_array_get (ns, i);
      const char *type;
      if (!json_is_object (e))
        return rh_error_set (err, EINVAL, "linux.namespaces[%zu]: expected an object", i);
      if (rh_spec_get_opt_string (e, "type", "linux.namespaces", i, &type, err) < 0)
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
    rh_rewrite_root_viewed,
    rh_rewrite_mounts_viewed,
    rh_rewrite_devices_viewed,
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
    rh_view_once_free (&once);
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
  bool was = rh_arena_json_bump (true);
  json_t *j = NULL;
  int r = rh_json_parse (path, text, len, 0, &j, err);

  rh_arena_json_bump (was);
  if (r < 0)
    return -1;
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
  /* A create killed half-way (containerd's timeout, the OOM killer) leaves our temp files; a
   * retry sweeps them. */
  rh_sweep_atomic_temps_at (dfd, "config.json");
  rh_sweep_atomic_temps_at (dfd, "config.json.orig");
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
