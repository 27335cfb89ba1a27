/* [gate] Token cache and JWT times; see cache.h. */
#include "cache.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "util.h"

static int
b64url_value (unsigned char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

/* base64url without padding (RFC 7515 section 2); a trailing '=' padding is tolerated. */
static char *
b64url_decode (const char *in, size_t len, size_t *out_len)
{
  char *out;
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;

  while (len > 0 && in[len - 1] == '=')
    len--;
  if (len % 4 == 1)
    return NULL;
  out = rh_xmalloc0 (len * 3 / 4 + 1);
  for (size_t i = 0; i < len; i++)
    {
      int v = b64url_value ((unsigned char) in[i]);
      if (v < 0)
        {
          free (out);
          return NULL;
        }
      acc = (acc << 6) | (uint32_t) v;
      bits += 6;
      if (bits >= 8)
        {
          bits -= 8;
          out[o++] = (char) ((acc >> bits) & 0xff);
        }
    }
  out[o] = '\0';
  *out_len = o;
  return out;
}

static bool
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
gate_jwt_times (const char *token, size_t len, double *exp, double *iat)
{
  const char *dot1, *dot2, *end;
  _cleanup_free_ char *payload = NULL;
  _cleanup_json_ json_t *claims = NULL;
  size_t plen = 0;
  json_t *e, *i;

  while (len > 0 && is_space (token[0]))
    token++, len--;
  while (len > 0 && is_space (token[len - 1]))
    len--;
  if (len == 0 || len > GATE_JWT_MAX_BYTES)
    return -1;
  end = token + len;
  dot1 = memchr (token, '.', len);
  if (dot1 == NULL)
    return -1;
  dot2 = memchr (dot1 + 1, '.', (size_t) (end - dot1 - 1));
  if (dot2 == NULL || memchr (dot2 + 1, '.', (size_t) (end - dot2 - 1)) != NULL)
    return -1; /* exactly three parts (a JWS compact serialization) */
  payload = b64url_decode (dot1 + 1, (size_t) (dot2 - dot1 - 1), &plen);
  if (payload == NULL)
    return -1;
  claims = json_loadb (payload, plen, JSON_REJECT_DUPLICATES, NULL);
  if (claims == NULL || !json_is_object (claims))
    return -1;
  e = json_object_get (claims, "exp");
  if (!json_is_number (e) || !isfinite (json_number_value (e)))
    return -1;
  *exp = json_number_value (e);
  i = json_object_get (claims, "iat");
  *iat = (json_is_number (i) && isfinite (json_number_value (i)) && json_number_value (i) >= 0)
             ? json_number_value (i)
             : -1;
  return 0;
}

double
gate_cache_ttl (double now_wall, double exp, double iat, double fraction)
{
  double start = now_wall;
  double deadline;

  if (!(fraction > 0 && fraction <= 1) || !isfinite (exp) || exp <= now_wall)
    return 0;
  /* The lifetime starts at iat unless iat is missing, after exp, or in our future (a clock we do
   * not share); then it starts now, which is the conservative choice. */
  if (iat >= 0 && iat <= now_wall && iat < exp)
    start = iat;
  deadline = start + fraction * (exp - start);
  if (deadline - now_wall > GATE_CACHE_MAX_TTL)
    return GATE_CACHE_MAX_TTL;
  return deadline - now_wall;
}

void
gate_cache_init (struct gate_cache *c, size_t max_entries)
{
  memset (c, 0, sizeof *c);
  c->max = max_entries ? max_entries : 1;
}

static void
entry_free (struct gate_cache_entry *e)
{
  free (e->key);
  free (e->body);
  free (e->content_type);
  memset (e, 0, sizeof *e);
}

static void
drop (struct gate_cache *c, size_t idx)
{
  entry_free (&c->v[idx]);
  c->v[idx] = c->v[c->n - 1];
  c->n--;
}

void
gate_cache_free (struct gate_cache *c)
{
  for (size_t i = 0; i < c->n; i++)
    entry_free (&c->v[i]);
  free (c->v);
  c->v = NULL;
  c->n = 0;
}

const struct gate_cache_entry *
gate_cache_get (struct gate_cache *c, const char *key, double now)
{
  for (size_t i = 0; i < c->n;)
    {
      if (c->v[i].expires <= now)
        {
          drop (c, i);
          continue;
        }
      if (strcmp (c->v[i].key, key) == 0)
        return &c->v[i];
      i++;
    }
  return NULL;
}

void
gate_cache_put (struct gate_cache *c, const char *key, const char *body, size_t body_len, const char *content_type,
                double ttl, double now)
{
  struct gate_cache_entry *e;

  if (!(ttl > 0))
    return;
  for (size_t i = 0; i < c->n;)
    {
      if (c->v[i].expires <= now || strcmp (c->v[i].key, key) == 0)
        drop (c, i);
      else
        i++;
    }
  if (c->n >= c->max)
    {
      size_t oldest = 0;
      for (size_t i = 1; i < c->n; i++)
        if (c->v[i].stored < c->v[oldest].stored)
          oldest = i;
      drop (c, oldest);
    }
  c->v = rh_xrealloc (c->v, (c->n + 1) * sizeof *c->v);
  e = &c->v[c->n++];
  e->key = rh_xstrdup (key);
  e->body = rh_xmalloc0 (body_len + 1);
  memcpy (e->body, body, body_len);
  e->body_len = body_len;
  e->content_type = rh_xstrdup (content_type ? content_type : "text/plain");
  e->stored = now;
  e->expires = now + ttl;
}
