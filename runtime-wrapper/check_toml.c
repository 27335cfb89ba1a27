/* A scanner for containerd's config.toml, for `runsc-host check` (see check.h).
 *
 * It walks the TOML grammar closely enough to know the full key path of every value (table
 * headers, dotted and quoted keys, inline tables) and records only what the check asks about:
 *   plugins.<cri>.containerd.runtimes.<name>.runtime_type
 *   plugins.<cri>.containerd.runtimes.<name>.options.BinaryName   (and whether options exist)
 *   plugins.<cri>.containerd.default_runtime_name
 *   disabled_plugins = [..., "io.containerd.grpc.v1.cri" or "cri", ...]
 * where <cri> is "io.containerd.grpc.v1.cri" (config version 2) or "cri" (version 1). Values of
 * other types are skipped; syntax errors are reported with their line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cleanup.h"
#include "util.h"

#define MAX_DEPTH 32

struct scan
{
  const char *p;
  int line;
  rh_error *err;
  struct rh_check_containerd *out;
};

static int
fail (struct scan *s, const char *what)
{
  return rh_error_set (s->err, EINVAL, "line %d: %s", s->line, what);
}

/* Spaces and tabs only. */
static void
skip_blank (struct scan *s)
{
  while (*s->p == ' ' || *s->p == '\t')
    s->p++;
}

/* Blanks, newlines and comments (inside arrays and between statements). */
static void
skip_space (struct scan *s)
{
  for (;;)
    {
      skip_blank (s);
      if (*s->p == '#')
        while (*s->p && *s->p != '\n')
          s->p++;
      if (*s->p == '\r')
        s->p++;
      else if (*s->p == '\n')
        {
          s->line++;
          s->p++;
        }
      else
        return;
    }
}

/* A string at s->p (basic, literal, or their multi-line forms). Escapes are decoded only as far
 * as paths need; \uXXXX becomes '?'. */
static int
parse_string (struct scan *s, char **out)
{
  char q = *s->p;
  bool multi = s->p[1] == q && s->p[2] == q;
  size_t cap = 64, n = 0;
  _cleanup_free_ char *buf = rh_xmalloc0 (cap);

  s->p += multi ? 3 : 1;
  if (multi && *s->p == '\n')
    {
      s->line++;
      s->p++;
    }
  for (;;)
    {
      char c = *s->p;

      if (c == '\0')
        return fail (s, "unterminated string");
      if (c == q && (!multi || (s->p[1] == q && s->p[2] == q)))
        {
          s->p += multi ? 3 : 1;
          break;
        }
      if (c == '\n')
        {
          if (!multi)
            return fail (s, "newline in string");
          s->line++;
        }
      if (c == '\\' && q == '"')
        {
          s->p++;
          switch (*s->p)
            {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case 'u':
            case 'U':
              {
                int digits = *s->p == 'u' ? 4 : 8;
                c = '?';
                for (int k = 0; k < digits && s->p[1]; k++)
                  s->p++;
              }
              break;
            default:
              if (multi && (*s->p == '\n' || *s->p == ' ' || *s->p == '\t' || *s->p == '\r'))
                {
                  /* Line-ending backslash: drop the newline and leading blanks. */
                  while (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n')
                    {
                      if (*s->p == '\n')
                        s->line++;
                      s->p++;
                    }
                  continue;
                }
              return fail (s, "bad escape in string");
            }
        }
      if (n + 2 > cap)
        {
          cap *= 2;
          buf = rh_xrealloc (buf, cap);
        }
      buf[n++] = c;
      buf[n] = '\0';
      s->p++;
    }
  *out = steal_pointer (&buf);
  return 0;
}

static bool
is_bare (char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* A dotted key; segments are appended to path (a strv). */
static int
parse_key (struct scan *s, char ***path)
{
  for (;;)
    {
      skip_blank (s);
      if (*s->p == '"' || *s->p == '\'')
        {
          _cleanup_free_ char *seg = NULL;
          if (parse_string (s, &seg) < 0)
            return -1;
          rh_strv_push (path, seg);
        }
      else if (is_bare (*s->p))
        {
          const char *start = s->p;
          while (is_bare (*s->p))
            s->p++;
          _cleanup_free_ char *seg = rh_xasprintf ("%.*s", (int) (s->p - start), start);
          rh_strv_push (path, seg);
        }
      else
        return fail (s, "expected a key");
      if (rh_strv_len (*path) > MAX_DEPTH)
        return fail (s, "keys nested too deeply");
      skip_blank (s);
      if (*s->p != '.')
        return 0;
      s->p++;
    }
}

static struct rh_check_runtime *
runtime_get (struct rh_check_containerd *c, const char *name)
{
  for (size_t i = 0; i < c->n_runtimes; i++)
    if (strcmp (c->runtimes[i].name, name) == 0)
      return &c->runtimes[i];
  c->runtimes = rh_xrealloc (c->runtimes, (c->n_runtimes + 1) * sizeof *c->runtimes);
  memset (&c->runtimes[c->n_runtimes], 0, sizeof *c->runtimes);
  c->runtimes[c->n_runtimes].name = rh_xstrdup (name);
  return &c->runtimes[c->n_runtimes++];
}

static bool
is_cri (const char *name)
{
  return strcmp (name, "io.containerd.grpc.v1.cri") == 0 || strcmp (name, "cri") == 0;
}

/* Record what a path means. value is the string value, or NULL for a non-string value (which
 * still tells us that, say, an options table exists). */
static void
record (struct scan *s, char **path, const char *value)
{
  size_t n = rh_strv_len (path);

  if (n == 1 && strcmp (path[0], "disabled_plugins") == 0 && value != NULL && is_cri (value))
    s->out->cri_disabled = true;
  /* plugins.<cri>.containerd.... */
  if (n < 4 || strcmp (path[0], "plugins") != 0 || !is_cri (path[1]) || strcmp (path[2], "containerd") != 0)
    return;
  if (n == 4 && strcmp (path[3], "default_runtime_name") == 0 && value != NULL)
    {
      free (s->out->default_runtime);
      s->out->default_runtime = rh_xstrdup (value);
      return;
    }
  if (n < 5 || strcmp (path[3], "runtimes") != 0)
    return;
  struct rh_check_runtime *rt = runtime_get (s->out, path[4]);
  if (n == 6 && strcmp (path[5], "runtime_type") == 0 && value != NULL)
    {
      free (rt->type);
      rt->type = rh_xstrdup (value);
    }
  else if (n >= 6 && strcmp (path[5], "options") == 0)
    {
      rt->has_options = true;
      if (n == 7 && strcmp (path[6], "BinaryName") == 0 && value != NULL)
        {
          free (rt->binary);
          rt->binary = rh_xstrdup (value);
        }
    }
}

static int parse_value (struct scan *s, char **path, int depth);

/* { k = v, ... } under path. */
static int
parse_inline_table (struct scan *s, char **path, int depth)
{
  s->p++;
  skip_blank (s);
  if (*s->p == '}')
    {
      s->p++;
      record (s, path, NULL);
      return 0;
    }
  for (;;)
    {
      _cleanup_strv_ char **full = rh_strv_dup (path);
      if (parse_key (s, &full) < 0)
        return -1;
      skip_blank (s);
      if (*s->p != '=')
        return fail (s, "expected '=' in inline table");
      s->p++;
      if (parse_value (s, full, depth + 1) < 0)
        return -1;
      skip_blank (s);
      if (*s->p == ',')
        {
          s->p++;
          continue;
        }
      if (*s->p == '}')
        {
          s->p++;
          return 0;
        }
      return fail (s, "expected ',' or '}' in inline table");
    }
}

static int
parse_array (struct scan *s, char **path, int depth)
{
  s->p++;
  for (;;)
    {
      skip_space (s);
      if (*s->p == ']')
        {
          s->p++;
          return 0;
        }
      if (parse_value (s, path, depth + 1) < 0)
        return -1;
      skip_space (s);
      if (*s->p == ',')
        s->p++;
      else if (*s->p != ']')
        return fail (s, "expected ',' or ']' in array");
    }
}

static int
parse_value (struct scan *s, char **path, int depth)
{
  if (depth > MAX_DEPTH)
    return fail (s, "values nested too deeply");
  skip_blank (s);
  if (*s->p == '"' || *s->p == '\'')
    {
      _cleanup_free_ char *v = NULL;
      if (parse_string (s, &v) < 0)
        return -1;
      record (s, path, v);
      return 0;
    }
  if (*s->p == '[')
    return parse_array (s, path, depth);
  if (*s->p == '{')
    return parse_inline_table (s, path, depth);
  /* Number, boolean, date: a bare token. */
  const char *start = s->p;
  while (*s->p && !strchr (" \t\r\n,]}#", *s->p))
    s->p++;
  if (s->p == start)
    return fail (s, "expected a value");
  record (s, path, NULL);
  return 0;
}

int
rh_check_scan_containerd_toml (const char *text, struct rh_check_containerd *out, rh_error *err)
{
  struct rh_check_containerd c = { 0 };
  struct scan s = { .p = text, .line = 1, .err = err, .out = &c };
  _cleanup_strv_ char **table = rh_xmalloc0 (sizeof (char *));

  for (;;)
    {
      skip_space (&s);
      if (*s.p == '\0')
        break;
      if (*s.p == '[')
        {
          bool array = s.p[1] == '[';
          s.p += array ? 2 : 1;
          rh_strv_free (table);
          table = rh_xmalloc0 (sizeof (char *));
          if (parse_key (&s, &table) < 0)
            goto fail;
          skip_blank (&s);
          if (*s.p != ']' || (array && s.p[1] != ']'))
            {
              fail (&s, "expected ']' after table name");
              goto fail;
            }
          s.p += array ? 2 : 1;
          record (&s, table, NULL);
        }
      else
        {
          _cleanup_strv_ char **full = rh_strv_dup (table);
          if (parse_key (&s, &full) < 0)
            goto fail;
          skip_blank (&s);
          if (*s.p != '=')
            {
              fail (&s, "expected '=' after key");
              goto fail;
            }
          s.p++;
          if (parse_value (&s, full, 0) < 0)
            goto fail;
        }
      /* A statement ends at a newline, a comment or the end. */
      skip_blank (&s);
      if (*s.p == '#')
        continue;
      if (*s.p == '\r')
        s.p++;
      if (*s.p != '\n' && *s.p != '\0')
        {
          fail (&s, "unexpected text after value");
          goto fail;
        }
    }
  *out = c;
  return 0;

fail:
  rh_check_containerd_free (&c);
  return -1;
}

void
rh_check_containerd_free (struct rh_check_containerd *c)
{
  for (size_t i = 0; i < c->n_runtimes; i++)
    {
      free (c->runtimes[i].name);
      free (c->runtimes[i].type);
      free (c->runtimes[i].binary);
    }
  free (c->runtimes);
  free (c->default_runtime);
  memset (c, 0, sizeof *c);
}
