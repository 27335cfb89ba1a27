/* The report of `runsc-host check` and the helpers its items share (check_report.h). */
#include "check_report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

/* Where daemons started by an init system find their programs. We look here, not in the
 * caller's $PATH: the question is what containerd and dockerd will find. */
const char *const rh_check_std_dirs[]
    = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL };

void __attribute__ ((format (printf, 5, 6)))
rh_check_report (struct report *r, enum check_status st, const char *item, const char *fix, const char *fmt, ...)
{
  static const char *const tags[] = { "[ ok ]", "[FAIL]", "[warn]", "[skip]", "[info]" };
  va_list ap;

  fprintf (r->out, "%s %-16s ", tags[st], item);
  va_start (ap, fmt);
  vfprintf (r->out, fmt, ap);
  va_end (ap);
  fputc ('\n', r->out);
  if (fix != NULL && (st == CHECK_FAIL || st == CHECK_WARN))
    {
      /* Indent every line of the fix under the item. */
      fputs ("       fix: ", r->out);
      for (const char *p = fix; *p; p++)
        {
          fputc (*p, r->out);
          if (*p == '\n' && p[1] != '\0')
            fputs ("            ", r->out);
        }
      fputc ('\n', r->out);
    }
  if (st == CHECK_FAIL)
    r->failed++;
  else if (st == CHECK_WARN)
    r->warned++;
}

/* ---- small file helpers ------------------------------------------------------------------ */

bool
rh_check_is_exec_file (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 && S_ISREG (st.st_mode) && access (path, X_OK) == 0;
}

/* Same inode after following symlinks: the way to ask "is this runsc-host?" whatever it is
 * called (an alias named runc, a relative symlink, a bind mount). */
bool
rh_check_same_file (const char *a, const char *b)
{
  struct stat sa, sb;

  return a != NULL && b != NULL && stat (a, &sa) == 0 && stat (b, &sb) == 0 && sa.st_dev == sb.st_dev
         && sa.st_ino == sb.st_ino;
}

/* First rh_check_std_dirs entry holding an executable `name`; NULL if none. Caller frees. */
char *
rh_check_find_std (const char *name)
{
  for (size_t i = 0; rh_check_std_dirs[i]; i++)
    {
      _cleanup_free_ char *p = rh_xasprintf ("%s/%s", rh_check_std_dirs[i], name);
      if (rh_check_is_exec_file (p))
        return steal_pointer (&p);
    }
  return NULL;
}

/* First line of s, without the newline, at most 200 bytes. Caller frees. */
char *
rh_check_first_line (const char *s)
{
  size_t n = strcspn (s, "\n");
  if (n > 200)
    n = 200;
  return rh_xasprintf ("%.*s", (int) n, s);
}

/* ---- running a program, bounded ---------------------------------------------------------- */

/* Run argv (argv[0] absolute) with stdout+stderr captured (first CHECK_OUTPUT_MAX bytes kept),
 * stdin empty and the one child environment; kill it after timeout_ms. On success *wstatus is
 * its wait status and *out its output (NUL-terminated). */
static int
run_capture (char *const argv[], int timeout_ms, char **out, int *wstatus, rh_error *err)
{
  struct rh_spawn_opts o = { .argv = argv, .timeout_ms = timeout_ms, .merge_stderr = true };
  struct rh_spawn s;
  bool timed_out = false;
  int ret = -1;

  if (rh_spawn_start (&o, &s, err) < 0)
    return -1;
  if (rh_spawn_wait (&s, wstatus, &timed_out, err) < 0)
    goto out;
  if (timed_out)
    {
      rh_error_set (err, ETIMEDOUT, "%s did not finish within %d s (killed)", argv[0], timeout_ms / 1000);
      goto out;
    }
  ret = rh_spawn_output (s.out_fd, CHECK_OUTPUT_MAX, false, out, err);
out:
  rh_spawn_release (&s);
  return ret;
}

/* Run `path arg` and require exit status 0; *out gets its output. */
int
rh_check_run_ok (const char *path, const char *arg, char **out, rh_error *err)
{
  char *argv[] = { (char *) path, (char *) arg, NULL };
  _cleanup_free_ char *output = NULL;
  int wstatus = 0;

  if (run_capture (argv, CHECK_TIMEOUT_MS, &output, &wstatus, err) < 0)
    return -1;
  if (WIFEXITED (wstatus) && WEXITSTATUS (wstatus) == 127
      && (output[0] == '\0' || strcmp (output, RH_SPAWN_EXEC_FAILED) == 0))
    return rh_error_set (err, ENOEXEC, "%s could not be executed", path);
  if (!WIFEXITED (wstatus) || WEXITSTATUS (wstatus) != 0)
    {
      _cleanup_free_ char *line = rh_check_first_line (output);
      if (WIFSIGNALED (wstatus))
        return rh_error_set (err, 0, "`%s %s` was killed by signal %d%s%s", path, arg, WTERMSIG (wstatus),
                             *line ? ": " : "", line);
      return rh_error_set (err, 0, "`%s %s` exited with status %d%s%s", path, arg, WEXITSTATUS (wstatus),
                           *line ? ": " : "", line);
    }
  *out = steal_pointer (&output);
  return 0;
}
