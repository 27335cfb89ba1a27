/* The runc command-line grammar, mapped onto runsc's.
 *
 * A pure parser: runc argv in, a parsed struct out, holding the runsc argument vectors, the
 * decisions taken on the way (for debug logging) and, on failure, an error that names the flag.
 * No I/O: the few facts it needs about the process (cwd, whether stdin is a terminal) come in
 * through struct rh_cli_env, so every case is unit-tested (tests/unit/test_cli.c).
 *
 * Accepted spellings, as runc's flag parser (urfave/cli on Go's flag package) accepts them:
 *   --name value, --name=value, -name value, -name=value; booleans --name or --name=true|false;
 *   the short aliases -b -d -e -u -p -a -f -q -t -c -g -h -v; "--" ends the flags.
 * Flags may follow positionals (runc reorders them), except for exec and ps, where everything
 * after the container id belongs to the command (or to ps(1)).
 *
 * Output: runsc gets "--name=value" / "--name" spellings (Go's flag package reads both) and a
 * "--" before the positionals, so that a container id starting with '-' is never read as a
 * flag. See docs/cli.md for the full table of mapped, dropped and refused flags. */
#ifndef RH_CLI_H
#define RH_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

enum rh_cli_cmd
{
  RH_CLI_NONE = 0, /* no subcommand: print usage */
  RH_CLI_HELP,     /* help [cmd], or --help anywhere */
  RH_CLI_VERSION,  /* --version / -v */
  RH_CLI_CREATE,
  RH_CLI_RUN,
  RH_CLI_START,
  RH_CLI_STATE,
  RH_CLI_PAUSE,
  RH_CLI_RESUME,
  RH_CLI_KILL,
  RH_CLI_DELETE,
  RH_CLI_EXEC,
  RH_CLI_PS,
  RH_CLI_EVENTS,
  RH_CLI_LIST,
  RH_CLI_SPEC,
  RH_CLI_FEATURES,
  RH_CLI_CHECKPOINT,
  RH_CLI_RESTORE,
  RH_CLI_CHECK, /* runsc-host's own (commands.h) */
  RH_CLI_GC,
  RH_CLI_GATE,
  RH_CLI_UPDATE, /* cmd_update.c: parses its own flags, like check/gc/gate */
};

/* What the parser needs to know about the calling process. */
struct rh_cli_env
{
  const char *cwd;    /* absolute working directory: default bundle and checkpoint image path */
  bool stdin_is_tty;  /* exec --tty without --console-socket needs a terminal on stdin */
};

/* exec's process: the --process file, or the inline description. */
struct rh_cli_exec
{
  char *process_file; /* --process FILE as given, or NULL. sub_args holds "--process=FILE";
                       * main replaces it with a filtered copy (the capability policy). */
  char **args;  /* the command, when exec_synth_process */
  char *cwd;
  char **env;
  char *user;   /* "UID[:GID]", checked */
  char **gids;  /* --additional-gids, checked */
  char **caps;
  bool tty;
};

struct rh_cli
{
  /* runc global flags */
  char *root;           /* --root, or NULL */
  char *log;            /* --log, or NULL */
  bool log_json;        /* --log-format json */
  bool debug;           /* --debug */
  bool systemd_cgroup;  /* --systemd-cgroup */

  enum rh_cli_cmd cmd;
  char *cmd_name;       /* the subcommand as typed (for messages); NULL for none */
  char *help_topic;     /* RH_CLI_HELP: the subcommand asked about, or NULL */

  char *id;             /* container id, when the subcommand takes one */
  char *bundle;         /* create/run/restore: absolute bundle directory */
  bool detach;          /* run/restore/exec --detach */
  bool console_socket;  /* a --console-socket was given */

  char **global_args;   /* runc globals mapped for runsc (--root=, --log=, --debug, ...) */
  char **sub_args;      /* subcommand, its mapped flags, "--", positionals */
  char **decisions;     /* one line per mapped/dropped flag, for debug logging */
  char **own_argv;      /* check/gc/gate: argv from the subcommand name on */

  /* exec --tty in the inline form: runsc's inline exec never gives the process a terminal, so
   * main builds the process as runc would (rh_cli_exec_process on the container's process)
   * and inserts "--process=<file>" right after sub_args[0]. The command is then in exec.args,
   * not in sub_args. */
  bool exec_synth_process;
  struct rh_cli_exec exec;
};

/* Parse argv (argv[0] is the program name and is ignored). On error the struct still holds
 * every global flag parsed so far (in particular --log and --log-format, so that main can log
 * the error where the caller looks for it); the caller must rh_cli_free it either way. */
int rh_cli_parse (int argc, char *const *argv, const struct rh_cli_env *env, struct rh_cli *out, rh_error *err);
void rh_cli_free (struct rh_cli *c);

/* The process for exec_synth_process: a copy of the container's process (spec_process) with
 * runc's inline overrides: args, terminal, cwd, env appended, user, additional gids, caps. */
int rh_cli_exec_process (const json_t *spec_process, const struct rh_cli *cli, json_t **out, rh_error *err);

/* runsc's `exec --detach` re-executes itself with every argument that contains the substring
 * "detach" removed (its own --detach flag, but also a log path, a container id or a command
 * argument that happens to contain it). Check a complete runsc argv (argv[0] excluded) before
 * exec'ing it: refuse rather than let runsc run a different command. */
int rh_cli_check_exec_detach (char *const *runsc_argv, rh_error *err);

/* Seconds for runsc's integer --interval from a Go duration ("5s", "1m30s", "500ms", "1.5h"):
 * rounded up, at least 1. */
int rh_cli_duration_to_seconds (const char *s, long *out, rh_error *err);

/* Signal number from "KILL", "SIGKILL", "sigkill", "9". */
int rh_cli_parse_signal (const char *s, int *out, rh_error *err);

/* The whole help text, in runc's layout (NAME: and the name line first): the global one for
 * NULL, NULL for a command that has none. Caller frees. */
char *rh_cli_help (const char *cmd);

/* A decimal number from 0 to max, digits only (no sign, no spaces); -1 otherwise. */
int rh_cli_parse_nonneg (const char *s, long max, long *out);

/* The `features` document (runc's format), as JSON text. Caller frees. runsc_path may be NULL. */
char *rh_cli_features_json (const char *runsc_path, const char *platform);

#endif
