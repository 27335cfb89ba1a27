/* [gate] A sandbox's share of the global budget, and its budget's memory across re-creation.
 * Pure: the caller passes the (monotonic) time in seconds; no I/O, no allocation but the memo's.
 *
 * Fair share (issue 17). Every upstream call needs a token from its sandbox's bucket and one
 * from the global bucket. When the global bucket is empty, or other requests already wait for
 * it, a request that has its sandbox's token waits in a queue instead of being refused at once,
 * for at most `max_wait` seconds. Each global token, as it accrues, goes to the waiting sandbox
 * that was granted a global token *least recently* (never granted counts as longest ago; ties go
 * to the earliest waiter); within a sandbox, requests are served first come, first served.
 *
 * What that guarantees: when sandbox H starts waiting, every sandbox served before H was last
 * served before H was; once served, it is more recent than H and cannot pass H again. So H waits
 * for at most one grant per *other waiting sandbox* (however many requests each has queued),
 * plus the accrual of one token: wait <= (other waiting sandboxes + 1) / global_rate. A sandbox
 * that asks rarely is served at the next token while others flood; flooders share the rest round
 * robin. The global bucket still meters every grant (burst + rate * T over any T), and a
 * sandbox's queue is bounded by its own bucket (its token is taken when it starts waiting, and
 * given back if the wait ends without a grant).
 *
 * Memory (issue 17). Removing a sandbox and creating one with the same id must not mint a fresh
 * burst: gate_memo keeps a removed sandbox's bucket and last grant time until the bucket would
 * have refilled completely (after that a fresh bucket is the same thing), at most
 * GATE_MEMO_MAX ids (when full, the entry nearest to full refill goes first). */
#ifndef GATE_SHARE_H
#define GATE_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bucket.h"

struct gate_share;

struct gate_share_waiter
{
  struct gate_share *owner; /* NULL when not queued */
  struct gate_share_waiter *next;
  double deadline;
  uint64_t seq;
};

/* One per sandbox. */
struct gate_share
{
  double last_grant; /* -INFINITY: never granted */
  struct gate_share_waiter *head, *tail;
  unsigned nwaiting;
  struct gate_share *prev_active, *next_active; /* in gate_sched.active while nwaiting > 0 */
};

struct gate_sched
{
  struct gate_bucket global;
  double max_wait;   /* seconds; 0: never wait (refuse at once, first come first served) */
  struct gate_share *active;
  unsigned nwaiting; /* all sandboxes */
  uint64_t seq;
};

enum gate_admit
{
  GATE_ADMIT_GRANTED = 0,     /* both tokens taken: call upstream now */
  GATE_ADMIT_QUEUED,          /* sandbox token taken; w waits for a global token */
  GATE_ADMIT_SANDBOX_LIMITED, /* the sandbox's bucket is empty: nothing taken */
  GATE_ADMIT_GLOBAL_LIMITED,  /* the global bucket is empty and max_wait is 0: nothing taken */
};

void gate_sched_init (struct gate_sched *s, double rate, double burst, double max_wait, double now);
void gate_share_init (struct gate_share *sh);

/* Decide for one request of sandbox sh (bucket sb). On a limit, *retry_after is a hint in
 * seconds. On QUEUED, w belongs to the scheduler until it is granted, expired or cancelled. */
enum gate_admit gate_sched_admit (struct gate_sched *s, struct gate_share *sh, struct gate_bucket *sb, double now,
                                  struct gate_share_waiter *w, double *retry_after);
/* The next waiter to call upstream now (its global token taken), or NULL. Call until NULL. */
struct gate_share_waiter *gate_sched_next (struct gate_sched *s, double now);
/* A waiter whose wait is over without a grant (dequeued), or NULL. Call until NULL. The caller
 * gives its sandbox token back (gate_bucket_refund) and answers 429. */
struct gate_share_waiter *gate_sched_expired (struct gate_sched *s, double now);
/* Take w out of the queue (its client went away). No-op when w is not queued. */
void gate_sched_cancel (struct gate_sched *s, struct gate_share_waiter *w);
/* Seconds until gate_sched_next or gate_sched_expired may return something; -1 when nothing
 * waits. */
double gate_sched_timeout (struct gate_sched *s, double now);
/* A Retry-After hint for a request refused after waiting: the time for the queue to drain. */
double gate_sched_retry_hint (struct gate_sched *s, double now);

#define GATE_MEMO_MAX 4096

struct gate_memo_entry
{
  char *id;
  struct gate_bucket bucket;
  double last_grant;
  double full_at; /* when the bucket would be full again: the entry is dropped then */
};

struct gate_memo
{
  struct gate_memo_entry *v;
  size_t n, cap;
};

void gate_memo_free (struct gate_memo *m);
/* Remember a removed sandbox's bucket and last grant time (nothing when the bucket is full). */
void gate_memo_save (struct gate_memo *m, const char *id, const struct gate_bucket *b, double last_grant, double now);
/* For a sandbox being created: its remembered bucket (refilled up to now) and last grant time,
 * and forget them. Returns false (nothing set) when there is nothing to remember. */
bool gate_memo_take (struct gate_memo *m, const char *id, double now, struct gate_bucket *b, double *last_grant);
size_t gate_memo_size (struct gate_memo *m, double now);

#endif
