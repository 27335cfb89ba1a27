/* [seccomp] Capability policy: a drop-list applied to all five capability sets,
 * noNewPrivileges, and the taming of privileged device rules. See docs/seccomp.md.
 *
 *   "capabilities": { "drop": ["CAP_SYS_ADMIN", ...] },   names checked with libcap
 *   "no_new_privileges": true
 *
 * A missing "drop" means RH_CAPS_DEFAULT_DROP; a given list replaces it. */
#ifndef RH_CAPS_H
#define RH_CAPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "log.h"

struct rh_policy;
struct rh_rewrite_ctx;

/* Capabilities no workload in a confidential sandbox needs, and that matter most if anything
 * ever reaches the host kernel: administration, raw network and device access, module
 * loading, tracing other processes, reading any file, the clock, the kernel log, BPF,
 * checkpoint/restore. runsc (2022) also refuses to start a container that holds CAP_PERFMON,
 * CAP_BPF or CAP_CHECKPOINT_RESTORE ("invalid capability"), which `--privileged` grants on a
 * recent host kernel: a drop-list without them breaks --privileged under that runsc. */
#define RH_CAPS_DEFAULT_DROP                                                                               \
  "CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_MODULE", "CAP_SYS_PTRACE", "CAP_SYS_RAWIO",    \
      "CAP_DAC_READ_SEARCH", "CAP_SYS_BOOT", "CAP_SYS_TIME", "CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE",          \
      "CAP_SYSLOG", "CAP_AUDIT_CONTROL", "CAP_BPF", "CAP_PERFMON", "CAP_CHECKPOINT_RESTORE"

struct rh_caps_policy
{
  char **drop;            /* canonical names ("CAP_SYS_ADMIN"), validated with cap_from_name */
  uint64_t drop_mask;     /* the same, as bits */
  bool no_new_privileges; /* force process.noNewPrivileges */
};

int rh_caps_policy_parse (json_t *section, struct rh_policy *p, rh_error *err);
int rh_nnp_policy_parse (json_t *value, struct rh_policy *p, rh_error *err);
void rh_caps_policy_free (struct rh_caps_policy *c);

/* Spec modifier: drop capabilities, force noNewPrivileges, tame privileged device rules. */
int rh_caps_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);

/* The process part alone, for an OCI process object: the spec's "process", or the process.json
 * of `exec --process` (containerd builds an exec's process from the client's original spec, so
 * its capabilities have not been through the rewrite). where names the object in errors and
 * logs ("process"). Idempotent. */
int rh_caps_rewrite_process (json_t *process, const struct rh_policy *policy, const struct rh_logger *log,
                             const char *where, rh_error *err);

/* Is cap (any spelling libcap accepts: "CAP_SYS_ADMIN", "cap_sys_admin", "21") in the drop
 * list? For `exec --cap` flags. */
/* libcap's number (0..63) for any spelling it accepts, or -1; the canonical upper-case name of a
 * number, and a comma-separated list of the names in a mask (callers free both). */
int rh_cap_number (const char *name);
char *rh_cap_canonical (int v);
char *rh_cap_mask_names (uint64_t mask);

bool rh_caps_is_dropped (const struct rh_policy *policy, const char *cap);

#endif
