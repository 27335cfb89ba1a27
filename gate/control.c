/* [gate] The control socket and the per-sandbox sockets.
 *
 * Protocol: a client (runsc-host) connects to gate.control_socket, writes one JSON object and a
 * newline, and reads one JSON object back; then the connection closes.
 *   {"op":"ping"}                    -> {"ok":true,"pid":N,"policy_sha256":"...",...}
 *   {"op":"create","id":"ID"}        -> {"ok":true,"path":"<socket_dir>/ID/teeserver.sock",...}
 *   {"op":"remove","id":"ID"}        -> {"ok":true,"removed":true|false}
 *   {"op":"stats"[,"id":"ID"]}       -> {"ok":true,"sandboxes":[{...counters...}],"total":{...}}
 * Errors: {"ok":false,"error":"..."}. The socket is 0600 and only root (or our own uid) is
 * served: whoever can create sockets can spend the VM's attestation budget. */
#include "gate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "util.h"

/* ---- sandboxes ---- */

static struct gate_sandbox *
find (struct gate_daemon *d, const char *id)
{
  for (struct gate_sandbox *sb = d->sandboxes; sb; sb = sb->next)
    if (strcmp (sb->id, id) == 0)
      return sb;
  return NULL;
}

static int
bind_unix (const char *path, int backlog, mode_t mode, ino_t *ino, rh_error *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  _cleanup_close_ int fd = -1;
  struct stat st;

  if (strlen (path) >= sizeof addr.sun_path)
    return rh_error_set (err, ENAMETOOLONG, "socket path %s is too long", path);
  strcpy (addr.sun_path, path);
  /* Replace a stale socket, but never anything else a path might have become. */
  if (lstat (path, &st) == 0)
    {
      if (!S_ISSOCK (st.st_mode))
        return rh_error_set (err, EEXIST, "%s exists and is not a socket", path);
      if (unlink (path) < 0 && errno != ENOENT)
        return rh_error_sys (err, errno, "remove stale socket %s", path);
    }
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return rh_error_sys (err, errno, "socket");
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    return rh_error_sys (err, errno, "bind %s", path);
  if (chmod (path, mode) < 0)
    return rh_error_sys (err, errno, "chmod %s", path);
  if (lstat (path, &st) < 0)
    return rh_error_sys (err, errno, "stat %s", path);
  if (ino)
    *ino = st.st_ino;
  if (listen (fd, backlog) < 0)
    return rh_error_sys (err, errno, "listen %s", path);
  return rh_steal_fd (&fd);
}

static int
bind_sandbox (struct gate_daemon *d, struct gate_sandbox *sb, rh_error *err)
{
  struct stat st;
  int fd;

  if (sb->fd >= 0)
    {
      gate_ep_del (d, sb->fd);
      close (sb->fd);
      sb->fd = -1;
    }
  /* 0755 directory, 0666 socket: the workload may run as any uid inside the sandbox, and this
   * directory is only ever mounted into this one sandbox (read-only). */
  if (mkdir (sb->dir, 0755) < 0 && errno != EEXIST)
    return rh_error_sys (err, errno, "mkdir %s", sb->dir);
  if (lstat (sb->dir, &st) < 0)
    return rh_error_sys (err, errno, "stat %s", sb->dir);
  if (!S_ISDIR (st.st_mode) || st.st_uid != geteuid ())
    return rh_error_set (err, EEXIST, "%s is not a directory owned by the gate", sb->dir);
  if (chmod (sb->dir, 0755) < 0)
    return rh_error_sys (err, errno, "chmod %s", sb->dir);
  fd = bind_unix (sb->path, 128, 0666, &sb->ino, err);
  if (fd < 0)
    return -1;
  sb->fd = fd;
  if (gate_ep_set (d, fd, EPOLLIN, sb, true) < 0)
    return rh_error_sys (err, errno, "epoll_ctl");
  return 0;
}

void
gate_sandbox_free (struct gate_sandbox *sb)
{
  gate_cache_free (&sb->cache);
  free (sb->id);
  free (sb->dir);
  free (sb->path);
  free (sb);
}

int
gate_sandbox_create (struct gate_daemon *d, const char *id, struct gate_sandbox **out, rh_error *err)
{
  struct gate_sandbox *sb;
  struct stat st;

  if (rh_gate_check_id (d->g, id, err) < 0)
    return -1;
  sb = find (d, id);
  if (sb)
    {
      /* Idempotent, but make sure the socket on disk is still the one we listen on. */
      if (!(lstat (sb->path, &st) == 0 && S_ISSOCK (st.st_mode) && st.st_ino == sb->ino)
          && bind_sandbox (d, sb, err) < 0)
        return rh_error_prefix (err, "gate socket for %s", id);
      *out = sb;
      return 0;
    }
  sb = rh_xmalloc0 (sizeof *sb);
  sb->ev.kind = GK_SANDBOX_LISTEN;
  sb->fd = -1;
  sb->id = rh_xstrdup (id);
  sb->dir = rh_gate_sandbox_dir (d->g, id);
  sb->path = rh_gate_socket_path (d->g, id);
  if (bind_sandbox (d, sb, err) < 0)
    {
      if (sb->fd >= 0)
        {
          gate_ep_del (d, sb->fd);
          close (sb->fd);
        }
      gate_sandbox_free (sb);
      return rh_error_prefix (err, "gate socket for %s", id);
    }
  gate_bucket_init (&sb->bucket, d->g->sandbox_rate, (double) d->g->sandbox_burst, gate_now ());
  gate_share_init (&sb->share);
  /* A sandbox removed and created again under the same id gets its old budget back, not a
   * fresh burst (issue 17): see gate_memo in share.h. */
  if (gate_memo_take (&d->memo, id, gate_now (), &sb->bucket, &sb->share.last_grant))
    rh_log_info (d->log, "gate socket for %s: resuming its earlier budget (%.2f of %lld tokens)", id,
                 sb->bucket.tokens, (long long) d->g->sandbox_burst);
  gate_cache_init (&sb->cache, (size_t) d->g->cache_entries);
  sb->next = d->sandboxes;
  d->sandboxes = sb;
  rh_log_info (d->log, "gate socket for %s listening at %s", id, sb->path);
  *out = sb;
  return 0;
}

static void
remove_files (const char *path, const char *dir)
{
  struct stat st;

  if (lstat (path, &st) == 0 && S_ISSOCK (st.st_mode))
    unlink (path);
  rmdir (dir);
}

bool
gate_sandbox_remove (struct gate_daemon *d, const char *id)
{
  struct gate_sandbox **pp, *sb = NULL;
  struct gate_conn *c;

  for (pp = &d->sandboxes; *pp; pp = &(*pp)->next)
    if (strcmp ((*pp)->id, id) == 0)
      {
        sb = *pp;
        *pp = sb->next;
        break;
      }
  if (sb == NULL)
    {
      /* Not ours in memory; still clean up what a previous daemon may have left. */
      _cleanup_free_ char *dir = NULL;
      _cleanup_free_ char *path = NULL;
      if (rh_gate_check_id (d->g, id, NULL) < 0)
        return false;
      dir = rh_gate_sandbox_dir (d->g, id);
      path = rh_gate_socket_path (d->g, id);
      remove_files (path, dir);
      return false;
    }
  c = d->conns;
  while (c)
    {
      struct gate_conn *next = c->next;
      if (c->sb == sb)
        gate_conn_close (d, c);
      c = next;
    }
  gate_upcall_forget_sandbox (d, sb);
  gate_memo_save (&d->memo, sb->id, &sb->bucket, sb->share.last_grant, gate_now ());
  if (sb->fd >= 0)
    {
      gate_ep_del (d, sb->fd);
      close (sb->fd);
    }
  remove_files (sb->path, sb->dir);
  rh_log_info (d->log, "gate socket for %s removed (requests %llu, cache hits %llu, limited %llu, denied %llu, "
                       "upstream calls %llu)",
               id, (unsigned long long) sb->stats.requests, (unsigned long long) sb->stats.cache_hits,
               (unsigned long long) sb->stats.limited, (unsigned long long) sb->stats.denied,
               (unsigned long long) sb->stats.upstream_calls);
  sb->fd = -1;
  gate_bury (d, &sb->ev);
  return true;
}

void
gate_sandbox_restore (struct gate_daemon *d)
{
  DIR *dir = opendir (d->g->socket_dir);
  struct dirent *de;
  unsigned n = 0;

  if (dir == NULL)
    return;
  /* Sandboxes created by an earlier daemon are still running with our directory mounted: put a
   * listening socket back in each, and they reach the gate again. */
  while ((de = readdir (dir)))
    {
      struct gate_sandbox *sb;
      rh_error err = { 0 };
      struct stat st;

      if (de->d_name[0] == '.' || rh_gate_check_id (d->g, de->d_name, NULL) < 0)
        continue;
      if (fstatat (dirfd (dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR (st.st_mode))
        continue;
      if (gate_sandbox_create (d, de->d_name, &sb, &err) < 0)
        rh_log_warn (d->log, "restore: %s", err.msg);
      else
        n++;
    }
  closedir (dir);
  if (n > 0)
    rh_log_info (d->log, "restored %u gate sockets from %s", n, d->g->socket_dir);
}

void
gate_sandboxes_close (struct gate_daemon *d)
{
  while (d->sandboxes)
    {
      struct gate_sandbox *sb = d->sandboxes;
      d->sandboxes = sb->next;
      if (sb->fd >= 0)
        close (sb->fd);
      gate_sandbox_free (sb);
    }
}

/* ---- the control socket ---- */

int
gate_control_listen (struct gate_daemon *d, rh_error *err)
{
  _cleanup_free_ char *lock = rh_xasprintf ("%s.lock", d->g->control_socket);
  _cleanup_free_ char *parent = rh_xstrdup (d->g->control_socket);
  int fd;

  *strrchr (parent, '/') = '\0';
  if (parent[0] != '\0' && rh_mkdir_p (parent, 0755, err) < 0)
    return -1;
  d->lock_fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (d->lock_fd < 0)
    return rh_error_sys (err, errno, "open %s", lock);
  /* One daemon per control socket; a second one started by a racing `create` steps aside. */
  if (flock (d->lock_fd, LOCK_EX | LOCK_NB) < 0)
    return rh_error_sys (err, errno == EWOULDBLOCK ? EBUSY : errno, "lock %s", lock);
  fd = bind_unix (d->g->control_socket, 64, 0600, NULL, err);
  if (fd < 0)
    return -1;
  d->ctl_fd = fd;
  d->ctl_ev.kind = GK_CONTROL_LISTEN;
  if (gate_ep_set (d, fd, EPOLLIN, &d->ctl_ev, true) < 0)
    return rh_error_sys (err, errno, "epoll_ctl");
  return 0;
}

void
gate_control_accept (struct gate_daemon *d)
{
  for (int i = 0; i < 16; i++)
    {
      int fd = accept4 (d->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      struct ucred cred;
      socklen_t len = sizeof cred;

      if (fd < 0)
        return;
      if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || (cred.uid != 0 && cred.uid != geteuid ()))
        {
          rh_log_warn (d->log, "control connection from uid %u refused", (unsigned) cred.uid);
          close (fd);
          continue;
        }
      gate_conn_new (d, fd, GK_CONTROL_CONN, NULL);
    }
}

static json_t *
counters_json (const struct gate_counters *c)
{
  return json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "requests", (json_int_t) c->requests, "cache_hits",
                    (json_int_t) c->cache_hits, "limited", (json_int_t) c->limited, "denied", (json_int_t) c->denied,
                    "upstream_calls", (json_int_t) c->upstream_calls, "bad_requests", (json_int_t) c->bad_requests,
                    "upstream_errors", (json_int_t) c->upstream_errors);
}

static json_t *
sandbox_json (const struct gate_sandbox *sb)
{
  json_t *o = json_pack ("{s:s, s:s, s:I}", "id", sb->id, "socket", sb->path, "connections", (json_int_t) sb->nconns);
  json_object_update_new (o, counters_json (&sb->stats));
  return o;
}

static json_t *
error_json (const char *msg)
{
  return json_pack ("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *
dispatch (struct gate_daemon *d, json_t *req)
{
  static const char *const keys[] = { "op", "id", NULL };
  const char *op = json_string_value (json_object_get (req, "op"));
  json_t *idv = json_object_get (req, "id");
  const char *id = json_string_value (idv);
  const char *k;
  json_t *v, *resp;
  rh_error err = { 0 };

  json_object_foreach (req, k, v)
    {
      bool ok = false;
      for (const char *const *a = keys; *a; a++)
        ok |= strcmp (*a, k) == 0;
      if (!ok)
        return error_json ("unknown field in control request");
    }
  if (op == NULL)
    return error_json ("control request without \"op\"");
  if (idv && !id)
    return error_json ("\"id\" must be a string");
  if ((strcmp (op, "create") == 0 || strcmp (op, "remove") == 0) && id == NULL)
    return error_json ("this op needs \"id\"");

  resp = json_pack ("{s:b, s:I, s:s}", "ok", 1, "pid", (json_int_t) getpid (), "policy_sha256", d->policy->sha256);
  if (strcmp (op, "ping") == 0)
    {
      json_object_set_new (resp, "uptime_s", json_real (gate_now () - d->started));
      json_object_set_new (resp, "policy", d->policy->source_path ? json_string (d->policy->source_path)
                                                                  : json_string ("(embedded default)"));
      return resp;
    }
  if (strcmp (op, "create") == 0)
    {
      struct gate_sandbox *sb;
      if (gate_sandbox_create (d, id, &sb, &err) < 0)
        {
          json_decref (resp);
          rh_log_error (d->log, "%s", err.msg);
          return error_json (err.msg);
        }
      json_object_set_new (resp, "path", json_string (sb->path));
      return resp;
    }
  if (strcmp (op, "remove") == 0)
    {
      json_object_set_new (resp, "removed", json_boolean (gate_sandbox_remove (d, id)));
      return resp;
    }
  if (strcmp (op, "stats") == 0)
    {
      json_t *list = json_array ();
      for (struct gate_sandbox *sb = d->sandboxes; sb; sb = sb->next)
        if (id == NULL || strcmp (id, sb->id) == 0)
          json_array_insert_new (list, 0, sandbox_json (sb));
      if (id && json_array_size (list) == 0)
        {
          _cleanup_free_ char *msg = rh_xasprintf ("no gate socket for container %s", id);
          json_decref (list);
          json_decref (resp);
          return error_json (msg);
        }
      json_object_set_new (resp, "sandboxes", list);
      json_object_set_new (resp, "total", counters_json (&d->totals));
      json_object_set_new (resp, "connections", json_integer (d->nconns));
      return resp;
    }
  json_decref (resp);
  return error_json ("unknown op");
}

void
gate_control_request (struct gate_daemon *d, struct gate_conn *c)
{
  _cleanup_json_ json_t *req = NULL;
  _cleanup_json_ json_t *resp = NULL;
  char *text, *line;
  size_t len = c->in_len;

  /* One line; anything after the first newline is ignored. */
  if (c->in && memchr (c->in, '\n', c->in_len))
    len = (size_t) ((char *) memchr (c->in, '\n', c->in_len) - c->in);
  req = c->in ? json_loadb (c->in, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
  if (req == NULL || !json_is_object (req))
    resp = error_json ("control request is not a JSON object");
  else
    resp = dispatch (d, req);
  text = json_dumps (resp, JSON_COMPACT);
  line = rh_xasprintf ("%s\n", text ? text : "{\"ok\":false}");
  free (text);
  gate_conn_send (d, c, line, strlen (line), true);
}
