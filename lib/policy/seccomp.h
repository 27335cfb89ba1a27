/* [seccomp] The seccomp policy section and the spec modifier that merges it into linux.seccomp.
 *
 *   "seccomp": {
 *     "default_profile": "/etc/runsc-host/seccomp/default.json",  used when a spec has none
 *     "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"], what deny names are checked on
 *     "enosys_as_trace": true,     client ERRNO/ENOSYS rules become SCMP_ACT_TRACE (see below)
 *     "deny": [
 *       { "names": ["chroot"], "errno": "EPERM" },
 *       { "names": ["socket"], "errno": "EAFNOSUPPORT",
 *         "args": [ { "index": 0, "op": "SCMP_CMP_MASKED_EQ", "value": 4294967295, "valueTwo": 17 } ] },
 *       { "names": ["kexec_load"], "action": "SCMP_ACT_KILL" }
 *     ]
 *   }
 *
 * How runsc evaluates a profile decides how we merge (docs/seccomp.md has the details):
 * runsc --oci-seccomp compiles linux.seccomp into its own BPF program, inside the sandbox,
 * testing the rules in the order they are written and taking the FIRST that matches. It ignores
 * "architectures" and every "errnoRet" (SCMP_ACT_ERRNO always returns EPERM), and knows only the
 * actions KILL, TRAP, ERRNO, TRACE and ALLOW. The merge therefore puts every rule, ours and the
 * client's, in order of strictness (KILL_PROCESS, KILL, TRAP, ERRNO, NOTIFY, TRACE, LOG, ALLOW;
 * ours first among equals), so the first match is the strictest match: our deny of
 * socket(AF_PACKET) comes before the client's unconditional ALLOW of socket, and an ERRNO from
 * us beats an ALLOW from the client. Rules that can never be reached after that (a name that an
 * earlier, unconditional rule already decides) and exact duplicates are removed, which also
 * makes the merge idempotent. */
#ifndef RH_SECCOMP_H
#define RH_SECCOMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "log.h"

struct rh_policy;
struct rh_rewrite_ctx;

#define RH_SECCOMP_DEFAULT_PROFILE "/etc/runsc-host/seccomp/default.json"
#define RH_SECCOMP_PROFILE_MAX_BYTES (1u << 20)
#define RH_SECCOMP_MAX_ARCHS 32

/* The default profile, read on first need (rh_seccomp_default_profile): only a create whose spec
 * has no profile, and `runsc-host check`, pay for reading and checking it, not every state, kill
 * or delete, and not the hook. */
struct rh_seccomp_default
{
  bool tried;
  json_t *json;  /* checked; NULL when it could not be read */
  char *source;  /* the file it came from (default_profile, or the build tree's copy) */
  rh_error error; /* why json is NULL */
};

struct rh_seccomp_policy
{
  char *default_profile;              /* absolute path; used when the spec has no linux.seccomp */
  struct rh_seccomp_default *loaded;  /* allocated at parse time, filled on first need */
  json_t *deny;                 /* our rules in OCI form ({names, action, errnoRet?, args?}), owned */
  uint32_t archs[RH_SECCOMP_MAX_ARCHS]; /* libseccomp tokens the deny names are checked on */
  size_t narchs;
  bool enosys_as_trace;         /* see rh_seccomp_merge */
};

int rh_seccomp_policy_parse (json_t *section, struct rh_policy *p, rh_error *err);

/* The checked default profile (owned by the policy; copy it before changing it) and the file it
 * came from. Read and checked on the first call; later calls give the same answer. Errors name
 * the policy key seccomp.default_profile. */
int rh_seccomp_default_profile (const struct rh_seccomp_policy *s, const json_t **profile, const char **source,
                                rh_error *err);
void rh_seccomp_policy_free (struct rh_seccomp_policy *s);

/* Spec modifier: merge the policy rules into linux.seccomp, or install the default profile
 * (with the policy rules merged in) when the spec has none. */
int rh_seccomp_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);

/* Check the shape of an OCI seccomp profile (a client's linux.seccomp or our default profile):
 * types, actions and operators from the OCI spec, argument indexes 0-5. Syscall names are not
 * checked (runsc skips names it does not know, as runc does). where names it in errors. */
int rh_seccomp_check_profile (json_t *profile, const char *where, rh_error *err);

/* Merge sp->deny into a checked profile, in place (the pure core of rh_seccomp_rewrite):
 * - the client's rules are kept; a name is dropped from a client rule only when an earlier
 *   (stricter or ours) rule decides it unconditionally, or an identical rule precedes it;
 * - every rule is ordered by strictness, ours first among equals (see the top of this file);
 * - when sp->enosys_as_trace, a client SCMP_ACT_ERRNO rule with errnoRet ENOSYS becomes
 *   SCMP_ACT_TRACE: runsc would return EPERM instead of ENOSYS, which breaks glibc's fallback
 *   from clone3 to clone (every pthread_create fails); TRACE returns ENOSYS when no tracer is
 *   attached. Our own rules are never rewritten. SCMP_ACT_KILL_THREAD is written SCMP_ACT_KILL
 *   (the same action; runsc knows only the latter).
 * Running it on its own output changes nothing. */
int rh_seccomp_merge (json_t *profile, const struct rh_seccomp_policy *sp, const struct rh_logger *log,
                      rh_error *err);

/* Strictness rank of an OCI action (0 = strictest), or -1 when it is not an OCI action. */
int rh_seccomp_action_rank (const char *action);

#endif
