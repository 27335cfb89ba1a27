/* The client-hooks modifier of the spec rewrite (see client_hooks.h for the reasons). */
#include "client_hooks.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "paths.h"
#include "policy.h"
#include "spec_rewrite.h"
#include "util.h"

/* The OCI hook lists; runsc (2022) runs prestart, createRuntime and poststop ones on the host,
 * and a later runsc may run the others, so every one is judged. */
static const char *const hook_kinds[] = { "prestart", "createRuntime", "createContainer", "startContainer",
                                          "poststart", "poststop", NULL };

/* What the default policy allows besides runsc-host's own hook:
 * - nerdctl's `nerdctl [global flags] internal oci-hook createRuntime|postStop`, at its usual
 *   install paths. Its global flags are copied into the hook by nerdctl; the ones that name
 *   code or state the hook uses as root are pinned to nerdctl's defaults: --cni-path (CNI
 *   plugins the hook executes), --cni-netconfpath (which plugins), --data-root (where it
 *   writes hosts/resolv.conf and network state). --address is left free (the sandboxer's
 *   containerd socket varies); the hook only reads from it. nerdctl 2.2 writes the address and
 *   namespace flags into the hook's argv under its aliases too (--H=, --a=, --n=).
 * - docker's libnetwork-setkey prestart hook (dockerd re-executing itself through
 *   /proc/<pid>/exe, which resolves to the dockerd binary). docker 20.10 adds it only when the
 *   container gets a network namespace of its own, never with --net=host. */
#define NERDCTL_ARGS                                                                                       \
  "[\"nerdctl|*/nerdctl\","                                                                                \
  " \"--debug|--debug=*|--debug-full|--debug-full=*|--address=*|--host=*|--H=*|--a=*|--namespace=*"      \
  "|-n=*|--n=*"                                                                                           \
  "|--snapshotter=*|--storage-driver=*|--cgroup-manager=*|--insecure-registry|--insecure-registry=*"     \
  "|--hosts-dir=*|--experimental|--experimental=*|--host-gateway-ip=*|--bridge-ip=*|--kube-hide-dupe"    \
  "|--kube-hide-dupe=*|--cni-path=/opt/cni/bin|--cni-path=/usr/local/libexec/cni|--cni-path=/usr/libexec/cni" \
  "|--cni-netconfpath=/etc/cni/net.d|--data-root=/var/lib/nerdctl...\","                                  \
  " \"internal\", \"oci-hook\", \"createRuntime|postStop\"]"
#define NERDCTL_ENTRY(p) "{\"path\": \"" p "\", \"kinds\": [\"createRuntime\", \"poststop\"], \"args\": " NERDCTL_ARGS "}"
#define DOCKERD_ARGS                                                                                       \
  "[\"libnetwork-setkey\", \"-exec-root=/var/run/docker|-exec-root=/run/docker\", \"[0-9a-f]*\", \"[0-9a-f]*\"]"
#define DOCKERD_ENTRY(p) "{\"path\": \"" p "\", \"kinds\": [\"prestart\"], \"args\": " DOCKERD_ARGS "}"

const char rh_client_hooks_default_allowed[]
    = "[" NERDCTL_ENTRY ("/usr/local/bin/nerdctl") "," NERDCTL_ENTRY ("/usr/bin/nerdctl") ","
      DOCKERD_ENTRY ("/usr/sbin/dockerd") "," DOCKERD_ENTRY ("/usr/bin/dockerd") ","
      DOCKERD_ENTRY ("/usr/local/bin/dockerd") "]";

/* glibc's list of variables it ignores for setuid programs, and what else makes a hook binary
 * load or run code of the environment's choosing. */
static const char *const default_env_deny[] = { "LD_*",      "GCONV_PATH", "GETCONF_DIR", "HOSTALIASES",
                                                "LOCALDOMAIN", "LOCPATH",  "MALLOC_*",    "NLSPATH",
                                                "RES_OPTIONS", "RESOLV_HOST_CONF", "TMPDIR", "TZDIR",
                                                "GODEBUG",   "BASH_ENV",   "ENV",         "PYTHON*",
                                                "PERL5*",    "NODE_OPTIONS",
                                                /* nerdctl's own configuration: its config file, CNI
                                                 * plugin dir and network configs (code it runs as
                                                 * root), and its rootless dirs */
                                                "NERDCTL_*", "CNI_PATH", "NETCONFPATH", "XDG_*", NULL };

/* ---- policy ---- */

static void
allow_free (struct rh_hook_allow *a)
{
  free (a->path);
  rh_strv_free (a->args);
  rh_strv_free (a->kinds);
}

void
rh_client_hooks_policy_free (struct rh_client_hooks_policy *h)
{
  for (size_t i = 0; i < h->n_allowed; i++)
    allow_free (&h->allowed[i]);
  free (h->allowed);
  rh_strv_free (h->env_deny);
  memset (h, 0, sizeof *h);
}

static int
parse_allowed (json_t *list, struct rh_client_hooks_policy *h, rh_error *err)
{
  static const char *const keys[] = { "path", "args", "kinds", "comment", NULL };
  size_t i;
  json_t *e;

  if (!json_is_array (list))
    return rh_error_set (err, EINVAL, "policy key hooks.allowed: expected an array of objects");
  h->allowed = rh_xmalloc0 ((json_array_size (list) + 1) * sizeof *h->allowed);
  json_array_foreach (list, i, e)
    {
      _cleanup_free_ char *sec = rh_xasprintf ("hooks.allowed[%zu]", i);
      struct rh_hook_allow *a = &h->allowed[h->n_allowed];
      json_t *c = json_object_get (e, "comment");

      if (!json_is_object (e))
        return rh_error_set (err, EINVAL, "policy key %s: expected an object", sec);
      if (rh_policy_check_keys (e, sec, keys, err) < 0)
        return -1;
      if (c && !json_is_string (c))
        return rh_error_set (err, EINVAL, "policy key %s.comment: expected a string", sec);
      h->n_allowed++;
      if (rh_policy_get_abs_path (e, sec, "path", &a->path, err) < 0
          || rh_policy_get_strv (e, sec, "args", &a->args, err) < 0
          || rh_policy_get_strv (e, sec, "kinds", &a->kinds, err) < 0)
        return -1;
      if (a->path == NULL)
        return rh_error_set (err, EINVAL, "policy key %s.path: missing", sec);
      for (size_t k = 0; a->kinds && a->kinds[k]; k++)
        {
          bool ok = false;
          for (const char *const *hk = hook_kinds; *hk; hk++)
            ok = ok || strcmp (*hk, a->kinds[k]) == 0;
          if (!ok)
            return rh_error_set (err, EINVAL, "policy key %s.kinds[%zu]: %s is not an OCI hook list", sec, k,
                                 a->kinds[k]);
        }
      for (size_t k = 0; a->args && a->args[k]; k++)
        if (a->args[k][0] == '\0')
          return rh_error_set (err, EINVAL, "policy key %s.args[%zu]: empty pattern", sec, k);
    }
  return 0;
}

int
rh_client_hooks_policy_parse (json_t *section, struct rh_policy *p, rh_error *err)
{
  static const char *const keys[] = { "action", "allowed", "env_deny", "comment", NULL };
  struct rh_client_hooks_policy *h = &p->client_hooks;
  _cleanup_free_ char *action = NULL;
  _cleanup_json_ json_t *defaults = NULL;
  json_t *allowed;

  memset (h, 0, sizeof *h);
  if (rh_policy_expect_object (section, "hooks", err) < 0)
    return -1;
  if (section && rh_policy_check_keys (section, "hooks", keys, err) < 0)
    return -1;
  if (section && json_object_get (section, "comment") && !json_is_string (json_object_get (section, "comment")))
    return rh_error_set (err, EINVAL, "policy key hooks.comment: expected a string");
  if (section && rh_policy_get_string (section, "hooks", "action", &action, err) < 0)
    return -1;
  if (action == NULL || strcmp (action, "deny") == 0)
    h->action = RH_HOOK_DENY;
  else if (strcmp (action, "strip") == 0)
    h->action = RH_HOOK_STRIP;
  else
    return rh_error_set (err, EINVAL, "policy key hooks.action: %s is not \"deny\" or \"strip\"", action);

  allowed = section ? json_object_get (section, "allowed") : NULL;
  if (allowed == NULL)
    {
      defaults = json_loads (rh_client_hooks_default_allowed, 0, NULL);
      allowed = defaults;
    }
  if (parse_allowed (allowed, h, err) < 0)
    return -1;

  if (section && rh_policy_get_strv (section, "hooks", "env_deny", &h->env_deny, err) < 0)
    return -1;
  if (h->env_deny == NULL)
    {
      h->env_deny = rh_xmalloc0 (sizeof (char *));
      for (const char *const *e = default_env_deny; *e; e++)
        rh_strv_push (&h->env_deny, *e);
    }
  return 0;
}

/* ---- argv patterns ---- */

static bool
alt_match (const char *pattern, size_t plen, const char *s)
{
  /* One element pattern: alternatives separated by '|', each an fnmatch pattern. */
  _cleanup_free_ char *copy = rh_xmalloc0 (plen + 1);
  char *save = NULL, *tok;

  memcpy (copy, pattern, plen);
  for (tok = strtok_r (copy, "|", &save); tok; tok = strtok_r (NULL, "|", &save))
    if (fnmatch (tok, s, 0) == 0)
      return true;
  return false;
}

static bool
args_match_from (char *const *pat, json_t *argv, size_t ai)
{
  size_t n = json_array_size (argv);
  size_t plen;
  bool repeat;

  if (*pat == NULL)
    return ai == n;
  plen = strlen (*pat);
  repeat = plen > 3 && strcmp (*pat + plen - 3, "...") == 0;
  if (repeat)
    {
      /* Zero or more elements matching the pattern, then the rest (shortest first). */
      for (size_t k = ai;; k++)
        {
          if (args_match_from (pat + 1, argv, k))
            return true;
          if (k >= n || !alt_match (*pat, plen - 3, json_string_value (json_array_get (argv, k))))
            return false;
        }
    }
  if (ai >= n)
    return false;
  return alt_match (*pat, plen, json_string_value (json_array_get (argv, ai))) && args_match_from (pat + 1, argv, ai + 1);
}

bool
rh_hook_args_match (char *const *patterns, json_t *argv)
{
  static char *const one_plain[] = { "*", NULL };
  size_t i;
  json_t *a;

  if (argv == NULL || json_is_null (argv))
    argv = NULL;
  else if (!json_is_array (argv))
    return false;
  json_array_foreach (argv, i, a)
    if (!json_is_string (a) || json_string_length (a) != strlen (json_string_value (a)))
      return false;
  if (patterns == NULL)
    return argv == NULL || json_array_size (argv) == 0
           || (json_array_size (argv) == 1 && args_match_from (one_plain, argv, 0));
  if (argv == NULL)
    return false;
  return args_match_from (patterns, argv, 0);
}

/* ---- the modifier ---- */

static bool
kind_ok (const struct rh_hook_allow *a, const char *kind)
{
  return a->kinds == NULL || rh_strv_contains (a->kinds, kind);
}

/* Remove denied variables from an allowed hook's env. */
static int
filter_env (json_t *hook, const char *kind, size_t idx, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  json_t *env = json_object_get (hook, "env");
  size_t i = 0;

  if (env == NULL || json_is_null (env))
    return 0;
  if (!json_is_array (env))
    return rh_error_set (err, EINVAL, "hooks.%s[%zu].env: expected an array of strings", kind, idx);
  while (i < json_array_size (env))
    {
      json_t *v = json_array_get (env, i);
      _cleanup_free_ char *name = NULL;
      bool deny = false;

      if (!json_is_string (v) || json_string_length (v) != strlen (json_string_value (v)))
        return rh_error_set (err, EINVAL, "hooks.%s[%zu].env[%zu]: expected a string", kind, idx, i);
      name = rh_xstrdup (json_string_value (v));
      name[strcspn (name, "=")] = '\0';
      for (char **p = ctx->policy->client_hooks.env_deny; p && *p && !deny; p++)
        deny = fnmatch (*p, name, 0) == 0;
      if (deny)
        {
          rh_log_info (ctx->log, "hook %s[%zu]: environment variable %s removed by policy (hooks.env_deny)", kind,
                       idx, name);
          json_array_remove (env, i);
          continue;
        }
      i++;
    }
  return 0;
}

/* 1: allowed, 0: refused (*why says why), -1: error. */
static int
judge (json_t *hook, const char *kind, size_t idx, const struct rh_rewrite_ctx *ctx, const char **why,
       bool *ours, rh_error *err)
{
  const struct rh_client_hooks_policy *hp = &ctx->policy->client_hooks;
  json_t *path = json_object_get (hook, "path");
  const char *p = json_string_value (path);
  _cleanup_free_ char *clean = NULL, *res = NULL, *ours_res = NULL;

  *ours = false;
  if (p == NULL || *p == '\0' || json_string_length (path) != strlen (p))
    {
      *why = "empty or not a string";
      return 0;
    }
  if (p[0] != '/')
    {
      *why = "not an absolute path";
      return 0;
    }
  clean = rh_path_clean (NULL, p);
  if (strcmp (clean, ctx->policy->hook_path) == 0)
    {
      /* runsc-host-hook as hookspec.c recognises it: hookspec removes it and adds ours. */
      *ours = true;
      return 1;
    }
  /* The kernel walks the path as written: ".." after a symlink goes up from its target. */
  res = rh_resolve (ctx->resolver, p, NULL);
  if (res == NULL)
    {
      *why = "cannot be resolved on the host";
      return 0;
    }
  ours_res = rh_resolve (ctx->resolver, ctx->policy->hook_path, NULL);
  if (ours_res && strcmp (ours_res, res) == 0)
    {
      *why = "runs runsc-host-hook under another spelling";
      return 0;
    }
  for (size_t i = 0; i < hp->n_allowed; i++)
    {
      const struct rh_hook_allow *a = &hp->allowed[i];
      _cleanup_free_ char *ares = rh_resolve (ctx->resolver, a->path, NULL);
      if (ares == NULL || strcmp (ares, res) != 0 || !kind_ok (a, kind))
        continue;
      if (rh_hook_args_match (a->args, json_object_get (hook, "args")))
        return 1;
      rh_log_debug (ctx->log, "hook %s[%zu] %s: args do not match hooks.allowed[%zu]", kind, idx, p, i);
    }
  *why = NULL;
  return 0;
}

int
rh_client_hooks_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  const struct rh_client_hooks_policy *hp = &ctx->policy->client_hooks;
  json_t *hooks = json_object_get (spec, "hooks");

  if (hooks == NULL || json_is_null (hooks))
    return 0;
  if (!json_is_object (hooks))
    return rh_error_set (err, EINVAL, "hooks: expected an object");
  for (const char *const *k = hook_kinds; *k; k++)
    {
      json_t *list = json_object_get (hooks, *k);
      size_t i = 0, orig = 0;

      if (list == NULL || json_is_null (list))
        continue;
      if (!json_is_array (list))
        return rh_error_set (err, EINVAL, "hooks.%s: expected an array", *k);
      for (; i < json_array_size (list); orig++)
        {
          json_t *h = json_array_get (list, i);
          const char *why = NULL;
          const char *shown;
          bool ours;
          int r;

          if (!json_is_object (h))
            return rh_error_set (err, EINVAL, "hooks.%s[%zu]: expected an object", *k, orig);
          r = judge (h, *k, orig, ctx, &why, &ours, err);
          if (r < 0)
            return -1;
          if (r == 1)
            {
              if (!ours && filter_env (h, *k, orig, ctx, err) < 0)
                return -1;
              i++;
              continue;
            }
          shown = json_is_string (json_object_get (h, "path")) ? json_string_value (json_object_get (h, "path")) : "";
          if (hp->action == RH_HOOK_DENY)
            return rh_error_set (err, EPERM, "hook %s[%zu] %s denied by policy (hooks.allowed)%s%s", *k, orig,
                                 shown[0] ? shown : "\"\"", why ? ": " : "", why ? why : "");
          rh_log_info (ctx->log, "hook %s[%zu] %s stripped by policy (hooks.allowed)%s%s", *k, orig,
                       shown[0] ? shown : "\"\"", why ? ": " : "", why ? why : "");
          json_array_remove (list, i);
        }
    }
  return 0;
}
