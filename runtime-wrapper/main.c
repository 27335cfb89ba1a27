/* runsc-host: a runc-compatible OCI runtime that runs containers in gVisor under a policy.
 *
 * main() is thin: cli.c turns runc's argv into runsc's; here we open the log, load the policy,
 * rewrite the bundle on create/run/restore, and execv() runsc. Pass-through subcommands never
 * fork, so the caller sees runsc's own pid, signals and exit code. The one exception is a delete
 * that has firewall rules to remove: runsc then runs as a child alongside the removal
 * (delete_alongside), and its status is passed on. The same binary installed as
 * `runc` (alias mode) behaves identically: argv[0] is never looked at. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "caps_exec.h"
#include "cleanup.h"
#include "cli.h"
#include "cmd_compat.h"
#include "cmd_spec.h"
#include "tty_proxy.h"
#include "commands.h"
#include "fsutil.h"
#include "stage.h"
#include "gate_policy.h"
#include "kill_relay.h"
#include "log.h"
#include "netrules.h"
#include "paths.h"
#include "policy.h"
#include "runsc_flags.h"
#include "spec_rewrite.h"
#include "util.h"

#ifndef RH_VERSION
#define RH_VERSION "unknown"
#endif
#ifndef RH_SYSCONF_POLICY
#define RH_SYSCONF_POLICY "/etc/runsc-host/config.json"
#endif

/* The OCI runtime spec version whose config.json we read and write. */
#define RH_OCI_SPEC_VERSION "1.0.2"

/* Set in runsc's environment to "<st_dev>:<st_ino>" of the runsc we exec. A process that finds
 * its own identity there is a copy of runsc-host that was installed as runsc: it refuses,
 * instead of exec'ing itself forever. */
#define RH_ENV_EXEC_ID "RUNSC_HOST_EXEC_ID"

/* Weak fallbacks for runsc-host's own subcommands; cmd_check.c, cmd_gc.c and cmd_gate.c
 * override them when they are built in. */
static int
not_built (const char *cmd)
{
  fprintf (stderr, "runsc-host: %s is not available in this build\n", cmd);
  return 1;
}

__attribute__ ((weak)) int
rh_cmd_check (const struct rh_cmd_env *env, int argc, char **argv)
{
  return not_built ("check");
}

__attribute__ ((weak)) int
rh_cmd_gc (const struct rh_cmd_env *env, int argc, char **argv)
{
  return not_built ("gc");
}

__attribute__ ((weak)) int
rh_cmd_gate (const struct rh_cmd_env *env, int argc, char **argv)
{
  return not_built ("gate");
}

static char *
identity_of (const struct stat *st)
{
  return rh_xasprintf ("%llu:%llu", (unsigned long long) st->st_dev, (unsigned long long) st->st_ino);
}

/* Refuse a runsc path that is this very binary, whatever it is called (alias mode installs us
 * as `runc`; a policy that names us as runsc would exec us forever). Also refuse a runsc that
 * is missing or not executable, before anything is rewritten or started. */
static int
check_runsc (const char *path, rh_error *err)
{
  struct stat self, target;
  _cleanup_free_ char *self_real = realpath ("/proc/self/exe", NULL);
  _cleanup_free_ char *target_real = NULL;
  bool same;

  if (stat (path, &target) < 0)
    return rh_error_sys (err, errno, "runsc not found at %s (policy key runsc.path)", path);
  if (!S_ISREG (target.st_mode) || access (path, X_OK) < 0)
    return rh_error_set (err, EACCES, "runsc at %s is not an executable file (policy key runsc.path)", path);
  target_real = realpath (path, NULL);
  /* Same inode catches hard links and bind mounts; same resolved path catches symlinks even
   * across a stat race. */
  same = (stat ("/proc/self/exe", &self) == 0 && self.st_dev == target.st_dev && self.st_ino == target.st_ino)
         || (self_real && target_real && strcmp (self_real, target_real) == 0);
  if (same)
    {
      bool alias = target_real && strcmp (target_real, path) != 0;
      return rh_error_set (err, ELOOP, "policy key runsc.path: %s is runsc-host itself%s%s%s, not runsc; refusing to "
                           "run it (set runsc.path to the real runsc binary)", path, alias ? " (" : "",
                           alias ? target_real : "", alias ? ")" : "");
    }
  return 0;
}

/* Called first thing: are we a copy of runsc-host that a runsc-host exec'd as runsc? */
static int
check_not_exec_loop (rh_error *err)
{
  const char *mark = getenv (RH_ENV_EXEC_ID);
  struct stat self;
  _cleanup_free_ char *me = NULL;

  if (mark == NULL)
    return 0;
  if (stat ("/proc/self/exe", &self) == 0)
    me = identity_of (&self);
  if (me && strcmp (me, mark) == 0)
    return rh_error_set (err, ELOOP, "policy key runsc.path names a copy of runsc-host, which was just run as "
                         "runsc; refusing to recurse (set runsc.path to the real runsc binary)");
  unsetenv (RH_ENV_EXEC_ID);
  return 0;
}

static void
log_argv (const struct rh_logger *log, const char *what, char *const *argv)
{
  size_t len = 1;
  _cleanup_free_ char *line = NULL;

  for (char *const *p = argv; *p; p++)
    len += strlen (*p) + 3;
  line = rh_xmalloc0 (len);
  for (char *const *p = argv; *p; p++)
    {
      if (p != argv)
        strcat (line, " ");
      strcat (line, *p);
    }
  rh_log_debug (log, "%s: %s", what, line);
}

/* runc prints its version, the spec version and its dependencies; we add the runsc we run,
 * then let runsc print its own version (an exec, after the same checks as any other). */
static int
print_version (const struct rh_policy *policy, const char *policy_error)
{
  rh_error err;

  printf ("runsc-host version %s\n", RH_VERSION);
  printf ("spec: %s\n", RH_OCI_SPEC_VERSION);
  if (policy == NULL)
    {
      printf ("runsc: unknown (%s)\n", policy_error);
      return 0;
    }
  printf ("runsc: %s (platform %s)\n", policy->runsc.path, policy->runsc.platform);
  if (check_runsc (policy->runsc.path, &err) < 0)
    {
      printf ("runsc: unusable: %s\n", err.msg);
      return 0;
    }
  fflush (stdout);
  execl (policy->runsc.path, policy->runsc.path, "--version", (char *) NULL);
  printf ("runsc: unusable: exec %s: %s\n", policy->runsc.path, strerror (errno));
  return 0;
}

static int
stage_spec (json_t *spec, void *data, rh_error *err)
{
  return rh_stage_spec (spec, data, err);
}

/* create/run/restore: rewrite config.json under the policy, then prepare what the rewritten
 * spec refers to. Nothing has been started yet; on failure nothing will be. */
static int
prepare_bundle (const struct rh_cli *cli, const struct rh_policy *policy, const struct rh_logger *log,
                rh_error *err)
{
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  struct rh_rewrite_ctx ctx = {
    .policy = policy,
    .resolver = rh_host_resolver (),
    .log = log,
    .bundle = cli->bundle,
    .container_id = cli->id,
    .self_exe = NULL,
  };
  _cleanup_free_ char *stage_dir = rh_xasprintf ("%s/stage", policy->state_dir);
  struct rh_stage stage = { .dir = stage_dir, .log = log, .policy = policy, .container_id = cli->id };

  /* What runsc mounts is what was checked: pinned paths are bound, by descriptor, into a tmpfs
   * of a mount namespace that runsc and its sandbox inherit (stage.h). */
  ctx.stage = stage_spec;
  ctx.stage_data = &stage;

  /* Our own binary is protected like runsc (a workload that could rewrite it runs as root next). */
  if (n > 0 && self[0] == '/')
    {
      self[n] = '\0';
      ctx.self_exe = self;
    }

  if (rh_rewrite_bundle (cli->bundle, &ctx, err) < 0)
    return -1;
  if (rh_gate_prepare (policy, cli->id, log, err) < 0)
    return -1;
  return 0;
}

/* After create (or a detached run/restore) with --console-socket, runc does not keep the
 * caller's stdio; runsc's sandbox would inherit and hold it, and a caller that waits for EOF on
 * those pipes would hang. The terminal goes through the console socket, and errors are already
 * in --log, so stdio becomes /dev/null. */
static void
detach_stdio (const struct rh_logger *log)
{
  int fd = open ("/dev/null", O_RDWR | O_CLOEXEC);

  if (fd < 0)
    {
      rh_log_warn (log, "open /dev/null: %s; stdio stays attached", strerror (errno));
      return;
    }
  /* dup2() clears FD_CLOEXEC on the copies, so runsc gets /dev/null as 0, 1 and 2. */
  for (int i = 0; i < 3; i++)
    if (fd != i && dup2 (fd, i) < 0)
      rh_log_warn (log, "dup2 /dev/null to fd %d: %s", i, strerror (errno));
  if (fd > 2)
    close (fd);
}

/* The container's bundle, from `runsc state`. This is the one place that runs runsc as a child
 * rather than exec'ing it: the answer is needed before the real exec. */
static int
container_bundle (char *const *state_argv, char **bundle, rh_error *err)
{
  _cleanup_close_ int rd = -1;
  _cleanup_free_ char *out = NULL;
  _cleanup_json_ json_t *state = NULL;
  posix_spawn_file_actions_t fa;
  json_error_t jerr;
  const char *b;
  size_t len;
  pid_t pid;
  int fds[2], status, r;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return rh_error_sys (err, errno, "pipe");
  rd = fds[0];
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen (&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  r = posix_spawn (&pid, state_argv[0], &fa, NULL, state_argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (fds[1]);
  if (r != 0)
    return rh_error_sys (err, r, "run %s state", state_argv[0]);
  r = rh_read_fd_capped (rd, 1u << 20, &out, &len, err);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (r < 0)
    return rh_error_prefix (err, "runsc state");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return rh_error_set (err, ENOENT, "runsc state failed (the container does not exist or is not readable)");
  state = json_loadb (out, len, 0, &jerr);
  b = json_string_value (json_object_get (state, "bundle"));
  if (b == NULL || b[0] != '/')
    return rh_error_set (err, EINVAL, "runsc state gave no absolute bundle path");
  *bundle = rh_xstrdup (b);
  return 0;
}

/* Hand a process.json to runsc through a memfd, read back as /proc/self/fd/N. The memfd is
 * deliberately not close-on-exec: runsc (and the copy of itself that `exec --detach` starts)
 * opens it by that path. It is sealed once written, so nothing that shares the fd can change
 * the checked process between this check and runsc's read. */
static int
process_memfd (const char *text, int *fd_out, rh_error *err)
{
  _cleanup_close_ int fd = memfd_create ("runsc-host-exec-process", MFD_ALLOW_SEALING);

  if (fd < 0)
    return rh_error_sys (err, errno, "memfd_create");
  for (size_t off = 0, n = strlen (text); off < n;)
    {
      ssize_t w = write (fd, text + off, n - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return rh_error_sys (err, errno, "write process.json to memfd");
      off += (size_t) w;
    }
  if (fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    return rh_error_sys (err, errno, "seal the process.json memfd");
  *fd_out = rh_steal_fd (&fd);
  return 0;
}

/* exec --tty in the inline form: build the process runc would run (the container's process
 * with the inline overrides, terminal: true), filtered by the capability policy like any exec'd
 * process, and return it as JSON text. */
static int
synth_exec_process (const struct rh_cli *cli, const struct rh_policy *policy, const struct rh_logger *log,
                    char *const *rargv, size_t sub_at, char **text_out, rh_error *err)
{
  _cleanup_strv_ char **sargv = NULL;
  _cleanup_free_ char *bundle = NULL, *config = NULL, *text = NULL;
  _cleanup_json_ json_t *spec = NULL, *proc = NULL;
  json_error_t jerr;
  size_t len;

  for (size_t i = 0; i < sub_at; i++)
    rh_strv_push (&sargv, rargv[i]);
  rh_strv_push (&sargv, "state");
  rh_strv_push (&sargv, "--");
  rh_strv_push (&sargv, cli->id);
  if (container_bundle (sargv, &bundle, err) < 0)
    return rh_error_prefix (err, "exec --tty: container %s", cli->id);
  config = rh_xasprintf ("%s/config.json", bundle);
  if (rh_read_file_capped (config, RH_SPEC_MAX_BYTES, &text, &len, err) < 0)
    return rh_error_prefix (err, "exec --tty");
  spec = json_loadb (text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (spec == NULL)
    return rh_error_set (err, EINVAL, "exec --tty: %s: %s", config, jerr.text);
  if (rh_cli_exec_process (json_object_get (spec, "process"), cli, &proc, err) < 0)
    return rh_error_prefix (err, "exec --tty: %s", config);
  /* The container's process was trimmed at create, under the policy of that time; this one
   * runs under today's. */
  if (rh_caps_filter_process (proc, policy, log, err) < 0)
    return rh_error_prefix (err, "exec --tty: %s", config);
  *text_out = json_dumps (proc, JSON_COMPACT);
  if (*text_out == NULL)
    return rh_error_set (err, ENOMEM, "exec --tty: cannot serialise the process");
  return 0;
}

/* exec under the capability policy (docs/cli.md, "Exec-time policy"). runsc gives an exec'd
 * process exactly the capabilities its process.json or --cap flags list, not the container's
 * trimmed set, so each form is checked here:
 *   --process FILE   read (size-capped), filtered, and passed on as a sealed memfd;
 *   inline --tty     the synthesised process, filtered the same way;
 *   inline --cap X   refused when X is dropped by policy;
 *   inline, no --cap runsc reuses the container's own capabilities, trimmed at create.
 * *flag_out is the "--process=/proc/self/fd/N" argument for runsc, or NULL. */
static int
prepare_exec (const struct rh_cli *cli, const struct rh_policy *policy, const struct rh_logger *log,
              char *const *rargv, size_t sub_at, char **flag_out, rh_error *err)
{
  _cleanup_free_ char *text = NULL, *filtered = NULL;
  size_t len;
  int fd = -1;

  *flag_out = NULL;
  if (cli->exec.process_file)
    {
      if (rh_read_file_capped (cli->exec.process_file, RH_EXEC_PROCESS_MAX_BYTES, &text, &len, err) < 0
          || rh_caps_filter_process_text (text, len, policy, log, &filtered, err) < 0)
        return rh_error_prefix (err, "exec --process %s", cli->exec.process_file);
    }
  else
    {
      if (rh_caps_check_exec_caps (cli->exec.caps, policy, err) < 0)
        return -1;
      if (!cli->exec_synth_process)
        return 0;
      if (synth_exec_process (cli, policy, log, rargv, sub_at, &filtered, err) < 0)
        return -1;
    }
  if (process_memfd (filtered, &fd, err) < 0)
    return rh_error_prefix (err, "exec");
  *flag_out = rh_xasprintf ("--process=/proc/self/fd/%d", fd);
  return 0;
}

/* `runsc exec --detach` without --pid-file re-executes itself with "--pid-file=<tmp>" appended
 * at the END of its argv, after the container id and the command: the command then gets it as
 * an argument ("sleep: invalid number '--pid-file=...'", seen on this runsc). So runsc-host
 * always gives one, right after "exec": a memfd of this process (which becomes runsc's), named
 * by pid so that the re-executed runsc, which does not inherit it, can write it too. Nothing
 * is left on disk. */
static int
exec_detach_pid_file (char ***rargv, size_t sub_at, rh_error *err)
{
  _cleanup_strv_ char **old = *rargv;
  _cleanup_free_ char *flag = NULL;
  int fd;

  for (char **p = old + sub_at; *p && strcmp (*p, "--") != 0; p++)
    if (rh_str_has_prefix (*p, "--pid-file="))
      {
        old = NULL;
        return 0;
      }
  fd = memfd_create ("runsc-host-exec-pid", 0); /* not close-on-exec: runsc reads it */
  if (fd < 0)
    {
      old = NULL;
      return rh_error_sys (err, errno, "exec --detach: memfd_create");
    }
  flag = rh_xasprintf ("--pid-file=/proc/%ld/fd/%d", (long) getpid (), fd);
  *rargv = NULL;
  for (size_t i = 0; old[i]; i++)
    {
      rh_strv_push (rargv, old[i]);
      if (i == sub_at)
        rh_strv_push (rargv, flag);
    }
  return 0;
}

static int
run_own_command (const struct rh_cli *cli, const struct rh_policy *policy, const char *policy_error,
                 const struct rh_logger *log)
{
  _cleanup_free_ char *self = realpath ("/proc/self/exe", NULL);
  struct rh_cmd_env env = {
    .policy = policy,
    .policy_error = policy_error,
    .log = log,
    .root = cli->root,
    .self_exe = self,
  };
  int argc = (int) rh_strv_len (cli->own_argv);

  if (cli->cmd == RH_CLI_CHECK)
    return rh_cmd_check (&env, argc, cli->own_argv);
  if (cli->cmd == RH_CLI_UPDATE)
    return rh_cmd_update (&env, argc, cli->own_argv);
  if (policy == NULL)
    {
      rh_log_error (log, "%s", policy_error);
      return 1;
    }
  if (cli->cmd == RH_CLI_GC)
    return rh_cmd_gc (&env, argc, cli->own_argv);
  return rh_cmd_gate (&env, argc, cli->own_argv);
}

/* The exec-id guard (RH_ENV_EXEC_ID) for the runsc about to be exec'd. */
static void
set_exec_id (const struct rh_policy *policy)
{
  struct stat st;
  if (stat (policy->runsc.path, &st) == 0)
    {
      _cleanup_free_ char *id = identity_of (&st);
      setenv (RH_ENV_EXEC_ID, id, 1);
    }
}

/* ---- delete: runsc's delete and the rule removal side by side ---- */

/* What delete undoes besides runsc's state: the firewall rules and the gate socket. Best effort:
 * a delete must not be blocked by a rule or socket that is already gone. */
static void
release_container (const struct rh_policy *policy, const char *id, const struct rh_logger *log)
{
  rh_error err;

  if (rh_netrules_remove (policy, id, log, &err) < 0)
    rh_log_warn (log, "delete %s: removing network rules: %s", id, err.msg);
  if (rh_gate_release (policy, id, log, &err) < 0)
    rh_log_warn (log, "delete %s: releasing the gate socket: %s", id, err.msg);
}

static volatile pid_t delete_child;

static void
forward_signal (int sig)
{
  if (delete_child > 0)
    kill (delete_child, sig);
}

/* Removing a container's rules costs an nf_tables commit that deletes rules, and such a commit
 * waits for an RCU grace period (10-15 ms here, whatever the rules are); runsc's own delete
 * takes about as long. When the sandbox is already gone there is no order to keep between them,
 * so runsc runs as a child while this process removes the rules, and this process exits with
 * runsc's status once both are done: the rules are still gone by the time the caller sees the
 * delete finish. Signals the caller sends are passed on to runsc; if this process is killed,
 * runsc is killed with it (as it would be, being the same process, after an exec). Returns -1
 * without side effects when it cannot fork; the caller then does both in turn. */
static int
delete_alongside (const struct rh_policy *policy, const struct rh_cli *cli, char *const *rargv,
                  const struct rh_logger *log, int *exit_code)
{
  static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };
  struct sigaction fwd = { .sa_handler = forward_signal }, old[sizeof forwarded / sizeof *forwarded];
  pid_t parent = getpid (), child;
  int status;

  fflush (NULL);
  child = fork ();
  if (child < 0)
    return -1;
  if (child == 0)
    {
      if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
        _exit (1);
      execv (policy->runsc.path, rargv);
      rh_log_error (log, "exec runsc %s (policy key runsc.path): %s", policy->runsc.path, strerror (errno));
      _exit (1);
    }
  delete_child = child;
  sigemptyset (&fwd.sa_mask);
  fwd.sa_flags = SA_RESTART;
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
    sigaction (forwarded[i], &fwd, &old[i]);

  release_container (policy, cli->id, log);

  while (waitpid (child, &status, 0) < 0)
    if (errno != EINTR)
      {
        rh_log_error (log, "delete %s: waiting for runsc: %s", cli->id, strerror (errno));
        *exit_code = 1;
        return 0;
      }
  delete_child = 0;
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
    sigaction (forwarded[i], &old[i], NULL);
  if (WIFSIGNALED (status))
    {
      /* Die the way runsc died, so the caller sees the same status it would have after an exec. */
      signal (WTERMSIG (status), SIG_DFL);
      raise (WTERMSIG (status));
      *exit_code = 128 + WTERMSIG (status);
    }
  else
    *exit_code = WEXITSTATUS (status);
  return 0;
}

int
main (int argc, char **argv)
{
  struct rh_logger log = RH_LOGGER_INIT;
  struct rh_cli cli;
  struct rh_policy *policy = NULL;
  _cleanup_free_ char *platform = NULL, *process_flag = NULL;
  _cleanup_strv_ char **rargv = NULL;
  char cwd[PATH_MAX];
  struct rh_cli_env env = { .cwd = getcwd (cwd, sizeof cwd), .stdin_is_tty = isatty (STDIN_FILENO) == 1 };
  rh_error err, lerr, perr;
  size_t sub_at;
  int parsed, ret = 1;

  rh_error_clear (&err);
  rh_error_clear (&perr);
  parsed = rh_cli_parse (argc, argv, &env, &cli, &err);

  /* The logger comes first, so that every later error (a bad flag, a broken policy, a refused
   * mount) lands in --log where containerd reads it, as well as on stderr. */
  if (rh_logger_open (&log, cli.log, cli.log_json, cli.debug, &lerr) < 0)
    rh_log_warn (&log, "%s", lerr.msg);
  /* Before the parse error: a copy of runsc-host run as runsc fails on runsc's own flags, and
   * the loop is the error to report. */
  if (check_not_exec_loop (&lerr) < 0)
    {
      rh_log_error (&log, "%s", lerr.msg);
      goto out;
    }
  if (parsed < 0)
    {
      rh_log_error (&log, "%s", err.msg);
      goto out;
    }
  for (char **d = cli.decisions; d && *d; d++)
    rh_log_debug (&log, "%s: %s", cli.cmd_name ? cli.cmd_name : "runsc-host", *d);

  switch (cli.cmd)
    {
    case RH_CLI_NONE:
    case RH_CLI_HELP:
      if (cli.help_topic && strcmp (rh_cli_usage (cli.help_topic), rh_cli_usage (NULL)) == 0)
        {
          rh_log_error (&log, "No help topic for '%s'", cli.help_topic);
          goto out;
        }
      printf ("%s%s", cli.help_topic ? "usage: runsc-host [global flags] " : "", rh_cli_usage (cli.help_topic));
      printf ("%s", cli.help_topic ? "\nSee docs/cli.md for how each runc flag is mapped, dropped or refused.\n" : "");
      ret = 0;
      goto out;
    case RH_CLI_SPEC:
      /* runc's template, written by runsc-host itself (cmd_spec.c); needs no policy. */
      {
        const char *bundle = NULL;
        for (char **p = cli.sub_args; p && *p; p++)
          if (rh_str_has_prefix (*p, "--bundle="))
            bundle = *p + strlen ("--bundle=");
        if (rh_spec_template_write (bundle, &err) < 0)
          rh_log_error (&log, "%s", err.msg);
        else
          ret = 0;
      }
      goto out;
    default:
      break;
    }

  if (rh_policy_load (getenv ("RUNSC_HOST_CONFIG"), RH_SYSCONF_POLICY, &policy, &perr) < 0)
    policy = NULL;

  switch (cli.cmd)
    {
    case RH_CLI_VERSION:
      ret = print_version (policy, perr.msg);
      goto out;
    case RH_CLI_CHECK:
    case RH_CLI_GC:
    case RH_CLI_GATE:
    case RH_CLI_UPDATE:
      ret = run_own_command (&cli, policy, policy ? NULL : perr.msg, &log);
      goto out;
    default:
      break;
    }
  if (cli.cmd == RH_CLI_FEATURES)
    {
      /* What the runtime supports does not depend on the policy; the runsc it names is extra. */
      _cleanup_free_ char *doc = rh_cli_features_json (policy ? policy->runsc.path : NULL,
                                                       policy ? policy->runsc.platform : NULL);
      if (policy == NULL)
        rh_log_warn (&log, "%s", perr.msg);
      printf ("%s\n", doc);
      ret = 0;
      goto out;
    }
  if (policy == NULL)
    {
      rh_log_error (&log, "%s", perr.msg);
      goto out;
    }

  /* Refused on every runsc. A restore starts a sandbox from a saved image (memory, open files,
   * mounts) that the policy never checked. runsc 2022 cannot even checkpoint a sandbox with host
   * networking ("checkpoint not supported when using hostinet", after creating an empty image
   * file); the current runsc can (tests/integration/checkpoint.bats), so the reason is ours. */
  if (cli.cmd == RH_CLI_CHECKPOINT || cli.cmd == RH_CLI_RESTORE)
    {
      rh_log_error (&log, "%s is not supported by runsc-host: a restored sandbox would come from a saved "
                    "image that the policy never checked (and runsc 2022 cannot checkpoint a sandbox with "
                    "host networking at all)", cli.cmd_name);
      goto out;
    }

  /* Everything below execs runsc: check it before touching the bundle. */
  if (check_runsc (policy->runsc.path, &err) < 0
      || rh_runsc_resolve_platform (policy, &log, &platform, &err) < 0)
    {
      rh_log_error (&log, "%s", err.msg);
      goto out;
    }

  rh_strv_push (&rargv, policy->runsc.path);
  rh_runsc_global_flags (policy, platform, &rargv);
  for (char **p = cli.global_args; p && *p; p++)
    rh_strv_push (&rargv, *p);
  sub_at = rh_strv_len (rargv);
  if (cli.cmd == RH_CLI_EXEC && prepare_exec (&cli, policy, &log, rargv, sub_at, &process_flag, &err) < 0)
    {
      rh_log_error (&log, "%s", err.msg);
      goto out;
    }
  {
    bool placed = process_flag == NULL;
    for (char **p = cli.sub_args, **end = NULL; p && *p; p++)
      {
        if (end == NULL && strcmp (*p, "--") == 0)
          end = p;
        /* exec --process FILE: runsc reads the filtered copy, never FILE itself. */
        if (end == NULL && process_flag && cli.exec.process_file && rh_str_has_prefix (*p, "--process="))
          {
            rh_strv_push (&rargv, process_flag);
            placed = true;
            continue;
          }
        rh_strv_push (&rargv, *p);
        if (p == cli.sub_args && process_flag && cli.exec_synth_process)
          rh_strv_push (&rargv, process_flag), placed = true;
      }
    /* Fail closed: runsc must never run the unfiltered process. */
    if (!placed)
      {
        rh_log_error (&log, "exec: internal error: no --process argument to replace with the filtered process");
        goto out;
      }
  }

  switch (cli.cmd)
    {
    case RH_CLI_CREATE:
    case RH_CLI_RUN:
    case RH_CLI_RESTORE:
      /* This process execs runsc next, which drops the heap at once: the spec may be parsed
       * into a bump-allocated region and left there, not freed node by node (lib/arena.h).
       * Without it (sanitizer builds) the rewrite uses malloc and free as before. */
      if (rh_arena_json_install (RH_ARENA_JSON_CAP, &err) < 0)
        rh_log_debug (&log, "%s", err.msg);
      if (prepare_bundle (&cli, policy, &log, &err) < 0)
        {
          rh_log_error (&log, "%s", err.msg);
          goto out;
        }
      break;
    case RH_CLI_DELETE:
      if (rh_netrules_removal_pending (policy, cli.id))
        {
          log_argv (&log, "run", rargv);
          set_exec_id (policy);
          if (delete_alongside (policy, &cli, rargv, &log, &ret) == 0)
            goto out;
        }
      release_container (policy, cli.id, &log);
      break;
    case RH_CLI_KILL:
    case RH_CLI_PS:
      {
        /* runc behaviours runsc lacks (cmd_compat.c): `kill ID 0`, and ps's table layout. */
        size_t n = rh_strv_len (rargv);
        bool all = false, json = false;
        for (char **p = cli.sub_args; p && *p && strcmp (*p, "--") != 0; p++)
          all |= strcmp (*p, "--all") == 0, json |= strcmp (*p, "--format=json") == 0;
        if (cli.cmd == RH_CLI_KILL && n > 0 && strcmp (rargv[n - 1], "0") == 0)
          ret = rh_compat_kill_probe (rargv, sub_at, cli.id, all, &err);
        else if (cli.cmd == RH_CLI_PS && !json)
          ret = rh_compat_ps_table (rargv, sub_at, cli.id, &err);
        else if (cli.cmd == RH_CLI_KILL)
          {
            /* A kill of a stopped sandbox: runc's wording for containerd's shim (kill_relay.c). */
            log_argv (&log, "run", rargv);
            set_exec_id (policy);
            fflush (NULL);
            if (rh_kill_relay (policy->runsc.path, rargv, &ret) == 0)
              goto out;
            break;
          }
        else
          break;
        if (ret < 0)
          {
            rh_log_error (&log, "%s", err.msg);
            ret = 1;
          }
        goto out;
      }
    case RH_CLI_EXEC:
      if (rh_cli_check_exec_detach (rargv + 1, &err) < 0)
        {
          rh_log_error (&log, "%s", err.msg);
          goto out;
        }
      if (cli.detach && exec_detach_pid_file (&rargv, sub_at, &err) < 0)
        {
          rh_log_error (&log, "%s", err.msg);
          goto out;
        }
      break;
    default:
      break;
    }

  /* Foreground run of a terminal spec without a console socket: runc's own terminal, proxied
   * (tty_proxy.c); runsc would hand the container the caller's terminal instead. */
  if (cli.cmd == RH_CLI_RUN && !cli.detach && !cli.console_socket && rh_tty_proxy_wanted (cli.bundle))
    {
      log_argv (&log, "run (terminal proxied)", rargv);
      set_exec_id (policy);
      if (rh_tty_proxy_run (policy->runsc.path, rargv, sub_at, &ret, &err) < 0)
        {
          rh_log_error (&log, "%s", err.msg);
          ret = 1;
        }
      goto out;
    }

  log_argv (&log, "exec", rargv);
  set_exec_id (policy);
  if (cli.console_socket
      && (cli.cmd == RH_CLI_CREATE || ((cli.cmd == RH_CLI_RUN || cli.cmd == RH_CLI_RESTORE) && cli.detach)))
    detach_stdio (&log);
  fflush (NULL);
  execv (policy->runsc.path, rargv);
  rh_log_error (&log, "exec runsc %s (policy key runsc.path): %s", policy->runsc.path, strerror (errno));

out:
  fflush (stdout);
  if (policy)
    rh_policy_free (policy);
  rh_cli_free (&cli);
  rh_logger_close (&log);
  return ret;
}
