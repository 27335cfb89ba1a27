/* [gate] API semantics (gate/api.c): what is cacheable, what is refused with which status and
 * reason, and that what we forward upstream is our canonical re-encoding, never the client's
 * bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "gate_policy.h"
#include "util.h"

static struct rh_gate_policy g;

static int
setup (void **state)
{
  memset (&g, 0, sizeof g);
  g.allowed_audiences = rh_xmalloc0 (sizeof (char *));
  rh_strv_push (&g.allowed_audiences, "https://allowed.example");
  rh_strv_push (&g.allowed_audiences, "https://sts.googleapis.com");
  g.allowed_token_types = rh_xmalloc0 (sizeof (char *));
  rh_strv_push (&g.allowed_token_types, "OIDC");
  rh_strv_push (&g.allowed_token_types, "PKI");
  return 0;
}

static int
teardown (void **state)
{
  rh_strv_free (g.allowed_audiences);
  rh_strv_free (g.allowed_token_types);
  return 0;
}

static int
classify (enum gate_http_method m, const char *path, const char *body, struct gate_api_call *call,
          struct gate_api_refusal *ref)
{
  struct gate_http_request req = { .method = m };
  int r;

  strcpy (req.path, path);
  req.body = (char *) (body ? body : "");
  req.body_len = body ? strlen (body) : 0;
  r = gate_api_classify (&g, &req, call, ref);
  return r < 0 ? ref->status : 200;
}

static void
refused (enum gate_http_method m, const char *path, const char *body, int status, const char *reason_part)
{
  struct gate_api_call call;
  struct gate_api_refusal ref;
  int got = classify (m, path, body, &call, &ref);

  if (got != status)
    fail_msg ("%s: got %d, want %d (%s)", body ? body : path, got, status, got == 200 ? "" : ref.reason);
  if (got == 200)
    {
      gate_api_call_free (&call);
      return;
    }
  if (reason_part && strstr (ref.reason, reason_part) == NULL)
    fail_msg ("reason \"%s\" lacks \"%s\"", ref.reason, reason_part);
  assert_int_equal (ref.denied, status == 403);
}

static void
test_default_token (void **state)
{
  struct gate_api_call call;
  struct gate_api_refusal ref;

  assert_int_equal (classify (GATE_HTTP_GET, "/v1/token", NULL, &call, &ref), 200);
  assert_true (call.cacheable);
  assert_string_equal (call.method, "GET");
  assert_null (call.body);
  assert_string_equal (call.cache_key, "GET /v1/token");
  gate_api_call_free (&call);
}

static void
test_token_post_canonical (void **state)
{
  struct gate_api_call a, b;
  struct gate_api_refusal ref;

  /* Same question, different spelling: one cache key, one canonical body. */
  assert_int_equal (classify (GATE_HTTP_POST, "/v1/token",
                              "{\"token_type\":\"OIDC\",\"audience\":\"https://allowed.example\",\"nonces\":[]}", &a, &ref),
                    200);
  assert_int_equal (classify (GATE_HTTP_POST, "/v1/token",
                              " { \"audience\" : \"https://allowed.example\", \"token_type\": \"OIDC\", \"nonces\": null,"
                              " \"token_type_options\": null } ", &b, &ref),
                    200);
  assert_true (a.cacheable && b.cacheable);
  assert_string_equal (a.cache_key, b.cache_key);
  assert_string_equal (a.body, "{\"audience\":\"https://allowed.example\",\"token_type\":\"OIDC\"}");
  assert_string_equal (a.body, b.body);
  assert_string_equal (a.audience, "https://allowed.example");
  gate_api_call_free (&a);
  gate_api_call_free (&b);
  /* Different audience or type: different key. */
  assert_int_equal (classify (GATE_HTTP_POST, "/v1/token", "{\"audience\":\"https://allowed.example\",\"token_type\":\"PKI\"}",
                              &a, &ref), 200);
  assert_string_not_equal (a.cache_key, "POST /v1/token {\"audience\":\"https://allowed.example\",\"token_type\":\"OIDC\"}");
  gate_api_call_free (&a);
}

static void
test_nonces_not_cached (void **state)
{
  struct gate_api_call call;
  struct gate_api_refusal ref;

  assert_int_equal (classify (GATE_HTTP_POST, "/v1/token",
                              "{\"audience\":\"https://allowed.example\",\"token_type\":\"OIDC\",\"nonces\":[\"0123456789\"]}",
                              &call, &ref), 200);
  assert_false (call.cacheable);
  assert_null (call.cache_key);
  assert_non_null (strstr (call.body, "\"nonces\":[\"0123456789\"]"));
  gate_api_call_free (&call);
}

static void
test_evidence (void **state)
{
  struct gate_api_call call;
  struct gate_api_refusal ref;

  assert_int_equal (classify (GATE_HTTP_POST, "/v1/evidence", "{\"challenge\":\"abc\"}", &call, &ref), 200);
  assert_false (call.cacheable);
  assert_string_equal (call.path, "/v1/evidence");
  gate_api_call_free (&call);
  refused (GATE_HTTP_GET, "/v1/evidence", NULL, 405, "POST");
  refused (GATE_HTTP_POST, "/v1/evidence", "{\"challenge\":\"abc\",\"x\":1}", 400, "unknown field \"x\"");
  refused (GATE_HTTP_POST, "/v1/evidence", "{}", 400, "challenge is a required field");
  refused (GATE_HTTP_POST, "/v1/evidence", "{\"challenge\":5}", 400, "must be a string");
}

static void
test_refusals (void **state)
{
  refused (GATE_HTTP_GET, "/v1/other", NULL, 404, "no such endpoint");
  refused (GATE_HTTP_GET, "/v1/token/", NULL, 404, NULL);
  refused (GATE_HTTP_POST, "/v1/token", NULL, 400, "JSON object body is required");
  refused (GATE_HTTP_POST, "/v1/token", "{", 400, "invalid JSON");
  refused (GATE_HTTP_POST, "/v1/token", "[]", 400, "must be an object");
  refused (GATE_HTTP_POST, "/v1/token", "{\"audience\":\"https://allowed.example\",\"token_type\":\"OIDC\"} x", 400,
           "invalid JSON");
  refused (GATE_HTTP_POST, "/v1/token", "{\"audience\":\"a\",\"audience\":\"b\",\"token_type\":\"OIDC\"}", 400,
           "invalid JSON");
  refused (GATE_HTTP_POST, "/v1/token", "{\"audience\":\"https://allowed.example\",\"token_type\":\"OIDC\",\"extra\":1}",
           400, "unknown field \"extra\"");
  refused (GATE_HTTP_POST, "/v1/token", "{\"token_type\":\"OIDC\"}", 400, "audience is a required field");
  refused (GATE_HTTP_POST, "/v1/token", "{\"audience\":\"https://allowed.example\"}", 400,
           "token_type is a required field");
  refused (GATE_HTTP_POST, "/v1/token", "{\"audience\":\"\",\"token_type\":\"OIDC\"}", 400, "must not be empty");
  refused (GATE_HTTP_POST, "/v1/token", "{\"audience\":1,\"token_type\":\"OIDC\"}", 400, "must be a string");
  refused (GATE_HTTP_POST, "/v1/token",
           "{\"audience\":\"https://allowed.example\",\"token_type\":\"OIDC\",\"nonces\":\"0123456789\"}", 400,
           "array of strings");
  refused (GATE_HTTP_POST, "/v1/token", "{\"audience\":\"https://allowed.example\",\"token_type\":\"OIDC\",\"nonces\":[\"short\"]}",
           400, "10 to 74 bytes");
  refused (GATE_HTTP_POST, "/v1/token",
           "{\"audience\":\"https://allowed.example\",\"token_type\":\"OIDC\",\"nonces\":[\"0123456789\",\"0123456789\","
           "\"0123456789\",\"0123456789\",\"0123456789\",\"0123456789\",\"0123456789\"]}",
           400, "at most 6 nonces");
  refused (GATE_HTTP_POST, "/v1/token",
           "{\"audience\":\"https://allowed.example\",\"token_type\":\"OIDC\",\"token_type_options\":[]}", 400,
           "must be an object");
  refused (GATE_HTTP_POST, "/v1/token", "{\"audience\":\"https://allowed.example\",\"token_type\":\"O\\u0000IDC\"}", 400,
           "invalid JSON");
}

static void
test_policy_denials (void **state)
{
  refused (GATE_HTTP_POST, "/v1/token", "{\"audience\":\"https://evil.example\",\"token_type\":\"OIDC\"}", 403,
           "audience \"https://evil.example\" is not allowed by policy (gate.allowed_audiences)");
  refused (GATE_HTTP_POST, "/v1/token", "{\"audience\":\"https://allowed.example\",\"token_type\":\"AWS_PRINCIPALTAGS\"}",
           403, "token_type \"AWS_PRINCIPALTAGS\" is not allowed by policy (gate.allowed_token_types)");
  /* A hostile audience is quoted safely and shortly in the reason. */
  {
    struct gate_api_call call;
    struct gate_api_refusal ref;
    char body[1024];
    strcpy (body, "{\"audience\":\"\\r\\nX-Injected: 1\\\"");
    for (int i = 0; i < 200; i++)
      strcat (body, "a");
    strcat (body, "\",\"token_type\":\"OIDC\"}");
    assert_int_equal (classify (GATE_HTTP_POST, "/v1/token", body, &call, &ref), 403);
    assert_null (strchr (ref.reason, '\r'));
    assert_null (strchr (ref.reason, '\n'));
    assert_true (strlen (ref.reason) < 200);
  }
  /* GET /v1/token is the STS audience: refused when the allow-list leaves it out. */
  rh_strv_free (g.allowed_audiences);
  g.allowed_audiences = rh_xmalloc0 (sizeof (char *));
  rh_strv_push (&g.allowed_audiences, "https://allowed.example");
  refused (GATE_HTTP_GET, "/v1/token", NULL, 403, "https://sts.googleapis.com");
  /* "*" allows any audience; an empty list allows none. */
  rh_strv_push (&g.allowed_audiences, "*");
  refused (GATE_HTTP_POST, "/v1/token", "{\"audience\":\"https://anything\",\"token_type\":\"OIDC\"}", 200, NULL);
  rh_strv_free (g.allowed_token_types);
  g.allowed_token_types = rh_xmalloc0 (sizeof (char *));
  refused (GATE_HTTP_POST, "/v1/token", "{\"audience\":\"https://anything\",\"token_type\":\"OIDC\"}", 403, NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_default_token, setup, teardown),
    cmocka_unit_test_setup_teardown (test_token_post_canonical, setup, teardown),
    cmocka_unit_test_setup_teardown (test_nonces_not_cached, setup, teardown),
    cmocka_unit_test_setup_teardown (test_evidence, setup, teardown),
    cmocka_unit_test_setup_teardown (test_refusals, setup, teardown),
    cmocka_unit_test_setup_teardown (test_policy_denials, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
