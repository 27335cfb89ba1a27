/* [hooks] A container's iptables rules: the text (pure, netrules.c) and applying/removing it
 * (netrules_apply.c: used by runsc-host-hook, by `runsc-host delete` and by `runsc-host gc`).
 *
 * Layout in the filter table of the network namespace where runsc runs (the sandbox's host
 * network), for IPv4 and, where needed, IPv6:
 *
 *   INPUT   -j RUNSC-HOST-INPUT        inserted once, first (a default-drop INPUT still works)
 *   OUTPUT  -j RUNSC-HOST-OUTPUT       inserted once, first
 *   RUNSC-HOST-INPUT  -m comment --comment "runsc-host:<id>" -j RH-I-<h>
 *   RUNSC-HOST-OUTPUT -m cgroup --path <sandbox cgroup> -m comment ... -j RH-E-<h>
 *   RH-I-<h>   -p tcp -m tcp --dport 8080 ... -j ACCEPT            one per exposed port
 *   RH-E-<h>   -d 169.254.169.254/32 ... -j REJECT                 one per denied destination
 *
 * <h> is the first 16 hex digits of SHA-256(id). One container is one chain per direction plus
 * one jump: adding is one iptables-restore --noflush transaction, removing is another (delete
 * the jump, flush and delete the chain), and neither touches any other container's rules, so the
 * cost does not grow with the number of containers (nft backend; the legacy backend rewrites the
 * whole table on every commit and grows a little). */
#ifndef RH_NETRULES_H
#define RH_NETRULES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "container_id.h"
#include "error.h"
#include "log.h"
#include "ports.h"

struct rh_policy;

#define RH_NET_CHAIN_IN "RUNSC-HOST-INPUT"
#define RH_NET_CHAIN_OUT "RUNSC-HOST-OUTPUT"
#define RH_NET_CHAIN_PREFIX_IN "RH-I-"
#define RH_NET_CHAIN_PREFIX_OUT "RH-E-"
#define RH_NET_COMMENT_PREFIX "runsc-host:"
/* Longest container id we put into rule comments and cgroup names. */
#define RH_NET_ID_MAX RH_CONTAINER_ID_MAX
/* "RH-I-" + 16 hex + NUL */
#define RH_NET_CHAIN_NAME_MAX 24

/* ---- pure: names and text ---- */


void rh_netrules_chain_names (const char *id, char in[RH_NET_CHAIN_NAME_MAX], char out[RH_NET_CHAIN_NAME_MAX]);

struct rh_netrules_spec
{
  const char *id;
  const struct rh_port *ports; /* ingress: accepted ports; n_ports == 0: no ingress chain */
  size_t n_ports;
  char *const *deny;       /* egress: rejected CIDRs of this family; NULL or empty: no egress chain */
  const char *cgroup_path; /* xt_cgroup --path of the sandbox; required with deny */
};

/* The iptables-restore --noflush batch that adds one container's chains and jumps for family
 * 4 or 6. NULL when there is nothing to add. Caller frees. */
char *rh_netrules_add_text (const struct rh_netrules_spec *s, int family);

/* The batch that removes what rh_netrules_add_text added (fast path: it fails when something is
 * already gone, and the caller then falls back to the exact text built from iptables-save). */
char *rh_netrules_del_text (const char *id, bool ingress, bool egress, const char *cgroup_path);

/* What iptables-save -t filter shows of ours. */
struct rh_netrules_jump
{
  char *id;     /* from the "runsc-host:<id>" comment */
  char *target; /* RH-I-... / RH-E-... */
  char *line;   /* the "-A ..." line as printed */
};

struct rh_netrules_table
{
  bool chain_in, chain_out; /* RUNSC-HOST-INPUT / -OUTPUT exist */
  bool jump_in, jump_out;   /* INPUT / OUTPUT jump to them */
  char **base_jumps;        /* those jumps' "-A INPUT|OUTPUT ..." lines, NULL-terminated */
  size_t foreign;           /* rules in the shared chains that are not a container's jump */
  struct rh_netrules_jump *jumps;
  size_t n_jumps;
  char **chains; /* every RH-I-* / RH-E-* chain, NULL-terminated */
};

/* Parse iptables-save output (only the filter table is looked at; unknown lines are ignored,
 * and a comment that is not "runsc-host:<valid id>" is not ours). */
int rh_netrules_parse_save (const char *text, struct rh_netrules_table *t, rh_error *err);
void rh_netrules_table_free (struct rh_netrules_table *t);

/* Batch that creates the missing parts of the base layout; NULL when it is complete. */
char *rh_netrules_bootstrap_text (const struct rh_netrules_table *t);

/* Exact batch removing every rule and chain of id that t shows; NULL when there is none. */
char *rh_netrules_del_text_from_table (const struct rh_netrules_table *t, const char *id);

/* Batch removing the rules of every id for which alive() is false, and every per-container
 * chain that nothing jumps to any more. The removed ids are appended to *removed (may be NULL).
 * When no container is left and the shared chains hold nothing else, they go too, with their
 * jumps from INPUT and OUTPUT (the table is then as it was before the first container), and
 * *shared_removed (may be NULL) is set. NULL when there is nothing to remove. */
char *rh_netrules_gc_text (const struct rh_netrules_table *t, bool (*alive) (const char *id, void *data),
                           void *data, char ***removed, bool *shared_removed);

/* ---- applying (netrules_apply.c) ---- */

struct rh_netrules_request
{
  const char *id;
  pid_t pid; /* the sandbox process (the OCI state's pid under runsc) */
  const struct rh_port *ports;
  size_t n_ports;
};

/* Bound every rule change this process makes from now on by budget_ms (0: no bound): the lock
 * wait and each tool end by then, and an apply spends at most two thirds of what is left before
 * it gives up and takes back, with the rest, whatever got in. runsc-host-hook sets it below
 * runsc's hook timeout, so that it fails with its own error and leaves nothing behind rather
 * than being killed by runsc (runsc 2022 can hang for good in that kill path). */
void rh_netrules_set_budget (int budget_ms);

/* Open the ports and close the egress destinations for one container, all or nothing. Moves the
 * sandbox into a cgroup v2 group of its own when the policy asks for it. Records what it did in
 * <state_dir>/net/<id>.json. Running it again for the same id replaces the earlier rules. */
int rh_netrules_apply (const struct rh_policy *p, const struct rh_netrules_request *req,
                       const struct rh_logger *log, rh_error *err);

/* Remove every rule of this container id, its own cgroup and its record. Idempotent: nothing
 * recorded is success. While the recorded sandbox process is still alive (a `delete --force` of
 * a running container), nothing is removed: the sandbox must not run without its egress rules
 * even for a moment; runsc's poststop hook (after it killed the sandbox) or gc removes them. */
int rh_netrules_remove (const struct rh_policy *p, const char *container_id, const struct rh_logger *log,
                        rh_error *err);

/* Whether rh_netrules_remove would remove something: a record exists and its sandbox process is
 * gone. Read without the lock, so only a hint (the removal itself checks again under it). */
bool rh_netrules_removal_pending (const struct rh_policy *p, const char *container_id);

/* The same, whether or not the sandbox is alive (the poststop hook: runsc has destroyed it). */
int rh_netrules_remove_stopped (const struct rh_policy *p, const char *container_id, const struct rh_logger *log,
                                rh_error *err);

/* Remove the rules, cgroups and records of containers whose sandbox is gone: every id that has
 * rules in this network namespace or a record in state_dir, and whose recorded sandbox process
 * is no longer running (or that has no record at all); and empty, unrecorded groups under
 * <cgroup2>/<cgroup_parent> older than a minute. *removed counts containers cleaned. */
int rh_netrules_gc (const struct rh_policy *p, bool dry_run, const struct rh_logger *log, size_t *removed,
                    rh_error *err);

#endif
