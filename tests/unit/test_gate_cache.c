/* [gate] JWT exp/iat decoding and the token cache (gate/cache.c): serve until the configured
 * fraction of the lifetime, never cache what has no readable exp, evict by age, and survive
 * hostile token text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

static char *
b64url (const char *in)
{
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t n = strlen (in), o = 0;
  char *out = calloc (1, n * 4 / 3 + 4);
  unsigned v = 0;
  int bits = 0;

  for (size_t i = 0; i < n; i++)
    {
      v = (v << 8) | (unsigned char) in[i];
      bits += 8;
      while (bits >= 6)
        {
          bits -= 6;
          out[o++] = a[(v >> bits) & 63];
        }
    }
  if (bits > 0)
    out[o++] = a[(v << (6 - bits)) & 63];
  return out;
}

static char *
jwt (const char *claims)
{
  char *h = b64url ("{\"alg\":\"none\"}"), *p = b64url (claims), *out = malloc (strlen (h) + strlen (p) + 16);
  sprintf (out, "%s.%s.c2ln", h, p);
  free (h);
  free (p);
  return out;
}

static void
test_times (void **state)
{
  double exp, iat;
  char *t = jwt ("{\"exp\":2000,\"iat\":1000,\"aud\":\"x\"}");

  assert_int_equal (gate_jwt_times (t, strlen (t), &exp, &iat), 0);
  assert_true (exp == 2000 && iat == 1000);
  free (t);
  /* Surrounding whitespace (a trailing newline from a server) is fine; iat is optional. */
  t = jwt ("{\"exp\":1.5e3}");
  {
    char buf[512];
    snprintf (buf, sizeof buf, "  %s\n", t);
    assert_int_equal (gate_jwt_times (buf, strlen (buf), &exp, &iat), 0);
    assert_true (exp == 1500 && iat == -1);
  }
  free (t);
}

static void
test_bad_tokens (void **state)
{
  static const char *const claims[] = {
    "{\"iat\":1}", "{\"exp\":\"2000\"}", "{\"exp\":null}", "[1,2]", "not json", "{\"exp\":1,\"exp\":2}",
  };
  double exp, iat;

  for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++)
    {
      char *t = jwt (claims[i]);
      assert_int_equal (gate_jwt_times (t, strlen (t), &exp, &iat), -1);
      free (t);
    }
  assert_int_equal (gate_jwt_times ("", 0, &exp, &iat), -1);
  assert_int_equal (gate_jwt_times ("a.b", 3, &exp, &iat), -1);
  assert_int_equal (gate_jwt_times ("a.b.c.d", 7, &exp, &iat), -1);
  assert_int_equal (gate_jwt_times ("a.!!!!.c", 8, &exp, &iat), -1);
  assert_int_equal (gate_jwt_times ("a.x.c", 5, &exp, &iat), -1); /* 1 leftover char: invalid */
  assert_int_equal (gate_jwt_times ("a.\0.c", 5, &exp, &iat), -1);
}

static void
test_ttl (void **state)
{
  /* Issued at 1000, expires 2000: cache until 1800. */
  assert_true (fabs (gate_cache_ttl (1000, 2000, 1000, 0.8) - 800) < 1e-9);
  assert_true (fabs (gate_cache_ttl (1500, 2000, 1000, 0.8) - 300) < 1e-9);
  assert_true (gate_cache_ttl (1800, 2000, 1000, 0.8) <= 0);
  /* No iat, or an iat in our future: the lifetime starts now. */
  assert_true (fabs (gate_cache_ttl (1000, 2000, -1, 0.8) - 800) < 1e-9);
  assert_true (fabs (gate_cache_ttl (1000, 2000, 1500, 0.5) - 500) < 1e-9);
  /* Already expired, or a bad fraction: do not cache. */
  assert_true (gate_cache_ttl (3000, 2000, 1000, 0.8) <= 0);
  assert_true (gate_cache_ttl (1000, 2000, 1000, 0) <= 0);
  assert_true (gate_cache_ttl (1000, 2000, 1000, 1.5) <= 0);
  assert_true (gate_cache_ttl (1000, NAN, 1000, 0.8) <= 0);
  /* Absurd lifetimes are capped. */
  assert_true (gate_cache_ttl (0, 1e12, 0, 0.8) <= GATE_CACHE_MAX_TTL);
}

static void
test_cache (void **state)
{
  struct gate_cache c;
  const struct gate_cache_entry *e;

  gate_cache_init (&c, 2);
  gate_cache_put (&c, "k1", "tok1", 4, "text/html", 10, 0);
  gate_cache_put (&c, "k2", "tok2", 4, NULL, 10, 1);
  e = gate_cache_get (&c, "k1", 5);
  assert_non_null (e);
  assert_memory_equal (e->body, "tok1", 4);
  assert_string_equal (e->content_type, "text/html");
  /* Expiry is exclusive. */
  assert_null (gate_cache_get (&c, "k1", 10));
  assert_non_null (gate_cache_get (&c, "k2", 10.5));
  /* Full: the oldest goes. */
  gate_cache_put (&c, "k3", "tok3", 4, NULL, 100, 2);
  gate_cache_put (&c, "k4", "tok4", 4, NULL, 100, 3);
  assert_null (gate_cache_get (&c, "k2", 4));
  assert_non_null (gate_cache_get (&c, "k3", 4));
  assert_non_null (gate_cache_get (&c, "k4", 4));
  /* Replacing a key keeps one entry. */
  gate_cache_put (&c, "k4", "new", 3, NULL, 100, 5);
  e = gate_cache_get (&c, "k4", 6);
  assert_int_equal (e->body_len, 3);
  assert_int_equal (c.n, 2);
  /* A ttl <= 0 stores nothing. */
  gate_cache_put (&c, "k5", "x", 1, NULL, 0, 7);
  assert_null (gate_cache_get (&c, "k5", 7));
  gate_cache_free (&c);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_times),
    cmocka_unit_test (test_bad_tokens),
    cmocka_unit_test (test_ttl),
    cmocka_unit_test (test_cache),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
