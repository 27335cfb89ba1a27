/* Internal to runsc-host: the pieces main() dispatches to, one file per kind of subcommand.
 *   run_create.c   create, run: rewrite the bundle, then exec runsc
 *   run_exec.c     exec: filter the process, then exec runsc
 *   run_delete.c   delete: release rules and gate socket (alongside runsc when it can)
 *   passthrough.c  what every exec of runsc shares (checks, argv log, the loop mark) */
#ifndef RH_WRAPPER_H
#define RH_WRAPPER_H

#include <stddef.h>

#include "cli.h"
#include "error.h"
#include "log.h"
#include "policy.h"

/* passthrough.c */
int rh_wrapper_check_runsc (const char *path, rh_error *err);
int rh_wrapper_check_not_exec_loop (rh_error *err);
void rh_wrapper_log_argv (const struct rh_logger *log, const char *what, char *const *argv);
void rh_wrapper_set_exec_id (const struct rh_policy *policy);

/* run_create.c */
int rh_wrapper_prepare_bundle (const struct rh_cli *cli, const struct rh_policy *policy, const struct rh_logger *log,
                               rh_error *err);
void rh_wrapper_detach_stdio (const struct rh_logger *log);

/* run_exec.c: *process_flag gets the --process=/proc/self/fd/N that replaces the caller's. */
int rh_wrapper_prepare_exec (const struct rh_cli *cli, const struct rh_policy *policy, const struct rh_logger *log,
                             char *const *rargv, size_t sub_at, char **process_flag, rh_error *err);
/* The subcommand's arguments onto rargv, the filtered --process in place of the caller's. */
int rh_wrapper_push_sub_args (const struct rh_cli *cli, const char *process_flag, char ***rargv, rh_error *err);

/* exec --detach: a --pid-file of ours right after "exec" when the caller gave none (run_exec.c). */
int rh_wrapper_exec_detach_pid_file (char ***rargv, size_t sub_at, const char *state_dir, rh_error *err);

/* run_delete.c */
void rh_wrapper_release_container (const struct rh_policy *policy, const char *id, const struct rh_logger *log);
int rh_wrapper_delete_alongside (const struct rh_policy *policy, const struct rh_cli *cli, char *const *rargv,
                                 const struct rh_logger *log, int *status);

#endif
