/* [gate] What a parsed request means for the TEE server API, and whether policy allows it.
 *
 * Pure: a request and the gate policy in, a decision out. The decision is either a refusal
 * (status + reason: 400 malformed, 403 not allowed, 404, 405) or an upstream call described by
 * canonical bytes: the JSON body we forward is re-serialised from the validated object (sorted
 * keys, compact), so upstream only ever sees JSON we understood, and the cache key is that same
 * canonical text.
 *
 * The API (the Confidential Space launcher's TEE server):
 *   GET  /v1/token                 the default token (audience https://sts.googleapis.com, OIDC)
 *   POST /v1/token                 {"audience": str, "token_type": str, "nonces": [str],
 *                                   "token_type_options": obj}; audience and token_type required
 *   POST /v1/evidence              {"challenge": str}
 * Unknown fields are a 400, as upstream would answer, but without spending an upstream call.
 * Up to 6 nonces of 10 to 74 bytes each, as the attestation service documents. */
#ifndef GATE_API_H
#define GATE_API_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

struct rh_gate_policy;

#define GATE_DEFAULT_AUDIENCE "https://sts.googleapis.com"
#define GATE_DEFAULT_TOKEN_TYPE "OIDC"
#define GATE_MAX_NONCES 6
#define GATE_NONCE_MIN 10
#define GATE_NONCE_MAX 74
#define GATE_MAX_AUDIENCE 2048
#define GATE_MAX_TOKEN_TYPE 64
#define GATE_MAX_CHALLENGE 8192

struct gate_api_call
{
  bool cacheable;      /* token request without nonces */
  char *cache_key;     /* malloc'd; the canonical request, only when cacheable */
  const char *method;  /* "GET" or "POST" (static) */
  const char *path;    /* static */
  char *body;          /* malloc'd canonical JSON, NULL for GET */
  char *audience;      /* malloc'd, for logs; NULL for evidence */
  char *token_type;    /* malloc'd, for logs; NULL for evidence */
};

struct gate_api_refusal
{
  int status;          /* 400, 403, 404, 405 */
  bool denied;         /* a policy refusal (403), counted as "denied" */
  char reason[512];
};

/* 0 with *call filled, or -1 with *refusal filled. */
int gate_api_classify (const struct rh_gate_policy *g, const struct gate_http_request *req,
                       struct gate_api_call *call, struct gate_api_refusal *refusal);
void gate_api_call_free (struct gate_api_call *call);

/* Policy allow-list match: an entry "*" allows anything; otherwise exact byte equality. */
bool gate_api_allowed (char *const *list, const char *value);

#endif
