/* [gate] Policy section, spec modifier and the wrapper's side of the gate daemon; see
 * gate_policy.h and docs/gate.md. */
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
#include "spec_rewrite.h"
#include "util.h"

#define SUN_PATH_MAX (sizeof (((struct sockaddr_un *) 0)->sun_path) - 1)

/* ---- policy ---- */

static void
set_defaults (struct rh_gate_policy *g, const char *state_dir)
{
  const char *sd = state_dir ? state_dir : "/run/runsc-host";

  g->enabled = false;
  g->upstream = rh_xstrdup (RH_TEE_SOCKET);
  g->socket_dir = rh_xasprintf ("%s/gate", sd);
  g->control_socket = rh_xasprintf ("%s/gate.sock", sd);
  g->binary = rh_xstrdup (RH_GATE_DEFAULT_BINARY);
  g->log_file = rh_xasprintf ("%s/gate.log", sd);
  g->sandbox_rate = 0.2;
  g->sandbox_burst = 5;
  g->global_rate = 1.0;
  g->global_burst = 10;
  g->global_wait_ms = 10000;
  g->allowed_audiences = rh_xmalloc0 (sizeof (char *));
  rh_strv_push (&g->allowed_audiences, "*");
  g->allowed_token_types = rh_xmalloc0 (sizeof (char *));
  rh_strv_push (&g->allowed_token_types, "OIDC");
  rh_strv_push (&g->allowed_token_types, "PKI");
  g->max_header_bytes = 8192;
  g->max_body_bytes = 16384;
  g->max_response_bytes = 4 << 20;
  g->client_timeout_ms = 5000;
  g->upstream_timeout_ms = 30000;
  g->cache_fraction = 0.8;
  g->cache_entries = 16;
  g->max_connections = 1024;
  g->max_connections_per_sandbox = 32;
}

static bool
in_protected (const struct rh_policy *p, const char *path)
{
  for (size_t i = 0; p->protected_paths && p->protected_paths[i]; i++)
    if (rh_path_within (path, p->protected_paths[i]))
      return true;
  return false;
}

/* The gate's own paths must be out of every workload's reach; see gate_policy.h. */
static int
check_paths (const struct rh_policy *p, rh_error *err)
{
  const struct rh_gate_policy *g = &p->gate;
  const struct
  {
    const char *key, *path;
  } must_protect[] = {
    { "upstream", g->upstream }, { "socket_dir", g->socket_dir }, { "control_socket", g->control_socket },
  };

  for (size_t i = 0; i < sizeof must_protect / sizeof must_protect[0]; i++)
    if (!in_protected (p, must_protect[i].path))
      return rh_error_set (err, EINVAL,
                           "policy key gate.%s: %s must lie inside one of protected_paths (a workload that "
                           "could mount it would bypass the gate)",
                           must_protect[i].key, must_protect[i].path);
  if (rh_path_within (g->control_socket, g->socket_dir) || rh_path_within (g->log_file, g->socket_dir)
      || rh_path_within (g->upstream, g->socket_dir))
    return rh_error_set (err, EINVAL, "policy key gate.socket_dir: %s must not contain gate.control_socket, "
                                      "gate.log_file or gate.upstream", g->socket_dir);
  if (strlen (g->control_socket) > SUN_PATH_MAX)
    return rh_error_set (err, EINVAL, "policy key gate.control_socket: longer than a Unix socket path may be (%zu)",
                         SUN_PATH_MAX);
  if (strlen (g->upstream) > SUN_PATH_MAX)
    return rh_error_set (err, EINVAL, "policy key gate.upstream: longer than a Unix socket path may be (%zu)",
                         SUN_PATH_MAX);
  if (strlen (g->socket_dir) + 2 + strlen ("/" RH_GATE_SOCKET_NAME) > SUN_PATH_MAX)
    return rh_error_set (err, EINVAL, "policy key gate.socket_dir: too long to hold Unix sockets (%zu bytes max "
                                      "for <socket_dir>/<id>/" RH_GATE_SOCKET_NAME ")", SUN_PATH_MAX);
  return 0;
}

int
rh_gate_policy_parse (json_t *section, struct rh_policy *p, rh_error *err)
{
  static const char *const keys[] = {
    "enabled", "upstream", "socket_dir", "control_socket", "binary", "log_file", "sandbox_rate",
    "sandbox_burst", "global_rate", "global_burst", "global_wait_ms", "allowed_audiences", "allowed_token_types",
    "max_header_bytes", "max_body_bytes", "max_response_bytes", "client_timeout_ms", "upstream_timeout_ms",
    "cache_fraction", "cache_entries", "max_connections", "max_connections_per_sandbox", "allowed_bind_sources",
    "comment", NULL,
  };
  static const struct
  {
    const char *key;
    size_t off;
    int64_t min, max;
  } ints[] = {
    { "sandbox_burst", offsetof (struct rh_gate_policy, sandbox_burst), 1, 1000000 },
    { "global_burst", offsetof (struct rh_gate_policy, global_burst), 1, 1000000 },
    { "max_header_bytes", offsetof (struct rh_gate_policy, max_header_bytes), 256, 1 << 20 },
    { "max_body_bytes", offsetof (struct rh_gate_policy, max_body_bytes), 256, 16 << 20 },
    { "max_response_bytes", offsetof (struct rh_gate_policy, max_response_bytes), 4096, 64 << 20 },
    { "global_wait_ms", offsetof (struct rh_gate_policy, global_wait_ms), 0, 600000 },
    { "client_timeout_ms", offsetof (struct rh_gate_policy, client_timeout_ms), 50, 600000 },
    { "upstream_timeout_ms", offsetof (struct rh_gate_policy, upstream_timeout_ms), 50, 600000 },
    { "cache_entries", offsetof (struct rh_gate_policy, cache_entries), 1, 4096 },
    { "max_connections", offsetof (struct rh_gate_policy, max_connections), 1, 65536 },
    { "max_connections_per_sandbox", offsetof (struct rh_gate_policy, max_connections_per_sandbox), 1, 65536 },
  };
  struct rh_gate_policy *g = &p->gate;
  json_t *comment;

  set_defaults (g, p->state_dir);
  if (section == NULL)
    return 0;
  if (rh_policy_expect_object (section, "gate", err) < 0 || rh_policy_check_keys (section, "gate", keys, err) < 0)
    return -1;
  comment = json_object_get (section, "comment");
  if (comment && !json_is_string (comment))
    return rh_error_set (err, EINVAL, "policy key gate.comment: expected a string");
  if (rh_policy_get_bool (section, "gate", "enabled", &g->enabled, err) < 0
      || rh_policy_get_abs_path (section, "gate", "upstream", &g->upstream, err) < 0
      || rh_policy_get_abs_path (section, "gate", "socket_dir", &g->socket_dir, err) < 0
      || rh_policy_get_abs_path (section, "gate", "control_socket", &g->control_socket, err) < 0
      || rh_policy_get_abs_path (section, "gate", "binary", &g->binary, err) < 0
      || rh_policy_get_abs_path (section, "gate", "log_file", &g->log_file, err) < 0
      || rh_policy_get_number (section, "gate", "sandbox_rate", 0.0001, 1e6, &g->sandbox_rate, err) < 0
      || rh_policy_get_number (section, "gate", "global_rate", 0.0001, 1e6, &g->global_rate, err) < 0
      || rh_policy_get_number (section, "gate", "cache_fraction", 0.01, 1.0, &g->cache_fraction, err) < 0
      || rh_policy_get_strv (section, "gate", "allowed_audiences", &g->allowed_audiences, err) < 0
      || rh_policy_get_strv (section, "gate", "allowed_token_types", &g->allowed_token_types, err) < 0)
    return -1;
  if (json_object_get (section, "allowed_bind_sources") && !json_is_null (json_object_get (section, "allowed_bind_sources")))
    {
      if (rh_policy_get_strv (section, "gate", "allowed_bind_sources", &g->allowed_bind_sources, err) < 0)
        return -1;
      for (size_t i = 0; g->allowed_bind_sources[i]; i++)
        {
          char *c;
          if (g->allowed_bind_sources[i][0] != '/')
            return rh_error_set (err, EINVAL, "policy key gate.allowed_bind_sources[%zu]: path %s is not absolute", i,
                                 g->allowed_bind_sources[i]);
          c = rh_path_clean (NULL, g->allowed_bind_sources[i]);
          free (g->allowed_bind_sources[i]);
          g->allowed_bind_sources[i] = c;
        }
    }
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
    if (rh_policy_get_int (section, "gate", ints[i].key, ints[i].min, ints[i].max,
                           (int64_t *) ((char *) g + ints[i].off), err) < 0)
      return -1;
  for (size_t i = 0; g->allowed_audiences[i]; i++)
    if (g->allowed_audiences[i][0] == '\0')
      return rh_error_set (err, EINVAL, "policy key gate.allowed_audiences[%zu]: empty string", i);
  for (size_t i = 0; g->allowed_token_types[i]; i++)
    if (g->allowed_token_types[i][0] == '\0')
      return rh_error_set (err, EINVAL, "policy key gate.allowed_token_types[%zu]: empty string", i);
  if (g->enabled && check_paths (p, err) < 0)
    return -1;
  return 0;
}

void
rh_gate_policy_free (struct rh_gate_policy *g)
{
  free (g->upstream);
  free (g->socket_dir);
  free (g->control_socket);
  free (g->binary);
  free (g->log_file);
  rh_strv_free (g->allowed_audiences);
  rh_strv_free (g->allowed_token_types);
  rh_strv_free (g->allowed_bind_sources);
  memset (g, 0, sizeof *g);
}

/* ---- ids and paths ---- */

int
rh_gate_check_id (const struct rh_gate_policy *g, const char *id, rh_error *err)
{
  size_t n = id ? strlen (id) : 0;

  if (n == 0 || n > RH_GATE_MAX_ID || id[0] == '.')
    return rh_error_set (err, EINVAL, "gate: container id %s cannot name a gate socket (1 to %d characters, not "
                                      "starting with '.')", id ? id : "(none)", RH_GATE_MAX_ID);
  for (size_t i = 0; i < n; i++)
    {
      char c = id[i];
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
            || c == '.'))
        return rh_error_set (err, EINVAL, "gate: container id %s cannot name a gate socket (only letters, digits, "
                                          "'_', '-' and '.')", id);
    }
  if (strlen (g->socket_dir) + 1 + n + strlen ("/" RH_GATE_SOCKET_NAME) > SUN_PATH_MAX)
    return rh_error_set (err, ENAMETOOLONG, "gate: container id %s is too long for a socket under gate.socket_dir "
                                            "%s (Unix socket paths hold %zu bytes)", id, g->socket_dir, SUN_PATH_MAX);
  return 0;
}

char *
rh_gate_sandbox_dir (const struct rh_gate_policy *g, const char *id)
{
  return rh_xasprintf ("%s/%s", g->socket_dir, id);
}

char *
rh_gate_socket_path (const struct rh_gate_policy *g, const char *id)
{
  return rh_xasprintf ("%s/%s/%s", g->socket_dir, id, RH_GATE_SOCKET_NAME);
}

/* ---- spec modifier ---- */

bool
rh_gate_is_own_mount (const struct rh_policy *p, const char *container_id, const char *source,
                      const char *destination)
{
  _cleanup_free_ char *dir = NULL;
  _cleanup_free_ char *src = NULL;
  _cleanup_free_ char *dst = NULL;

  if (!p->gate.enabled || container_id == NULL || source == NULL || destination == NULL || source[0] != '/'
      || rh_gate_check_id (&p->gate, container_id, NULL) < 0)
    return false;
  dir = rh_gate_sandbox_dir (&p->gate, container_id);
  src = rh_path_clean (NULL, source);
  dst = rh_path_clean (NULL, destination);
  return strcmp (src, dir) == 0 && strcmp (dst, RH_TEE_DIR) == 0;
}

static bool
is_bind (json_t *m)
{
  const char *type = json_string_value (json_object_get (m, "type"));
  json_t *opts = json_object_get (m, "options"), *o;
  size_t i;

  if (type && (strcmp (type, "bind") == 0 || strcmp (type, "rbind") == 0))
    return true;
  json_array_foreach (opts, i, o)
    {
      const char *s = json_string_value (o);
      _cleanup_free_ char *copy = rh_xstrdup (s ? s : "");
      char *save = NULL;
      for (char *t = strtok_r (copy, ",", &save); t; t = strtok_r (NULL, ",", &save))
        if (strcmp (t, "bind") == 0 || strcmp (t, "rbind") == 0)
          return true;
    }
  return false;
}

/* With the gate on, runsc runs with --host-uds=open, which is sandbox-wide: the workload can
 * connect to any host socket found under any of its bind mounts, not only the gate's. When the
 * operator lists where bind sources may come from, enforce it. Returns 1 to drop the mount. */
static int
police_bind_source (const struct rh_rewrite_ctx *ctx, json_t *m, size_t idx, rh_error *err)
{
  const struct rh_gate_policy *g = &ctx->policy->gate;
  const char *src = json_string_value (json_object_get (m, "source"));
  const char *dst = json_string_value (json_object_get (m, "destination"));
  _cleanup_free_ char *lex = NULL;
  _cleanup_free_ char *res = NULL;

  if (g->allowed_bind_sources == NULL || !is_bind (m) || src == NULL || src[0] == '\0')
    return 0;
  lex = rh_path_clean (src[0] == '/' ? NULL : (ctx->bundle ? ctx->bundle : "/"), src);
  res = rh_resolve (ctx->resolver, lex, NULL);
  for (size_t i = 0; res && g->allowed_bind_sources[i]; i++)
    {
      _cleanup_free_ char *allowed = rh_resolve (ctx->resolver, g->allowed_bind_sources[i], NULL);
      if (rh_path_within (lex, g->allowed_bind_sources[i]) && allowed && rh_path_within (res, allowed))
        return 0;
    }
  if (ctx->policy->mount_action == RH_MOUNT_DENY)
    return rh_error_set (err, EPERM, "mount of %s denied by policy (gate.allowed_bind_sources): with the "
                                     "attestation gate on, a sandbox can reach host sockets under its bind mounts; "
                                     "container path %s", src, dst ? dst : "(none)");
  rh_log_info (ctx->log, "mount of %s stripped by policy (gate.allowed_bind_sources): with the attestation gate on, "
                         "a sandbox can reach host sockets under its bind mounts; container path %s (mounts[%zu])",
               src, dst ? dst : "(none)", idx);
  return 1;
}

int
rh_gate_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  const struct rh_policy *p = ctx->policy;
  _cleanup_free_ char *dir = NULL;
  json_t *mounts, *m;
  size_t i = 0;

  if (!p->gate.enabled)
    return 0;
  if (rh_gate_check_id (&p->gate, ctx->container_id, err) < 0)
    return -1;
  dir = rh_gate_sandbox_dir (&p->gate, ctx->container_id);
  mounts = json_object_get (spec, "mounts");
  if (mounts == NULL || json_is_null (mounts))
    {
      mounts = json_array ();
      json_object_set_new (spec, "mounts", mounts);
    }
  if (!json_is_array (mounts))
    return rh_error_set (err, EINVAL, "mounts: expected an array");

  /* Nothing else may sit at or below the TEE directory: a client mount there would hide our
   * socket or stand in for it. Mounts above it (a tmpfs on /run) stay; ours comes after them. */
  while (i < json_array_size (mounts))
    {
      json_t *d;
      _cleanup_free_ char *dst = NULL;

      int r;

      m = json_array_get (mounts, i);
      d = json_object_get (m, "destination");
      if (!json_is_string (d))
        {
          i++;
          continue;
        }
      dst = rh_path_clean (NULL, json_string_value (d));
      if (!rh_path_within (dst, RH_TEE_DIR))
        {
          r = police_bind_source (ctx, m, i, err);
          if (r < 0)
            return -1;
          if (r > 0)
            json_array_remove (mounts, i);
          else
            i++;
          continue;
        }
      if (!rh_gate_is_own_mount (p, ctx->container_id, json_string_value (json_object_get (m, "source")),
                                 json_string_value (d)))
        rh_log_info (ctx->log, "mount at %s replaced by the sandbox's attestation gate socket (gate.enabled)",
                     json_string_value (d));
      json_array_remove (mounts, i);
    }

  /* The sandbox's own directory, read-only: the workload can connect to the socket in it but
   * not create anything there. runsc needs --host-uds=open to connect to a host socket. */
  m = json_pack ("{s:s, s:s, s:s, s:[s,s,s,s,s]}", "destination", RH_TEE_DIR, "type", "bind", "source", dir,
                 "options", "bind", "ro", "nosuid", "nodev", "noexec");
  if (m == NULL)
    return rh_error_set (err, ENOMEM, "gate: cannot build the mount");
  json_array_append_new (mounts, m);
  rh_log_debug (ctx->log, "gate: %s bound at %s", dir, RH_TEE_DIR);
  return 0;
}

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

/* In the grandchild, between fork and exec: only async-signal-safe calls. */
static void __attribute__ ((noreturn))
exec_daemon (const struct rh_policy *p, int ready_w)
{
  char *argv[8];
  int n = 0;
  char *const envp[] = { (char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin", (char *) "LC_ALL=C", NULL };
  sigset_t none;
  int hi, devnull;

  /* Move the ready pipe out of the way of 0-2, then give the daemon /dev/null for stdio: a
   * daemon holding the caller's stdio would keep containerd's shim waiting for EOF forever. */
  hi = fcntl (ready_w, F_DUPFD, 10);
  devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (hi < 0 || devnull < 0 || dup2 (devnull, 0) < 0 || dup2 (devnull, 1) < 0 || dup2 (devnull, 2) < 0
      || dup2 (hi, 3) < 0)
    _exit (126);
  /* Nothing else from the caller (runc's --preserve-fds, a console socket...) leaks in. */
  close_range (4, ~0U, 0);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++)
    signal (s, SIG_DFL);

  argv[n++] = p->gate.binary;
  if (p->source_path)
    {
      argv[n++] = (char *) "--config";
      argv[n++] = p->source_path;
    }
  else
    argv[n++] = (char *) "--embedded-policy";
  argv[n++] = (char *) "--ready-fd";
  argv[n++] = (char *) "3";
  argv[n] = NULL;
  execve (p->gate.binary, argv, envp);
  {
    static const char msg[] = "error: cannot execute gate.binary\n";
    ssize_t ignored = write (3, msg, sizeof msg - 1);
    (void) ignored;
  }
  _exit (127);
}

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
  int fds[2], status, r;
  pid_t pid;

  if (access (p->gate.binary, X_OK) < 0)
    return rh_error_sys (err, errno, "gate daemon gate.binary %s", p->gate.binary);
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return rh_error_sys (err, errno, "pipe");
  ready_r = fds[0];
  ready_w = fds[1];
  rh_log_info (log, "starting the attestation gate daemon %s", p->gate.binary);
  pid = fork ();
  if (pid < 0)
    return rh_error_sys (err, errno, "fork");
  if (pid == 0)
    {
      /* Double fork in a new session: the daemon is nobody's session leader, has no
       * controlling terminal, and is not our child to reap. */
      pid_t gc;
      setsid ();
      gc = fork ();
      if (gc < 0)
        _exit (1);
      if (gc > 0)
        _exit (0);
      exec_daemon (p, ready_w);
    }
  close (rh_steal_fd (&ready_w));
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
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
