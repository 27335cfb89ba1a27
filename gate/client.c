/* [gate] The wrapper's side of the gate daemon: the control-socket client, and starting the
 * daemon when it is not running (rh_gate_prepare / rh_gate_release, gate_policy.h). */
#include "gate_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "paths.h"
#include "policy.h"
#include "spawnutil.h"
#include "util.h"

#define SUN_PATH_MAX (sizeof (((struct sockaddr_un *) 0)->sun_path) - 1)

/* ---- control protocol (client side) ---- */

static int
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t w = send (fd, buf, len, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return -1;
      buf += w;
      len -= (size_t) w;
    }
  return 0;
}

int
rh_gate_control_call (const struct rh_gate_policy *g, json_t *req, json_t **resp, rh_error *err)
{
  _cleanup_close_ int fd = -1;
  _cleanup_free_ char *text = NULL;
  _cleanup_free_ char *line = NULL;
  _cleanup_free_ char *answer = NULL;
  _cleanup_json_ json_t *r = NULL;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct timeval tv = { .tv_sec = 10 };
  struct ucred cred;
  socklen_t clen = sizeof cred;
  json_error_t jerr;
  size_t len = 0;

  if (strlen (g->control_socket) > SUN_PATH_MAX)
    return rh_error_set (err, ENAMETOOLONG, "gate control socket path %s is too long", g->control_socket);
  strcpy (addr.sun_path, g->control_socket);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return rh_error_sys (err, errno, "socket");
  /* A wedged daemon must not wedge `runsc-host create` (and containerd with it) forever. */
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    return rh_error_sys (err, errno, "connect to the gate daemon at %s", g->control_socket);
  /* Only trust a daemon running as root (or as us). */
  if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0)
    return rh_error_sys (err, errno, "gate control socket %s: SO_PEERCRED", g->control_socket);
  if (cred.uid != 0 && cred.uid != geteuid ())
    return rh_error_set (err, EPERM, "gate control socket %s is served by uid %u, not root", g->control_socket,
                         (unsigned) cred.uid);

  text = json_dumps (req, JSON_COMPACT);
  if (text == NULL)
    return rh_error_set (err, EINVAL, "gate: cannot encode the control request");
  line = rh_xasprintf ("%s\n", text);
  if (write_all (fd, line, strlen (line)) < 0)
    return rh_error_sys (err, errno, "write to the gate daemon at %s", g->control_socket);
  shutdown (fd, SHUT_WR);
  if (rh_read_fd_capped (fd, RH_GATE_CONTROL_MAX_RESPONSE, &answer, &len, err) < 0)
    return rh_error_prefix (err, "read from the gate daemon at %s", g->control_socket);
  r = json_loadb (answer, len, JSON_DISABLE_EOF_CHECK, &jerr);
  if (r == NULL || !json_is_object (r))
    return rh_error_set (err, EPROTO, "gate daemon at %s sent an invalid answer", g->control_socket);
  if (!json_is_true (json_object_get (r, "ok")))
    {
      const char *msg = json_string_value (json_object_get (r, "error"));
      return rh_error_set (err, EPROTO, "%s", msg ? msg : "gate daemon refused the request");
    }
  *resp = steal_pointer (&r);
  return 0;
}

static bool
not_running (const rh_error *err)
{
  return err->code == ECONNREFUSED || err->code == ENOENT;
}

/* ---- starting the daemon ---- */

static int
read_ready (int fd, int timeout_ms, char *buf, size_t size)
{
  size_t used = 0;
  struct timespec start, now;

  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      long elapsed;
      ssize_t r;

      clock_gettime (CLOCK_MONOTONIC, &now);
      elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
      if (elapsed >= timeout_ms)
        return -ETIMEDOUT;
      r = poll (&pfd, 1, (int) (timeout_ms - elapsed));
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return -errno;
      if (r == 0)
        continue;
      r = read (fd, buf + used, size - 1 - used);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return -errno;
      if (r == 0 || used + (size_t) r >= size - 1)
        {
          used += (size_t) (r > 0 ? r : 0);
          buf[used] = '\0';
          return 0;
        }
      used += (size_t) r;
      buf[used] = '\0';
      if (memchr (buf, '\n', used))
        return 0;
    }
}

int
rh_gate_spawn_daemon (const struct rh_policy *p, const struct rh_logger *log, rh_error *err)
{
  _cleanup_close_ int ready_r = -1;
  _cleanup_close_ int ready_w = -1;
  char buf[1024] = "";
  char *argv[8];
  const char *pol[3];
  int fds[2], n = 0, r;

  if (access (p->gate.binary, X_OK) < 0)
    return rh_error_sys (err, errno, "gate daemon gate.binary %s", p->gate.binary);
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return rh_error_sys (err, errno, "pipe");
  ready_r = fds[0];
  ready_w = fds[1];
  argv[n++] = p->gate.binary;
  for (size_t i = 0, k = rh_policy_child_args (p, pol); i < k; i++)
    argv[n++] = (char *) pol[i];
  argv[n++] = (char *) "--ready-fd";
  argv[n++] = (char *) "3";
  argv[n] = NULL;
  rh_log_info (log, "starting the attestation gate daemon %s", p->gate.binary);
  if (rh_spawn_daemon (argv, NULL, ready_w, err) < 0)
    return -1;
  close (rh_steal_fd (&ready_w));
  r = read_ready (ready_r, 10000, buf, sizeof buf);
  if (r < 0)
    return rh_error_sys (err, -r, "gate daemon %s did not report ready", p->gate.binary);
  buf[strcspn (buf, "\n")] = '\0';
  if (strcmp (buf, "ok") == 0 || strcmp (buf, "busy") == 0)
    return 0; /* "busy": another daemon holds the lock; it is ours to use */
  if (strncmp (buf, "error: ", 7) == 0)
    return rh_error_set (err, EIO, "gate daemon %s: %s (see %s)", p->gate.binary, buf + 7, p->gate.log_file);
  return rh_error_set (err, EIO, "gate daemon %s exited during start-up (see %s)", p->gate.binary,
                       p->gate.log_file);
}

/* ---- prepare / release ---- */

static int
control_call_retry (const struct rh_gate_policy *g, json_t *req, json_t **resp, int attempts, rh_error *err)
{
  for (int i = 0;; i++)
    {
      if (rh_gate_control_call (g, req, resp, err) == 0)
        return 0;
      if (!not_running (err) || i + 1 >= attempts)
        return -1;
      struct timespec ts = { .tv_nsec = 20 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
}

int
rh_gate_prepare (const struct rh_policy *p, const char *container_id, const struct rh_logger *log, rh_error *err)
{
  _cleanup_json_ json_t *req = NULL;
  _cleanup_json_ json_t *resp = NULL;
  const char *sha;

  if (!p->gate.enabled)
    return 0;
  if (rh_gate_check_id (&p->gate, container_id, err) < 0)
    return -1;
  req = json_pack ("{s:s, s:s}", "op", "create", "id", container_id);
  if (rh_gate_control_call (&p->gate, req, &resp, err) < 0)
    {
      if (!not_running (err))
        return rh_error_prefix (err, "gate: create socket for %s", container_id);
      if (rh_gate_spawn_daemon (p, log, err) < 0)
        return rh_error_prefix (err, "gate: create socket for %s", container_id);
      /* The daemon said ready; a racing one may still be binding: retry briefly. */
      if (control_call_retry (&p->gate, req, &resp, 250, err) < 0)
        return rh_error_prefix (err, "gate: create socket for %s", container_id);
    }
  sha = json_string_value (json_object_get (resp, "policy_sha256"));
  if (sha && strcmp (sha, p->sha256) != 0)
    rh_log_warn (log, "gate daemon runs under policy %.12s, this container under %.12s: restart the gate "
                      "daemon to apply the new gate settings", sha, p->sha256);
  rh_log_debug (log, "gate: socket %s ready", json_string_value (json_object_get (resp, "path")));
  return 0;
}

/* Remove <socket_dir>/<id>/teeserver.sock and the directory ourselves, touching only a socket
 * and an empty directory. */
static int
remove_locally (const struct rh_gate_policy *g, const char *id, rh_error *err)
{
  _cleanup_close_ int base = open (g->socket_dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  _cleanup_close_ int dfd = -1;
  struct stat st;

  if (base < 0)
    return errno == ENOENT ? 0 : rh_error_sys (err, errno, "open %s", g->socket_dir);
  dfd = openat (base, id, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dfd < 0)
    return errno == ENOENT ? 0 : rh_error_sys (err, errno, "open %s/%s", g->socket_dir, id);
  if (fstatat (dfd, RH_GATE_SOCKET_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK (st.st_mode)
      && unlinkat (dfd, RH_GATE_SOCKET_NAME, 0) < 0 && errno != ENOENT)
    return rh_error_sys (err, errno, "remove %s/%s/%s", g->socket_dir, id, RH_GATE_SOCKET_NAME);
  if (unlinkat (base, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return rh_error_sys (err, errno, "remove %s/%s", g->socket_dir, id);
  return 0;
}

int
rh_gate_release (const struct rh_policy *p, const char *container_id, const struct rh_logger *log, rh_error *err)
{
  _cleanup_json_ json_t *req = NULL;
  _cleanup_json_ json_t *resp = NULL;
  rh_error cerr = { 0 };
  struct stat st;

  /* Work even if the gate was disabled since create: a leftover socket is cleaned up either way. */
  if (rh_gate_check_id (&p->gate, container_id, NULL) < 0)
    return 0; /* an id we could never have created a socket for */
  if (stat (p->gate.control_socket, &st) == 0)
    {
      req = json_pack ("{s:s, s:s}", "op", "remove", "id", container_id);
      if (rh_gate_control_call (&p->gate, req, &resp, &cerr) == 0)
        return 0;
      if (!not_running (&cerr))
        rh_log_warn (log, "gate: remove socket for %s: %s", container_id, cerr.msg);
    }
  if (remove_locally (&p->gate, container_id, err) < 0)
    return rh_error_prefix (err, "gate: remove socket for %s", container_id);
  return 0;
}

