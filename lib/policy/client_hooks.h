/* [sec-mods] Spec modifier: the client's own OCI hooks (issue 11, class 4).
 *
 * runsc runs prestart and createRuntime hooks (and poststop, best-effort) as root in the host's
 * namespaces, outside gVisor: a hook is arbitrary host code, so a spec's hook could read the TEE
 * socket. Every entry of hooks.prestart, createRuntime, createContainer, startContainer,
 * poststart and poststop is judged against an allow-list:
 *
 *   "hooks": {
 *     "action": "deny" | "strip",            what happens to a hook no entry allows
 *     "allowed": [ { "path": "/usr/local/bin/nerdctl",
 *                    "args": ["nerdctl", "--data-root=/var/lib/nerdctl|--namespace=*...",
 *                             "internal", "oci-hook", "createRuntime|postStop"],
 *                    "kinds": ["createRuntime", "poststop"] } ],
 *     "env_deny": ["LD_*", ...]               variables removed from an allowed hook's env
 *   }
 *
 * - The hook's path is compared the way the kernel will exec it: absolute, resolved on the host
 *   (symlinks, "." and ".." taken physically) through the rewrite's resolver, against each
 *   entry's path resolved the same way. Relative, empty or unresolvable paths are refused.
 * - "args" constrains the whole argv (args[0] included): one pattern per element, each a set of
 *   fnmatch(3) alternatives separated by '|'; a pattern ending in "..." matches zero or more
 *   elements. An allowed binary with argv of the attacker's choosing is still arbitrary root
 *   code, so an entry without "args" allows no arguments beyond a plain argv[0].
 * - "kinds" (optional) limits the hook lists the entry may appear in.
 * - runsc-host's own hook (policy hook_path, compared lexically after cleaning, as hookspec.c
 *   does) is always left for hookspec.c, which removes the client's copies and appends ours. The
 *   same binary under another spelling (a symlink, "..") is a client trying to run our hook with
 *   arguments of its choosing: treated like any refused hook.
 * Errors name the hook and the key: "hook prestart[0] /bin/sh denied by policy (hooks.allowed)". */
#ifndef RH_CLIENT_HOOKS_H
#define RH_CLIENT_HOOKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct rh_policy;
struct rh_rewrite_ctx;

enum rh_hook_action
{
  RH_HOOK_DENY = 0, /* fail the create (default) */
  RH_HOOK_STRIP,    /* drop the hook and log it */
};

struct rh_hook_allow
{
  char *path;   /* absolute, lexically clean */
  char **args;  /* argv patterns (NULL: argv must be empty or just one plain element) */
  char **kinds; /* hook lists it may appear in (NULL: any) */
};

struct rh_client_hooks_policy
{
  enum rh_hook_action action;
  struct rh_hook_allow *allowed;
  size_t n_allowed;
  char **env_deny; /* fnmatch patterns on variable names */
};

/* "hooks" section (NULL: the defaults, RH_CLIENT_HOOKS_DEFAULT). */
int rh_client_hooks_policy_parse (json_t *section, struct rh_policy *p, rh_error *err);
void rh_client_hooks_policy_free (struct rh_client_hooks_policy *h);

/* The default "allowed" list, as policy JSON (also spelled out in config/runsc-host.json.in). */
extern const char rh_client_hooks_default_allowed[];

/* Does argv (a JSON array of strings) match the patterns? Exposed for unit tests. */
bool rh_hook_args_match (char *const *patterns, json_t *argv);

/* Spec modifier. Runs before hookspec.c's rh_hooks_rewrite. */
int rh_client_hooks_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);

/* The OCI hook lists, NULL-terminated: prestart, createRuntime, ..., poststop. */
extern const char *const rh_client_hook_kinds[];

#endif
