/* nerdctl's annotations that its own OCI hook acts on, as root on the host.
 *
 * nerdctl records a container's networks and its per-container state directory in the spec's
 * annotations, and its `internal oci-hook` (allowed by the hooks policy) reads them back:
 *   nerdctl/networks   a JSON list of network names. For anything but "host" the hook runs CNI
 *                      plugins into the sandbox's network namespace, which under runsc-host is
 *                      the host's own (gVisor runs with --network=host): a bridge would be wired
 *                      into the sandboxer's stack. Refused, with the fix in the error: --net=host.
 *   nerdctl/state-dir  where the hook writes files as root (hosts, resolv.conf, logs). It must be
 *                      nerdctl's own layout for this container, .../containers/<ns>/<id>, clean,
 *                      absolute, and clear of every protected path.
 * Both are annotations a client may set by hand (`nerdctl run --annotation`, a spec written by
 * hand), so they are checked whether or not a nerdctl hook is present. */
#ifndef RH_NERDCTL_ANNOTATIONS_H
#define RH_NERDCTL_ANNOTATIONS_H

#include <jansson.h>

#include "error.h"

struct rh_rewrite_ctx;

int rh_nerdctl_annotations_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);

#endif
