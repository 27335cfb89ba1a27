#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void __attribute__ ((noreturn))
oom (void)
{
  fputs ("runsc-host: out of memory\n", stderr);
  abort ();
}

void *
rh_xmalloc0 (size_t size)
{
  void *p = calloc (1, size ? size : 1);
  if (p == NULL)
    oom ();
  return p;
}

void *
rh_xrealloc (void *p, size_t size)
{
  void *n = realloc (p, size ? size : 1);
  if (n == NULL)
    oom ();
  return n;
}

char *
rh_xstrdup (const char *s)
{
  char *d;
  if (s == NULL)
    return NULL;
  d = strdup (s);
  if (d == NULL)
    oom ();
  return d;
}

char *
rh_xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *out = NULL;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&out, fmt, ap);
  va_end (ap);
  if (r < 0)
    oom ();
  return out;
}

size_t
rh_strv_len (char *const *v)
{
  size_t n = 0;
  if (v)
    while (v[n])
      n++;
  return n;
}

void
rh_strv_free (char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    free (*p);
  free (v);
}

char **
rh_strv_dup (char *const *v)
{
  size_t n = rh_strv_len (v);
  char **d = rh_xmalloc0 ((n + 1) * sizeof (char *));
  for (size_t i = 0; i < n; i++)
    d[i] = rh_xstrdup (v[i]);
  return d;
}

void
rh_strv_push (char ***v, const char *s)
{
  size_t n = rh_strv_len (*v);
  *v = rh_xrealloc (*v, (n + 2) * sizeof (char *));
  (*v)[n] = rh_xstrdup (s);
  (*v)[n + 1] = NULL;
}

bool
rh_strv_contains (char *const *v, const char *s)
{
  if (v == NULL)
    return false;
  for (; *v; v++)
    if (strcmp (*v, s) == 0)
      return true;
  return false;
}

bool
rh_str_has_prefix (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}
