/* [gate] Fuzz the gate's HTTP parsing, the bytes a hostile workload (and a broken upstream)
 * controls. The first input byte picks the side (bit 7: upstream response, else workload
 * request) and the chunk size the rest is fed in (bits 0-5, plus one), so incremental parsing
 * is exercised the way a socket delivers it. A parsed request goes on through the API
 * classifier; a parsed response through the JWT exp reader. Invariants: every refusal has a
 * status and a reason; accepted requests have an origin-form path and a body within the cap;
 * what we would forward upstream is JSON that parses again; an accepted request's header section
 * is strictly framed (CRLF lines, no folding, no space before a colon). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cache.h"
#include "gate_policy.h"
#include "http.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const struct gate_http_limits limits = { .max_header_bytes = 2048, .max_body_bytes = 1024 };

/* An accepted request's header section, judged again by a second, deliberately naive reading
 * of RFC 9112: every line ends in CRLF, no line is folded, no field name has whitespace before
 * its colon. (issue 17: libhttp-parser alone accepts all three.) */
static void
check_strict_head (const uint8_t *data, size_t size)
{
  size_t start = 0, end, line_start;

  while (start + 1 < size && data[start] == '\r' && data[start + 1] == '\n')
    start += 2;
  for (end = start; end + 3 < size; end++)
    if (memcmp (data + end, "\r\n\r\n", 4) == 0)
      break;
  if (end + 3 >= size)
    abort (); /* accepted without a CRLF CRLF ending its header section */
  line_start = start;
  for (size_t i = start; i < end + 2; i++)
    {
      if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
        abort ();
      if (data[i] == '\r' && data[i + 1] != '\n')
        abort ();
      if (data[i] == '\n')
        {
          if (data[i + 1] == ' ' || data[i + 1] == '\t')
            abort ();
          line_start = i + 1;
        }
      else if (line_start > start && (data[i] == ' ' || data[i] == '\t')
               && memchr (data + line_start, ':', i - line_start) == NULL)
        abort ();
    }
}

static void
check_request (struct gate_http_reader *r, enum gate_http_state st, const uint8_t *data, size_t size)
{
  struct gate_http_request req;
  struct gate_api_call call;
  struct gate_api_refusal ref;
  static char *auds[] = { (char *) "https://allowed.example", (char *) "https://sts.googleapis.com", NULL };
  static char *types[] = { (char *) "OIDC", (char *) "PKI", NULL };
  struct rh_gate_policy g = { .allowed_audiences = auds, .allowed_token_types = types };

  if (st == GATE_HTTP_COMPLETE)
    st = gate_http_reader_take (r, &req);
  if (st == GATE_HTTP_FAILED)
    {
      if (r->status < 400 || r->status > 599 || r->reason == NULL || r->reason[0] == '\0')
        abort ();
      return;
    }
  if (st != GATE_HTTP_COMPLETE)
    return;
  if (req.path[0] != '/' || req.body_len > limits.max_body_bytes || strchr (req.path, '?'))
    abort ();
  check_strict_head (data, size);
  if (gate_api_classify (&g, &req, &call, &ref) < 0)
    {
      if (ref.reason[0] == '\0' || (ref.status != 400 && ref.status != 403 && ref.status != 404 && ref.status != 405))
        abort ();
    }
  else
    {
      if (call.cacheable != (call.cache_key != NULL))
        abort ();
      if (call.body)
        {
          json_t *again = json_loads (call.body, 0, NULL);
          if (again == NULL || !json_is_object (again))
            abort ();
          json_decref (again);
        }
      gate_api_call_free (&call);
    }
  gate_http_request_free (&req);
}

static void
check_response (struct gate_http_reader *r, enum gate_http_state st)
{
  double exp, iat;

  if (st == GATE_HTTP_INCOMPLETE)
    st = gate_http_reader_eof (r);
  if (st == GATE_HTTP_FAILED)
    {
      if (r->status != 502 || r->reason == NULL)
        abort ();
      return;
    }
  if (r->body_len > limits.max_body_bytes)
    abort ();
  if (r->body && gate_jwt_times (r->body, r->body_len, &exp, &iat) == 0)
    (void) gate_cache_ttl (1e9, exp, iat, 0.8);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct gate_http_reader r;
  enum gate_http_state st = GATE_HTTP_INCOMPLETE;
  bool response;
  size_t step, off = 0;

  if (size < 1)
    return 0;
  response = data[0] & 0x80;
  step = (size_t) (data[0] & 0x3f) + 1;
  data++;
  size--;
  if (response)
    gate_http_response_reader_init (&r, &limits);
  else
    gate_http_reader_init (&r, &limits);
  while (off < size && st == GATE_HTTP_INCOMPLETE)
    {
      size_t n = size - off < step ? size - off : step;
      st = gate_http_reader_feed (&r, (const char *) data + off, n);
      off += n;
    }
  if (response)
    check_response (&r, st);
  else
    check_request (&r, st, data, size);
  gate_http_reader_free (&r);
  return 0;
}
