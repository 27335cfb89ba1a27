/* [sec-mods] Spec modifier: joining another sandbox or another process's namespaces (issue 11,
 * class 5).
 *
 * runsc starts a container inside an *existing* sandbox (one gVisor kernel shared with another
 * workload) when the spec says so with the annotations containerd's CRI and CRI-O write for the
 * second and later containers of a pod. runsc (runsc/specutils, 2022-12-19 and current) reads,
 * with exact (case-sensitive) Go map lookups:
 *   io.kubernetes.cri.container-type   "sandbox" | "container" (anything else: runsc refuses)
 *   io.kubernetes.cri.sandbox-id       the sandbox to join
 *   io.kubernetes.cri-o.ContainerType  "sandbox" | "container"
 *   io.kubernetes.cri-o.SandboxID
 * The containerd key is looked at first; a container type of "container" makes runsc load the
 * sandbox named by either sandbox-id key from its --root and start the container in it. Any
 * client can set these (`nerdctl run --annotation`), so by default:
 *   - a container type other than "sandbox" is refused (either key);
 *   - a sandbox id other than the container's own id is refused (either key): CRI's own
 *     sandbox (pause) container carries its own id;
 *   - a key that differs from one of the four only by ASCII case is refused whatever the policy:
 *     runsc ignores it today, nothing legitimate writes it, and a later reader might fold case;
 *   - a linux.namespaces entry with a "path" (joining an existing namespace) is refused, except
 *     the network namespace, which the network modifier removes (runsc runs --network=host).
 *     runsc (2022) honours the network and user namespace paths (the sandbox and gofer setns
 *     into them) and gives the sandbox fresh pid/ipc/uts/mount namespaces whatever the spec
 *     says; a path is refused anyway, so that no runsc version can be talked into one.
 * "allow_sandbox_join": true (Kubernetes nodes, where only the kubelet writes these through
 * CRI) lets the annotations through and namespace paths of type pid, ipc, uts and user (what
 * CRI sets for a pod's containers); mount, cgroup and time paths stay refused. */
#ifndef RH_JOINS_H
#define RH_JOINS_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

struct rh_policy;
struct rh_rewrite_ctx;

/* Top-level "allow_sandbox_join" (default false). */
int rh_joins_policy_parse (json_t *value, struct rh_policy *p, rh_error *err);

/* Spec modifier. */
int rh_joins_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);

#endif
