/* [hooks] The lock, the records and the "being removed" markers of lib/net/ (netrules_records.h). */
#include "netrules_records.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "netrules_sys.h"
#include "util.h"

#define LOCK_TIMEOUT_MS 60000
#define RECORD_MAX (64u << 10)

/* ---- lock and records ---- */

char *
rh_net_dir (const struct rh_policy *p)
{
  return rh_xasprintf ("%s/net", p->state_dir);
}

int
rh_net_lock (const struct rh_policy *p, rh_error *err)
{
  _cleanup_free_ char *dir = rh_net_dir (p);
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
      if (waited >= LOCK_TIMEOUT_MS
          || (rh_tool_deadline () > 0 && rh_monotonic_ms () >= rh_tool_deadline ()))
        return rh_error_set (err, ETIMEDOUT, "lock %s: still held after %.1f s", path, waited / 1000.0);
      nanosleep (&ts, NULL);
    }
}


void
rh_net_record_clear (struct record *r)
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

char *
rh_net_record_path (const struct rh_policy *p, const char *id)
{
  return rh_xasprintf ("%s/net/%s.json", p->state_dir, id);
}

static json_t *
opt_string (const char *s)
{
  return s ? json_string (s) : json_null ();
}

int
rh_net_record_write (const struct rh_policy *p, const struct record *r, rh_error *err)
{
  _cleanup_free_ char *path = rh_net_record_path (p, r->id);
  _cleanup_json_ json_t *j = NULL;
  _cleanup_free_ char *text = NULL;

  j = json_pack ("{s:s, s:I, s:I, s:s, s:o, s:b, s:o, s:o, s:{s:b, s:b, s:o, s:o}, s:{s:b, s:b, s:o, s:o}}", "id",
                 r->id, "pid", (json_int_t) r->pid, "start_time", (json_int_t) r->start_time, "netns", r->netns,
                 "cgroup", opt_string (r->cgroup), "cgroup_own", r->cgroup_own, "cgroup_dir",
                 opt_string (r->cgroup_dir), "cgroup_from", opt_string (r->cgroup_from), "ipv4", "in", r->in[0],
                 "out", r->out[0], "restore", opt_string (r->restore[0]), "save", opt_string (r->save[0]), "ipv6",
                 "in", r->in[1], "out", r->out[1], "restore", opt_string (r->restore[1]), "save",
                 opt_string (r->save[1]));
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
int
rh_net_record_read (const struct rh_policy *p, const char *id, struct record *r, rh_error *err)
{
  _cleanup_free_ char *path = rh_net_record_path (p, id);
  _cleanup_free_ char *text = NULL;
  _cleanup_json_ json_t *j = NULL;
  json_t *pid, *st, *v4, *v6;
  size_t len = 0;

  memset (r, 0, sizeof *r);
  if (rh_read_file_capped (path, RECORD_MAX, &text, &len, err) < 0)
    return err->code == ENOENT ? 0 : -1;
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
      rh_net_record_clear (r);
      return rh_error_set (err, EINVAL, "record %s is damaged", path);
    }
  return 1;
}

int
rh_net_record_unlink (const struct rh_policy *p, const char *id, rh_error *err)
{
  _cleanup_free_ char *path = rh_net_record_path (p, id);
  if (unlink (path) < 0 && errno != ENOENT)
    return rh_error_sys (err, errno, "remove %s", path);
  return 0;
}

bool
rh_net_record_alive (const struct record *r)
{
  unsigned long long st = rh_proc_start_time (r->pid);
  return st != 0 && st == r->start_time;
}

/* ---- "being removed" markers ----
 * `runsc-host delete` removes a container's rules while runsc's own delete runs (see
 * delete_alongside in the wrapper), and runsc's delete ends with our poststop hook for the same
 * container. Without a sign, that hook would queue on the lock for the whole removal (an
 * nf_tables grace period) only to find nothing left, and runsc's delete would wait with it. So
 * the remover leaves <id>.removing (its pid and start time) while it works, and a poststop hook
 * that finds a live remover leaves the job to it. A marker whose process is gone (a crash) is
 * ignored, and gc removes it. */

char *
rh_net_marker_path (const struct rh_policy *p, const char *id)
{
  return rh_xasprintf ("%s/net/%s.removing", p->state_dir, id);
}

void
rh_net_marker_write (const struct rh_policy *p, const char *id)
{
  _cleanup_free_ char *path = rh_net_marker_path (p, id);
  _cleanup_free_ char *text = rh_xasprintf ("%d %llu\n", (int) getpid (), rh_proc_start_time (getpid ()));
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);

  /* Best effort: without the marker the hook merely waits, as it always did. */
  if (fd >= 0 && rh_write_all (fd, text, strlen (text)) < 0)
    unlink (path);
}

void
rh_net_marker_unlink (const struct rh_policy *p, const char *id)
{
  _cleanup_free_ char *path = rh_net_marker_path (p, id);
  unlink (path);
}

/* The pid of a live remover of id, or 0. */
pid_t
rh_net_marker_owner (const char *path)
{
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  int pid = 0;
  unsigned long long start = 0;
  rh_error ignored;

  if (rh_read_file_capped (path, 64, &text, &len, &ignored) < 0 || sscanf (text, "%d %llu", &pid, &start) != 2
      || pid <= 1 || pid == getpid () || start == 0 || rh_proc_start_time (pid) != start)
    return 0;
  return pid;
}

