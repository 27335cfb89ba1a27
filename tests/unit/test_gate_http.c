/* [gate] The request parser a hostile workload talks to (gate/http.c): whole requests in any
 * chunking, and every refusal with its status: malformed (400), too large (413/431/414), wrong
 * method (405), wrong version (505), smuggling shapes (CL+TE, double CL), upgrades, and the
 * leniencies libhttp-parser has and RFC 9112 does not (space before the colon, obs-fold, bare
 * LF, loose chunk framing). Plus the
 * upstream response side (502 on anything malformed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static const struct gate_http_limits limits = { .max_header_bytes = 1024, .max_body_bytes = 256 };

/* Feed text in chunks of `step` bytes (0: all at once). */
static enum gate_http_state
feed (struct gate_http_reader *r, const char *text, size_t len, size_t step)
{
  enum gate_http_state st = GATE_HTTP_INCOMPLETE;
  size_t off = 0;

  if (step == 0)
    step = len;
  while (off < len)
    {
      size_t n = len - off < step ? len - off : step;
      st = gate_http_reader_feed (r, text + off, n);
      if (st != GATE_HTTP_INCOMPLETE)
        return st;
      off += n;
    }
  return st;
}

/* Parse one request; return the final status (200 when accepted). */
static int
parse (const char *text, size_t step, struct gate_http_request *out)
{
  struct gate_http_reader r;
  enum gate_http_state st;
  int status = 200;

  gate_http_reader_init (&r, &limits);
  st = feed (&r, text, strlen (text), step);
  if (st == GATE_HTTP_COMPLETE)
    st = gate_http_reader_take (&r, out);
  if (st == GATE_HTTP_INCOMPLETE)
    status = 0;
  else if (st == GATE_HTTP_FAILED)
    status = r.status;
  gate_http_reader_free (&r);
  return status;
}

static void
expect (const char *text, int want)
{
  /* Every chunking must give the same answer. */
  static const size_t steps[] = { 0, 1, 2, 3, 7, 64 };
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
    {
      struct gate_http_request req = { 0 };
      int got = parse (text, steps[i], &req);
      if (got != want)
        fail_msg ("step %zu: got %d, want %d for:\n%s", steps[i], got, want, text);
      gate_http_request_free (&req);
    }
}

static void
test_get (void **state)
{
  struct gate_http_request req;
  assert_int_equal (parse ("GET /v1/token HTTP/1.1\r\nHost: localhost\r\n\r\n", 0, &req), 200);
  assert_int_equal (req.method, GATE_HTTP_GET);
  assert_string_equal (req.path, "/v1/token");
  assert_int_equal (req.body_len, 0);
  assert_true (req.keep_alive);
  assert_false (req.trailing_bytes);
  gate_http_request_free (&req);
  expect ("GET /v1/token HTTP/1.1\r\nHost: localhost\r\n\r\n", 200);
  /* An empty header value must not glue the next header's name onto this one. */
  expect ("GET /v1/token HTTP/1.1\r\nX-Empty:\r\nHost: a\r\n\r\n", 200);
  expect ("GET /v1/token HTTP/1.1\r\nX-Empty:\r\nHost: a\r\nX-Empty2:\r\nHost: b\r\n\r\n", 400);
  /* HTTP/1.0 needs no Host, and does not keep the connection by default. */
  assert_int_equal (parse ("GET /v1/token HTTP/1.0\r\n\r\n", 0, &req), 200);
  assert_false (req.keep_alive);
  gate_http_request_free (&req);
}

static void
test_post_body (void **state)
{
  static const char text[] = "POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             "Content-Length: 37\r\nConnection: close\r\n\r\n"
                             "{\"audience\":\"a\",\"token_type\":\"OIDC\"} ";
  struct gate_http_request req;

  for (size_t step = 0; step < 9; step++)
    {
      assert_int_equal (parse (text, step, &req), 200);
      assert_int_equal (req.method, GATE_HTTP_POST);
      assert_int_equal (req.body_len, 37);
      assert_memory_equal (req.body, "{\"audience\":\"a\",\"token_type\":\"OIDC\"} ", 37);
      assert_false (req.keep_alive);
      gate_http_request_free (&req);
    }
}

static void
test_chunked (void **state)
{
  struct gate_http_request req;
  assert_int_equal (parse ("POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", 1, &req), 200);
  assert_int_equal (req.body_len, 5);
  assert_string_equal (req.body, "abcde");
  gate_http_request_free (&req);
  /* A chunked body that decodes past the cap. */
  {
    char big[2048];
    int n = snprintf (big, sizeof big, "POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                       "100\r\n%0256d\r\n1\r\nz\r\n0\r\n\r\n", 0);
    assert_true (n > 0);
    expect (big, 413);
  }
}

static void
test_incomplete (void **state)
{
  struct gate_http_reader r;
  gate_http_reader_init (&r, &limits);
  assert_int_equal (gate_http_reader_feed (&r, "GET /v1/tok", 11), GATE_HTTP_INCOMPLETE);
  assert_true (r.started);
  assert_int_equal (gate_http_reader_eof (&r), GATE_HTTP_FAILED);
  assert_int_equal (r.status, 400);
  gate_http_reader_free (&r);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 0);
}

static void
test_malformed (void **state)
{
  expect ("GARBAGE\r\n\r\n", 400);
  expect ("GET /v1/token HTTP/1.1\r\nHost x\r\n\r\n", 400);          /* header without ':' */
  expect ("GET /v1/token HTTP/1.1\r\nHo st: x\r\n\r\n", 400);        /* space in a name */
  expect ("GET /v1/token HTTP/1.1\r\n\r\n", 400);                    /* 1.1 without Host */
  expect ("GET /v1/token HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  expect ("GET /v1/token?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", 400);    /* query */
  expect ("GET /v1/token#f HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect ("GET http://evil/v1/token HTTP/1.1\r\nHost: x\r\n\r\n", 400); /* absolute-form */
  expect ("GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect ("GET /v1/token HTTP/2.0\r\nHost: x\r\n\r\n", 505);
  expect ("GET /v1/token HTTP/1.2\r\nHost: x\r\n\r\n", 505);
  expect ("GET /v1/token HTTP/1.1\r\nHost: x\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n", 400);
}

static void
test_smuggling_shapes (void **state)
{
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
          "3\r\nabc\r\n0\r\n\r\n", 400);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400);
  expect ("GET /v1/token HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", 400);
  expect ("CONNECT evil:443 HTTP/1.1\r\nHost: x\r\n\r\n", 400);
}

/* Issue 17: what libhttp-parser lets through on its own and RFC 9112 does not. Each one is a
 * place where two HTTP readers can disagree about where a header or a message ends. */
static void
test_strict_framing (void **state)
{
  /* A space (or tab) before the colon: RFC 9112 5.1 says a server MUST answer 400. */
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello", 400);
  expect ("GET /v1/token HTTP/1.1\r\nHost : x\r\n\r\n", 400);
  expect ("GET /v1/token HTTP/1.1\r\nHost\t: x\r\n\r\n", 400);
  expect ("GET /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400);
  /* Obsolete line folding, after any header and right after the request line. */
  expect ("GET /v1/token HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400);
  expect ("GET /v1/token HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n", 400);
  expect ("GET /v1/token HTTP/1.1\r\n Host: x\r\n\r\n", 400);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n 0\r\n\r\nx", 400);
  /* Bare LF line ends: in the request line, a header, the end of the section, all of them. */
  expect ("GET /v1/token HTTP/1.1\nHost: x\r\n\r\n", 400);
  expect ("GET /v1/token HTTP/1.1\r\nHost: x\n\r\n", 400);
  expect ("GET /v1/token HTTP/1.1\r\nHost: x\r\n\n", 400);
  expect ("GET /v1/token HTTP/1.1\nHost: x\n\n", 400);
  expect ("\nGET /v1/token HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  /* A bare CR. */
  expect ("GET /v1/token HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", 400);
  /* The request line: single spaces, no tabs. */
  expect ("GET  /v1/token HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect ("GET /v1/token  HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect ("GET /v1/token HTTP/1.1 \r\nHost: x\r\n\r\n", 400);
  expect (" GET /v1/token HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  expect ("GET\t/v1/token HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  /* Names are tokens; values have no control characters; no empty names. */
  expect ("GET /v1/token HTTP/1.1\r\nHost: x\r\nX(y): z\r\n\r\n", 400);
  expect ("GET /v1/token HTTP/1.1\r\nHost: x\r\n: z\r\n\r\n", 400);
  expect ("GET /v1/token HTTP/1.1\r\nHost: x\r\nX: a\x7f\r\n\r\n", 400);
  /* Chunked framing: CRLF after the data, after the size, in trailers. */
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n", 400);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n", 400);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", 400);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\rXabc\r\n0\r\n\r\n", 400);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT : v\r\n\r\n", 400);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n\n", 200);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\n", 400);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;\x01\r\nabc\r\n0\r\n\r\n", 400);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          "00000000000000003\r\nabc\r\n0\r\n\r\n", 400);
  /* What stays accepted: an empty line before the request line (RFC 9112 2.2), chunk extensions
   * and trailer fields, no space after the colon, a tab in a value, obs-text, and bytes after
   * a Content-Length body (not parsed: answered, then the connection closes). */
  expect ("\r\nGET /v1/token HTTP/1.1\r\nHost: x\r\n\r\n", 200);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          "3;ext=1\r\nabc\r\n0\r\nT: v\r\n\r\n", 200);
  expect ("GET /v1/token HTTP/1.1\r\nHost:x\r\nX: a\tb \xe9\r\n\r\n", 200);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx\nGARBAGE\n\n", 200);
}

static void
test_methods (void **state)
{
  expect ("PUT /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405);
  expect ("DELETE /v1/token HTTP/1.1\r\nHost: x\r\n\r\n", 405);
  expect ("HEAD /v1/token HTTP/1.1\r\nHost: x\r\n\r\n", 405);
}

static void
test_caps (void **state)
{
  char buf[8192];
  size_t o = 0;

  /* Body larger than the cap, announced by Content-Length: refused before reading it. */
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: 257\r\n\r\n", 413);
  expect ("POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: 256\r\n\r\n", 0);
  /* Header section over 1024 bytes, in one long header... */
  o = (size_t) snprintf (buf, sizeof buf, "GET /v1/token HTTP/1.1\r\nHost: x\r\nX: ");
  memset (buf + o, 'a', 1100);
  o += 1100;
  strcpy (buf + o, "\r\n\r\n");
  expect (buf, 431);
  /* ... in whitespace the parser would skip ... */
  o = (size_t) snprintf (buf, sizeof buf, "GET /v1/token HTTP/1.1\r\nHost: x\r\nX:");
  memset (buf + o, ' ', 1100);
  o += 1100;
  strcpy (buf + o, "v\r\n\r\n");
  expect (buf, 431);
  /* ... or in many small ones. */
  o = (size_t) snprintf (buf, sizeof buf, "GET /v1/token HTTP/1.1\r\nHost: x\r\n");
  for (int i = 0; i < 70; i++)
    o += (size_t) snprintf (buf + o, sizeof buf - o, "A%d: b\r\n", i);
  strcpy (buf + o, "\r\n");
  expect (buf, 431);
  /* Long URL. */
  o = (size_t) snprintf (buf, sizeof buf, "GET /");
  memset (buf + o, 'u', 1030);
  o += 1030;
  strcpy (buf + o, " HTTP/1.1\r\nHost: x\r\n\r\n");
  {
    struct gate_http_limits big = { .max_header_bytes = 4096, .max_body_bytes = 256 };
    struct gate_http_reader r;
    gate_http_reader_init (&r, &big);
    assert_int_equal (gate_http_reader_feed (&r, buf, strlen (buf)), GATE_HTTP_FAILED);
    assert_int_equal (r.status, 414);
    gate_http_reader_free (&r);
  }
}

static void
test_pipelined (void **state)
{
  struct gate_http_request req;
  assert_int_equal (parse ("GET /v1/token HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/token HTTP/1.1\r\nHost: x\r\n\r\n", 0,
                           &req), 200);
  assert_true (req.trailing_bytes);
  assert_false (req.keep_alive); /* we answer the first and close */
  gate_http_request_free (&req);
}

static void
test_nul_and_binary (void **state)
{
  static const char text[] = "GET /v1/\0token HTTP/1.1\r\nHost: x\r\n\r\n";
  struct gate_http_reader r;

  gate_http_reader_init (&r, &limits);
  assert_int_equal (gate_http_reader_feed (&r, text, sizeof text - 1), GATE_HTTP_FAILED);
  assert_int_equal (r.status, 400);
  gate_http_reader_free (&r);
  expect ("GET /v1/token HTTP/1.1\r\nHost: \x01\x02\r\n\r\n", 400);
}

static enum gate_http_state
response (const char *text, size_t len, bool eof, struct gate_http_reader *r)
{
  static const struct gate_http_limits rl = { .max_header_bytes = 1024, .max_body_bytes = 64 };
  enum gate_http_state st;

  gate_http_response_reader_init (r, &rl);
  st = gate_http_reader_feed (r, text, len);
  if (st == GATE_HTTP_INCOMPLETE && eof)
    st = gate_http_reader_eof (r);
  return st;
}

static void
test_response (void **state)
{
  static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello";
  static const char eofbody[] = "HTTP/1.1 200 OK\r\n\r\nuntil-eof";
  static const char big[] = "HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n";
  static const char bad[] = "HTTP/1.1 2x0 WHAT\r\nContent-Length: -5\r\n\r\n\x00\x01garbage";
  static const char cut[] = "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort";
  struct gate_http_reader r;

  assert_int_equal (response (ok, sizeof ok - 1, false, &r), GATE_HTTP_COMPLETE);
  assert_int_equal (r.parser.status_code, 200);
  assert_string_equal (r.body, "hello");
  assert_string_equal (r.content_type, "text/html");
  gate_http_reader_free (&r);

  assert_int_equal (response (eofbody, sizeof eofbody - 1, true, &r), GATE_HTTP_COMPLETE);
  assert_string_equal (r.body, "until-eof");
  gate_http_reader_free (&r);

  assert_int_equal (response (big, sizeof big - 1, false, &r), GATE_HTTP_FAILED);
  assert_int_equal (r.status, 502);
  gate_http_reader_free (&r);

  assert_int_equal (response (bad, sizeof bad - 1, true, &r), GATE_HTTP_FAILED);
  assert_int_equal (r.status, 502);
  gate_http_reader_free (&r);

  assert_int_equal (response (cut, sizeof cut - 1, true, &r), GATE_HTTP_FAILED);
  assert_int_equal (r.status, 502);
  gate_http_reader_free (&r);

  assert_int_equal (response ("", 0, true, &r), GATE_HTTP_FAILED);
  gate_http_reader_free (&r);
}

static void
test_format (void **state)
{
  char *out;
  size_t len;

  gate_http_format_response (429, "text/plain", "Retry-After: 3\r\n", "slow down\n", 10, false, &out, &len);
  assert_string_equal (out, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"
                            "Cache-Control: no-store\r\nConnection: close\r\nRetry-After: 3\r\n\r\nslow down\n");
  assert_int_equal (len, strlen (out));
  free (out);
  /* Our own answers parse with our own response parser. */
  gate_http_format_response (200, "text/html", NULL, "tok", 3, true, &out, &len);
  {
    struct gate_http_reader r;
    assert_int_equal (response (out, len, false, &r), GATE_HTTP_COMPLETE);
    assert_string_equal (r.body, "tok");
    gate_http_reader_free (&r);
  }
  free (out);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_get),         cmocka_unit_test (test_post_body),   cmocka_unit_test (test_chunked),
    cmocka_unit_test (test_incomplete),  cmocka_unit_test (test_malformed),   cmocka_unit_test (test_smuggling_shapes),
    cmocka_unit_test (test_strict_framing),
    cmocka_unit_test (test_methods),     cmocka_unit_test (test_caps),        cmocka_unit_test (test_pipelined),
    cmocka_unit_test (test_nul_and_binary), cmocka_unit_test (test_response), cmocka_unit_test (test_format),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
