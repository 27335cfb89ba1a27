/* [gate] The token cache of one sandbox, and the JWT `exp` decoding it relies on.
 *
 * Pure: times are passed in. A cached answer is served until `fraction` (policy
 * gate.cache_fraction, 0.8 by default) of the token's lifetime has passed, where the lifetime
 * runs from `iat` (or from the moment we received it, when `iat` is absent or in the future) to
 * `exp`. Tokens without a readable `exp` are not cached. Only nonce-less requests are ever looked
 * up here (the caller decides); the cache is per sandbox, so one sandbox never learns from
 * cache timing what another one asked for. */
#ifndef GATE_CACHE_H
#define GATE_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#define GATE_JWT_MAX_BYTES (64u * 1024)
#define GATE_CACHE_MAX_TTL (24.0 * 3600) /* never trust a lifetime longer than a day */

/* Decode a JWT's payload and read its numeric `exp` (required) and `iat` (optional; *iat is set
 * to -1 when absent). Surrounding ASCII whitespace is ignored. Returns 0 or -1 when the token is
 * not a JWT with a numeric exp. */
int gate_jwt_times (const char *token, size_t len, double *exp, double *iat);

/* Seconds from now_wall during which the token may be served from cache; <= 0 means "do not
 * cache". fraction is in (0, 1]. */
double gate_cache_ttl (double now_wall, double exp, double iat, double fraction);

struct gate_cache_entry
{
  char *key;
  char *body;
  size_t body_len;
  char *content_type;
  double expires; /* monotonic seconds */
  double stored;  /* monotonic seconds (for eviction order) */
};

struct gate_cache
{
  struct gate_cache_entry *v;
  size_t n;
  size_t max; /* entries kept; the oldest goes first */
};

void gate_cache_init (struct gate_cache *c, size_t max_entries);
void gate_cache_free (struct gate_cache *c);
/* A live entry for key, or NULL. Expired entries are dropped on the way. */
const struct gate_cache_entry *gate_cache_get (struct gate_cache *c, const char *key, double now);
/* Store (replacing any entry with the same key) for ttl seconds from now. */
void gate_cache_put (struct gate_cache *c, const char *key, const char *body, size_t body_len,
                     const char *content_type, double ttl, double now);

#endif
