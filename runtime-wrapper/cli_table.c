/* The runc grammar's tables: every global flag and subcommand flag runsc-host knows, and what
 * happens to each (mapped, dropped or refused, with the reason a user reads). docs/cli.md is the
 * same table in prose; keep the two in step. */
#include "cli_table.h"

#include <stddef.h>


/* Reasons shared by several subcommands. */
#define WHY_NO_PIVOT "runsc always pivot_roots into a root of its own and does not know the flag"
#define WHY_KEYRING "the sandbox has no host session keyring to share; runsc does not know the flag"
#define WHY_SUBREAPER "runsc does not use a subreaper"
#define WHY_CRIU_OPT "gVisor checkpoints the whole sandbox itself, without CRIU; the CRIU option has no equivalent"
#define WHY_CRIU_MODE "it selects a CRIU mode (pre-dump, lazy pages, page server, incremental images) that runsc cannot do"
#define WHY_LSM "guest processes run inside gVisor's kernel, where host LSM profiles and labels do not apply (runsc ignores them in config.json too)"

const struct flag_def rh_cli_global_flags[] = {
  { "root", 0, true, SPECIAL, NULL, NULL },
  { "log", 0, true, SPECIAL, NULL, NULL },
  { "log-format", 0, true, SPECIAL, NULL, NULL },
  { "debug", 0, false, SPECIAL, NULL, NULL },
  { "systemd-cgroup", 0, false, SPECIAL, NULL, NULL },
  { "rootless", 0, true, SPECIAL, NULL, NULL },
  { "criu", 0, true, DROP, NULL, "runsc checkpoints without CRIU" },
  { "help", 'h', false, SPECIAL, NULL, NULL },
  { "version", 'v', false, SPECIAL, NULL, NULL },
  END_FLAGS,
};

static const struct flag_def create_flags[] = {
  { "bundle", 'b', true, SPECIAL, NULL, NULL },
  { "console-socket", 0, true, SPECIAL, NULL, NULL },
  { "pid-file", 0, true, MAP, NULL, NULL },
  { "no-pivot", 0, false, DROP, NULL, WHY_NO_PIVOT },
  { "no-new-keyring", 0, false, DROP, NULL, WHY_KEYRING },
  { "preserve-fds", 0, true, SPECIAL, NULL, NULL },
  /* run only (checked by the handler) */
  { "detach", 'd', false, SPECIAL, NULL, NULL },
  { "no-subreaper", 0, false, DROP, NULL, WHY_SUBREAPER },
  { "keep", 0, false, SPECIAL, NULL, NULL },
  END_FLAGS,
};

/* The CRIU options checkpoint and restore share: dropped, gVisor saves the sandbox without CRIU. */
#define CRIU_OPTIONS                                                                                       \
  { "tcp-established", 0, false, DROP, NULL, WHY_CRIU_OPT },                                               \
      { "ext-unix-sk", 0, false, DROP, NULL, WHY_CRIU_OPT },                                               \
      { "shell-job", 0, false, DROP, NULL, WHY_CRIU_OPT },                                                 \
      { "file-locks", 0, false, DROP, NULL, WHY_CRIU_OPT },                                                \
      { "manage-cgroups-mode", 0, true, DROP, NULL, WHY_CRIU_OPT },                                        \
      { "empty-ns", 0, true, DROP, NULL, WHY_CRIU_OPT },                                                   \
      { "auto-dedup", 0, false, DROP, NULL, WHY_CRIU_OPT }

static const struct flag_def no_flags[] = { END_FLAGS };

static const struct flag_def kill_flags[] = {
  { "all", 'a', false, MAP, NULL, NULL },
  END_FLAGS,
};

static const struct flag_def delete_flags[] = {
  { "force", 'f', false, MAP, NULL, NULL },
  END_FLAGS,
};

static const struct flag_def exec_flags[] = {
  { "console-socket", 0, true, SPECIAL, NULL, NULL },
  { "cwd", 0, true, SPECIAL, NULL, NULL },
  { "env", 'e', true, SPECIAL, NULL, NULL },
  { "tty", 't', false, SPECIAL, NULL, NULL },
  { "user", 'u', true, SPECIAL, NULL, NULL },
  { "additional-gids", 'g', true, SPECIAL, NULL, NULL },
  { "process", 'p', true, SPECIAL, NULL, NULL },
  { "detach", 'd', false, SPECIAL, NULL, NULL },
  { "pid-file", 0, true, MAP, NULL, NULL },
  { "process-label", 0, true, SPECIAL, NULL, WHY_LSM },
  { "apparmor", 0, true, SPECIAL, NULL, WHY_LSM },
  { "no-new-privs", 0, false, SPECIAL, NULL, NULL },
  { "cap", 'c', true, SPECIAL, NULL, NULL },
  { "preserve-fds", 0, true, SPECIAL, NULL, NULL },
  { "cgroup", 0, true, REFUSE, NULL,
    "runsc cannot place an exec'd process in a host sub-cgroup (the sandbox accounts for it as a whole)" },
  { "ignore-paused", 0, false, DROP, NULL,
    "runsc refuses to exec into a paused container either way, which is the stricter behaviour" },
  { "no-subreaper", 0, false, DROP, NULL, WHY_SUBREAPER },
  END_FLAGS,
};

static const struct flag_def ps_flags[] = {
  { "format", 'f', true, SPECIAL, NULL, NULL },
  END_FLAGS,
};

static const struct flag_def events_flags[] = {
  { "stats", 0, false, MAP, NULL, NULL },
  { "interval", 0, true, SPECIAL, NULL, NULL },
  END_FLAGS,
};

static const struct flag_def list_flags[] = {
  { "format", 'f', true, SPECIAL, NULL, NULL },
  { "quiet", 'q', false, MAP, NULL, NULL },
  END_FLAGS,
};

static const struct flag_def spec_flags[] = {
  { "bundle", 'b', true, MAP, NULL, NULL },
  { "rootless", 0, false, REFUSE, NULL,
    "runsc spec cannot generate a rootless spec, and runsc-host runs sandboxes as root only" },
  END_FLAGS,
};

static const struct flag_def checkpoint_flags[] = {
  { "image-path", 0, true, SPECIAL, NULL, NULL },
  { "work-path", 0, true, MAP, NULL, NULL },
  { "leave-running", 0, false, MAP, NULL, NULL },
  CRIU_OPTIONS,
  { "pre-dump", 0, false, REFUSE, NULL, WHY_CRIU_MODE },
  { "lazy-pages", 0, false, REFUSE, NULL, WHY_CRIU_MODE },
  { "page-server", 0, true, REFUSE, NULL, WHY_CRIU_MODE },
  { "parent-path", 0, true, REFUSE, NULL, WHY_CRIU_MODE },
  { "status-fd", 0, true, REFUSE, NULL, WHY_CRIU_MODE },
  END_FLAGS,
};

static const struct flag_def restore_flags[] = {
  { "bundle", 'b', true, SPECIAL, NULL, NULL },
  { "console-socket", 0, true, SPECIAL, NULL, NULL },
  { "image-path", 0, true, SPECIAL, NULL, NULL },
  { "work-path", 0, true, MAP, NULL, NULL },
  { "detach", 'd', false, SPECIAL, NULL, NULL },
  { "pid-file", 0, true, MAP, NULL, NULL },
  { "no-subreaper", 0, false, DROP, NULL, WHY_SUBREAPER },
  { "no-pivot", 0, false, DROP, NULL, WHY_NO_PIVOT },
  CRIU_OPTIONS,
  { "lsm-profile", 0, true, DROP, NULL, WHY_LSM },
  { "lsm-mount-context", 0, true, DROP, NULL, WHY_LSM },
  { "lazy-pages", 0, false, REFUSE, NULL, WHY_CRIU_MODE },
  END_FLAGS,
};

const struct cmd_def rh_cli_commands[] = {
  { "create", RH_CLI_CREATE, create_flags, ARGS_ID },
  { "run", RH_CLI_RUN, create_flags, ARGS_ID },
  { "start", RH_CLI_START, no_flags, ARGS_ID },
  { "state", RH_CLI_STATE, no_flags, ARGS_ID },
  { "pause", RH_CLI_PAUSE, no_flags, ARGS_ID },
  { "resume", RH_CLI_RESUME, no_flags, ARGS_ID },
  { "kill", RH_CLI_KILL, kill_flags, ARGS_ID_OPT1 },
  { "delete", RH_CLI_DELETE, delete_flags, ARGS_ID },
  { "exec", RH_CLI_EXEC, exec_flags, ARGS_ID_REST },
  { "ps", RH_CLI_PS, ps_flags, ARGS_ID_REST },
  { "events", RH_CLI_EVENTS, events_flags, ARGS_ID },
  { "list", RH_CLI_LIST, list_flags, ARGS_NONE },
  { "spec", RH_CLI_SPEC, spec_flags, ARGS_NONE },
  { "features", RH_CLI_FEATURES, no_flags, ARGS_NONE },
  { "checkpoint", RH_CLI_CHECKPOINT, checkpoint_flags, ARGS_ID },
  { "restore", RH_CLI_RESTORE, restore_flags, ARGS_ID },
  { NULL, RH_CLI_NONE, NULL, ARGS_NONE },
};
