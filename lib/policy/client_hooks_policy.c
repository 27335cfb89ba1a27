/* The "hooks" policy section: which client hooks may run, with which arguments and environment
 * (see client_hooks.h for the reasons; the modifier is rewrite/client_hooks.c). */
#include "client_hooks.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "paths.h"
#include "policy.h"
#include "util.h"

/* The OCI hook lists; runsc (2022) runs prestart, createRuntime and poststop ones on the host,
 * and a later runsc may run the others, so every one is judged. */
const char *const rh_client_hook_kinds[] = { "prestart", "createRuntime", "createContainer", "startContainer",
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
          for (const char *const *hk = rh_client_hook_kinds; *hk; hk++)
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

