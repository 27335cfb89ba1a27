/* [gate] The "gate" policy section and the paths it names (the modifier: rewrite/gate_mounts.c;
 * the wrapper's client of the daemon: gate/client.c); see gate_policy.h and docs/gate.md. */
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
#include "container_id.h"
#include "fsutil.h"
#include "paths.h"
#include "policy.h"
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
  return 0;
}

int
rh_gate_policy_check (const struct rh_policy *p, rh_error *err)
{
  return p->gate.enabled ? check_paths (p, err) : 0;
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
  size_t n;

  if (rh_container_id_check (id, err) < 0)
    return rh_error_prefix (err, "gate: the id cannot name a gate socket");
  n = strlen (id);
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
