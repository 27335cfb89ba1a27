/* The runc CLI grammar (runtime-wrapper/cli.c): runc argv in, runsc argv out, or the error a
 * user sees. One table row per case; each row is its own cmocka test, named after the row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

/* Rows give the leading fields positionally and the rest by name. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define V(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct tcase
{
  const char *name;
  const char *const *argv;        /* without argv[0] */
  const char *const *want;        /* expected sub_args; NULL when an error is expected */
  const char *want_err;           /* substring of the error */
  const char *const *want_global; /* expected global_args, when given */
  const char *want_decision;      /* substring of one decision, when given */
  enum rh_cli_cmd want_cmd;       /* checked when not RH_CLI_NONE */
  int tty;                        /* stdin is a terminal */
};

#define CWD "/work/cwd"

static const struct tcase cases[] = {
  /* create: every spelling of --bundle */
  { "create_long", V ("create", "--bundle", "/b", "--pid-file", "/p", "--console-socket", "/s", "c1"),
    V ("create", "--bundle=/b", "--console-socket=/s", "--pid-file=/p", "--", "c1"), .want_cmd = RH_CLI_CREATE },
  { "create_equals", V ("create", "--bundle=/b", "c1"), V ("create", "--bundle=/b", "--", "c1") },
  { "create_go_single_dash", V ("create", "-bundle", "/b", "c1"), V ("create", "--bundle=/b", "--", "c1") },
  { "create_go_single_dash_equals", V ("create", "-bundle=/b", "-pid-file=/p", "c1"),
    V ("create", "--bundle=/b", "--pid-file=/p", "--", "c1") },
  { "create_short_b_relative", V ("create", "-b", "rel/dir", "c1"),
    V ("create", "--bundle=" CWD "/rel/dir", "--", "c1") },
  { "create_default_bundle_is_cwd", V ("create", "c1"), V ("create", "--bundle=" CWD, "--", "c1"),
    .want_decision = "current directory" },
  { "create_flags_after_id", V ("create", "c1", "--bundle", "/b"), V ("create", "--bundle=/b", "--", "c1") },
  { "create_id_with_dash_after_terminator", V ("create", "--", "-c1"), V ("create", "--bundle=" CWD, "--", "-c1") },
  { "create_dropped_flags", V ("create", "--no-pivot", "--no-new-keyring", "--preserve-fds", "0", "c1"),
    V ("create", "--bundle=" CWD, "--", "c1"), .want_decision = "dropped --no-pivot" },
  { "create_preserve_fds_refused", V ("create", "--preserve-fds", "2", "c1"), NULL, "--preserve-fds 2" },
  { "create_preserve_fds_garbage", V ("create", "--preserve-fds=x", "c1"), NULL, "invalid value \"x\"" },
  { "create_missing_id", V ("create", "-b", "/b"), NULL, "requires exactly 1 argument" },
  { "create_two_ids", V ("create", "c1", "c2"), NULL, "requires exactly 1 argument" },
  { "create_bad_id", V ("create", "a/b"), NULL, "invalid container id" },
  { "create_dot_id", V ("create", ".."), NULL, "invalid container id" },
  { "create_unknown_flag", V ("create", "--foo", "c1"), NULL, "flag provided but not defined: -foo" },
  { "create_flag_needs_value", V ("create", "c1", "--bundle"), NULL, "flag needs an argument: -bundle" },
  { "create_has_no_detach", V ("create", "-d", "c1"), NULL, "not defined: -detach" },
  { "create_bad_bool", V ("create", "--no-pivot=maybe", "c1"), NULL, "invalid boolean value" },

  /* run */
  { "run_detach_short", V ("run", "-d", "-b", "/b", "c1"), V ("run", "--bundle=/b", "--detach", "--", "c1"),
    .want_cmd = RH_CLI_RUN },
  { "run_detach_false", V ("run", "--detach=false", "-b", "/b", "c1"), V ("run", "--bundle=/b", "--", "c1") },
  { "run_keep_foreground_refused", V ("run", "--keep", "c1"), NULL, "run --keep" },
  { "run_keep_detached", V ("run", "--keep", "-d", "c1"), V ("run", "--bundle=" CWD, "--detach", "--", "c1"),
    .want_decision = "dropped --keep" },
  { "run_no_subreaper", V ("run", "--no-subreaper", "c1"), V ("run", "--bundle=" CWD, "--", "c1"),
    .want_decision = "dropped --no-subreaper" },

  /* simple lifecycle commands */
  { "start", V ("start", "c1"), V ("start", "--", "c1"), .want_cmd = RH_CLI_START },
  { "state", V ("state", "c1"), V ("state", "--", "c1") },
  { "pause", V ("pause", "c1"), V ("pause", "--", "c1") },
  { "resume", V ("resume", "c1"), V ("resume", "--", "c1") },
  { "start_missing_id", V ("start"), NULL, "requires exactly 1 argument" },
  { "state_unknown_flag", V ("state", "--all", "c1"), NULL, "flag provided but not defined: -all" },

  /* kill */
  { "kill_default_term", V ("kill", "c1"), V ("kill", "--", "c1", "15") },
  { "kill_name", V ("kill", "c1", "KILL"), V ("kill", "--", "c1", "9") },
  { "kill_sig_name", V ("kill", "c1", "SIGKILL"), V ("kill", "--", "c1", "9") },
  { "kill_lowercase", V ("kill", "c1", "sigusr1"), V ("kill", "--", "c1", "10") },
  { "kill_number", V ("kill", "c1", "9"), V ("kill", "--", "c1", "9") },
  { "kill_all_long", V ("kill", "--all", "c1", "TERM"), V ("kill", "--all", "--", "c1", "15") },
  { "kill_all_short", V ("kill", "-a", "c1", "HUP"), V ("kill", "--all", "--", "c1", "1") },
  { "kill_unknown_signal", V ("kill", "c1", "NOPE"), NULL, "unknown signal \"NOPE\"" },
  { "kill_signal_zero", V ("kill", "c1", "0"), V ("kill", "--", "c1", "0") },
  { "list_format_table", V ("list", "--format", "table"), V ("list", "--format=text") },
  { "kill_signal_zero_padded", V ("kill", "c1", "00"), NULL, "invalid signal" },
  { "kill_too_many", V ("kill", "c1", "9", "x"), NULL, "optional signal" },

  /* delete */
  { "delete", V ("delete", "c1"), V ("delete", "--", "c1"), .want_cmd = RH_CLI_DELETE },
  { "delete_force_long", V ("delete", "--force", "c1"), V ("delete", "--force", "--", "c1") },
  { "delete_force_short", V ("delete", "-f", "c1"), V ("delete", "--force", "--", "c1") },
  { "delete_force_true", V ("delete", "-force=true", "c1"), V ("delete", "--force", "--", "c1") },

  /* exec: the --process form, as containerd uses it */
  { "exec_process_containerd",
    V ("exec", "--process", "/p.json", "--detach", "--pid-file", "/pf", "--console-socket", "/s", "c1"),
    V ("exec", "--pid-file=/pf", "--console-socket=/s", "--process=/p.json", "--detach", "--", "c1"),
    .want_cmd = RH_CLI_EXEC },
  /* [execcaps] runsc gets a copy of the process filtered by the capability policy (main.c); one
   * --process reaches main, the last one given (as Go's flag package keeps the last). */
  { "exec_process_filtered", V ("exec", "--process=/p.json", "c1"), V ("exec", "--process=/p.json", "--", "c1"),
    .want_decision = "filtered by the capability policy" },
  { "exec_process_last_wins", V ("exec", "-p", "/a.json", "--process", "/b.json", "c1"),
    V ("exec", "--process=/b.json", "--", "c1") },
  { "exec_process_short", V ("exec", "-p", "/p.json", "-d", "c1"),
    V ("exec", "--process=/p.json", "--detach", "--", "c1") },
  { "exec_process_ignores_inline", V ("exec", "-p", "/p.json", "-e", "A=1", "--no-new-privs", "c1", "sh"),
    V ("exec", "--process=/p.json", "--", "c1"), .want_decision = "ignored 2 inline" },
  /* exec: inline */
  { "exec_inline_all", V ("exec", "-e", "A=1", "--env", "B=2", "--cwd", "/tmp", "-u", "1000:100", "-g", "10",
                          "-c", "CAP_NET_ADMIN", "c1", "sh", "-c", "echo hi"),
    V ("exec", "--env=A=1", "--env=B=2", "--cwd=/tmp", "--user=1000:100", "--additional-gids=10",
       "--cap=CAP_NET_ADMIN", "--", "c1", "sh", "-c", "echo hi") },
  { "exec_args_look_like_flags", V ("exec", "c1", "ls", "-la", "--color", "--detach"),
    V ("exec", "--", "c1", "ls", "-la", "--color", "--detach") },
  { "exec_double_dash_after_id", V ("exec", "c1", "--", "ls", "-l"), V ("exec", "--", "c1", "ls", "-l") },
  { "exec_no_command", V ("exec", "c1"), NULL, "a command is required" },
  { "exec_tty_from_terminal", V ("exec", "-t", "-e", "A=1", "c1", "sh"), V ("exec", "--", "c1"), .tty = 1,
    .want_decision = "process.json with terminal: true" },
  { "exec_tty_without_terminal", V ("exec", "--tty", "c1", "sh"), NULL, "needs a terminal on stdin" },
  { "exec_tty_detach_no_socket", V ("exec", "-t", "-d", "c1", "sh"), NULL, "cannot allocate tty" },
  { "exec_tty_console_socket", V ("exec", "-t", "-d", "--console-socket", "/s", "c1", "sh"),
    V ("exec", "--console-socket=/s", "--detach", "--", "c1") },
  { "exec_console_socket_without_tty", V ("exec", "-d", "--console-socket", "/s", "c1", "sh"), NULL,
    "cannot use console socket" },
  { "exec_no_new_privs_refused", V ("exec", "--no-new-privs", "c1", "sh"), NULL, "--no-new-privs" },
  { "exec_cgroup_refused", V ("exec", "--cgroup", "pids:/x", "c1", "sh"), NULL, "exec --cgroup is not supported" },
  { "exec_preserve_fds_refused", V ("exec", "--preserve-fds", "1", "c1", "sh"), NULL, "--preserve-fds 1" },
  { "exec_lsm_dropped", V ("exec", "--apparmor", "p", "--process-label", "l", "--ignore-paused", "c1", "sh"),
    V ("exec", "--", "c1", "sh"), .want_decision = "dropped --apparmor" },
  { "exec_bad_user", V ("exec", "-u", "root", "c1", "sh"), NULL, "invalid --user \"root\"" },
  { "exec_bad_gid", V ("exec", "-g", "1:2", "c1", "sh"), NULL, "invalid --additional-gids" },
  { "exec_process_extra_args_dropped", V ("exec", "-p", "/p", "c1", "extra"), V ("exec", "--process=/p", "--", "c1"),
    .want_decision = "ignored the command" },
  { "exec_unknown_flag", V ("exec", "--bogus", "c1", "sh"), NULL, "flag provided but not defined: -bogus" },

  /* ps, events, list */
  { "ps_json", V ("ps", "--format", "json", "c1"), V ("ps", "--format=json", "--", "c1") },
  { "ps_short_table", V ("ps", "-f", "table", "c1"), V ("ps", "--format=table", "--", "c1") },
  { "ps_bad_format", V ("ps", "-f", "xml", "c1"), NULL, "invalid format \"xml\"" },
  { "ps_args_table_refused", V ("ps", "c1", "-ef"), NULL, "ps(1) arguments (-ef" },
  { "ps_args_json_ignored", V ("ps", "-f", "json", "c1", "-ef"), V ("ps", "--format=json", "--", "c1") },
  { "events_stats", V ("events", "--stats", "c1"), V ("events", "--stats", "--", "c1") },
  { "events_interval_ms_rounds_up", V ("events", "--interval", "500ms", "c1"),
    V ("events", "--interval=1", "--", "c1") },
  { "events_interval_minutes", V ("events", "--interval=1m", "c1"), V ("events", "--interval=60", "--", "c1") },
  { "events_interval_fraction", V ("events", "--interval", "1.5s", "c1"), V ("events", "--interval=2", "--", "c1") },
  { "events_interval_compound", V ("events", "--interval", "1h2m3s", "c1"),
    V ("events", "--interval=3723", "--", "c1") },
  { "events_interval_zero", V ("events", "--interval", "0", "c1"), NULL, "greater than 0" },
  { "events_interval_no_unit", V ("events", "--interval", "5", "c1"), NULL, "unit" },
  { "list", V ("list"), V ("list"), .want_cmd = RH_CLI_LIST },
  { "list_json_quiet_short", V ("list", "-f", "json", "-q"), V ("list", "--format=json", "--quiet") },
  { "list_bad_format", V ("list", "--format=yaml"), NULL, "invalid format \"yaml\"" },
  { "list_takes_no_args", V ("list", "c1"), NULL, "takes no arguments" },

  /* spec, features, update */
  { "spec", V ("spec"), V ("spec") },
  { "spec_bundle_short", V ("spec", "-b", "/b"), V ("spec", "--bundle=/b") },
  { "spec_rootless_refused", V ("spec", "--rootless"), NULL, "spec --rootless is not supported" },
  { "features", V ("features"), V ("features"), .want_cmd = RH_CLI_FEATURES },

  /* checkpoint / restore */
  { "checkpoint_default_image", V ("checkpoint", "c1"),
    V ("checkpoint", "--image-path=" CWD "/checkpoint", "--", "c1") },
  { "checkpoint_flags", V ("checkpoint", "--image-path", "/i", "--leave-running", "--tcp-established",
                           "--work-path", "/w", "c1"),
    V ("checkpoint", "--leave-running", "--work-path=/w", "--image-path=/i", "--", "c1"),
    .want_decision = "dropped --tcp-established" },
  { "checkpoint_pre_dump_refused", V ("checkpoint", "--pre-dump", "c1"), NULL, "checkpoint --pre-dump" },
  { "checkpoint_page_server_refused", V ("checkpoint", "--page-server", "h:1", "c1"), NULL, "--page-server" },
  { "checkpoint_parent_path_refused", V ("checkpoint", "--parent-path", "../p", "c1"), NULL, "--parent-path" },
  { "restore", V ("restore", "-b", "/b", "--image-path", "/i", "-d", "--pid-file", "/p", "c1"),
    V ("restore", "--bundle=/b", "--image-path=/i", "--detach", "--pid-file=/p", "--", "c1"),
    .want_cmd = RH_CLI_RESTORE },
  { "restore_default_image", V ("restore", "c1"),
    V ("restore", "--bundle=" CWD, "--image-path=" CWD "/checkpoint", "--", "c1") },
  { "restore_lazy_pages_refused", V ("restore", "--lazy-pages", "c1"), NULL, "restore --lazy-pages" },

  /* global flags */
  { "globals_long", V ("--root", "/r", "--log", "/l.json", "--log-format", "json", "--debug", "--systemd-cgroup",
                       "state", "c1"),
    V ("state", "--", "c1"),
    .want_global = V ("--root=/r", "--log=/l.json", "--log-format=json", "--debug", "--systemd-cgroup") },
  { "globals_go_equals", V ("-root=/r", "-log=/l", "-log-format=text", "--debug=false", "state", "c1"),
    V ("state", "--", "c1"), .want_global = V ("--root=/r", "--log=/l", "--log-format=text") },
  { "globals_last_wins", V ("--root", "/a", "--root=/b", "list"), V ("list"), .want_global = V ("--root=/b") },
  { "globals_rootless_false", V ("--rootless", "false", "list"), V ("list"), .want_global = V (NULL),
    .want_decision = "dropped --rootless=false" },
  { "globals_rootless_auto", V ("--rootless=auto", "list"), V ("list") },
  { "globals_rootless_true_refused", V ("--rootless", "true", "list"), NULL, "--rootless=true" },
  { "globals_criu_dropped", V ("--criu", "/usr/sbin/criu", "list"), V ("list"), .want_decision = "dropped --criu" },
  { "globals_bad_log_format", V ("--log-format", "xml", "list"), NULL, "unknown log-format \"xml\"" },
  { "globals_unknown", V ("--bogus", "list"), NULL, "flag provided but not defined: -bogus" },
  { "version_long", V ("--version"), V (NULL), .want_cmd = RH_CLI_VERSION },
  { "version_short", V ("-v"), V (NULL), .want_cmd = RH_CLI_VERSION },
  { "help_long", V ("--help"), V (NULL), .want_cmd = RH_CLI_HELP },
  { "help_short", V ("-h"), V (NULL), .want_cmd = RH_CLI_HELP },
  { "help_command", V ("help", "exec"), V (NULL), .want_cmd = RH_CLI_HELP },
  { "sub_help", V ("exec", "--help"), V (NULL), .want_cmd = RH_CLI_HELP },
  { "no_command", V (NULL), V (NULL) },
  { "unknown_command", V ("frobnicate", "c1"), NULL, "unknown command \"frobnicate\"" },
  { "own_check", V ("--root", "/r", "check", "--verbose"), V (NULL), .want_cmd = RH_CLI_CHECK },
  { "own_gate", V ("gate", "stats", "c1", "--format", "json"), V (NULL), .want_cmd = RH_CLI_GATE },
};

static bool
strv_equal (char *const *got, const char *const *want)
{
  size_t i = 0;
  for (; want[i]; i++)
    if (got == NULL || got[i] == NULL || strcmp (got[i], want[i]) != 0)
      return false;
  return got == NULL || got[i] == NULL;
}

static char *
join (char *const *v)
{
  size_t n = 3;
  char *s;
  for (size_t i = 0; v && v[i]; i++)
    n += strlen (v[i]) + 3;
  s = rh_xmalloc0 (n);
  strcat (s, "[");
  for (size_t i = 0; v && v[i]; i++)
    {
      strcat (s, i ? " '" : "'");
      strcat (s, v[i]);
      strcat (s, "'");
    }
  strcat (s, "]");
  return s;
}

static void
run_case (void **state)
{
  const struct tcase *tc = *state;
  struct rh_cli_env env = { .cwd = CWD, .stdin_is_tty = tc->tty };
  char *argv[64] = { "runsc-host" };
  int argc = 1, r;
  struct rh_cli cli;
  rh_error err = { 0 };

  for (size_t i = 0; tc->argv[i]; i++)
    argv[argc++] = (char *) tc->argv[i];
  r = rh_cli_parse (argc, argv, &env, &cli, &err);
  if (tc->want == NULL)
    {
      if (r == 0)
        {
          char *got = join (cli.sub_args);
          fail_msg ("%s: expected an error containing \"%s\", got %s", tc->name, tc->want_err, got);
        }
      if (strstr (err.msg, tc->want_err) == NULL)
        fail_msg ("%s: error \"%s\" does not contain \"%s\"", tc->name, err.msg, tc->want_err);
      rh_cli_free (&cli);
      return;
    }
  if (r < 0)
    fail_msg ("%s: unexpected error: %s", tc->name, err.msg);
  if (!strv_equal (cli.sub_args, tc->want))
    {
      char *got = join (cli.sub_args), *want = join ((char *const *) tc->want);
      fail_msg ("%s:\n  got  %s\n  want %s", tc->name, got, want);
    }
  if (tc->want_global && !strv_equal (cli.global_args, tc->want_global))
    {
      char *got = join (cli.global_args), *want = join ((char *const *) tc->want_global);
      fail_msg ("%s: globals\n  got  %s\n  want %s", tc->name, got, want);
    }
  if (tc->want_decision)
    {
      bool found = false;
      for (char **d = cli.decisions; d && *d; d++)
        found = found || strstr (*d, tc->want_decision) != NULL;
      if (!found)
        {
          char *got = join (cli.decisions);
          fail_msg ("%s: no decision contains \"%s\": %s", tc->name, tc->want_decision, got);
        }
    }
  if (tc->want_cmd != RH_CLI_NONE && cli.cmd != tc->want_cmd)
    fail_msg ("%s: cmd %d, want %d", tc->name, (int) cli.cmd, (int) tc->want_cmd);
  rh_cli_free (&cli);
}

/* Fields that the table does not show. */
static void
test_details (void **state)
{
  struct rh_cli_env env = { .cwd = CWD };
  struct rh_cli cli;
  rh_error err = { 0 };

  char *a1[] = { "runc", "--log", "/l.json", "--log-format", "json", "run", "-d", "--console-socket", "/s", "-b",
                 "bdir", "c1", NULL };
  assert_int_equal (rh_cli_parse (12, a1, &env, &cli, &err), 0);
  assert_string_equal (cli.bundle, CWD "/bdir");
  assert_string_equal (cli.id, "c1");
  assert_true (cli.detach);
  assert_true (cli.console_socket);
  assert_true (cli.log_json);
  assert_string_equal (cli.log, "/l.json");
  rh_cli_free (&cli);

  /* A bad global flag still leaves a later --log parsed, so the error reaches the log. */
  char *a2[] = { "runc", "--bogus", "--log", "/l.json", "--log-format=json", "state", "c1", NULL };
  assert_int_equal (rh_cli_parse (7, a2, &env, &cli, &err), -1);
  assert_non_null (strstr (err.msg, "-bogus"));
  assert_string_equal (cli.log, "/l.json");
  assert_true (cli.log_json);
  rh_cli_free (&cli);

  /* Subcommand errors also keep the global flags. */
  char *a3[] = { "runc", "--log", "/l.json", "create", "--preserve-fds", "3", "c1", NULL };
  assert_int_equal (rh_cli_parse (7, a3, &env, &cli, &err), -1);
  assert_string_equal (cli.log, "/l.json");
  rh_cli_free (&cli);

  /* Own commands get their argv from the subcommand on; globals still apply. */
  char *a4[] = { "runc", "--root", "/r", "gate", "stats", "--format", "json", NULL };
  assert_int_equal (rh_cli_parse (7, a4, &env, &cli, &err), 0);
  assert_int_equal (cli.cmd, RH_CLI_GATE);
  assert_string_equal (cli.root, "/r");
  assert_int_equal (rh_strv_len (cli.own_argv), 4);
  assert_string_equal (cli.own_argv[0], "gate");
  assert_string_equal (cli.own_argv[3], "json");
  rh_cli_free (&cli);

  char *a5[] = { "runc", "help", "kill", NULL };
  assert_int_equal (rh_cli_parse (3, a5, &env, &cli, &err), 0);
  assert_string_equal (cli.help_topic, "kill");
  {
    char *help = rh_cli_help ("kill");
    assert_non_null (strstr (help, "--all"));
    free (help);
  }
  rh_cli_free (&cli);
}

/* exec --tty inline: the process runsc gets is the container's, with runc's overrides. */
static void
test_exec_synth_process (void **state)
{
  struct rh_cli_env env = { .cwd = CWD, .stdin_is_tty = true };
  struct rh_cli cli;
  rh_error err = { 0 };
  char *argv[] = { "runc", "exec", "-t", "-e", "B=2", "--cwd", "/w", "-u", "7:8", "-g", "9", "--cap", "CAP_KILL",
                   "c1", "sh", "-c", "echo hi", NULL };
  json_error_t jerr;
  json_t *spec = json_loads ("{\"terminal\": false, \"args\": [\"/init\"], \"env\": [\"A=1\"], \"cwd\": \"/\","
                             " \"user\": {\"uid\": 0, \"gid\": 0}, \"capabilities\": {\"bounding\": [\"CAP_CHOWN\"],"
                             " \"effective\": [], \"permitted\": []}, \"noNewPrivileges\": true}", 0, &jerr);
  json_t *want = json_loads ("{\"terminal\": true, \"args\": [\"sh\", \"-c\", \"echo hi\"], \"env\": [\"A=1\", \"B=2\"],"
                             " \"cwd\": \"/w\", \"user\": {\"uid\": 7, \"gid\": 8, \"additionalGids\": [9]},"
                             " \"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_KILL\"], \"effective\": [\"CAP_KILL\"],"
                             " \"permitted\": [\"CAP_KILL\"]}, \"noNewPrivileges\": true}", 0, &jerr);
  json_t *got = NULL;

  assert_non_null (spec);
  assert_non_null (want);
  assert_int_equal (rh_cli_parse (17, argv, &env, &cli, &err), 0);
  assert_true (cli.exec_synth_process);
  assert_int_equal (rh_cli_exec_process (spec, &cli, &got, &err), 0);
  if (!json_equal (got, want))
    {
      char *g = json_dumps (got, JSON_SORT_KEYS);
      fail_msg ("got %s", g);
    }
  /* The spec itself is untouched. */
  assert_true (json_is_false (json_object_get (spec, "terminal")));
  json_decref (got);
  assert_int_equal (rh_cli_exec_process (json_object_get (spec, "nope"), &cli, &got, &err), -1);
  json_decref (spec);
  json_decref (want);
  rh_cli_free (&cli);
}

static void
test_exec_detach_guard (void **state)
{
  rh_error err = { 0 };
  char *ok[] = { "--root=/r", "exec", "--process=/p", "--detach", "--", "c1", NULL };
  char *bad_log[] = { "--log=/run/detach-test/log.json", "exec", "--process=/p", "--detach", "--", "c1", NULL };
  char *bad_id[] = { "exec", "--detach", "--", "mydetach", "sh", NULL };
  char *bad_arg[] = { "exec", "--detach", "--", "c1", "echo", "--detach", NULL };
  char *foreground[] = { "exec", "--", "c1", "echo", "detach", NULL };

  assert_int_equal (rh_cli_check_exec_detach (ok, &err), 0);
  assert_int_equal (rh_cli_check_exec_detach (foreground, &err), 0);
  assert_int_equal (rh_cli_check_exec_detach (bad_log, &err), -1);
  assert_non_null (strstr (err.msg, "/run/detach-test/log.json"));
  assert_int_equal (rh_cli_check_exec_detach (bad_id, &err), -1);
  assert_non_null (strstr (err.msg, "mydetach"));
  assert_int_equal (rh_cli_check_exec_detach (bad_arg, &err), -1);
}

static void
test_durations_and_signals (void **state)
{
  rh_error err = { 0 };
  long s;
  int sig;

  assert_int_equal (rh_cli_duration_to_seconds ("5s", &s, &err), 0);
  assert_int_equal (s, 5);
  assert_int_equal (rh_cli_duration_to_seconds ("1ns", &s, &err), 0);
  assert_int_equal (s, 1);
  assert_int_equal (rh_cli_duration_to_seconds ("2.0s", &s, &err), 0);
  assert_int_equal (s, 2);
  assert_int_equal (rh_cli_duration_to_seconds ("1500us", &s, &err), 0);
  assert_int_equal (s, 1);
  assert_int_equal (rh_cli_duration_to_seconds ("1m1ms", &s, &err), 0);
  assert_int_equal (s, 61);
  assert_int_equal (rh_cli_duration_to_seconds ("-5s", &s, &err), -1);
  assert_int_equal (rh_cli_duration_to_seconds ("s", &s, &err), -1);
  assert_int_equal (rh_cli_duration_to_seconds ("5x", &s, &err), -1);
  assert_int_equal (rh_cli_duration_to_seconds ("", &s, &err), -1);
  assert_int_equal (rh_cli_duration_to_seconds ("99999999999h", &s, &err), -1);

  assert_int_equal (rh_cli_parse_signal ("SIGWINCH", &sig, &err), 0);
  assert_int_equal (sig, 28);
  assert_int_equal (rh_cli_parse_signal ("64", &sig, &err), 0);
  assert_int_equal (sig, 64);
  assert_int_equal (rh_cli_parse_signal ("65", &sig, &err), -1);
  assert_int_equal (rh_cli_parse_signal ("SIG", &sig, &err), -1);
  assert_int_equal (rh_cli_parse_signal ("SIGKILLXXXXXXXXXXXXXXXXXXXXX", &sig, &err), -1);
}

static void
test_features_json (void **state)
{
  char *text = rh_cli_features_json ("/usr/bin/runsc", "ptrace");
  json_error_t jerr;
  json_t *doc = json_loads (text, 0, &jerr);

  assert_non_null (doc);
  assert_string_equal (json_string_value (json_object_get (doc, "ociVersionMin")), "1.0.0");
  assert_true (json_is_array (json_object_get (doc, "hooks")));
  assert_true (json_is_true (json_object_get (json_object_get (json_object_get (doc, "linux"), "seccomp"),
                                              "enabled")));
  assert_string_equal (json_string_value (json_object_get (json_object_get (doc, "annotations"),
                                                           "run.runsc-host.runsc.path")),
                       "/usr/bin/runsc");
  json_decref (doc);
  free (text);
}

int
main (void)
{
  size_t n = sizeof cases / sizeof cases[0];
  struct CMUnitTest *tests = calloc (n + 8, sizeof *tests);

  for (size_t i = 0; i < n; i++)
    {
      tests[i].name = cases[i].name;
      tests[i].test_func = run_case;
      tests[i].initial_state = (void *) &cases[i];
    }
  tests[n++] = (struct CMUnitTest) cmocka_unit_test (test_details);
  tests[n++] = (struct CMUnitTest) cmocka_unit_test (test_exec_detach_guard);
  tests[n++] = (struct CMUnitTest) cmocka_unit_test (test_exec_synth_process);
  tests[n++] = (struct CMUnitTest) cmocka_unit_test (test_durations_and_signals);
  tests[n++] = (struct CMUnitTest) cmocka_unit_test (test_features_json);
  int failed = _cmocka_run_group_tests ("cli", tests, n, NULL, NULL);
  free (tests);
  return failed;
}
