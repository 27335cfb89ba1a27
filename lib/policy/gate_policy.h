/* [gate] The attestation-gate policy section, the spec modifier that puts a sandbox's gate
 * socket where the TEE server socket would be, and the wrapper's side of the gate daemon's
 * control protocol. See docs/gate.md.
 *
 *   "gate": {
 *     "enabled": false,
 *     "upstream": "/run/container_launcher/teeserver.sock",   the real TEE server socket
 *     "socket_dir": "<state_dir>/gate",                       one directory per sandbox
 *     "control_socket": "<state_dir>/gate.sock",              the daemon's control socket
 *     "binary": "/usr/libexec/runsc-host/runsc-host-gate",    started on demand
 *     "log_file": "<state_dir>/gate.log",
 *     "sandbox_rate": 0.2, "sandbox_burst": 5,                upstream calls per second / burst
 *     "global_rate": 1.0, "global_burst": 10, "global_wait_ms": 10000,  fair share: see share.h
 *     "allowed_audiences": ["*"], "allowed_token_types": ["OIDC", "PKI"],
 *     "max_header_bytes": 8192, "max_body_bytes": 16384, "max_response_bytes": 4194304,
 *     "client_timeout_ms": 5000, "upstream_timeout_ms": 30000,
 *     "cache_fraction": 0.8, "cache_entries": 16,
 *     "max_connections": 1024, "max_connections_per_sandbox": 32,
 *     "allowed_bind_sources": ["/var/lib/nerdctl", ...]        optional; see below
 *   }
 *
 * Layout on the host: <socket_dir>/<container id>/teeserver.sock. The wrapper bind-mounts the
 * sandbox's *directory* (read-only) at /run/container_launcher, so the workload finds the socket
 * at the usual path, and a restarted daemon that re-creates the socket inside the same
 * directory is seen by running sandboxes (a bind mount of the socket file itself would pin the
 * dead socket's inode). socket_dir, control_socket and upstream must lie inside a protected
 * path: a workload that could bind-mount them would reach every sandbox's socket, the control
 * socket, or the TEE server itself (runsc runs with --host-uds=open when the gate is on). */
#ifndef RH_GATE_POLICY_H
#define RH_GATE_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "container_id.h"
#include "error.h"
#include "log.h"

struct rh_policy;
struct rh_rewrite_ctx;

#define RH_GATE_SOCKET_NAME "teeserver.sock"
#define RH_GATE_DEFAULT_BINARY "/usr/libexec/runsc-host/runsc-host-gate"
#define RH_GATE_MAX_ID RH_CONTAINER_ID_MAX
/* Control protocol: one JSON object per line each way, one request per connection. */
#define RH_GATE_CONTROL_MAX_REQUEST 4096
#define RH_GATE_CONTROL_MAX_RESPONSE (8u << 20)

struct rh_gate_policy
{
  bool enabled;
  char *upstream;       /* absolute path of the real TEE server socket */
  char *socket_dir;     /* where per-sandbox socket directories live */
  char *control_socket; /* the daemon's control socket */
  char *binary;         /* runsc-host-gate, started by the wrapper when not running */
  char *log_file;       /* the daemon's log (JSON lines) */
  double sandbox_rate;  /* upstream calls per second, per sandbox */
  int64_t sandbox_burst;
  double global_rate;   /* upstream calls per second, all sandboxes together */
  int64_t global_burst;
  int64_t global_wait_ms; /* how long a request may wait for its fair share of the global budget */
  char **allowed_audiences;   /* "*" allows any */
  char **allowed_token_types; /* "*" allows any */
  int64_t max_header_bytes;
  int64_t max_body_bytes;
  int64_t max_response_bytes; /* upstream answers */
  int64_t client_timeout_ms;  /* a whole request must arrive within this; idle keep-alive too */
  int64_t upstream_timeout_ms;
  double cache_fraction;      /* serve a token from cache until this fraction of its lifetime */
  int64_t cache_entries;      /* per sandbox */
  int64_t max_connections;
  int64_t max_connections_per_sandbox;
  /* NULL (absent): no restriction. Else, with the gate on, every other bind mount's host source
   * (resolved) must lie inside one of these, because --host-uds=open lets the sandbox connect
   * to any host socket under any of its bind mounts. See docs/gate.md. */
  char **allowed_bind_sources;
};

int rh_gate_policy_parse (json_t *section, struct rh_policy *p, rh_error *err);
/* Cross-section check, once every section is parsed: the gate's paths lie inside protected_paths. */
int rh_gate_policy_check (const struct rh_policy *p, rh_error *err);
void rh_gate_policy_free (struct rh_gate_policy *g);

/* A container id usable as a socket directory name: 1..RH_GATE_MAX_ID bytes of [A-Za-z0-9_.-],
 * not starting with '.', and short enough that the socket path fits in sun_path. */
int rh_gate_check_id (const struct rh_gate_policy *g, const char *id, rh_error *err);
/* <socket_dir>/<id> and <socket_dir>/<id>/teeserver.sock (malloc'd; id must be valid). */
char *rh_gate_sandbox_dir (const struct rh_gate_policy *g, const char *id);
char *rh_gate_socket_path (const struct rh_gate_policy *g, const char *id);

/* Spec modifier. When enabled: drop every mount whose destination is /run/container_launcher
 * or lies inside it (a client's, or ours from an earlier pass); when gate.allowed_bind_sources
 * is set, strip (or deny, per protected_mount_action) bind mounts whose host source lies outside
 * it; then append a read-only bind mount of <socket_dir>/<id> at /run/container_launcher.
 * Idempotent. No-op when disabled. */
int rh_gate_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err);

/* true when (source, destination) is exactly the gate mount this policy gives container_id:
 * the core mounts modifier uses it so that a second rewrite pass keeps our mount even though
 * its source lies in a protected path. */
bool rh_gate_is_own_mount (const struct rh_policy *p, const char *container_id, const char *source,
                           const char *destination);

/* Called by `runsc-host create/run` after the rewrite and before runsc starts: ask the daemon to
 * create the sandbox's socket (the bind mount needs its source), starting the daemon first when
 * it is not running. No-op when disabled. */
int rh_gate_prepare (const struct rh_policy *p, const char *container_id, const struct rh_logger *log,
                     rh_error *err);
/* Called by `runsc-host delete`: drop the sandbox's socket. Idempotent; works (removes the
 * directory itself) when the daemon is not running. No-op when disabled. */
int rh_gate_release (const struct rh_policy *p, const char *container_id, const struct rh_logger *log,
                     rh_error *err);

/* One control request: send req (a JSON object), return the daemon's answer. Fails with
 * ECONNREFUSED or ENOENT in err->code when no daemon listens. An answer {"ok": false, "error":
 * "..."} is returned as an error carrying that message (code EPROTO). */
int rh_gate_control_call (const struct rh_gate_policy *g, json_t *req, json_t **resp, rh_error *err);

/* Start the daemon detached from the caller (new session, stdio on /dev/null, no inherited
 * fds), wait until it listens on the control socket, or report why it could not start. A
 * daemon that is already running is success. */
int rh_gate_spawn_daemon (const struct rh_policy *p, const struct rh_logger *log, rh_error *err);

#endif
