/* [hooks] Spec modifier that injects runsc-host-hook as a prestart/createRuntime hook and a
 * poststop hook, keeping the client's own hooks in order, and validates the exposed-port
 * annotations at create time so a bad port fails the create before anything is applied.
 *
 * Owned by the hooks work; this is the initial stub. */
#ifndef RH_HOOKSPEC_H
#define RH_HOOKSPEC_H

#include <jansson.h>

#include "error.h"

struct rh_rewrite_ctx;

int rh_hooks_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);

#endif
