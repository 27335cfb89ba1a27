/* [gate] Fair share of the global budget and bucket memory (gate/share.c), on a fake clock.
 *
 * The scenario of issue 17: with the default policy (sandbox 0.2/s burst 5, global 1/s burst
 * 10) N sandboxes flood while an honest one asks once every few seconds. The simulation steps a
 * clock 10 ms at a time for minutes; every flooder tries on every step with up to 32 requests
 * outstanding (gate.max_connections_per_sandbox). Checked: the honest sandbox is always served,
 * within (other waiting sandboxes + 1) / global_rate; the grants never exceed the global
 * bucket's burst + rate * T; the flooders share the rest evenly. And the contrast: with
 * max_wait 0 (first come, first served, the gate before issue 17) the honest sandbox is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "share.h"

#define STEP 0.01
#define MAX_FLOODERS 24
#define PER_SANDBOX 32

struct sim_sandbox
{
  struct gate_share share;
  struct gate_bucket bucket;
  struct gate_share_waiter w[PER_SANDBOX];
  unsigned granted, refused, expired;
};

struct sim
{
  struct gate_sched sched;
  struct sim_sandbox flood[MAX_FLOODERS];
  struct sim_sandbox honest;
  int nflood;
  double honest_gap; /* seconds between an answer and the honest sandbox's next request */
  /* results */
  unsigned grants, honest_asked, honest_served, honest_429, honest_expired;
  double honest_max_wait, honest_max_bound;
};

static struct sim_sandbox *
owner_of (struct sim *s, struct gate_share_waiter *w)
{
  /* The scheduler has let go of w (owner is NULL): find it by address. */
  if (w >= s->honest.w && w < s->honest.w + PER_SANDBOX)
    return &s->honest;
  for (int i = 0; i < s->nflood; i++)
    if (w >= s->flood[i].w && w < s->flood[i].w + PER_SANDBOX)
      return &s->flood[i];
  fail_msg ("waiter of no sandbox");
  return NULL;
}

static struct gate_share_waiter *
free_waiter (struct sim_sandbox *sb)
{
  for (int i = 0; i < PER_SANDBOX; i++)
    if (sb->w[i].owner == NULL)
      return &sb->w[i];
  return NULL;
}

static unsigned
others_waiting (struct sim *s)
{
  unsigned n = 0;
  for (struct gate_share *sh = s->sched.active; sh; sh = sh->next_active)
    n += sh != &s->honest.share;
  return n;
}

/* Run for `seconds`; flooders use their own rate/burst, the honest sandbox the default. */
static void
simulate (struct sim *s, int nflood, double flood_rate, double flood_burst, double max_wait, double seconds)
{
  double honest_next = 1.0, honest_asked_at = 0, honest_bound = 0;
  bool honest_waiting = false;

  memset (s, 0, sizeof *s);
  s->nflood = nflood;
  s->honest_gap = 5.0; /* once every 5 s: the default sandbox_rate's pace */
  gate_sched_init (&s->sched, 1.0, 10, max_wait, 0);
  gate_share_init (&s->honest.share);
  gate_bucket_init (&s->honest.bucket, 0.2, 5, 0);
  for (int i = 0; i < nflood; i++)
    {
      gate_share_init (&s->flood[i].share);
      gate_bucket_init (&s->flood[i].bucket, flood_rate, flood_burst, 0);
    }
  for (long step = 0; step * STEP <= seconds; step++)
    {
      double now = step * STEP;
      struct gate_share_waiter *w;
      double ra;

      /* Flooders: every step, as many requests as they have connections for. */
      for (int i = 0; i < nflood; i++)
        while ((w = free_waiter (&s->flood[i])) != NULL)
          {
            enum gate_admit a = gate_sched_admit (&s->sched, &s->flood[i].share, &s->flood[i].bucket, now, w, &ra);
            if (a == GATE_ADMIT_GRANTED)
              {
                s->flood[i].granted++;
                s->grants++;
                continue;
              }
            if (a != GATE_ADMIT_QUEUED)
              {
                s->flood[i].refused++;
                break;
              }
          }
      /* The honest sandbox: one request, then a pause after its answer. */
      if (!honest_waiting && now >= honest_next)
        {
          enum gate_admit a;
          s->honest_asked++;
          honest_bound = (others_waiting (s) + 1) / s->sched.global.rate;
          a = gate_sched_admit (&s->sched, &s->honest.share, &s->honest.bucket, now, &s->honest.w[0], &ra);
          if (a == GATE_ADMIT_GRANTED)
            {
              s->honest_served++;
              s->grants++;
              honest_next = now + s->honest_gap;
            }
          else if (a == GATE_ADMIT_QUEUED)
            {
              honest_waiting = true;
              honest_asked_at = now;
            }
          else
            {
              s->honest_429++;
              honest_next = now + (ra > 1 ? ra : 1);
            }
        }
      /* The daemon's loop: grants first, then the waits that are over. */
      while ((w = gate_sched_next (&s->sched, now)) != NULL)
        {
          struct sim_sandbox *sb = owner_of (s, w);
          s->grants++;
          if (sb == &s->honest)
            {
              double wait = now - honest_asked_at;
              s->honest_served++;
              honest_waiting = false;
              honest_next = now + s->honest_gap;
              if (wait > s->honest_max_wait)
                s->honest_max_wait = wait;
              if (wait > honest_bound + STEP + 1e-9)
                fail_msg ("honest wait %.2f s at t=%.2f over its bound %.2f s", wait, now, honest_bound);
              if (honest_bound > s->honest_max_bound)
                s->honest_max_bound = honest_bound;
            }
          else
            sb->granted++;
        }
      while ((w = gate_sched_expired (&s->sched, now)) != NULL)
        {
          struct sim_sandbox *sb = owner_of (s, w);
          gate_bucket_refund (&sb->bucket);
          sb->expired++;
          if (sb == &s->honest)
            {
              s->honest_expired++;
              honest_waiting = false;
              honest_next = now + 1;
            }
        }
      /* The global bucket is never overdrawn, whatever the order of events. */
      gate_bucket_refill (&s->sched.global, now);
      assert_true (s->sched.global.tokens > -1e-9);
      assert_true (s->grants <= 10 + 1.0 * now + 1e-9);
    }
}

static void
report (const char *name, struct sim *s, double seconds)
{
  unsigned fmin = ~0u, fmax = 0, fsum = 0, fexp = 0;
  for (int i = 0; i < s->nflood; i++)
    {
      fsum += s->flood[i].granted;
      fexp += s->flood[i].expired;
      fmin = s->flood[i].granted < fmin ? s->flood[i].granted : fmin;
      fmax = s->flood[i].granted > fmax ? s->flood[i].granted : fmax;
    }
  printf ("# %s: %.0f s, %d flooders: grants %u (bound %.0f), flooders %u (each %u..%u, %u waits expired), "
          "honest asked %u served %u 429 %u expired %u, honest max wait %.2f s (bound up to %.2f s)\n",
          name, seconds, s->nflood, s->grants, 10 + seconds, fsum, fmin, fmax, fexp, s->honest_asked,
          s->honest_served, s->honest_429, s->honest_expired, s->honest_max_wait, s->honest_max_bound);
}

static int
spread (const struct sim *s)
{
  int lo = (int) s->flood[0].granted, hi = lo;
  for (int i = 1; i < s->nflood; i++)
    {
      lo = (int) s->flood[i].granted < lo ? (int) s->flood[i].granted : lo;
      hi = (int) s->flood[i].granted > hi ? (int) s->flood[i].granted : hi;
    }
  return hi - lo;
}

/* Issue 17's case: five busy sandboxes at the default rates spend the whole global rate. */
static void
test_five_flooders_defaults (void **state)
{
  static struct sim s;
  simulate (&s, 5, 0.2, 5, 10.0, 600);
  report ("defaults", &s, 600);
  assert_int_equal (s.honest_429, 0);
  assert_int_equal (s.honest_expired, 0);
  assert_int_equal (s.honest_served, s.honest_asked);
  assert_true (s.honest_asked >= 60);
  assert_true (s.honest_max_wait <= 6.0 + STEP);
  /* The budget is used, not wasted: within a few tokens of burst + rate * T. */
  assert_true (s.grants >= 600 - 2);
  /* Flooders share the rest round robin (the first ones also had the global burst at t=0). */
  assert_true (spread (&s) <= 10 + 2);
}

/* Twenty flooders, each allowed five times the global rate on its own. */
static void
test_twenty_heavy_flooders (void **state)
{
  static struct sim s;
  simulate (&s, 20, 5.0, 20, 30.0, 600);
  report ("heavy", &s, 600);
  assert_int_equal (s.honest_429, 0);
  assert_int_equal (s.honest_expired, 0);
  assert_true (s.honest_served + 1 >= s.honest_asked); /* the last may still wait at the end */
  assert_true (s.honest_asked >= 25);
  assert_true (s.honest_max_wait <= 21.0 + STEP);
  assert_true (s.grants <= 10 + 600);
  assert_true (spread (&s) <= 10 + 2);
}

/* Before issue 17 (no waiting: first come, first served) the honest sandbox is refused. */
static void
test_no_wait_is_first_come (void **state)
{
  static struct sim s;
  simulate (&s, 5, 0.2, 5, 0, 600);
  report ("max_wait 0", &s, 600);
  assert_true (s.honest_429 > 0);
  assert_true (s.grants <= 10 + 600);
}

static void
test_admit_paths (void **state)
{
  struct gate_sched s;
  struct gate_share a, b;
  struct gate_bucket ba, bb;
  struct gate_share_waiter w[8] = { 0 };
  double ra;

  gate_sched_init (&s, 1.0, 1, 5.0, 100.0);
  gate_share_init (&a);
  gate_share_init (&b);
  gate_bucket_init (&ba, 1.0, 2, 100.0);
  gate_bucket_init (&bb, 1.0, 1, 100.0);
  /* Uncontended: granted at once. */
  assert_int_equal (gate_sched_admit (&s, &a, &ba, 100.0, &w[0], &ra), GATE_ADMIT_GRANTED);
  assert_true (a.last_grant == 100.0);
  /* Global empty: queued, and the sandbox's token is spent while it waits. */
  assert_int_equal (gate_sched_admit (&s, &a, &ba, 100.0, &w[1], &ra), GATE_ADMIT_QUEUED);
  assert_true (ba.tokens < 1e-9);
  /* The sandbox's own bucket is empty: refused at once, with its wait. */
  assert_int_equal (gate_sched_admit (&s, &a, &ba, 100.0, &w[2], &ra), GATE_ADMIT_SANDBOX_LIMITED);
  assert_true (fabs (ra - 1.0) < 1e-9);
  /* b never had a grant: it goes before a, though a queued first. */
  assert_int_equal (gate_sched_admit (&s, &b, &bb, 100.5, &w[3], &ra), GATE_ADMIT_QUEUED);
  assert_null (gate_sched_next (&s, 100.9));
  assert_true (fabs (gate_sched_timeout (&s, 100.9) - 0.1) < 1e-9);
  assert_ptr_equal (gate_sched_next (&s, 101.0), &w[3]);
  assert_null (gate_sched_next (&s, 101.0));
  assert_ptr_equal (gate_sched_next (&s, 102.0), &w[1]);
  assert_true (gate_sched_timeout (&s, 102.0) < 0);
  /* A token that accrued while others wait is not taken by a newcomer. */
  gate_bucket_init (&ba, 1.0, 5, 110.0);
  gate_bucket_init (&bb, 1.0, 5, 110.0);
  assert_int_equal (gate_sched_admit (&s, &a, &ba, 110.0, &w[4], &ra), GATE_ADMIT_GRANTED);
  assert_int_equal (gate_sched_admit (&s, &a, &ba, 110.0, &w[5], &ra), GATE_ADMIT_QUEUED);
  assert_int_equal (gate_sched_admit (&s, &b, &bb, 111.5, &w[6], &ra), GATE_ADMIT_QUEUED);
  assert_ptr_equal (gate_sched_next (&s, 111.5), &w[6]); /* b was served longer ago than a */
  /* Cancel and expiry take waiters out; the queue empties. */
  gate_sched_cancel (&s, &w[5]);
  assert_null (w[5].owner);
  gate_sched_cancel (&s, &w[5]); /* no-op */
  assert_int_equal (s.nwaiting, 0);
  assert_null (s.active);
  assert_int_equal (gate_sched_admit (&s, &a, &ba, 112.0, &w[7], &ra), GATE_ADMIT_QUEUED);
  assert_null (gate_sched_expired (&s, 116.9));
  assert_ptr_equal (gate_sched_expired (&s, 117.0), &w[7]);
  assert_int_equal (s.nwaiting, 0);
  /* max_wait 0: refused at once, nothing taken. */
  gate_sched_init (&s, 1.0, 1, 0, 0.0);
  gate_bucket_init (&ba, 1.0, 2, 0.0);
  assert_int_equal (gate_sched_admit (&s, &a, &ba, 0.0, &w[0], &ra), GATE_ADMIT_GRANTED);
  assert_int_equal (gate_sched_admit (&s, &a, &ba, 0.0, &w[1], &ra), GATE_ADMIT_GLOBAL_LIMITED);
  assert_true (fabs (ba.tokens - 1.0) < 1e-9);
  assert_true (fabs (ra - 1.0) < 1e-9);
}

/* Remove + create with the same id keeps the bucket until it would have refilled. */
static void
test_memo (void **state)
{
  struct gate_memo m = { 0 };
  struct gate_bucket b, got;
  double lg;
  char id[32];

  gate_bucket_init (&b, 0.2, 5, 0.0);
  for (int i = 0; i < 5; i++)
    gate_bucket_take2 (&b, NULL, 0.0, &(double) { 0 });
  gate_memo_save (&m, "sb", &b, 0.0, 0.0);
  /* Re-created 1 s later: 0.2 tokens, not a fresh burst of 5. */
  assert_true (gate_memo_take (&m, "sb", 1.0, &got, &lg));
  assert_true (fabs (got.tokens - 0.2) < 1e-9);
  assert_true (lg == 0.0);
  assert_false (gate_memo_take (&m, "sb", 1.0, &got, &lg)); /* taken: gone */
  /* Kept exactly as long as the refill takes: 4.8 tokens at 0.2/s = 24 s. */
  gate_memo_save (&m, "sb", &got, 1.0, 1.0);
  assert_int_equal (gate_memo_size (&m, 24.9), 1);
  assert_int_equal (gate_memo_size (&m, 25.0), 0);
  /* A full bucket is not remembered (a fresh one is the same). */
  gate_bucket_init (&b, 0.2, 5, 0.0);
  gate_memo_save (&m, "full", &b, 0.0, 10.0);
  assert_int_equal (gate_memo_size (&m, 10.0), 0);
  /* At most GATE_MEMO_MAX ids; the one nearest to full refill goes first. */
  for (int i = 0; i <= GATE_MEMO_MAX; i++)
    {
      gate_bucket_init (&b, 0.2, 5, 0.0);
      b.tokens = i == 0 ? 4.9 : 0; /* id 0 is nearest to full */
      snprintf (id, sizeof id, "id%d", i);
      gate_memo_save (&m, id, &b, 0.0, 0.0);
    }
  assert_int_equal (gate_memo_size (&m, 0.0), GATE_MEMO_MAX);
  assert_false (gate_memo_take (&m, "id0", 0.0, &got, &lg));
  assert_true (gate_memo_take (&m, "id1", 0.0, &got, &lg));
  gate_memo_free (&m);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_admit_paths),
    cmocka_unit_test (test_memo),
    cmocka_unit_test (test_five_flooders_defaults),
    cmocka_unit_test (test_twenty_heavy_flooders),
    cmocka_unit_test (test_no_wait_is_first_come),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
