/* [hooks] Spec modifier: inject runsc-host-hook and validate the exposed ports at create time.
 *
 * - Ports: the container's port annotations and ports.static are computed and checked against
 *   the policy here (rh_ports_compute), so a malformed or refused port fails `create` with an
 *   error naming the port and the policy key, before runsc starts and before any rule exists.
 *   The hook computes them again from the same spec (it trusts nothing it is handed).
 * - Hooks: runsc-host-hook (policy hook_path) is appended to hooks.createRuntime and to
 *   hooks.poststop. runsc (2022) runs prestart and then createRuntime hooks inside `create`,
 *   in the host's namespaces, once the sandbox process exists (the state's pid is the
 *   sandbox's), and runs poststop hooks best-effort when it destroys the container;
 *   createContainer and startContainer hooks are skipped. createRuntime is the non-deprecated
 *   name for that moment, and appending keeps the client's own hooks (nerdctl injects
 *   createRuntime and postStop hooks) first and in order.
 * - Any hook entry whose path is hook_path, in any hook list, is the client's attempt to run our
 *   binary with arguments of its choosing: it is removed before ours are added. This also makes
 *   the modifier idempotent.
 * - The hook gets the policy the create ran under: `--config <file>` when it came from a file,
 *   `--embedded-policy` for the compiled-in default (runsc gives hooks no environment). */
#ifndef RH_HOOKSPEC_H
#define RH_HOOKSPEC_H

#include <jansson.h>

#include "error.h"
#include "spawnutil.h"

struct rh_rewrite_ctx;

/* Seconds runsc gives the hook (the spec's hook "timeout"). */
#define RH_HOOK_TIMEOUT_S 30
/* What the hook gives itself: it fails on its own, with its own message, and has taken back what
 * it did, before runsc's timeout would kill it (runsc 2022's kill path can hang `create` for
 * good; the current runsc's reports no error text). */
#define RH_HOOK_BUDGET_MS ((RH_HOOK_TIMEOUT_S - 4) * 1000)
/* The environment the hook runs with (it needs none: every tool is an absolute path). */
#define RH_HOOK_ENV_PATH "PATH=" RH_CHILD_PATH

int rh_hooks_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);

#endif
