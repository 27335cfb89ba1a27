/* runc behaviours runsc lacks, done with runsc's help (cmd_compat.c). PREFIX/N: runsc's argv up
 * to (not including) the subcommand: its path and global flags. */
#ifndef RH_CMD_COMPAT_H
#define RH_CMD_COMPAT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* `ps ID` in runc's column order. Returns 0, runsc's non-zero exit status, or -1 with err. */
int rh_compat_ps_table (char *const *prefix, size_t n, const char *id, rh_error *err);

/* `kill [--all] ID 0`: 0 when the container exists (and runs, without --all); -1 with err. */
int rh_compat_kill_probe (char *const *prefix, size_t n, const char *id, bool all, rh_error *err);

/* `events ID` (argv: runsc's whole argv, n: where its subcommand starts): runsc's stream, ended
 * with exit code 0 once `runsc state ID` fails (the container was deleted), as runc's ends.
 * Otherwise *exit_code is runsc's. -1 with err when runsc cannot be started. */
int rh_compat_events_follow (char *const *argv, size_t n, const char *id, int *exit_code, rh_error *err);

#endif
