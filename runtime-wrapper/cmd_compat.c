/* Two runc behaviours that runsc does not have, done here with runsc's help:
 *
 *   ps ID            runc prints ps(1)'s `-ef` table: "UID PID PPID C STIME TTY TIME CMD", user
 *                    names, in that column order. runsc prints its own ("C TTY STIME", numeric
 *                    uids), which runc's tests and scripts that cut columns read wrong. runsc-host
 *                    reads runsc's table and prints runc's layout. Pids are the sandbox's own
 *                    (gVisor's), as in runsc's table.
 *   kill [-a] ID 0   signal 0 only asks "is it there": runsc refuses signal 0, runc answers with
 *                    its exit status (0 when the container exists and runs, or with --all
 *                    whatever its state; "container not running" otherwise).
 *
 *   events ID        (without --stats) runc's stream ends when the container is deleted; runsc's
 *                    keeps polling a container that no longer exists, so a client reading it
 *                    never sees the end. runsc-host runs runsc's events as a child, asks runsc
 *                    for the container's state every half second, and ends the stream (exit 0)
 *                    once it is gone.
 *
 * All run runsc as a child (the answer must be read before printing, or watched), with the
 * caller's runsc global flags, and never change a container. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "cmd_compat.h"
#include "runsc_child.h"
#include "fsutil.h"
#include "util.h"

extern char **environ;

/* Run argv with stdout captured (at most 16 MiB) and stderr passed through. */
static int
run_capture (char *const *argv, char **out, size_t *len, int *status, rh_error *err)
{
  if (rh_runsc_capture (argv, 16u << 20, false, out, status, err) < 0)
    return -1;
  *len = strlen (*out);
  return 0;
}

/* runsc's argv up to the subcommand (prefix), then the given words. */
static char **
runsc_argv (char *const *prefix, size_t n, const char *const *words)
{
  char **argv = NULL;
  for (size_t i = 0; i < n; i++)
    rh_strv_push (&argv, prefix[i]);
  for (; *words; words++)
    rh_strv_push (&argv, *words);
  return argv;
}

static int
exit_of (int status)
{
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + (WIFSIGNALED (status) ? WTERMSIG (status) : 0);
}

int
rh_compat_ps_table (char *const *prefix, size_t n, const char *id, rh_error *err)
{
  const char *words[] = { "ps", "--", id, NULL };
  _cleanup_strv_ char **argv = runsc_argv (prefix, n, words);
  _cleanup_free_ char *out = NULL;
  char *save = NULL;
  size_t len;
  int status;
  bool header = true;

  /* runsc's JSON format holds only pids; its table is "UID PID PPID C TTY STIME TIME CMD",
   * whitespace-separated, the command last. */
  if (run_capture (argv, &out, &len, &status, err) < 0)
    return rh_error_prefix (err, "ps");
  if (exit_of (status) != 0)
    return exit_of (status); /* runsc said why on stderr */
  printf ("%-8s %7s %7s %2s %-5s %-8s %8s %s\n", "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD");
  for (char *line = strtok_r (out, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *f[7], *rest = line, *fs = NULL;
      size_t k;
      struct passwd *pw;
      char *end;
      long uid;

      if (header)
        {
          header = false;
          continue;
        }
      for (k = 0; k < 7 && (f[k] = strtok_r (k ? NULL : rest, " \t", &fs)); k++)
        ;
      if (k < 7)
        continue;
      rest = fs ? fs + strspn (fs, " \t") : NULL;
      uid = strtol (f[0], &end, 10);
      pw = *end == '\0' ? getpwuid ((uid_t) uid) : NULL;
      printf ("%-8s %7s %7s %2s %-5s %-8s %8s %s\n", pw ? pw->pw_name : f[0], f[1], f[2], f[3], f[5], f[4], f[6],
              rest && *rest ? rest : "?");
    }
  fflush (stdout);
  return 0;
}

int
rh_compat_kill_probe (char *const *prefix, size_t n, const char *id, bool all, rh_error *err)
{
  const char *words[] = { "state", "--", id, NULL };
  _cleanup_strv_ char **argv = runsc_argv (prefix, n, words);
  _cleanup_free_ char *out = NULL;
  _cleanup_json_ json_t *st = NULL;
  const char *status_s;
  size_t len;
  int status;

  if (run_capture (argv, &out, &len, &status, err) < 0)
    return rh_error_prefix (err, "kill");
  if (exit_of (status) != 0)
    return rh_error_set (err, ENOENT, "container %s does not exist", id);
  st = json_loadb (out, len, 0, NULL);
  status_s = json_string_value (json_object_get (st, "status"));
  if (status_s == NULL)
    return rh_error_set (err, EPROTO, "kill: runsc state gave no status for %s", id);
  if (!all && strcmp (status_s, "stopped") == 0)
    return rh_error_set (err, ESRCH, "container not running");
  return 0;
}

int
rh_compat_events_follow (char *const *argv, size_t n, const char *id, int *exit_code, rh_error *err)
{
  const char *words[] = { "state", "--", id, NULL };
  _cleanup_strv_ char **state = runsc_argv (argv, n, words);
  struct rh_runsc_child c;
  int status;

  if (rh_runsc_child_start (argv[0], argv, -1, false, &c) < 0)
    return rh_error_sys (err, errno, "events: start %s", argv[0]);
  for (;;)
    {
      struct timespec half = { 0, 500 * 1000 * 1000 };
      _cleanup_free_ char *out = NULL;
      int st = 0;
      siginfo_t si;

      /* runsc ended the stream itself (an error, or a signal we forwarded): left a zombie
       * (WNOWAIT) for rh_runsc_child_wait to reap */
      memset (&si, 0, sizeof si);
      if (waitid (P_PID, (id_t) c.pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == c.pid)
        break;
      nanosleep (&half, NULL);
      if (rh_runsc_capture (state, 1u << 20, true, &out, &st, err) < 0)
        continue;
      if (exit_of (st) != 0)
        {
          /* deleted: end the stream as runc does */
          kill (c.pid, SIGKILL);
          rh_runsc_child_wait (&c, &status);
          fflush (stdout);
          *exit_code = 0;
          return 0;
        }
    }
  rh_runsc_child_wait (&c, &status);
  *exit_code = rh_runsc_child_exit_code (status, false);
  return 0;
}
