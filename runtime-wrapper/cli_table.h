/* Internal to the runc grammar: what each subcommand takes (cli_table.c), read by cli.c. */
#ifndef RH_CLI_TABLE_H
#define RH_CLI_TABLE_H

#include "cli.h"
#include "cli_scan.h"

enum arity
{
  ARGS_NONE,     /* no positionals */
  ARGS_ID,       /* exactly the container id */
  ARGS_ID_OPT1,  /* id [one more] (kill) */
  ARGS_ID_REST,  /* id, then everything verbatim (exec, ps) */
};

struct cmd_def
{
  const char *name;
  enum rh_cli_cmd cmd;
  const struct flag_def *flags;
  enum arity arity;
};

extern const struct flag_def rh_cli_global_flags[];
/* Every runc subcommand, NULL-terminated. */
extern const struct cmd_def rh_cli_commands[];

/* Helpers the subcommand handlers share (cli.c). */
void __attribute__ ((format (printf, 2, 3))) rh_cli_decide (struct rh_cli *c, const char *fmt, ...);
void rh_cli_push_owned (char ***v, char *s);
void rh_cli_push_flag (struct rh_cli *c, const char *name, const char *value);
bool rh_cli_is_true (const struct occ *o);
char *rh_cli_absolute (const struct rh_cli_env *env, const char *path);
int rh_cli_handle_preserve_fds (struct rh_cli *c, const char *cmd, const struct occ *o, rh_error *err);
int rh_cli_handle_generic (struct rh_cli *c, const char *cmd, const struct occ *o, rh_error *err);
int rh_cli_undo_sub_args (struct rh_cli *c, char **saved);
/* exec (cli_exec.c). */
int rh_cli_do_exec (struct rh_cli *c, const struct rh_cli_env *env, const struct scan *s, rh_error *err);

#endif
