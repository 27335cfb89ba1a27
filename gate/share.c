/* [gate] Fair share of the global budget, and bucket memory across re-creation; see share.h. */
#include "share.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void
gate_sched_init (struct gate_sched *s, double rate, double burst, double max_wait, double now)
{
  memset (s, 0, sizeof *s);
  gate_bucket_init (&s->global, rate, burst, now);
  s->max_wait = max_wait > 0 ? max_wait : 0;
}

void
gate_share_init (struct gate_share *sh)
{
  memset (sh, 0, sizeof *sh);
  sh->last_grant = -INFINITY;
}

static void
take (struct gate_bucket *b)
{
  b->tokens -= 1.0;
}

static void
activate (struct gate_sched *s, struct gate_share *sh)
{
  sh->prev_active = NULL;
  sh->next_active = s->active;
  if (s->active)
    s->active->prev_active = sh;
  s->active = sh;
}

static void
deactivate (struct gate_sched *s, struct gate_share *sh)
{
  if (sh->prev_active)
    sh->prev_active->next_active = sh->next_active;
  else
    s->active = sh->next_active;
  if (sh->next_active)
    sh->next_active->prev_active = sh->prev_active;
  sh->prev_active = sh->next_active = NULL;
}

static void
enqueue (struct gate_sched *s, struct gate_share *sh, struct gate_share_waiter *w, double now)
{
  w->owner = sh;
  w->next = NULL;
  w->deadline = now + s->max_wait;
  w->seq = ++s->seq;
  if (sh->tail)
    sh->tail->next = w;
  else
    sh->head = w;
  sh->tail = w;
  if (sh->nwaiting++ == 0)
    activate (s, sh);
  s->nwaiting++;
}

/* Unlink w (prev is its predecessor in its sandbox's queue, or NULL for the head). */
static void
unlink_waiter (struct gate_sched *s, struct gate_share_waiter *w, struct gate_share_waiter *prev)
{
  struct gate_share *sh = w->owner;

  if (prev)
    prev->next = w->next;
  else
    sh->head = w->next;
  if (sh->tail == w)
    sh->tail = prev;
  w->next = NULL;
  w->owner = NULL;
  s->nwaiting--;
  if (--sh->nwaiting == 0)
    deactivate (s, sh);
}

enum gate_admit
gate_sched_admit (struct gate_sched *s, struct gate_share *sh, struct gate_bucket *sb, double now,
                  struct gate_share_waiter *w, double *retry_after)
{
  double sw = gate_bucket_wait (sb, now);

  *retry_after = 0;
  if (sw > 0)
    {
      *retry_after = sw;
      return GATE_ADMIT_SANDBOX_LIMITED;
    }
  /* Nobody waiting and a token there: the uncontended path, as before. When others wait, a new
   * request never jumps the queue, even if a token has accrued since the last grant. */
  if (s->nwaiting == 0 && gate_bucket_wait (&s->global, now) == 0)
    {
      take (sb);
      take (&s->global);
      sh->last_grant = now;
      return GATE_ADMIT_GRANTED;
    }
  if (s->max_wait <= 0)
    {
      *retry_after = gate_bucket_wait (&s->global, now);
      return GATE_ADMIT_GLOBAL_LIMITED;
    }
  /* The sandbox's token is spent now: its queue can never be longer than its own budget. */
  take (sb);
  enqueue (s, sh, w, now);
  return GATE_ADMIT_QUEUED;
}

struct gate_share_waiter *
gate_sched_next (struct gate_sched *s, double now)
{
  struct gate_share *best = NULL;
  struct gate_share_waiter *w;

  if (s->nwaiting == 0 || gate_bucket_wait (&s->global, now) > 0)
    return NULL;
  for (struct gate_share *sh = s->active; sh; sh = sh->next_active)
    if (best == NULL || sh->last_grant < best->last_grant
        || (sh->last_grant == best->last_grant && sh->head->seq < best->head->seq))
      best = sh;
  w = best->head;
  unlink_waiter (s, w, NULL);
  take (&s->global);
  best->last_grant = now;
  return w;
}

struct gate_share_waiter *
gate_sched_expired (struct gate_sched *s, double now)
{
  /* Every waiter waits max_wait: a sandbox's head is its earliest deadline. */
  for (struct gate_share *sh = s->active; sh; sh = sh->next_active)
    if (sh->head->deadline <= now)
      {
        struct gate_share_waiter *w = sh->head;
        unlink_waiter (s, w, NULL);
        return w;
      }
  return NULL;
}

void
gate_sched_cancel (struct gate_sched *s, struct gate_share_waiter *w)
{
  struct gate_share_waiter *prev = NULL;

  if (w->owner == NULL)
    return;
  for (struct gate_share_waiter *p = w->owner->head; p && p != w; p = p->next)
    prev = p;
  unlink_waiter (s, w, prev);
}

double
gate_sched_timeout (struct gate_sched *s, double now)
{
  double t;

  if (s->nwaiting == 0)
    return -1;
  t = gate_bucket_wait (&s->global, now);
  for (struct gate_share *sh = s->active; sh; sh = sh->next_active)
    if (sh->head->deadline - now < t)
      t = sh->head->deadline - now;
  return t > 0 ? t : 0;
}

double
gate_sched_retry_hint (struct gate_sched *s, double now)
{
  return gate_bucket_wait (&s->global, now) + (double) s->nwaiting / s->global.rate;
}

/* ---- memory across re-creation ---- */

static void
memo_drop (struct gate_memo *m, size_t i)
{
  free (m->v[i].id);
  m->v[i] = m->v[--m->n];
}

static void
memo_prune (struct gate_memo *m, double now)
{
  for (size_t i = 0; i < m->n;)
    if (m->v[i].full_at <= now)
      memo_drop (m, i);
    else
      i++;
}

static size_t
memo_find (struct gate_memo *m, const char *id)
{
  for (size_t i = 0; i < m->n; i++)
    if (strcmp (m->v[i].id, id) == 0)
      return i;
  return (size_t) -1;
}

void
gate_memo_free (struct gate_memo *m)
{
  while (m->n > 0)
    memo_drop (m, m->n - 1);
  free (m->v);
  m->v = NULL;
  m->cap = 0;
}

void
gate_memo_save (struct gate_memo *m, const char *id, const struct gate_bucket *b, double last_grant, double now)
{
  struct gate_bucket copy = *b;
  size_t i;

  memo_prune (m, now);
  i = memo_find (m, id);
  if (i != (size_t) -1)
    memo_drop (m, i);
  gate_bucket_refill (&copy, now);
  if (copy.tokens >= copy.burst)
    return; /* full: a fresh bucket is the same */
  if (m->n == GATE_MEMO_MAX)
    {
      size_t first = 0;
      for (i = 1; i < m->n; i++)
        if (m->v[i].full_at < m->v[first].full_at)
          first = i;
      memo_drop (m, first);
    }
  if (m->n == m->cap)
    {
      m->cap = m->cap ? m->cap * 2 : 16;
      m->v = rh_xrealloc (m->v, m->cap * sizeof *m->v);
    }
  m->v[m->n].id = rh_xstrdup (id);
  m->v[m->n].bucket = copy;
  m->v[m->n].last_grant = last_grant;
  m->v[m->n].full_at = now + (copy.burst - copy.tokens) / copy.rate;
  m->n++;
}

bool
gate_memo_take (struct gate_memo *m, const char *id, double now, struct gate_bucket *b, double *last_grant)
{
  size_t i;

  memo_prune (m, now);
  i = memo_find (m, id);
  if (i == (size_t) -1)
    return false;
  *b = m->v[i].bucket;
  gate_bucket_refill (b, now);
  *last_grant = m->v[i].last_grant;
  memo_drop (m, i);
  return true;
}

size_t
gate_memo_size (struct gate_memo *m, double now)
{
  memo_prune (m, now);
  return m->n;
}
