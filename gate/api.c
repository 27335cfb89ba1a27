/* [gate] TEE server API semantics and policy allow-lists; see api.h. */
#include "api.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "gate_policy.h"
#include "util.h"

static int
refuse (struct gate_api_refusal *r, int status, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

static int
refuse (struct gate_api_refusal *r, int status, const char *fmt, ...)
{
  va_list ap;

  r->status = status;
  r->denied = status == 403;
  va_start (ap, fmt);
  vsnprintf (r->reason, sizeof r->reason, fmt, ap);
  va_end (ap);
  return -1;
}

/* A hostile string made safe to quote in a reason: printable ASCII only, at most 80 bytes. */
static void
quote (const char *s, char out[96])
{
  size_t o = 0;
  for (size_t i = 0; s[i] && o < 80; i++)
    out[o++] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') ? s[i] : '?';
  if (s[0] && strlen (s) > 80)
    {
      memcpy (out + o, "...", 3);
      o += 3;
    }
  out[o] = '\0';
}

bool
gate_api_allowed (char *const *list, const char *value)
{
  for (size_t i = 0; list && list[i]; i++)
    if (strcmp (list[i], "*") == 0 || strcmp (list[i], value) == 0)
      return true;
  return false;
}

static int
check_allowed (const struct rh_gate_policy *g, const char *audience, const char *token_type,
               struct gate_api_refusal *r)
{
  char q[96];

  if (!gate_api_allowed (g->allowed_token_types, token_type))
    {
      quote (token_type, q);
      return refuse (r, 403, "token_type \"%s\" is not allowed by policy (gate.allowed_token_types)", q);
    }
  if (!gate_api_allowed (g->allowed_audiences, audience))
    {
      quote (audience, q);
      return refuse (r, 403, "audience \"%s\" is not allowed by policy (gate.allowed_audiences)", q);
    }
  return 0;
}

static int
get_required_string (json_t *obj, const char *key, size_t max, const char **out, struct gate_api_refusal *r)
{
  json_t *v = json_object_get (obj, key);

  if (v == NULL || json_is_null (v))
    return refuse (r, 400, "%s is a required field", key);
  if (!json_is_string (v))
    return refuse (r, 400, "%s must be a string", key);
  if (json_string_length (v) == 0)
    return refuse (r, 400, "%s must not be empty", key);
  if (json_string_length (v) > max)
    return refuse (r, 400, "%s is longer than %zu bytes", key, max);
  *out = json_string_value (v);
  return 0;
}

static json_t *
parse_object (const struct gate_http_request *req, struct gate_api_refusal *r)
{
  json_error_t jerr;
  json_t *root;

  if (req->body_len == 0)
    {
      refuse (r, 400, "a JSON object body is required");
      return NULL;
    }
  /* jansson refuses NUL bytes inside strings and trailing garbage after the value. */
  root = json_loadb (req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL)
    {
      refuse (r, 400, "invalid JSON body at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
      return NULL;
    }
  if (!json_is_object (root))
    {
      json_decref (root);
      refuse (r, 400, "the JSON body must be an object");
      return NULL;
    }
  return root;
}

static int
check_keys (json_t *obj, const char *const *allowed, struct gate_api_refusal *r)
{
  const char *key;
  json_t *val;

  json_object_foreach (obj, key, val)
    {
      bool ok = false;
      char q[96];
      for (const char *const *a = allowed; *a; a++)
        if (strcmp (*a, key) == 0)
          ok = true;
      if (!ok)
        {
          quote (key, q);
          return refuse (r, 400, "unknown field \"%s\"", q);
        }
    }
  return 0;
}

static int
classify_token_post (const struct rh_gate_policy *g, const struct gate_http_request *req, const char *path,
                     struct gate_api_call *call, struct gate_api_refusal *r)
{
  static const char *const keys[] = { "audience", "token_type", "nonces", "token_type_options", NULL };
  _cleanup_json_ json_t *root = parse_object (req, r);
  const char *audience = NULL, *token_type = NULL;
  json_t *nonces, *opts, *item;
  size_t i;

  if (root == NULL || check_keys (root, keys, r) < 0)
    return -1;
  if (get_required_string (root, "audience", GATE_MAX_AUDIENCE, &audience, r) < 0
      || get_required_string (root, "token_type", GATE_MAX_TOKEN_TYPE, &token_type, r) < 0)
    return -1;
  nonces = json_object_get (root, "nonces");
  if (nonces != NULL && !json_is_null (nonces))
    {
      if (!json_is_array (nonces))
        return refuse (r, 400, "nonces must be an array of strings");
      if (json_array_size (nonces) > GATE_MAX_NONCES)
        return refuse (r, 400, "at most %d nonces are allowed", GATE_MAX_NONCES);
      json_array_foreach (nonces, i, item)
        {
          if (!json_is_string (item))
            return refuse (r, 400, "nonces[%zu] must be a string", i);
          if (json_string_length (item) < GATE_NONCE_MIN || json_string_length (item) > GATE_NONCE_MAX)
            return refuse (r, 400, "nonces[%zu] must be %d to %d bytes long", i, GATE_NONCE_MIN, GATE_NONCE_MAX);
        }
    }
  opts = json_object_get (root, "token_type_options");
  if (opts != NULL && !json_is_null (opts) && !json_is_object (opts))
    return refuse (r, 400, "token_type_options must be an object");
  if (check_allowed (g, audience, token_type, r) < 0)
    return -1;

  call->audience = rh_xstrdup (audience);
  call->token_type = rh_xstrdup (token_type);
  /* Absent, null and [] nonces mean the same thing; so do absent and null options. */
  call->cacheable = nonces == NULL || json_is_null (nonces) || json_array_size (nonces) == 0;
  if (call->cacheable && nonces != NULL)
    json_object_del (root, "nonces");
  if (opts != NULL && json_is_null (opts))
    json_object_del (root, "token_type_options");
  call->method = "POST";
  call->path = path;
  call->body = json_dumps (root, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
  if (call->body == NULL)
    return refuse (r, 400, "request cannot be re-encoded");
  if (call->cacheable)
    call->cache_key = rh_xasprintf ("POST %s %s", path, call->body);
  return 0;
}

static int
classify_evidence (const struct gate_http_request *req, struct gate_api_call *call, struct gate_api_refusal *r)
{
  static const char *const keys[] = { "challenge", NULL };
  _cleanup_json_ json_t *root = parse_object (req, r);
  const char *challenge = NULL;

  if (root == NULL || check_keys (root, keys, r) < 0
      || get_required_string (root, "challenge", GATE_MAX_CHALLENGE, &challenge, r) < 0)
    return -1;
  call->method = "POST";
  call->path = "/v1/evidence";
  call->cacheable = false; /* a challenge is a nonce: never cached */
  call->body = json_dumps (root, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
  if (call->body == NULL)
    return refuse (r, 400, "request cannot be re-encoded");
  return 0;
}

int
gate_api_classify (const struct rh_gate_policy *g, const struct gate_http_request *req, struct gate_api_call *call,
                   struct gate_api_refusal *r)
{
  memset (call, 0, sizeof *call);
  memset (r, 0, sizeof *r);

  if (strcmp (req->path, "/v1/token") == 0)
    {
      if (req->method == GATE_HTTP_POST)
        {
          if (classify_token_post (g, req, "/v1/token", call, r) < 0)
            goto fail;
          return 0;
        }
      /* GET: the default token. A body, if any, is ignored, as upstream does. */
      if (check_allowed (g, GATE_DEFAULT_AUDIENCE, GATE_DEFAULT_TOKEN_TYPE, r) < 0)
        goto fail;
      call->method = "GET";
      call->path = "/v1/token";
      call->cacheable = true;
      call->cache_key = rh_xstrdup ("GET /v1/token");
      call->audience = rh_xstrdup (GATE_DEFAULT_AUDIENCE);
      call->token_type = rh_xstrdup (GATE_DEFAULT_TOKEN_TYPE);
      return 0;
    }
  if (strcmp (req->path, "/v1/evidence") == 0)
    {
      if (req->method != GATE_HTTP_POST)
        return refuse (r, 405, "/v1/evidence takes POST");
      if (classify_evidence (req, call, r) < 0)
        goto fail;
      return 0;
    }
  return refuse (r, 404, "no such endpoint (the gate serves /v1/token and /v1/evidence)");

fail:
  gate_api_call_free (call);
  return -1;
}

void
gate_api_call_free (struct gate_api_call *call)
{
  free (call->cache_key);
  free (call->body);
  free (call->audience);
  free (call->token_type);
  memset (call, 0, sizeof *call);
}
