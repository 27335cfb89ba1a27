/* The system side of netrules: iptables tools run as children, /proc, cgroup v2. */
#include "netrules_sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "spawnutil.h"
#include "util.h"

#define TOOL_OUTPUT_MAX (16u << 20)
#define TOOL_TIMEOUT_S 60
#define MOVE_MAX_PROCS 4096

/* ---- tools ---- */

static int64_t tool_deadline_ms; /* CLOCK_MONOTONIC; 0: none */

void
rh_tool_set_deadline (int64_t deadline_ms)
{
  tool_deadline_ms = deadline_ms;
}

int64_t
rh_tool_deadline (void)
{
  return tool_deadline_ms;
}

int
rh_tool_spawn (const char *path, const char *const *args, const char *input, struct rh_tool_run *run,
               rh_error *err)
{
  char *argv[16];
  size_t n = 0;
  int64_t timeout_ms = TOOL_TIMEOUT_S * 1000;
  /* A hung tool must not hang container creation forever; nor outlive us, nor leave children. */
  struct rh_spawn_opts o = { .argv = argv, .input = input, .new_pgroup = true, .die_with_parent = true };

  if (tool_deadline_ms > 0)
    {
      int64_t left = tool_deadline_ms - rh_monotonic_ms ();
      if (left <= 0)
        return rh_error_set (err, ETIMEDOUT, "%s not run: no time is left of this operation's budget", path);
      if (left < timeout_ms)
        timeout_ms = left;
    }
  o.timeout_ms = (int) timeout_ms;
  run->timeout_ms = o.timeout_ms;
  argv[n++] = (char *) path;
  for (; args && *args && n < 15; args++)
    argv[n++] = (char *) *args;
  argv[n] = NULL;
  return rh_spawn_start (&o, &run->s, err);
}

int
rh_tool_finish (struct rh_tool_run *run, char **out, rh_error *err)
{
  _cleanup_free_ char *errtext = NULL;
  const char *path = run->s.path;
  int status = 0, ret = -1;
  bool timed_out;
  rh_error ignored;

  if (rh_spawn_wait (&run->s, &status, &timed_out, err) < 0)
    goto out;
  if (rh_spawn_output (run->s.err_fd, 4096, false, &errtext, &ignored) < 0)
    errtext = rh_xstrdup ("");
  for (size_t l = strlen (errtext); l > 0 && (errtext[l - 1] == '\n' || errtext[l - 1] == ' '); l--)
    errtext[l - 1] = '\0';
  for (char *c = errtext; *c; c++)
    if (*c == '\n')
      *c = ' ';
  if (timed_out)
    rh_error_set (err, ETIMEDOUT, "%s did not finish within %.1f s (killed)", path, run->timeout_ms / 1000.0);
  else if (WIFSIGNALED (status))
    rh_error_set (err, EIO, "%s killed by signal %d%s%s", path, WTERMSIG (status), *errtext ? ": " : "", errtext);
  else if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    rh_error_set (err, EIO, "%s failed (exit status %d)%s%s", path, WEXITSTATUS (status), *errtext ? ": " : "",
                  errtext);
  else if (out && rh_spawn_output (run->s.out_fd, TOOL_OUTPUT_MAX, false, out, err) < 0)
    rh_error_prefix (err, "output of %s", path);
  else
    ret = 0;
out:
  rh_spawn_release (&run->s);
  return ret;
}

int
rh_tool_run (const char *path, const char *const *args, const char *input, char **out, rh_error *err)
{
  struct rh_tool_run run;
  if (rh_tool_spawn (path, args, input, &run, err) < 0)
    return -1;
  return rh_tool_finish (&run, out, err);
}

/* ---- processes and namespaces ---- */

unsigned long long
rh_proc_start_time (pid_t pid)
{
  char path[64], buf[1024], *rp, *save = NULL, *tok;
  _cleanup_close_ int fd = -1;
  ssize_t n;
  int field = 2;

  if (pid <= 0)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || (n = read (fd, buf, sizeof buf - 1)) <= 0)
    return 0;
  buf[n] = '\0';
  /* The command name may contain anything, ')' included: fields start after the last one. */
  rp = strrchr (buf, ')');
  if (rp == NULL)
    return 0;
  for (tok = strtok_r (rp + 1, " ", &save); tok; tok = strtok_r (NULL, " ", &save))
    {
      field++;
      if (field == 3 && (tok[0] == 'Z' || tok[0] == 'X' || tok[0] == 'x'))
        return 0;
      if (field == 22)
        return strtoull (tok, NULL, 10);
    }
  return 0;
}

char *
rh_current_netns (void)
{
  struct stat st;
  if (stat ("/proc/self/ns/net", &st) < 0)
    return rh_xstrdup ("unknown");
  return rh_xasprintf ("%llu:%llu", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
}

/* ---- cgroup v2 ---- */

void
rh_cg2_clear (struct rh_cg2 *c)
{
  free (c->mnt);
  free (c->root);
  c->mnt = c->root = NULL;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void
unescape_octal (char *s)
{
  char *o = s;
  for (; *s; s++)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7')
        {
          *o++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
          s += 3;
        }
      else
        *o++ = *s;
    }
  *o = '\0';
}

int
rh_cg2_find (struct rh_cg2 *c, rh_error *err)
{
  _cleanup_free_ char *text = NULL;
  _cleanup_close_ int fd = open ("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  char *save = NULL;

  memset (c, 0, sizeof *c);
  if (fd < 0)
    return rh_error_sys (err, errno, "open /proc/self/mountinfo");
  if (rh_read_fd_capped (fd, 8u << 20, &text, NULL, err) < 0)
    return rh_error_prefix (err, "/proc/self/mountinfo");
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *f[5] = { 0 }, *s2 = NULL, *sep;
      int n = 0;
      /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
      sep = strstr (line, " - ");
      if (sep == NULL || strncmp (sep + 3, "cgroup2 ", 8) != 0)
        continue;
      *sep = '\0';
      for (char *t = strtok_r (line, " ", &s2); t && n < 5; t = strtok_r (NULL, " ", &s2))
        f[n++] = t;
      if (n < 5)
        continue;
      unescape_octal (f[3]);
      unescape_octal (f[4]);
      c->root = rh_xstrdup (f[3]);
      c->mnt = rh_xstrdup (f[4]);
      return 0;
    }
  return rh_error_set (err, ENOENT,
                       "no cgroup v2 file system is mounted: egress rules match the sandbox by its cgroup v2 "
                       "group (policy key egress.deny)");
}

int
rh_cg2_path_of (pid_t pid, char **out, rh_error *err)
{
  char path[64];
  _cleanup_free_ char *text = NULL;
  _cleanup_close_ int fd = -1;
  char *save = NULL;

  if (pid == 0)
    snprintf (path, sizeof path, "/proc/self/cgroup");
  else
    snprintf (path, sizeof path, "/proc/%d/cgroup", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return rh_error_sys (err, errno, "open %s", path);
  if (rh_read_fd_capped (fd, 1u << 20, &text, NULL, err) < 0)
    return rh_error_prefix (err, "%s", path);
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    if (strncmp (line, "0::/", 4) == 0)
      {
        *out = rh_xstrdup (line + 3);
        return 0;
      }
  return rh_error_set (err, ENOENT, "%s shows no cgroup v2 group", path);
}

char *
rh_cg2_dir (const struct rh_cg2 *c, const char *cgpath)
{
  size_t rl = strlen (c->root);
  if (strcmp (c->root, "/") == 0)
    return strcmp (cgpath, "/") == 0 ? rh_xstrdup (c->mnt) : rh_xasprintf ("%s%s", c->mnt, cgpath);
  if (strncmp (cgpath, c->root, rl) != 0 || (cgpath[rl] != '/' && cgpath[rl] != '\0'))
    return NULL;
  return rh_xasprintf ("%s%s", c->mnt, cgpath + rl);
}

bool
rh_cg2_path_contains (const char *a, const char *b)
{
  size_t l = strlen (a);
  if (strcmp (a, "/") == 0)
    return true;
  return strncmp (a, b, l) == 0 && (b[l] == '\0' || b[l] == '/');
}

int
rh_cg2_write_pid (const char *dir, pid_t pid, rh_error *err)
{
  _cleanup_free_ char *procs = rh_xasprintf ("%s/cgroup.procs", dir);
  _cleanup_close_ int fd = open (procs, O_WRONLY | O_CLOEXEC);
  char buf[32];
  int len = snprintf (buf, sizeof buf, "%d\n", (int) pid);
  if (fd < 0)
    return rh_error_sys (err, errno, "open %s", procs);
  /* Why this write can take a while: migrating a process takes the kernel's cgroup threadgroup
   * lock for writing, which waits for an RCU grace period unless the hierarchy is mounted with
   * favordynmods (docs/hooks.md). */
  if (write (fd, buf, (size_t) len) != len)
    return rh_error_sys (err, errno, "move process %d into %s", (int) pid, dir);
  return 0;
}

/* The sentry (the sandbox process) opens the host sockets with gVisor's host network; its
 * children follow it so that nothing of the sandbox stays in the host's group. Processes forked
 * later inherit the group. */
int
rh_cg2_move_tree (const char *dir, pid_t pid, rh_error *err)
{
  _cleanup_free_ pid_t *queue = rh_xmalloc0 (MOVE_MAX_PROCS * sizeof (pid_t));
  size_t head = 0, tail = 0;

  queue[tail++] = pid;
  while (head < tail)
    {
      pid_t cur = queue[head++];
      char tdir[64];
      DIR *d;
      struct dirent *de;

      if (rh_cg2_write_pid (dir, cur, err) < 0)
        {
          /* A child that exited meanwhile is fine; the sandbox itself must move. */
          if (cur != pid && err->code == ESRCH)
            continue;
          return -1;
        }
      snprintf (tdir, sizeof tdir, "/proc/%d/task", (int) cur);
      d = opendir (tdir);
      while (d && (de = readdir (d)))
        {
          char cpath[384];
          _cleanup_free_ char *kids = NULL;
          _cleanup_close_ int fd = -1;
          char *save = NULL;
          rh_error ignored;
          if (de->d_name[0] == '.')
            continue;
          snprintf (cpath, sizeof cpath, "%s/%s/children", tdir, de->d_name);
          fd = open (cpath, O_RDONLY | O_CLOEXEC);
          if (fd < 0 || rh_read_fd_capped (fd, 1u << 20, &kids, NULL, &ignored) < 0)
            continue;
          for (char *t = strtok_r (kids, " \n", &save); t; t = strtok_r (NULL, " \n", &save))
            if (tail < MOVE_MAX_PROCS)
              queue[tail++] = (pid_t) strtol (t, NULL, 10);
        }
      if (d)
        closedir (d);
    }
  return 0;
}

void
rh_cg2_evacuate (const char *dir, const char *dest)
{
  _cleanup_free_ char *procs = rh_xasprintf ("%s/cgroup.procs", dir);
  _cleanup_free_ char *list = NULL;
  _cleanup_close_ int fd = open (procs, O_RDONLY | O_CLOEXEC);
  char *save = NULL;
  rh_error ignored;

  if (fd < 0 || rh_read_fd_capped (fd, 1u << 20, &list, NULL, &ignored) < 0)
    return;
  for (char *t = strtok_r (list, "\n", &save); t; t = strtok_r (NULL, "\n", &save))
    rh_cg2_write_pid (dest, (pid_t) strtol (t, NULL, 10), &ignored);
}
