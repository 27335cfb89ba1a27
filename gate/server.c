/* [gate] Workload connections: read one request at a time, decide (refuse, cache, rate-limit,
 * or call upstream), answer. See gate.h for the state machine. */
#include "gate.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

#define LINGER_SECONDS 1.0
#define LINGER_MAX_BYTES (256u * 1024)
#define CONTROL_TIMEOUT 5.0

void
gate_counters_add (struct gate_daemon *d, struct gate_sandbox *sb, size_t field_offset)
{
  (*(uint64_t *) ((char *) &d->totals + field_offset))++;
  if (sb)
    (*(uint64_t *) ((char *) &sb->stats + field_offset))++;
}

static double
client_timeout (const struct gate_daemon *d)
{
  return (double) d->g->client_timeout_ms / 1000.0;
}

struct gate_conn *
gate_conn_new (struct gate_daemon *d, int fd, enum gate_kind kind, struct gate_sandbox *sb)
{
  struct gate_conn *c = rh_xmalloc0 (sizeof *c);

  c->ev.kind = kind;
  c->fd = fd;
  c->sb = sb;
  c->state = GC_READ;
  c->deadline = gate_now () + (kind == GK_CLIENT ? client_timeout (d) : CONTROL_TIMEOUT);
  if (kind == GK_CLIENT)
    gate_http_reader_init (&c->reader, &d->client_limits);
  if (gate_ep_set (d, fd, EPOLLIN, c, true) < 0)
    {
      rh_log_warn (d->log, "epoll_ctl: %s", strerror (errno));
      close (fd);
      gate_http_reader_free (&c->reader);
      free (c);
      return NULL;
    }
  c->next = d->conns;
  if (d->conns)
    d->conns->prev = c;
  d->conns = c;
  if (kind == GK_CLIENT)
    {
      sb->nconns++;
      d->nconns++;
    }
  return c;
}

/* A queued request leaves the queue without a grant: its sandbox token goes back (the service
 * never saw it). */
static void
unqueue (struct gate_daemon *d, struct gate_conn *c)
{
  if (c->state != GC_QUEUED)
    return;
  gate_sched_cancel (&d->sched, &c->waiter);
  gate_bucket_refund (&c->sb->bucket);
  gate_api_call_free (&c->queued);
  c->state = GC_WAIT;
}

ssize_t
gate_recv (int fd, void *buf, size_t len)
{
  for (;;)
    {
      ssize_t n = recv (fd, buf, len, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return GATE_RECV_LATER;
      return n;
    }
}

void
gate_conn_close (struct gate_daemon *d, struct gate_conn *c)
{
  unqueue (d, c);
  if (c->upcall)
    gate_upcall_remove_waiter (c->upcall, c);
  gate_ep_del (d, c->fd);
  close (c->fd);
  GATE_UNLINK (d->conns, c);
  if (c->ev.kind == GK_CLIENT)
    {
      c->sb->nconns--;
      d->nconns--;
    }
  gate_bury (d, &c->ev);
}

void
gate_conn_free (struct gate_conn *c)
{
  gate_api_call_free (&c->queued);
  gate_http_reader_free (&c->reader);
  free (c->in);
  free (c->out);
  free (c);
}

/* Shed a connection we will not serve: a short canned answer, best effort, then close. */
static void
shed (int fd, const char *reason)
{
  _cleanup_free_ char *body = rh_xasprintf ("runsc-host-gate: %s\n", reason);
  _cleanup_free_ char *buf = NULL;
  size_t len;

  gate_http_format_response (503, "text/plain", "Retry-After: 1\r\n", body, strlen (body), false, &buf, &len);
  if (send (fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
    { /* best effort */
    }
  close (fd);
}

void
gate_client_accept (struct gate_daemon *d, struct gate_sandbox *sb)
{
  for (int i = 0; i < 64; i++)
    {
      int fd = accept4 (sb->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

      if (fd < 0)
        {
          if (errno == EINTR)
            continue;
          if ((errno == EMFILE || errno == ENFILE) && d->reserve_fd >= 0)
            {
              /* Level-triggered epoll would spin on a backlog we cannot accept: give up the
               * spare fd, take the connection, refuse it, and take the spare back. */
              close (d->reserve_fd);
              fd = accept4 (sb->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
              if (fd >= 0)
                shed (fd, "out of file descriptors");
              d->reserve_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
              rh_log_warn (d->log, "out of file descriptors: refusing connections");
            }
          return;
        }
      if (d->nconns >= (uint64_t) d->g->max_connections || sb->nconns >= (uint64_t) d->g->max_connections_per_sandbox)
        {
          GATE_COUNT (d, sb, requests);
          GATE_COUNT (d, sb, limited);
          shed (fd, "too many connections (gate.max_connections_per_sandbox / gate.max_connections)");
          continue;
        }
      gate_conn_new (d, fd, GK_CLIENT, sb);
    }
}

/* Write what is queued; then linger (close_after) or wait for the next request. */
static void
try_write (struct gate_daemon *d, struct gate_conn *c)
{
  while (c->out_off < c->out_len)
    {
      ssize_t n = send (c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          gate_ep_set (d, c->fd, EPOLLOUT, c, false);
          return;
        }
      if (n < 0)
        {
          gate_conn_close (d, c);
          return;
        }
      c->out_off += (size_t) n;
    }
  free (c->out);
  c->out = NULL;
  c->out_len = c->out_off = 0;
  if (c->close_after)
    {
      /* Half-close and drain: closing with unread input would reset the connection, and the
       * peer could lose the answer we just sent. */
      shutdown (c->fd, SHUT_WR);
      c->state = GC_LINGER;
      c->drained = 0;
      c->deadline = gate_now () + LINGER_SECONDS;
      gate_ep_set (d, c->fd, EPOLLIN, c, false);
      return;
    }
  gate_http_reader_free (&c->reader);
  gate_http_reader_init (&c->reader, &d->client_limits);
  c->state = GC_READ;
  c->deadline = gate_now () + client_timeout (d);
  gate_ep_set (d, c->fd, EPOLLIN, c, false);
}

void
gate_conn_send (struct gate_daemon *d, struct gate_conn *c, char *buf, size_t len, bool close_after)
{
  free (c->out);
  c->out = buf;
  c->out_len = len;
  c->out_off = 0;
  c->close_after = close_after;
  c->upcall = NULL;
  c->state = GC_WRITE;
  c->deadline = gate_now () + (c->ev.kind == GK_CLIENT ? client_timeout (d) : CONTROL_TIMEOUT);
  try_write (d, c);
}

void
gate_conn_reply (struct gate_daemon *d, struct gate_conn *c, int status, const char *content_type,
                 const char *extra_headers, const char *body, size_t body_len)
{
  char *buf = NULL;
  size_t len = 0;

  gate_http_format_response (status, content_type, extra_headers, body, body_len, !c->close_after, &buf, &len);
  gate_conn_send (d, c, buf, len, c->close_after);
}

void
gate_conn_reply_text (struct gate_daemon *d, struct gate_conn *c, int status, const char *extra_headers,
                      const char *reason)
{
  _cleanup_free_ char *body = rh_xasprintf ("runsc-host-gate: %s\n", reason);
  gate_conn_reply (d, c, status, "text/plain; charset=utf-8", extra_headers, body, strlen (body));
}

static void
wait_upstream (struct gate_daemon *d, struct gate_conn *c)
{
  c->state = GC_WAIT;
  c->deadline = 0; /* the upstream call has its own deadline */
  /* No events while waiting: a client that half-closed after its request still wants the
   * answer. EPOLLHUP (both directions gone) is reported regardless and ends the wait. */
  gate_ep_set (d, c->fd, 0, c, false);
}

static void
refuse_rate (struct gate_daemon *d, struct gate_conn *c, double sb_wait, double global_wait, bool waited)
{
  double wait = sb_wait > global_wait ? sb_wait : global_wait;
  int secs = (int) ceil (wait);
  char hdr[64];
  _cleanup_free_ char *reason = NULL;

  if (secs < 1)
    secs = 1;
  snprintf (hdr, sizeof hdr, "Retry-After: %d\r\n", secs);
  if (sb_wait >= global_wait)
    reason = rh_xasprintf ("rate limited: this sandbox's attestation budget is spent (gate.sandbox_rate %g/s, "
                           "gate.sandbox_burst %lld); retry after %d s",
                           d->g->sandbox_rate, (long long) d->g->sandbox_burst, secs);
  else if (waited)
    reason = rh_xasprintf ("rate limited: the VM's attestation budget is spent (gate.global_rate %g/s, "
                           "gate.global_burst %lld) and no fair share of it came within gate.global_wait_ms "
                           "(%lld ms); retry after %d s",
                           d->g->global_rate, (long long) d->g->global_burst, (long long) d->g->global_wait_ms, secs);
  else
    reason = rh_xasprintf ("rate limited: the VM's attestation budget is spent (gate.global_rate %g/s, "
                           "gate.global_burst %lld); retry after %d s",
                           d->g->global_rate, (long long) d->g->global_burst, secs);
  GATE_COUNT (d, c->sb, limited);
  rh_log_debug (d->log, "sandbox %s: 429 %s", c->sb->id, reason);
  gate_conn_reply_text (d, c, 429, hdr, reason);
}

static void
handle_request (struct gate_daemon *d, struct gate_conn *c)
{
  struct gate_sandbox *sb = c->sb;
  struct gate_http_request req;
  struct gate_api_call call = { 0 };
  struct gate_api_refusal ref;
  const struct gate_cache_entry *hit;
  struct gate_upcall *u;
  double now, retry;

  GATE_COUNT (d, sb, requests);
  if (gate_http_reader_take (&c->reader, &req) != GATE_HTTP_COMPLETE)
    {
      GATE_COUNT (d, sb, bad_requests);
      c->close_after = true;
      gate_conn_reply_text (d, c, c->reader.status, c->reader.status == 405 ? "Allow: GET, POST\r\n" : NULL,
                            c->reader.reason);
      return;
    }
  c->close_after = !req.keep_alive;
  if (gate_api_classify (d->g, &req, &call, &ref) < 0)
    {
      if (ref.denied)
        GATE_COUNT (d, sb, denied);
      else
        GATE_COUNT (d, sb, bad_requests);
      rh_log_debug (d->log, "sandbox %s: %d %s", sb->id, ref.status, ref.reason);
      gate_conn_reply_text (d, c, ref.status, ref.status == 405 ? "Allow: POST\r\n" : NULL, ref.reason);
      goto out;
    }
  now = gate_now ();
  if (call.cacheable)
    {
      hit = gate_cache_get (&sb->cache, call.cache_key, now);
      if (hit)
        {
          GATE_COUNT (d, sb, cache_hits);
          gate_conn_reply (d, c, 200, hit->content_type, NULL, hit->body, hit->body_len);
          goto out;
        }
      u = gate_upcall_find (d, sb, call.cache_key);
      if (u)
        {
          /* The same question is already on its way upstream: share its answer. */
          GATE_COUNT (d, sb, cache_hits);
          wait_upstream (d, c);
          gate_upcall_add_waiter (u, c);
          goto out;
        }
    }
  switch (gate_sched_admit (&d->sched, &sb->share, &sb->bucket, now, &c->waiter, &retry))
    {
    case GATE_ADMIT_SANDBOX_LIMITED:
      refuse_rate (d, c, retry, 0, false);
      goto out;
    case GATE_ADMIT_GLOBAL_LIMITED:
      refuse_rate (d, c, 0, retry, false);
      goto out;
    case GATE_ADMIT_QUEUED:
      /* Wait for a fair share of the global budget (gate_sched_run grants it, or refuses once
       * gate.global_wait_ms has passed). Like GC_WAIT: no events but the client's hang-up. */
      rh_log_debug (d->log, "sandbox %s: waiting for a share of the global budget (%u waiting)", sb->id,
                    d->sched.nwaiting);
      c->queued = call;
      memset (&call, 0, sizeof call);
      c->state = GC_QUEUED;
      c->deadline = 0;
      gate_ep_set (d, c->fd, 0, c, false);
      goto out;
    case GATE_ADMIT_GRANTED:
      break;
    }
  rh_log_debug (d->log, "sandbox %s: upstream %s %s (audience %s, token_type %s)", sb->id, call.method, call.path,
                call.audience ? call.audience : "-", call.token_type ? call.token_type : "-");
  wait_upstream (d, c);
  gate_upcall_start (d, sb, &call, c);
out:
  gate_api_call_free (&call);
  gate_http_request_free (&req);
}

static void
client_readable (struct gate_daemon *d, struct gate_conn *c)
{
  char buf[16384];

  for (int i = 0; i < 4; i++)
    {
      ssize_t n = gate_recv (c->fd, buf, sizeof buf);
      enum gate_http_state st;

      if (n == GATE_RECV_LATER)
        return;
      if (n < 0)
        {
          gate_conn_close (d, c);
          return;
        }
      if (n == 0)
        {
          if (!c->reader.started)
            {
              gate_conn_close (d, c); /* an idle connection ended: nothing to answer */
              return;
            }
          st = gate_http_reader_eof (&c->reader);
        }
      else
        st = gate_http_reader_feed (&c->reader, buf, (size_t) n);
      if (st == GATE_HTTP_INCOMPLETE)
        continue;
      if (st == GATE_HTTP_FAILED)
        {
          GATE_COUNT (d, c->sb, requests);
          GATE_COUNT (d, c->sb, bad_requests);
          rh_log_debug (d->log, "sandbox %s: %d %s", c->sb->id, c->reader.status, c->reader.reason);
          c->close_after = true;
          gate_conn_reply_text (d, c, c->reader.status, c->reader.status == 405 ? "Allow: GET, POST\r\n" : NULL,
                                c->reader.reason);
          return;
        }
      handle_request (d, c);
      return;
    }
}

static void
linger_readable (struct gate_daemon *d, struct gate_conn *c)
{
  char buf[16384];

  for (;;)
    {
      ssize_t n = recv (c->fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      if (n <= 0 || (c->drained += (size_t) n) > LINGER_MAX_BYTES)
        {
          gate_conn_close (d, c);
          return;
        }
    }
}

static void
control_readable (struct gate_daemon *d, struct gate_conn *c)
{
  char buf[4096];
  ssize_t n;

  n = recv (c->fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
    return;
  if (n < 0)
    {
      gate_conn_close (d, c);
      return;
    }
  if (n > 0)
    {
      if (c->in_len + (size_t) n > RH_GATE_CONTROL_MAX_REQUEST)
        {
          static const char msg[] = "{\"ok\":false,\"error\":\"control request too large\"}\n";
          gate_conn_send (d, c, rh_xstrdup (msg), sizeof msg - 1, true);
          return;
        }
      c->in = rh_xrealloc (c->in, c->in_len + (size_t) n + 1);
      memcpy (c->in + c->in_len, buf, (size_t) n);
      c->in_len += (size_t) n;
      c->in[c->in_len] = '\0';
      if (memchr (buf, '\n', (size_t) n) == NULL)
        return;
    }
  else if (c->in_len == 0)
    {
      gate_conn_close (d, c);
      return;
    }
  gate_control_request (d, c);
}

void
gate_conn_event (struct gate_daemon *d, struct gate_conn *c, uint32_t events)
{
  if (events & EPOLLERR)
    {
      gate_conn_close (d, c);
      return;
    }
  switch (c->state)
    {
    case GC_READ:
      if (c->ev.kind == GK_CONTROL_CONN)
        control_readable (d, c);
      else
        client_readable (d, c);
      return;
    case GC_WRITE:
      try_write (d, c);
      return;
    case GC_LINGER:
      linger_readable (d, c);
      return;
    case GC_QUEUED:
    case GC_WAIT:
      if (events & EPOLLHUP)
        gate_conn_close (d, c); /* the client is gone; the upstream call carries on */
      return;
    }
}

void
gate_conn_sweep (struct gate_daemon *d, double now)
{
  struct gate_conn *c = d->conns;

  while (c)
    {
      struct gate_conn *next = c->next;

      if (c->deadline > 0 && now >= c->deadline)
        {
          if (c->state == GC_READ && c->ev.kind == GK_CLIENT && c->reader.started)
            {
              _cleanup_free_ char *reason = rh_xasprintf ("request not received within gate.client_timeout_ms (%lld ms)",
                                                          (long long) d->g->client_timeout_ms);
              GATE_COUNT (d, c->sb, requests);
              GATE_COUNT (d, c->sb, bad_requests);
              rh_log_debug (d->log, "sandbox %s: 408 slow client", c->sb->id);
              c->close_after = true;
              gate_conn_reply_text (d, c, 408, NULL, reason);
            }
          else
            gate_conn_close (d, c);
        }
      c = next;
    }
}

static struct gate_conn *
conn_of_waiter (struct gate_share_waiter *w)
{
  return (struct gate_conn *) (void *) ((char *) w - offsetof (struct gate_conn, waiter));
}

void
gate_sched_run (struct gate_daemon *d, double now)
{
  struct gate_share_waiter *w;

  while ((w = gate_sched_next (&d->sched, now)) != NULL)
    {
      struct gate_conn *c = conn_of_waiter (w);
      struct gate_sandbox *sb = c->sb;
      struct gate_api_call call = c->queued;
      const struct gate_cache_entry *hit = NULL;
      struct gate_upcall *u = NULL;

      memset (&c->queued, 0, sizeof c->queued);
      wait_upstream (d, c);
      /* While it waited, an identical request of the same sandbox may have been answered, or be
       * on its way: share that, and give both tokens back (the next waiter gets the global one). */
      if (call.cacheable && ((hit = gate_cache_get (&sb->cache, call.cache_key, now)) != NULL
                             || (u = gate_upcall_find (d, sb, call.cache_key)) != NULL))
        {
          gate_bucket_refund (&sb->bucket);
          gate_bucket_refund (&d->sched.global);
          GATE_COUNT (d, sb, cache_hits);
          if (hit)
            gate_conn_reply (d, c, 200, hit->content_type, NULL, hit->body, hit->body_len);
          else
            gate_upcall_add_waiter (u, c);
        }
      else
        {
          rh_log_debug (d->log, "sandbox %s: upstream %s %s after waiting for its share", sb->id, call.method,
                        call.path);
          gate_upcall_start (d, sb, &call, c);
        }
      gate_api_call_free (&call);
    }
  while ((w = gate_sched_expired (&d->sched, now)) != NULL)
    {
      struct gate_conn *c = conn_of_waiter (w);

      gate_bucket_refund (&c->sb->bucket);
      gate_api_call_free (&c->queued);
      c->state = GC_WAIT;
      refuse_rate (d, c, 0, gate_sched_retry_hint (&d->sched, now), true);
    }
}
