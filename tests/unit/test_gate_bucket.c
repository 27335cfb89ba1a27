/* [gate] Token buckets (gate/bucket.c): the bound the integration test relies on (at most
 * burst + rate * T takes over T seconds), all-or-nothing takes across the sandbox and global
 * buckets, Retry-After hints, and a clock that goes backwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "bucket.h"

static void
test_burst_then_rate (void **state)
{
  struct gate_bucket b;
  double ra;
  int taken = 0;

  gate_bucket_init (&b, 2.0, 5, 100.0);
  for (int i = 0; i < 20; i++)
    taken += gate_bucket_take2 (&b, NULL, 100.0, &ra);
  assert_int_equal (taken, 5);
  assert_false (gate_bucket_take2 (&b, NULL, 100.0, &ra));
  assert_true (fabs (ra - 0.5) < 1e-9); /* one token every 0.5 s */
  assert_false (gate_bucket_take2 (&b, NULL, 100.4, &ra));
  assert_true (gate_bucket_take2 (&b, NULL, 100.5, &ra));
}

static void
test_bound_over_window (void **state)
{
  /* A client hammering every millisecond for 10 s gets at most burst + rate * T. */
  struct gate_bucket b;
  double ra;
  int taken = 0;

  gate_bucket_init (&b, 0.5, 3, 0.0);
  for (int ms = 0; ms <= 10000; ms++)
    taken += gate_bucket_take2 (&b, NULL, ms / 1000.0, &ra);
  assert_true (taken <= 3 + 0.5 * 10 + 1e-9);
  assert_int_equal (taken, 8);
}

static void
test_never_above_burst (void **state)
{
  struct gate_bucket b;
  gate_bucket_init (&b, 100.0, 2, 0.0);
  gate_bucket_refill (&b, 1e6);
  assert_true (b.tokens <= 2.0);
}

static void
test_take2_all_or_nothing (void **state)
{
  struct gate_bucket sb, global;
  double ra;

  gate_bucket_init (&sb, 1.0, 3, 0.0);
  gate_bucket_init (&global, 1.0, 1, 0.0);
  assert_true (gate_bucket_take2 (&sb, &global, 0.0, &ra));
  /* The global bucket is empty: the sandbox keeps its tokens. */
  assert_false (gate_bucket_take2 (&sb, &global, 0.0, &ra));
  assert_true (fabs (sb.tokens - 2.0) < 1e-9);
  assert_true (ra > 0.99 && ra <= 1.0);
  /* The sandbox bucket empty, the global full: the global keeps its token. */
  gate_bucket_init (&sb, 1.0, 1, 10.0);
  gate_bucket_init (&global, 1.0, 5, 10.0);
  assert_true (gate_bucket_take2 (&sb, &global, 10.0, &ra));
  assert_false (gate_bucket_take2 (&sb, &global, 10.0, &ra));
  assert_true (fabs (global.tokens - 4.0) < 1e-9);
}

static void
test_clock_backwards (void **state)
{
  struct gate_bucket b;
  double ra;

  gate_bucket_init (&b, 1.0, 1, 50.0);
  assert_true (gate_bucket_take2 (&b, NULL, 50.0, &ra));
  /* Time going backwards must not mint tokens (nor take them away). */
  assert_false (gate_bucket_take2 (&b, NULL, 10.0, &ra));
  assert_false (gate_bucket_take2 (&b, NULL, 50.5, &ra));
  assert_true (gate_bucket_take2 (&b, NULL, 51.0, &ra));
}

static void
test_tiny_rate (void **state)
{
  struct gate_bucket b;
  gate_bucket_init (&b, 0.0001, 1, 0.0);
  gate_bucket_take2 (&b, NULL, 0.0, &(double) { 0 });
  assert_true (gate_bucket_wait (&b, 0.0) > 9999.0);
}

static void
test_refund (void **state)
{
  struct gate_bucket b;
  double ra;

  gate_bucket_init (&b, 1.0, 2, 0.0);
  assert_true (gate_bucket_take2 (&b, NULL, 0.0, &ra));
  gate_bucket_refund (&b);
  gate_bucket_refund (&b); /* never above burst */
  assert_true (b.tokens == 2.0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_burst_then_rate),     cmocka_unit_test (test_bound_over_window),
    cmocka_unit_test (test_never_above_burst),   cmocka_unit_test (test_take2_all_or_nothing),
    cmocka_unit_test (test_clock_backwards),     cmocka_unit_test (test_tiny_rate),
    cmocka_unit_test (test_refund),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
