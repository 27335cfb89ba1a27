/* [gate] Calls to the real TEE server. One call per upstream request; identical cacheable
 * requests from the same sandbox that arrive while it is in flight wait on it instead of making
 * their own (so a burst of identical requests still costs one call). The answer is parsed with
 * the same strict parser as requests, capped at gate.max_response_bytes: a malformed, oversized
 * or slow answer is a 502/504 for the waiters, never a crash. */
#include "gate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

#define UPSTREAM_ERROR_BODY_MAX 4096

struct gate_upcall *
gate_upcall_find (struct gate_daemon *d, struct gate_sandbox *sb, const char *key)
{
  for (struct gate_upcall *u = d->upcalls; u; u = u->next)
    if (u->sb == sb && u->cache_key && strcmp (u->cache_key, key) == 0)
      return u;
  return NULL;
}

void
gate_upcall_add_waiter (struct gate_upcall *u, struct gate_conn *c)
{
  c->upcall = u;
  c->wait_next = u->waiters;
  u->waiters = c;
}

void
gate_upcall_remove_waiter (struct gate_upcall *u, struct gate_conn *c)
{
  for (struct gate_conn **p = &u->waiters; *p; p = &(*p)->wait_next)
    if (*p == c)
      {
        *p = c->wait_next;
        break;
      }
  c->upcall = NULL;
  c->wait_next = NULL;
}

static void
destroy (struct gate_daemon *d, struct gate_upcall *u)
{
  for (struct gate_conn *w = u->waiters; w; w = w->wait_next)
    w->upcall = NULL;
  if (u->fd >= 0)
    {
      gate_ep_del (d, u->fd);
      close (u->fd);
    }
  GATE_UNLINK (d->upcalls, u);
  u->waiters = NULL;
  gate_bury (d, &u->ev);
}

void
gate_upcall_free (struct gate_upcall *u)
{
  gate_http_reader_free (&u->reader);
  free (u->cache_key);
  free (u->req);
  free (u);
}

/* Answer every waiter the same way, then drop the call. */
static void
deliver (struct gate_daemon *d, struct gate_upcall *u, int status, const char *content_type, const char *body,
         size_t body_len, bool text)
{
  struct gate_conn *w = u->waiters;

  u->waiters = NULL;
  while (w)
    {
      struct gate_conn *next = w->wait_next;
      w->upcall = NULL;
      w->wait_next = NULL;
      if (text)
        gate_conn_reply_text (d, w, status, status == 503 ? "Retry-After: 1\r\n" : NULL, body);
      else
        gate_conn_reply (d, w, status, content_type, NULL, body, body_len);
      w = next;
    }
  destroy (d, u);
}

static void
fail (struct gate_daemon *d, struct gate_upcall *u, int status, const char *reason)
{
  GATE_COUNT (d, u->sb, upstream_errors);
  rh_log_warn (d->log, "sandbox %s: attestation service call failed (%d): %s", u->sb ? u->sb->id : "(removed)",
               status, reason);
  deliver (d, u, status, NULL, reason, strlen (reason), true);
}

/* Keep an upstream Content-Type only when it is plain and short. */
static const char *
safe_content_type (const char *ct)
{
  size_t n = strlen (ct);

  if (n == 0 || n > 100)
    return "text/plain";
  for (size_t i = 0; i < n; i++)
    {
      char c = ct[i];
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr ("/;=+.- _", c)))
        return "text/plain";
    }
  return ct;
}

static void
complete (struct gate_daemon *d, struct gate_upcall *u)
{
  int status = (int) u->reader.parser.status_code;
  const char *body = u->reader.body ? u->reader.body : "";
  size_t len = u->reader.body_len;
  const char *ctype = safe_content_type (u->reader.content_type);

  if (status == 200)
    {
      double exp, iat, ttl;
      if (u->cache_key && u->sb)
        {
          if (gate_jwt_times (body, len, &exp, &iat) == 0
              && (ttl = gate_cache_ttl (gate_now_wall (), exp, iat, d->g->cache_fraction)) > 0)
            gate_cache_put (&u->sb->cache, u->cache_key, body, len, ctype, ttl, gate_now ());
          else
            rh_log_debug (d->log, "sandbox %s: token not cached (no usable exp claim)", u->sb->id);
        }
      deliver (d, u, 200, ctype, body, len, false);
      return;
    }
  if (status >= 400 && status <= 599)
    {
      /* The service's own refusal (a 400 for a request it rejects, say) is the workload's to
       * read; only server errors count against the service. */
      if (status >= 500)
        GATE_COUNT (d, u->sb, upstream_errors);
      deliver (d, u, status, "text/plain; charset=utf-8", body, len < UPSTREAM_ERROR_BODY_MAX ? len : UPSTREAM_ERROR_BODY_MAX,
               false);
      return;
    }
  {
    char reason[128];
    snprintf (reason, sizeof reason, "attestation service answered with unexpected status %d", status);
    fail (d, u, 502, reason);
  }
}

void
gate_upcall_start (struct gate_daemon *d, struct gate_sandbox *sb, const struct gate_api_call *call,
                   struct gate_conn *c)
{
  struct gate_upcall *u = rh_xmalloc0 (sizeof *u);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };

  u->ev.kind = GK_UPSTREAM;
  u->fd = -1;
  u->sb = sb;
  u->cache_key = call->cacheable ? rh_xstrdup (call->cache_key) : NULL;
  if (call->body)
    u->req = rh_xasprintf ("%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                           "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                           call->method, call->path, strlen (call->body), call->body);
  else
    u->req = rh_xasprintf ("%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", call->method, call->path);
  u->req_len = strlen (u->req);
  gate_http_response_reader_init (&u->reader, &d->upstream_limits);
  u->deadline = gate_now () + (double) d->g->upstream_timeout_ms / 1000.0;
  u->next = d->upcalls;
  if (d->upcalls)
    d->upcalls->prev = u;
  d->upcalls = u;
  gate_upcall_add_waiter (u, c);

  u->fd = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (u->fd < 0)
    {
      fail (d, u, 503, "attestation service unavailable: cannot create a socket");
      return;
    }
  strncpy (addr.sun_path, d->g->upstream, sizeof addr.sun_path - 1);
  if (connect (u->fd, (struct sockaddr *) &addr, sizeof addr) < 0 && errno != EINPROGRESS)
    {
      /* ENOENT/ECONNREFUSED: no server; EAGAIN: its backlog is full. All mean "not now". The
       * service never saw this call: its rate-limit token goes back. */
      _cleanup_free_ char *reason = rh_xasprintf ("attestation service unavailable (gate.upstream %s: %s)",
                                                  d->g->upstream, strerror (errno));
      gate_bucket_refund (&sb->bucket);
      gate_bucket_refund (&d->sched.global);
      fail (d, u, 503, reason);
      return;
    }
  /* Counted once connected: "upstream calls" are calls the service actually received. */
  GATE_COUNT (d, sb, upstream_calls);
  if (gate_ep_set (d, u->fd, EPOLLOUT, u, true) < 0)
    fail (d, u, 503, "attestation service unavailable: epoll");
}

static void
upstream_readable (struct gate_daemon *d, struct gate_upcall *u)
{
  char buf[16384];

  for (;;)
    {
      ssize_t n = gate_recv (u->fd, buf, sizeof buf);
      enum gate_http_state st;

      if (n == GATE_RECV_LATER)
        return;
      if (n < 0)
        {
          fail (d, u, 502, "attestation service connection failed mid-answer");
          return;
        }
      st = n == 0 ? gate_http_reader_eof (&u->reader) : gate_http_reader_feed (&u->reader, buf, (size_t) n);
      if (st == GATE_HTTP_INCOMPLETE)
        continue;
      if (st == GATE_HTTP_FAILED)
        {
          _cleanup_free_ char *reason = rh_xasprintf ("malformed answer from the attestation service (%s)",
                                                      u->reader.reason ? u->reader.reason : "unparsable");
          fail (d, u, 502, reason);
          return;
        }
      complete (d, u);
      return;
    }
}

void
gate_upcall_event (struct gate_daemon *d, struct gate_upcall *u, uint32_t events)
{
  if (u->req_off < u->req_len)
    {
      while (u->req_off < u->req_len)
        {
          ssize_t n = send (u->fd, u->req + u->req_off, u->req_len - u->req_off, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
          if (n < 0)
            {
              _cleanup_free_ char *reason = rh_xasprintf ("attestation service unavailable (gate.upstream %s: %s)",
                                                          d->g->upstream, strerror (errno));
              fail (d, u, 503, reason);
              return;
            }
          u->req_off += (size_t) n;
        }
      /* Do not half-close: some servers take a client's EOF as "gone" and cancel the call. */
      gate_ep_set (d, u->fd, EPOLLIN, u, false);
      return;
    }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
    upstream_readable (d, u);
}

void
gate_upcall_sweep (struct gate_daemon *d, double now)
{
  struct gate_upcall *u = d->upcalls;

  while (u)
    {
      struct gate_upcall *next = u->next;
      if (now >= u->deadline)
        {
          _cleanup_free_ char *reason = rh_xasprintf ("attestation service did not answer within "
                                                      "gate.upstream_timeout_ms (%lld ms)",
                                                      (long long) d->g->upstream_timeout_ms);
          fail (d, u, 504, reason);
        }
      u = next;
    }
}

void
gate_upcall_forget_sandbox (struct gate_daemon *d, struct gate_sandbox *sb)
{
  struct gate_upcall *u = d->upcalls;

  while (u)
    {
      struct gate_upcall *next = u->next;
      if (u->sb == sb)
        {
          static const char reason[] = "the sandbox's gate socket was removed";
          /* Its connections are normally closed already; answer any that are not. */
          deliver (d, u, 503, NULL, reason, strlen (reason), true);
        }
      u = next;
    }
}
