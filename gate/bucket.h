/* [gate] Token buckets. Pure: the caller passes the (monotonic) time in seconds.
 *
 * A bucket holds at most `burst` tokens and gains `rate` tokens per second. Every upstream call
 * takes one token from the sandbox's bucket AND one from the global bucket, or none at all: a
 * request refused by the global bucket does not spend its sandbox's budget. Over any window of T
 * seconds a bucket lets through at most burst + rate * T calls; that bound is what the tests
 * check against the stand-in upstream's own count. */
#ifndef GATE_BUCKET_H
#define GATE_BUCKET_H

#include <stdbool.h>

struct gate_bucket
{
  double rate;   /* tokens per second, > 0 */
  double burst;  /* capacity, >= 1 */
  double tokens; /* current level */
  double last;   /* time of the last refill */
};

/* Start full. */
void gate_bucket_init (struct gate_bucket *b, double rate, double burst, double now);
/* Add what accrued since the last refill. Time going backwards adds nothing. */
void gate_bucket_refill (struct gate_bucket *b, double now);
/* Seconds until one token is available (0 when one is). */
double gate_bucket_wait (struct gate_bucket *b, double now);
/* Take one token from each of a and b (b may be NULL) when both have one; else take nothing and
 * set *retry_after (seconds, >= the real wait) and return false. */
bool gate_bucket_take2 (struct gate_bucket *a, struct gate_bucket *b, double now, double *retry_after);
/* Give back a token taken for a call that never reached upstream (it could not connect). */
void gate_bucket_refund (struct gate_bucket *b);

#endif
