/* [gate] Fuzz the gate's HTTP parsing, the bytes a hostile workload (and a broken upstream)
 * controls. The first input byte picks the side (bit 7: upstream response, else workload
 * request) and the chunk size the rest is fed in (bits 0-5, plus one), so incremental parsing
 * is exercised the way a socket delivers it. A parsed request goes on through the API
 * classifier; a parsed response through the JWT exp reader. Invariants: every refusal has a
 * status and a reason; accepted requests have an origin-form path and a body within the cap;
 * what we would forward upstream is JSON that parses again. */
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

static void
check_request (struct gate_http_reader *r, enum gate_http_state st)
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
    check_request (&r, st);
  gate_http_reader_free (&r);
  return 0;
}
