/* [hooks] Applying and removing a container's iptables rules (used by the hook binary, by
 * `runsc-host delete` and by `runsc-host gc`).
 *
 * Owned by the hooks work; this is the initial stub. */
#ifndef RH_NETRULES_H
#define RH_NETRULES_H

#include "error.h"
#include "log.h"

struct rh_policy;

/* Remove every rule tagged with this container id. Idempotent: no rules is success. */
int rh_netrules_remove (const struct rh_policy *p, const char *container_id, const struct rh_logger *log,
                        rh_error *err);

#endif
