/* Applying and removing a container's rules: runs iptables-restore / iptables-save (absolute
 * paths from the policy, argv built by hand, fork + execve, never a shell), keeps a record of
 * what was applied in <state_dir>/net/<id>.json, serializes every change under a lock in that
 * directory, and gives the sandbox a cgroup v2 group of its own when the egress rules need one.
 *
 * Invariants that make every operation idempotent and crash-safe:
 *   - the record is written before anything is changed, and removed after everything is undone:
 *     rules or a cgroup without a record can only be left by a crash, and gc removes them;
 *   - one container's chains and jumps are added in one iptables-restore transaction per
 *     family, and removed in one: a reader never sees half a container;
 *   - all of it happens with <state_dir>/net/.lock held, so the check-then-create of the shared
 *     chains cannot race with another runsc-host process. */
#include "netrules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "policy.h"
#include "util.h"

#define TOOL_OUTPUT_MAX (16u << 20)
#define TOOL_TIMEOUT_S 60
#define LOCK_TIMEOUT_MS 60000
#define RECORD_MAX (64u << 10)
#define MOVE_MAX_PROCS 4096

/* ---- running iptables-restore / iptables-save ---- */

static int
memfd_high (const char *name, rh_error *err)
{
  /* Above 2 whatever state fds 0-2 are in, so the child's dup2 onto 0/1/2 cannot clobber it. */
  _cleanup_close_ int fd = memfd_create (name, MFD_CLOEXEC);
  int high;
  if (fd < 0)
    return rh_error_sys (err, errno, "memfd_create");
  high = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  if (high < 0)
    return rh_error_sys (err, errno, "fcntl");
  return high;
}

static int
read_memfd (int fd, size_t max, char **out, rh_error *err)
{
  if (lseek (fd, 0, SEEK_SET) < 0)
    return rh_error_sys (err, errno, "lseek");
  return rh_read_fd_capped (fd, max, out, NULL, err);
}

/* Run path with args (argv[0] is path itself), input on stdin; stdout into *out when out is not
 * NULL. Exit status 0 is success; anything else is an error carrying the tool's stderr. */
static int
run_tool (const char *path, const char *const *args, const char *input, char **out, rh_error *err)
{
  _cleanup_close_ int in_fd = -1, out_fd = -1, err_fd = -1;
  _cleanup_free_ char *errtext = NULL;
  /* iptables needs no environment: a fixed one keeps the caller's (XTABLES_LIBDIR, ...) out. */
  static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
  char *argv[16];
  size_t n = 0, left;
  const char *p;
  pid_t pid;
  int status;

  argv[n++] = (char *) path;
  for (; args && *args && n < 15; args++)
    argv[n++] = (char *) *args;
  argv[n] = NULL;

  if ((in_fd = memfd_high ("rh-in", err)) < 0 || (out_fd = memfd_high ("rh-out", err)) < 0
      || (err_fd = memfd_high ("rh-err", err)) < 0)
    return -1;
  for (p = input ? input : "", left = strlen (p); left > 0;)
    {
      ssize_t w = write (in_fd, p, left);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return rh_error_sys (err, errno, "write batch");
      p += w, left -= (size_t) w;
    }
  if (lseek (in_fd, 0, SEEK_SET) < 0)
    return rh_error_sys (err, errno, "lseek");

  pid = fork ();
  if (pid < 0)
    return rh_error_sys (err, errno, "fork");
  if (pid == 0)
    {
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      if (dup2 (in_fd, 0) < 0 || dup2 (out_fd, 1) < 0 || dup2 (err_fd, 2) < 0)
        _exit (127);
      /* A hung tool must not hang container creation forever; an alarm survives execve. */
      alarm (TOOL_TIMEOUT_S);
      execve (path, argv, envp);
      dprintf (2, "cannot execute %s: %s", path, strerror (errno));
      _exit (127);
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return rh_error_sys (err, errno, "waitpid %s", path);

  if (read_memfd (err_fd, 4096, &errtext, err) < 0)
    {
      /* More than 4 KiB of complaints: keep the start. */
      errtext = rh_xstrdup ("(long error output)");
    }
  for (size_t l = strlen (errtext); l > 0 && (errtext[l - 1] == '\n' || errtext[l - 1] == ' '); l--)
    errtext[l - 1] = '\0';
  for (char *c = errtext; *c; c++)
    if (*c == '\n')
      *c = ' ';
  if (WIFSIGNALED (status))
    return rh_error_set (err, EIO, "%s killed by signal %d%s%s", path, WTERMSIG (status),
                         *errtext ? ": " : "", errtext);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return rh_error_set (err, EIO, "%s failed (exit status %d)%s%s", path, WEXITSTATUS (status),
                         *errtext ? ": " : "", errtext);
  if (out && read_memfd (out_fd, TOOL_OUTPUT_MAX, out, err) < 0)
    return rh_error_prefix (err, "output of %s", path);
  return 0;
}

struct family
{
  int num;              /* 4 or 6 */
  const char *restore;  /* absolute paths from the policy */
  const char *save;
};

static void
families (const struct rh_policy *p, struct family f[2])
{
  f[0] = (struct family) { 4, p->ports.iptables_restore, p->ports.iptables_save };
  f[1] = (struct family) { 6, p->ports.ip6tables_restore, p->ports.ip6tables_save };
}

/* A tool path from a record is used only when it still looks like a system tool: absolute,
 * a regular file owned by root and writable by nobody else. Otherwise the policy's. */
static const char *
trusted_tool (const char *recorded, const char *fallback)
{
  struct stat st;
  if (recorded && recorded[0] == '/' && stat (recorded, &st) == 0 && S_ISREG (st.st_mode) && st.st_uid == 0
      && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0)
    return recorded;
  return fallback;
}

static int
restore (const struct family *f, const char *batch, rh_error *err)
{
  /* --noflush: add to the tables, never replace them. --wait: queue on the xtables lock that
   * the legacy backend takes (20 containers starting at once); the nft backend commits each
   * batch as one kernel transaction and ignores it. */
  static const char *const args[] = { "--noflush", "--wait=30", NULL };
  return run_tool (f->restore, args, batch, NULL, err);
}

static int
save_table (const struct family *f, struct rh_netrules_table *t, rh_error *err)
{
  static const char *const args[] = { "-t", "filter", NULL };
  _cleanup_free_ char *text = NULL;
  if (run_tool (f->save, args, NULL, &text, err) < 0)
    return -1;
  return rh_netrules_parse_save (text, t, err);
}

/* Apply batch; when it fails because the shared chains are missing (first container in this
 * network namespace, or an administrator flushed them), create them and try once more. */
static int
restore_with_bootstrap (const struct family *f, const char *batch, const struct rh_logger *log, rh_error *err)
{
  struct rh_netrules_table t;
  _cleanup_free_ char *boot = NULL;
  rh_error first;

  if (restore (f, batch, &first) == 0)
    return 0;
  if (save_table (f, &t, err) < 0)
    return rh_error_prefix (err, "after %s", first.msg);
  boot = rh_netrules_bootstrap_text (&t);
  rh_netrules_table_free (&t);
  if (boot == NULL)
    {
      *err = first;
      return -1;
    }
  rh_log_debug (log, "IPv%d: creating chains " RH_NET_CHAIN_IN " and " RH_NET_CHAIN_OUT, f->num);
  if (restore (f, boot, err) < 0)
    return rh_error_prefix (err, "create chains " RH_NET_CHAIN_IN "/" RH_NET_CHAIN_OUT);
  return restore (f, batch, err);
}

/* Remove id's rules of one family: the text we would have added, and when that no longer
 * matches what the kernel has, exactly what iptables-save shows. */
static int
remove_family (const struct family *f, const char *id, bool ingress, bool egress, const char *cgroup_path,
               rh_error *err)
{
  _cleanup_free_ char *fast = rh_netrules_del_text (id, ingress, egress, cgroup_path);
  _cleanup_free_ char *exact = NULL;
  struct rh_netrules_table t;

  if (fast && restore (f, fast, err) == 0)
    return 0;
  if (save_table (f, &t, err) < 0)
    return -1;
  exact = rh_netrules_del_text_from_table (&t, id);
  rh_netrules_table_free (&t);
  if (exact == NULL)
    return 0;
  return restore (f, exact, err);
}

/* ---- lock and records ---- */

static char *
net_dir (const struct rh_policy *p)
{
  return rh_xasprintf ("%s/net", p->state_dir);
}

static int
lock_net (const struct rh_policy *p, rh_error *err)
{
  _cleanup_free_ char *dir = net_dir (p);
  _cleanup_free_ char *path = rh_xasprintf ("%s/.lock", dir);
  _cleanup_close_ int fd = -1;

  if (rh_mkdir_p (dir, 0700, err) < 0)
    return -1;
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
  if (fd < 0)
    return rh_error_sys (err, errno, "open %s", path);
  for (int waited = 0;; waited += 2)
    {
      struct timespec ts = { 0, 2 * 1000 * 1000 };
      if (flock (fd, LOCK_EX | LOCK_NB) == 0)
        return rh_steal_fd (&fd);
      if (errno != EWOULDBLOCK && errno != EINTR)
        return rh_error_sys (err, errno, "lock %s", path);
      if (waited >= LOCK_TIMEOUT_MS)
        return rh_error_set (err, ETIMEDOUT, "lock %s: still held after %d s", path, LOCK_TIMEOUT_MS / 1000);
      nanosleep (&ts, NULL);
    }
}

struct record
{
  char *id;
  pid_t pid;
  unsigned long long start_time;
  char *netns;
  char *cgroup;      /* xt_cgroup path, NULL without egress */
  bool cgroup_own;
  char *cgroup_dir;  /* the directory we created (own groups only) */
  char *cgroup_from; /* where the sandbox was before (own groups only) */
  bool in[2], out[2];
  char *restore[2], *save[2]; /* the tools that applied them (the policy may change later) */
};

static void
record_clear (struct record *r)
{
  for (int k = 0; k < 2; k++)
    {
      free (r->restore[k]);
      free (r->save[k]);
    }
  free (r->id);
  free (r->netns);
  free (r->cgroup);
  free (r->cgroup_dir);
  free (r->cgroup_from);
  memset (r, 0, sizeof *r);
}

static char *
record_path (const struct rh_policy *p, const char *id)
{
  return rh_xasprintf ("%s/net/%s.json", p->state_dir, id);
}

static int
record_write (const struct rh_policy *p, const struct record *r, rh_error *err)
{
  _cleanup_free_ char *path = record_path (p, r->id);
  _cleanup_json_ json_t *j = NULL;
  _cleanup_free_ char *text = NULL;

  j = json_pack ("{s:s, s:I, s:I, s:s, s:o, s:b, s:o, s:o, s:{s:b, s:b, s:s, s:s}, s:{s:b, s:b, s:s, s:s}}", "id",
                 r->id, "pid", (json_int_t) r->pid, "start_time", (json_int_t) r->start_time, "netns", r->netns,
                 "cgroup", r->cgroup ? json_string (r->cgroup) : json_null (), "cgroup_own", r->cgroup_own,
                 "cgroup_dir", r->cgroup_dir ? json_string (r->cgroup_dir) : json_null (), "cgroup_from",
                 r->cgroup_from ? json_string (r->cgroup_from) : json_null (), "ipv4", "in", r->in[0], "out",
                 r->out[0], "restore", r->restore[0], "save", r->save[0], "ipv6", "in", r->in[1], "out", r->out[1],
                 "restore", r->restore[1], "save", r->save[1]);
  if (j == NULL || (text = json_dumps (j, JSON_COMPACT)) == NULL)
    return rh_error_set (err, ENOMEM, "record for %s", r->id);
  return rh_write_file_atomic (path, text, strlen (text), 0600, err);
}

static int
get_opt_string (json_t *j, const char *key, char **out)
{
  json_t *v = json_object_get (j, key);
  if (v == NULL || json_is_null (v))
    return 0;
  if (!json_is_string (v))
    return -1;
  *out = rh_xstrdup (json_string_value (v));
  return 0;
}

/* 1 and *r filled when a record exists, 0 when not. */
static int
record_read (const struct rh_policy *p, const char *id, struct record *r, rh_error *err)
{
  _cleanup_free_ char *path = record_path (p, id);
  _cleanup_free_ char *text = NULL;
  _cleanup_json_ json_t *j = NULL;
  json_t *pid, *st, *v4, *v6;
  size_t len = 0;

  memset (r, 0, sizeof *r);
  if (rh_read_file_capped (path, RECORD_MAX, &text, &len, err) < 0)
    {
      if (err->code == ENOENT)
        return 0;
      return -1;
    }
  j = json_loadb (text, len, 0, NULL);
  pid = json_object_get (j, "pid");
  st = json_object_get (j, "start_time");
  v4 = json_object_get (j, "ipv4");
  v6 = json_object_get (j, "ipv6");
  if (!json_is_object (j) || !json_is_integer (pid) || !json_is_integer (st) || !json_is_object (v4)
      || !json_is_object (v6))
    return rh_error_set (err, EINVAL, "record %s is damaged", path);
  r->id = rh_xstrdup (id);
  r->pid = (pid_t) json_integer_value (pid);
  r->start_time = (unsigned long long) json_integer_value (st);
  r->cgroup_own = json_is_true (json_object_get (j, "cgroup_own"));
  r->in[0] = json_is_true (json_object_get (v4, "in"));
  r->out[0] = json_is_true (json_object_get (v4, "out"));
  r->in[1] = json_is_true (json_object_get (v6, "in"));
  r->out[1] = json_is_true (json_object_get (v6, "out"));
  if (get_opt_string (j, "netns", &r->netns) < 0 || get_opt_string (j, "cgroup", &r->cgroup) < 0
      || get_opt_string (j, "cgroup_dir", &r->cgroup_dir) < 0 || get_opt_string (j, "cgroup_from", &r->cgroup_from) < 0
      || get_opt_string (v4, "restore", &r->restore[0]) < 0 || get_opt_string (v4, "save", &r->save[0]) < 0
      || get_opt_string (v6, "restore", &r->restore[1]) < 0 || get_opt_string (v6, "save", &r->save[1]) < 0)
    {
      record_clear (r);
      return rh_error_set (err, EINVAL, "record %s is damaged", path);
    }
  return 1;
}

static int
record_unlink (const struct rh_policy *p, const char *id, rh_error *err)
{
  _cleanup_free_ char *path = record_path (p, id);
  if (unlink (path) < 0 && errno != ENOENT)
    return rh_error_sys (err, errno, "remove %s", path);
  return 0;
}

/* ---- processes and namespaces ---- */

/* starttime (clock ticks since boot) of a live, non-zombie process; 0 when it is gone. */
static unsigned long long
proc_start_time (pid_t pid)
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

static bool
record_alive (const struct record *r)
{
  unsigned long long st = proc_start_time (r->pid);
  return st != 0 && st == r->start_time;
}

static char *
current_netns (void)
{
  struct stat st;
  if (stat ("/proc/self/ns/net", &st) < 0)
    return rh_xstrdup ("unknown");
  return rh_xasprintf ("%llu:%llu", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
}

/* ---- cgroup v2 ---- */

struct cg2
{
  char *mnt;  /* where the cgroup2 file system is mounted */
  char *root; /* which cgroup it shows there (mountinfo's root field, "/" normally) */
};

static void
cg2_clear (struct cg2 *c)
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

static int
cg2_find (struct cg2 *c, rh_error *err)
{
  _cleanup_free_ char *text = NULL;
  char *save = NULL;

  memset (c, 0, sizeof *c);
  {
    _cleanup_close_ int fd = open ("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return rh_error_sys (err, errno, "open /proc/self/mountinfo");
    if (rh_read_fd_capped (fd, 8u << 20, &text, NULL, err) < 0)
      return rh_error_prefix (err, "/proc/self/mountinfo");
  }
  for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char *f[12] = { 0 }, *s2 = NULL, *sep;
      int n = 0;
      /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
      sep = strstr (line, " - ");
      if (sep == NULL)
        continue;
      *sep = '\0';
      for (char *t = strtok_r (line, " ", &s2); t && n < 5; t = strtok_r (NULL, " ", &s2))
        f[n++] = t;
      if (n < 5 || strncmp (sep + 3, "cgroup2 ", 8) != 0)
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

/* The cgroup v2 path ("0::/x/y" in /proc/<pid>/cgroup) of a process; pid 0 for ourselves. */
static int
cg2_path_of (pid_t pid, char **out, rh_error *err)
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

/* The directory of a cgroup path under the mount, or NULL when the mount does not show it. */
static char *
cg2_dir (const struct cg2 *c, const char *cgpath)
{
  size_t rl = strlen (c->root);
  if (strcmp (c->root, "/") == 0)
    return strcmp (cgpath, "/") == 0 ? rh_xstrdup (c->mnt) : rh_xasprintf ("%s%s", c->mnt, cgpath);
  if (strncmp (cgpath, c->root, rl) != 0 || (cgpath[rl] != '/' && cgpath[rl] != '\0'))
    return NULL;
  return rh_xasprintf ("%s%s", c->mnt, cgpath + rl);
}

static bool
path_is_ancestor_or_same (const char *a, const char *b)
{
  size_t l = strlen (a);
  if (strcmp (a, "/") == 0)
    return true;
  return strncmp (a, b, l) == 0 && (b[l] == '\0' || b[l] == '/');
}

static int
write_pid (const char *procs, pid_t pid, rh_error *err)
{
  _cleanup_close_ int fd = open (procs, O_WRONLY | O_CLOEXEC);
  char buf[32];
  int len = snprintf (buf, sizeof buf, "%d\n", (int) pid);
  if (fd < 0)
    return rh_error_sys (err, errno, "open %s", procs);
  if (write (fd, buf, (size_t) len) != len)
    return rh_error_sys (err, errno, "move process %d into %s", (int) pid, procs);
  return 0;
}

/* Move pid and every process below it into dir. The sentry (the sandbox process) opens the
 * host sockets with gVisor's host network; its children follow it so that nothing of the
 * sandbox stays in the host's group. Processes forked later inherit the group. */
static int
move_tree (const char *dir, pid_t pid, rh_error *err)
{
  _cleanup_free_ char *procs = rh_xasprintf ("%s/cgroup.procs", dir);
  _cleanup_free_ pid_t *queue = rh_xmalloc0 (MOVE_MAX_PROCS * sizeof (pid_t));
  size_t head = 0, tail = 0;

  queue[tail++] = pid;
  while (head < tail)
    {
      pid_t cur = queue[head++];
      char tdir[64];
      DIR *d;
      struct dirent *de;

      if (write_pid (procs, cur, err) < 0)
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

/* Remove our group: it is empty once the sandbox is gone (a zombie may take a moment). With
 * force, whatever still lives in it goes back where the sandbox came from first. */
static int
cgroup_remove (const struct rh_policy *p, const struct record *r, bool force, const struct rh_logger *log,
               rh_error *err)
{
  struct cg2 c;
  _cleanup_free_ char *expect_prefix = NULL;
  const char *base;

  if (!r->cgroup_own || r->cgroup_dir == NULL)
    return 0;
  /* The record is ours, but check anyway: only a directory named after the container, under the
   * cgroup2 mount, without dot components, is ever removed. */
  if (cg2_find (&c, err) < 0)
    return -1;
  expect_prefix = rh_xasprintf ("%s/", c.mnt);
  base = strrchr (r->cgroup_dir, '/');
  if (!rh_str_has_prefix (r->cgroup_dir, expect_prefix) || base == NULL || strcmp (base + 1, r->id) != 0
      || strstr (r->cgroup_dir, "/./") || strstr (r->cgroup_dir, "/../"))
    {
      cg2_clear (&c);
      return rh_error_set (err, EINVAL, "record of %s names cgroup %s, not one of ours", r->id, r->cgroup_dir);
    }
  for (int i = 0; i < 50; i++)
    {
      struct timespec ts = { 0, 2 * 1000 * 1000 };
      if (rmdir (r->cgroup_dir) == 0 || errno == ENOENT)
        break;
      if (errno != EBUSY)
        {
          int e = errno;
          cg2_clear (&c);
          return rh_error_sys (err, e, "remove cgroup %s", r->cgroup_dir);
        }
      if (force && i == 10 && r->cgroup_from)
        {
          _cleanup_free_ char *from = cg2_dir (&c, r->cgroup_from);
          _cleanup_free_ char *procs = rh_xasprintf ("%s/cgroup.procs", r->cgroup_dir);
          _cleanup_free_ char *list = NULL;
          _cleanup_close_ int fd = open (procs, O_RDONLY | O_CLOEXEC);
          char *save = NULL;
          rh_error ignored;
          if (from && fd >= 0 && rh_read_fd_capped (fd, 1u << 20, &list, NULL, &ignored) == 0)
            for (char *t = strtok_r (list, "\n", &save); t; t = strtok_r (NULL, "\n", &save))
              {
                _cleanup_free_ char *fprocs = rh_xasprintf ("%s/cgroup.procs", from);
                write_pid (fprocs, (pid_t) strtol (t, NULL, 10), &ignored);
              }
        }
      if (i == 49)
        {
          cg2_clear (&c);
          return rh_error_sys (err, EBUSY, "remove cgroup %s (processes still in it)", r->cgroup_dir);
        }
      nanosleep (&ts, NULL);
    }
  rh_log_debug (log, "container %s: removed cgroup %s", r->id, r->cgroup_dir);

  /* The shared parent goes too when it is empty (another container may be using it: then
   * rmdir fails and that is fine). Only the policy's own parent is tried. */
  {
    _cleanup_free_ char *parent = rh_xasprintf ("%s/%s", c.mnt, p->egress.cgroup_parent);
    _cleanup_free_ char *mine = rh_xasprintf ("%s/%s", parent, r->id);
    if (strcmp (mine, r->cgroup_dir) == 0)
      {
        char *slash;
        while (strlen (parent) > strlen (c.mnt) && rmdir (parent) == 0 && (slash = strrchr (parent, '/')))
          *slash = '\0';
      }
  }
  cg2_clear (&c);
  return 0;
}

/* Decide which cgroup v2 group the egress rules match, per egress.cgroup_mode:
 *   sandbox: the group runsc put the sandbox in (pure cgroup v2 hosts: the container's cgroup),
 *            refused when it is "/" or holds us (then the rules would hit the sandboxer too);
 *   own:     <cgroup2>/<cgroup_parent>/<id>, created here, the sandbox moved in;
 *   auto:    sandbox when that is allowed, else own (hybrid hosts: runsc manages only the v1
 *            hierarchies and the sandbox inherits the shim's v2 group, "/" here). */
static int
cgroup_choose (const struct rh_policy *p, const char *id, pid_t pid, struct record *r, const struct rh_logger *log,
               rh_error *err)
{
  struct cg2 c;
  _cleanup_free_ char *sandbox = NULL, *self = NULL;
  bool sandbox_ok;

  if (cg2_find (&c, err) < 0)
    return -1;
  if (cg2_path_of (pid, &sandbox, err) < 0 || cg2_path_of (0, &self, err) < 0)
    {
      cg2_clear (&c);
      return -1;
    }
  sandbox_ok = strcmp (sandbox, "/") != 0 && !path_is_ancestor_or_same (sandbox, self);
  if (p->egress.cgroup_mode == RH_CGROUP_SANDBOX && !sandbox_ok)
    {
      cg2_clear (&c);
      return rh_error_set (err, EPERM,
                           "the sandbox's cgroup v2 group %s is shared with runsc-host's own processes (%s): "
                           "egress rules on it would block the sandboxer too (policy key egress.cgroup_mode)",
                           sandbox, self);
    }
  if (p->egress.cgroup_mode != RH_CGROUP_OWN && sandbox_ok)
    {
      r->cgroup = steal_pointer (&sandbox);
      r->cgroup_own = false;
      rh_log_debug (log, "container %s: egress rules match the sandbox's cgroup %s", id, r->cgroup);
    }
  else
    {
      const char *rootsep = strcmp (c.root, "/") == 0 ? "" : c.root;
      r->cgroup = rh_xasprintf ("%s/%s/%s", rootsep, p->egress.cgroup_parent, id);
      r->cgroup_own = true;
      r->cgroup_dir = rh_xasprintf ("%s/%s/%s", c.mnt, p->egress.cgroup_parent, id);
      r->cgroup_from = steal_pointer (&sandbox);
    }
  cg2_clear (&c);
  return 0;
}

static int
cgroup_enter (const struct record *r, pid_t pid, rh_error *err)
{
  _cleanup_free_ char *parent = rh_xstrdup (r->cgroup_dir);
  *strrchr (parent, '/') = '\0';
  /* Another runsc-host (a different state_dir, so a different lock) may remove the empty shared
   * parent between our mkdirs: try again. */
  for (int attempt = 0;; attempt++)
    {
      if (rh_mkdir_p (parent, 0755, err) < 0)
        return -1;
      if (mkdir (r->cgroup_dir, 0755) == 0 || errno == EEXIST)
        break;
      if (errno != ENOENT || attempt == 5)
        return rh_error_sys (err, errno, "create cgroup %s", r->cgroup_dir);
    }
  return move_tree (r->cgroup_dir, pid, err);
}

/* ---- remove, apply, gc ---- */

/* With the lock held. */
static int
remove_locked (const struct rh_policy *p, const char *id, bool force, const struct rh_logger *log, rh_error *err)
{
  struct record r;
  struct family fam[2];
  _cleanup_free_ char *netns = current_netns ();
  int ret;

  ret = record_read (p, id, &r, err);
  if (ret <= 0)
    {
      if (ret == 0)
        rh_log_debug (log, "container %s: no firewall rules recorded", id);
      return ret;
    }
  if (!force && record_alive (&r))
    {
      rh_log_info (log,
                   "container %s: sandbox process %d is still running; its firewall rules stay until the poststop "
                   "hook or `runsc-host gc` removes them",
                   id, (int) r.pid);
      record_clear (&r);
      return 0;
    }
  families (p, fam);
  for (int k = 0; k < 2; k++)
    {
      fam[k].restore = trusted_tool (r.restore[k], fam[k].restore);
      fam[k].save = trusted_tool (r.save[k], fam[k].save);
    }
  if (r.netns && strcmp (r.netns, netns) != 0)
    rh_log_warn (log,
                 "container %s: its rules were applied in another network namespace (%s); `runsc-host gc` run there "
                 "removes them",
                 id, r.netns);
  else
    for (int k = 0; k < 2; k++)
      if ((r.in[k] || r.out[k]) && remove_family (&fam[k], id, r.in[k], r.out[k], r.cgroup, err) < 0)
        {
          record_clear (&r);
          return rh_error_prefix (err, "container %s: remove IPv%d rules", id, fam[k].num);
        }
  if (cgroup_remove (p, &r, force, log, err) < 0 || record_unlink (p, id, err) < 0)
    {
      record_clear (&r);
      return rh_error_prefix (err, "container %s", id);
    }
  rh_log_info (log, "container %s: firewall rules removed", id);
  record_clear (&r);
  return 0;
}

static int
remove_common (const struct rh_policy *p, const char *id, bool force, const struct rh_logger *log, rh_error *err)
{
  _cleanup_close_ int lock = -1;
  _cleanup_free_ char *path = NULL;
  struct stat st;

  if (rh_netrules_check_id (id, err) < 0)
    return -1;
  /* Nothing recorded and no state dir yet: nothing to undo, and no reason to create anything. */
  path = record_path (p, id);
  if (stat (path, &st) < 0 && errno == ENOENT)
    {
      _cleanup_free_ char *dir = net_dir (p);
      if (stat (dir, &st) < 0 && errno == ENOENT)
        return 0;
    }
  lock = lock_net (p, err);
  if (lock < 0)
    return -1;
  return remove_locked (p, id, force, log, err);
}

int
rh_netrules_remove (const struct rh_policy *p, const char *container_id, const struct rh_logger *log, rh_error *err)
{
  return remove_common (p, container_id, false, log, err);
}

int
rh_netrules_remove_stopped (const struct rh_policy *p, const char *container_id, const struct rh_logger *log,
                            rh_error *err)
{
  return remove_common (p, container_id, true, log, err);
}

int
rh_netrules_apply (const struct rh_policy *p, const struct rh_netrules_request *req, const struct rh_logger *log,
                   rh_error *err)
{
  _cleanup_close_ int lock = -1;
  struct record r;
  struct family fam[2];
  bool want_out[2], want_in[2];
  char *const *deny[2] = { p->egress.deny4, p->egress.deny6 };
  rh_error undo_err;

  if (rh_netrules_check_id (req->id, err) < 0)
    return -1;
  if (req->pid <= 1)
    return rh_error_set (err, EINVAL, "container %s: invalid sandbox pid %d", req->id, (int) req->pid);
  families (p, fam);
  want_in[0] = req->n_ports > 0;
  want_in[1] = req->n_ports > 0 && p->ports.ipv6;
  want_out[0] = rh_strv_len (p->egress.deny4) > 0;
  want_out[1] = rh_strv_len (p->egress.deny6) > 0;

  lock = lock_net (p, err);
  if (lock < 0)
    return -1;
  /* Applied before (a hook run twice): undo that first, so the result is the same. */
  if (remove_locked (p, req->id, true, log, err) < 0)
    return -1;

  memset (&r, 0, sizeof r);
  r.id = rh_xstrdup (req->id);
  r.pid = req->pid;
  r.start_time = proc_start_time (req->pid);
  r.netns = current_netns ();
  if (r.start_time == 0)
    {
      record_clear (&r);
      return rh_error_set (err, ESRCH, "container %s: sandbox process %d is not running", req->id, (int) req->pid);
    }
  if ((want_out[0] || want_out[1]) && cgroup_choose (p, req->id, req->pid, &r, log, err) < 0)
    {
      record_clear (&r);
      return rh_error_prefix (err, "container %s", req->id);
    }
  for (int k = 0; k < 2; k++)
    {
      r.in[k] = want_in[k], r.out[k] = want_out[k];
      r.restore[k] = rh_xstrdup (fam[k].restore);
      r.save[k] = rh_xstrdup (fam[k].save);
    }
  /* Recorded before anything changes: a crash from here on leaves something gc can find. */
  if (record_write (p, &r, err) < 0)
    goto fail;
  if (r.cgroup_own && cgroup_enter (&r, req->pid, err) < 0)
    goto fail;
  for (int k = 0; k < 2; k++)
    {
      struct rh_netrules_spec spec = { .id = req->id,
                                       .ports = req->ports,
                                       .n_ports = want_in[k] ? req->n_ports : 0,
                                       .deny = want_out[k] ? deny[k] : NULL,
                                       .cgroup_path = r.cgroup };
      _cleanup_free_ char *batch = rh_netrules_add_text (&spec, fam[k].num);
      if (batch && restore_with_bootstrap (&fam[k], batch, log, err) < 0)
        {
          rh_error_prefix (err, "IPv%d rules", fam[k].num);
          goto fail;
        }
    }
  {
    _cleanup_free_ char *ports = rh_ports_format (req->ports, req->n_ports);
    rh_log_info (log, "container %s: opened ports [%s]%s; egress denied to %zu destinations%s%s", req->id, ports,
                 want_in[1] ? " (IPv4 and IPv6)" : "",
                 rh_strv_len (p->egress.deny4) + rh_strv_len (p->egress.deny6), r.cgroup ? " for cgroup " : "",
                 r.cgroup ? r.cgroup : "");
  }
  record_clear (&r);
  return 0;

fail:
  /* Nothing half-applied: take back whatever got in. */
  if (remove_locked (p, req->id, true, log, &undo_err) < 0)
    rh_log_warn (log, "container %s: undo after failure: %s", req->id, undo_err.msg);
  record_clear (&r);
  return rh_error_prefix (err, "container %s", req->id);
}

struct gc_ctx
{
  const struct rh_policy *p;
};

static bool
gc_alive (const char *id, void *data)
{
  struct gc_ctx *g = data;
  struct record r;
  rh_error ignored;
  bool alive;
  if (record_read (g->p, id, &r, &ignored) <= 0)
    return false;
  alive = record_alive (&r);
  record_clear (&r);
  return alive;
}

int
rh_netrules_gc (const struct rh_policy *p, bool dry_run, const struct rh_logger *log, size_t *removed,
                rh_error *err)
{
  _cleanup_close_ int lock = -1;
  _cleanup_strv_ char **ids = rh_xmalloc0 (sizeof (char *));
  _cleanup_free_ char *dir = net_dir (p);
  struct family fam[2];
  struct gc_ctx g = { p };
  DIR *d;
  struct dirent *de;

  *removed = 0;
  lock = lock_net (p, err);
  if (lock < 0)
    return -1;
  families (p, fam);

  /* 1. Records whose sandbox is gone: their rules (with the tools that applied them, in this
   * network namespace), their cgroup, the record. */
  d = opendir (dir);
  while (d && (de = readdir (d)))
    {
      size_t len = strlen (de->d_name);
      _cleanup_free_ char *id = NULL;
      struct record r;
      rh_error e;
      bool alive;
      if (len <= 5 || strcmp (de->d_name + len - 5, ".json") != 0)
        continue;
      id = strndup (de->d_name, len - 5);
      if (id == NULL || rh_netrules_check_id (id, &e) < 0 || record_read (p, id, &r, &e) <= 0)
        continue;
      alive = record_alive (&r);
      record_clear (&r);
      if (alive)
        continue;
      rh_strv_push (&ids, id);
      if (!dry_run && remove_locked (p, id, true, log, &e) < 0)
        rh_log_warn (log, "gc: %s", e.msg);
    }
  if (d)
    closedir (d);

  /* 2. Rules in this network namespace that no live record accounts for (a record lost, or
   * rules of a runsc-host with another state_dir: all users of one namespace must share it). */
  for (int k = 0; k < 2; k++)
    {
      struct rh_netrules_table t;
      _cleanup_free_ char *batch = NULL;
      _cleanup_strv_ char **dead = rh_xmalloc0 (sizeof (char *));
      bool needed = k == 0 || p->ports.ipv6 || rh_strv_len (p->egress.deny6) > 0;

      if (save_table (&fam[k], &t, err) < 0)
        {
          if (!needed)
            continue;
          return rh_error_prefix (err, "gc: IPv%d", fam[k].num);
        }
      batch = rh_netrules_gc_text (&t, gc_alive, &g, &dead);
      rh_netrules_table_free (&t);
      for (size_t i = 0; dead[i]; i++)
        if (!rh_strv_contains (ids, dead[i]))
          rh_strv_push (&ids, dead[i]);
      if (batch == NULL)
        continue;
      rh_log_debug (log, "gc: IPv%d batch:\n%s", fam[k].num, batch);
      if (!dry_run && restore (&fam[k], batch, err) < 0)
        return rh_error_prefix (err, "gc: IPv%d", fam[k].num);
    }

  for (size_t i = 0; ids[i]; i++)
    rh_log_info (log, "gc: container %s is gone: %s its firewall rules", ids[i], dry_run ? "would remove" : "removed");
  *removed = rh_strv_len (ids);
  return 0;
}
