/* [gate] Token buckets; see bucket.h. */
#include "bucket.h"

#include <stddef.h>

void
gate_bucket_init (struct gate_bucket *b, double rate, double burst, double now)
{
  b->rate = rate > 0 ? rate : 1e-9;
  b->burst = burst >= 1 ? burst : 1;
  b->tokens = b->burst;
  b->last = now;
}

void
gate_bucket_refill (struct gate_bucket *b, double now)
{
  if (now <= b->last)
    return;
  b->tokens += (now - b->last) * b->rate;
  if (b->tokens > b->burst)
    b->tokens = b->burst;
  b->last = now;
}

double
gate_bucket_wait (struct gate_bucket *b, double now)
{
  gate_bucket_refill (b, now);
  if (b->tokens >= 1.0)
    return 0;
  return (1.0 - b->tokens) / b->rate;
}

bool
gate_bucket_take2 (struct gate_bucket *a, struct gate_bucket *b, double now, double *retry_after)
{
  double wa = gate_bucket_wait (a, now);
  double wb = b ? gate_bucket_wait (b, now) : 0;

  if (wa > 0 || wb > 0)
    {
      *retry_after = wa > wb ? wa : wb;
      return false;
    }
  a->tokens -= 1.0;
  if (b)
    b->tokens -= 1.0;
  *retry_after = 0;
  return true;
}

void
gate_bucket_refund (struct gate_bucket *b)
{
  b->tokens += 1.0;
  if (b->tokens > b->burst)
    b->tokens = b->burst;
}
