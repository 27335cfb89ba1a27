/* The "runsc" policy section and the global flags runsc-host always gives runsc.
 *
 *   "runsc": { "path": "/usr/bin/runsc", "platform": "ptrace", "flags": ["--overlay"] }
 */
#ifndef RH_RUNSC_FLAGS_H
#define RH_RUNSC_FLAGS_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"
#include "log.h"

struct rh_policy;

struct rh_runsc_policy
{
  char *path;      /* absolute path to runsc */
  char *platform;  /* "auto", "ptrace", "kvm", "systrap" */
  char **flags;    /* extra global flags, each "--name" or "--name=value", checked */
  int probe_timeout_ms; /* bound on the platform probe (platform "auto") */
};

int rh_runsc_policy_parse (json_t *section, struct rh_policy *p, rh_error *err);
/* Cross-section check, once every section is parsed: no overlay flag names a protected path. */
int rh_runsc_policy_check (const struct rh_policy *p, rh_error *err);
void rh_runsc_policy_free (struct rh_runsc_policy *r);

/* Append to *argv the global flags that every runsc invocation gets under this policy:
 * --platform, --network=host, --oci-seccomp, --host-uds=open when the gate is on, and the
 * policy's extra flags. platform is the resolved platform (never "auto"). */
void rh_runsc_global_flags (const struct rh_policy *p, const char *platform, char ***argv);

/* The platform to run: the policy's, or for "auto" the probed one (cached in state_dir). Owned
 * by the bench work (lib/host/platform.c). Returns a malloc'd name. */
int rh_runsc_resolve_platform (const struct rh_policy *p, const struct rh_logger *log, char **out,
                               rh_error *err);

#endif
