/* [gate] runsc-host-gate: the daemon's shared state.
 *
 * One thread, one epoll set. Every registered fd carries a pointer to a struct whose first
 * member is a `struct gate_ev` naming its kind, so the loop can dispatch. Nothing blocks: the
 * upstream (a Unix socket) is connected without waiting, clients are read and written
 * non-blocking, and every connection has a deadline checked by a periodic sweep.
 *
 *   main.c      arguments, start-up, privileges, the loop, signals
 *   server.c    workload connections: read, parse, decide, answer
 *   upstream.c  calls to the real TEE server, shared by identical waiting requests
 *   control.c   the control socket: create/remove a sandbox's socket, stats
 *   http.c api.c bucket.c cache.c share.c   pure parts (unit-tested and fuzzed) */
#ifndef GATE_GATE_H
#define GATE_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api.h"
#include "bucket.h"
#include "cache.h"
#include "error.h"
#include "http.h"
#include "log.h"
#include "policy.h"
#include "share.h"

enum gate_kind
{
  GK_SIGNAL = 1,
  GK_CONTROL_LISTEN,
  GK_CONTROL_CONN,
  GK_SANDBOX_LISTEN,
  GK_CLIENT,
  GK_UPSTREAM,
};

struct gate_ev
{
  enum gate_kind kind;
  bool dead;                /* closed: events still queued for it are ignored */
  struct gate_ev *dead_next; /* freed at the end of the loop iteration (gate_reap) */
};

struct gate_counters
{
  uint64_t requests;        /* every request that reached us, well-formed or not */
  uint64_t cache_hits;      /* answered from cache, or by joining an identical call in flight */
  uint64_t limited;         /* 429: over the sandbox's or the global rate */
  uint64_t denied;          /* 403: audience or token type not allowed by policy */
  uint64_t upstream_calls;  /* calls made to the TEE server */
  uint64_t bad_requests;    /* 4xx other than 403/429: malformed, too large, too slow */
  uint64_t upstream_errors; /* 502/503/504 and upstream 5xx */
};

struct gate_sandbox
{
  struct gate_ev ev; /* GK_SANDBOX_LISTEN */
  char *id;
  char *dir;
  char *path;
  int fd;
  ino_t ino; /* of the socket file we bound, to notice it was replaced */
  struct gate_bucket bucket;
  struct gate_share share; /* its place in the fair queue for the global budget */
  struct gate_cache cache;
  struct gate_counters stats;
  unsigned nconns;
  struct gate_sandbox *next;
};

enum gate_conn_state
{
  GC_READ = 0, /* reading a request (deadline: whole request) */
  GC_QUEUED,   /* waiting for a share of the global budget (gate_sched; deadline: its own) */
  GC_WAIT,     /* waiting for an upstream call */
  GC_WRITE,    /* writing the answer */
  GC_LINGER,   /* answer sent, write side shut: drain what the peer still sends, then close */
};

struct gate_upcall;

struct gate_conn
{
  struct gate_ev ev; /* GK_CLIENT or GK_CONTROL_CONN */
  int fd;
  struct gate_sandbox *sb; /* NULL for control connections */
  enum gate_conn_state state;
  struct gate_http_reader reader;
  char *in;                /* control connections: the request line */
  size_t in_len;
  char *out;
  size_t out_len, out_off;
  bool close_after;
  double deadline;         /* monotonic seconds; 0 = none */
  size_t drained;
  struct gate_upcall *upcall; /* GC_WAIT */
  struct gate_share_waiter waiter; /* GC_QUEUED: its place in the queue */
  struct gate_api_call queued;     /* GC_QUEUED: the call to make once granted */
  struct gate_conn *wait_next;
  struct gate_conn *prev, *next;
};

struct gate_upcall
{
  struct gate_ev ev; /* GK_UPSTREAM */
  int fd;
  struct gate_sandbox *sb; /* NULL once the sandbox is gone */
  char *cache_key;         /* NULL: not cacheable */
  char *req;
  size_t req_len, req_off;
  struct gate_http_reader reader;
  double deadline;
  struct gate_conn *waiters;
  struct gate_upcall *prev, *next;
};

struct gate_daemon
{
  const struct rh_policy *policy;
  const struct rh_gate_policy *g;
  const struct rh_logger *log;
  struct gate_http_limits client_limits;
  struct gate_http_limits upstream_limits;
  int epfd;
  int ctl_fd;
  int lock_fd;    /* flock on <control_socket>.lock: one daemon per control socket */
  int reserve_fd; /* spare fd, given up to shed a connection when we run out of fds */
  struct gate_ev ctl_ev;
  struct gate_sched sched; /* the global bucket and the requests waiting for it */
  struct gate_memo memo;   /* buckets of removed sandboxes, until they would have refilled */
  struct gate_sandbox *sandboxes;
  struct gate_conn *conns;
  struct gate_upcall *upcalls;
  unsigned nconns; /* client connections */
  struct gate_counters totals;
  double started;
  struct gate_ev *graveyard;
};

/* main.c */
double gate_now (void);      /* CLOCK_MONOTONIC seconds */
double gate_now_wall (void); /* CLOCK_REALTIME seconds */
int gate_ep_set (struct gate_daemon *d, int fd, uint32_t events, void *ptr, bool add);
void gate_ep_del (struct gate_daemon *d, int fd);
/* Objects are never freed while an epoll batch may still point at them: closing marks them dead
 * and buries them; gate_reap frees the dead after the batch. */
void gate_bury (struct gate_daemon *d, struct gate_ev *ev);
void gate_reap (struct gate_daemon *d);
void gate_conn_free (struct gate_conn *c);
void gate_upcall_free (struct gate_upcall *u);
void gate_sandbox_free (struct gate_sandbox *sb);

/* server.c */
void gate_client_accept (struct gate_daemon *d, struct gate_sandbox *sb);
void gate_conn_event (struct gate_daemon *d, struct gate_conn *c, uint32_t events);
void gate_conn_close (struct gate_daemon *d, struct gate_conn *c);
/* Queue an answer; reason (text/plain, a newline is added) or body. */
void gate_conn_reply (struct gate_daemon *d, struct gate_conn *c, int status, const char *content_type,
                      const char *extra_headers, const char *body, size_t body_len);
void gate_conn_reply_text (struct gate_daemon *d, struct gate_conn *c, int status, const char *extra_headers,
                           const char *reason);
/* Queue raw bytes (ownership of buf passes). */
void gate_conn_send (struct gate_daemon *d, struct gate_conn *c, char *buf, size_t len, bool close_after);
void gate_conn_sweep (struct gate_daemon *d, double now);
struct gate_conn *gate_conn_new (struct gate_daemon *d, int fd, enum gate_kind kind, struct gate_sandbox *sb);
/* Grant queued requests their share of the global budget, and refuse those whose wait is over. */
void gate_sched_run (struct gate_daemon *d, double now);
void gate_counters_add (struct gate_daemon *d, struct gate_sandbox *sb, size_t field_offset);
#define GATE_COUNT(d, sb, field) gate_counters_add ((d), (sb), offsetof (struct gate_counters, field))

/* upstream.c */
/* Start a call for sb (cache_key may be NULL) with waiter c. On failure to even connect, the
 * waiter gets its 503 here. */
void gate_upcall_start (struct gate_daemon *d, struct gate_sandbox *sb, const struct gate_api_call *call,
                        struct gate_conn *c);
/* A call in flight from sb for key, or NULL. */
struct gate_upcall *gate_upcall_find (struct gate_daemon *d, struct gate_sandbox *sb, const char *key);
void gate_upcall_add_waiter (struct gate_upcall *u, struct gate_conn *c);
void gate_upcall_remove_waiter (struct gate_upcall *u, struct gate_conn *c);
void gate_upcall_event (struct gate_daemon *d, struct gate_upcall *u, uint32_t events);
void gate_upcall_sweep (struct gate_daemon *d, double now);
void gate_upcall_forget_sandbox (struct gate_daemon *d, struct gate_sandbox *sb);

/* control.c */
int gate_control_listen (struct gate_daemon *d, rh_error *err);
void gate_control_accept (struct gate_daemon *d);
void gate_control_request (struct gate_daemon *d, struct gate_conn *c);
int gate_sandbox_create (struct gate_daemon *d, const char *id, struct gate_sandbox **out, rh_error *err);
bool gate_sandbox_remove (struct gate_daemon *d, const char *id);
void gate_sandbox_restore (struct gate_daemon *d);
void gate_sandboxes_close (struct gate_daemon *d);

/* recv without blocking, retried on EINTR: the byte count, 0 at EOF, -1 on an error (errno
 * set), or GATE_RECV_LATER when there is nothing to read yet. */
#define GATE_RECV_LATER (-2)
ssize_t gate_recv (int fd, void *buf, size_t len);

/* Unlink node from the doubly linked list that starts at head (connections, upcalls). */
#define GATE_UNLINK(head, node)                                                                            \
  do                                                                                                       \
    {                                                                                                      \
      if ((node)->prev)                                                                                    \
        (node)->prev->next = (node)->next;                                                                 \
      else                                                                                                 \
        (head) = (node)->next;                                                                             \
      if ((node)->next)                                                                                    \
        (node)->next->prev = (node)->prev;                                                                 \
    }                                                                                                      \
  while (0)

#endif
