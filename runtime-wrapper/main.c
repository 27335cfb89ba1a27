/* runsc-host: a runc-compatible OCI runtime that runs containers in gVisor under a policy.
 *
 * main() is the dispatcher: cli.c turns runc's argv into runsc's; here we open the log, load the
 * policy, and hand each kind of subcommand to its file (wrapper.h): create/run rewrite the bundle
 * (run_create.c), exec filters the process (run_exec.c), delete releases rules and the gate
 * socket (run_delete.c); then every one of them execv()s runsc (passthrough.c's checks first).
 * checkpoint and restore are refused (host networking). Pass-through subcommands never fork, so
 * the caller sees runsc's own pid, signals and exit code. The exceptions: a delete with firewall
 * rules to remove runs runsc as a child alongside the removal, and kill relays through
 * kill_relay.c. The same binary installed as `runc` (alias mode) behaves identically: argv[0]
 * is never looked at. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "wrapper.h"

#ifndef RH_VERSION
#define RH_VERSION "unknown"
#endif
#ifndef RH_SYSCONF_POLICY
#define RH_SYSCONF_POLICY "/etc/runsc-host/config.json"
#endif

/* The OCI runtime spec version whose config.json we read and write. */
#define RH_OCI_SPEC_VERSION "1.0.2"

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

/* The runc release whose command line runsc-host follows (docs/cli.md). */
#define RH_RUNC_CLI_VERSION "1.1.5"

/* runc prints its version, the spec version and its dependencies; we add the runsc we run,
 * then let runsc print its own version (an exec, after the same checks as any other). */
static int
print_version (const struct rh_policy *policy, const char *policy_error)
{
  rh_error err;

  /* runc's three lines first (clients such as `docker info` and runc's own tests read them): the
   * version is the runc command line this one follows, with runsc-host's own as semver build
   * metadata, so that both are there and nobody mistakes it for runc. */
  printf ("runc version %s+runsc-host.%s\n", RH_RUNC_CLI_VERSION, RH_VERSION);
  printf ("commit: runsc-host-%s\n", RH_VERSION);
  printf ("spec: %s\n", RH_OCI_SPEC_VERSION);
  if (policy == NULL)
    {
      printf ("runsc: unknown (%s)\n", policy_error);
      return 0;
    }
  printf ("runsc: %s (platform %s)\n", policy->runsc.path, policy->runsc.platform);
  if (rh_wrapper_check_runsc (policy->runsc.path, &err) < 0)
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
  if (rh_wrapper_check_not_exec_loop (&lerr) < 0)
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
      {
        _cleanup_free_ char *help = rh_cli_help (cli.help_topic);
        if (help == NULL)
          {
            rh_log_error (&log, "No help topic for '%s'", cli.help_topic);
            goto out;
          }
        fputs (help, stdout);
      }
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
  if (rh_wrapper_check_runsc (policy->runsc.path, &err) < 0
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
  if (cli.cmd == RH_CLI_EXEC && rh_wrapper_prepare_exec (&cli, policy, &log, rargv, sub_at, &process_flag, &err) < 0)
    {
      rh_log_error (&log, "%s", err.msg);
      goto out;
    }
  if (rh_wrapper_push_sub_args (&cli, process_flag, &rargv, &err) < 0)
    {
      rh_log_error (&log, "%s", err.msg);
      goto out;
    }

  switch (cli.cmd)
    {
    case RH_CLI_CREATE:
    case RH_CLI_RUN:
      /* This process execs runsc next, which drops the heap at once: the spec may be parsed
       * into a bump-allocated region and left there, not freed node by node (lib/base/arena.h).
       * Without it (sanitizer builds) the rewrite uses malloc and free as before. */
      if (rh_arena_json_install (RH_ARENA_JSON_CAP, &err) < 0)
        rh_log_debug (&log, "%s", err.msg);
      if (rh_wrapper_prepare_bundle (&cli, policy, &log, &err) < 0)
        {
          rh_log_error (&log, "%s", err.msg);
          goto out;
        }
      break;
    case RH_CLI_DELETE:
      if (rh_netrules_removal_pending (policy, cli.id))
        {
          rh_wrapper_log_argv (&log, "run", rargv);
          rh_wrapper_set_exec_id (policy);
          if (rh_wrapper_delete_alongside (policy, &cli, rargv, &log, &ret) == 0)
            goto out;
        }
      rh_wrapper_release_container (policy, cli.id, &log);
      break;
    case RH_CLI_EVENTS:
      {
        /* runc's stream ends with the container; runsc's does not (cmd_compat.c). */
        bool stats = false;
        for (char **p = cli.sub_args; p && *p && strcmp (*p, "--") != 0; p++)
          stats |= strcmp (*p, "--stats") == 0;
        if (stats)
          break;
        rh_wrapper_log_argv (&log, "run", rargv);
        rh_wrapper_set_exec_id (policy);
        if (rh_compat_events_follow (rargv, sub_at, cli.id, &ret, &err) < 0)
          {
            rh_log_error (&log, "%s", err.msg);
            ret = 1;
          }
        goto out;
      }
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
            rh_wrapper_log_argv (&log, "run", rargv);
            rh_wrapper_set_exec_id (policy);
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
      if (cli.detach && rh_wrapper_exec_detach_pid_file (&rargv, sub_at, policy->state_dir, &err) < 0)
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
      rh_wrapper_log_argv (&log, "run (terminal proxied)", rargv);
      rh_wrapper_set_exec_id (policy);
      if (rh_tty_proxy_run (policy->runsc.path, rargv, sub_at, &ret, &err) < 0)
        {
          rh_log_error (&log, "%s", err.msg);
          ret = 1;
        }
      goto out;
    }

  rh_wrapper_log_argv (&log, "exec", rargv);
  rh_wrapper_set_exec_id (policy);
  if (cli.console_socket && (cli.cmd == RH_CLI_CREATE || (cli.cmd == RH_CLI_RUN && cli.detach)))
    rh_wrapper_detach_stdio (&log);
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
