/* runsc-host's own subcommands (not part of runc's grammar), each in its own file:
 *   runsc-host check          cmd_check.c   [runtime]
 *   runsc-host gc             cmd_gc.c      [hooks]   rules of containers that no longer exist
 *   runsc-host gate ...       cmd_gate.c    [gate]    e.g. `gate stats [ID] [--format json]`
 * main.c holds weak fallbacks that say the command is not built, so each file can land alone. */
#ifndef RH_COMMANDS_H
#define RH_COMMANDS_H

#include "log.h"
#include "policy.h"

struct rh_cmd_env
{
  const struct rh_policy *policy; /* loaded policy (never NULL for gc/gate; may be NULL for check) */
  const char *policy_error;       /* why the policy failed to load, when policy is NULL */
  const struct rh_logger *log;
  const char *root;               /* runc --root value, or NULL */
  const char *self_exe;           /* resolved path of this binary */
};

/* argv[0] is the subcommand name; return the process exit code. */
int rh_cmd_check (const struct rh_cmd_env *env, int argc, char **argv);
int rh_cmd_gc (const struct rh_cmd_env *env, int argc, char **argv);
int rh_cmd_gate (const struct rh_cmd_env *env, int argc, char **argv);
int rh_cmd_update (const struct rh_cmd_env *env, int argc, char **argv); /* cmd_update.c */

#endif
