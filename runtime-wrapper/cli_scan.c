/* The runc-style flag scanner (see cli_scan.h). */
#include "cli_scan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void
rh_cli_scan_free (struct scan *s)
{
  for (size_t i = 0; i < s->n_occ; i++)
    free (s->occ[i].value);
  free (s->occ);
  rh_strv_free (s->pos);
  memset (s, 0, sizeof *s);
}

int
rh_cli_parse_bool (const char *s, bool *out)
{
  static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True", NULL };
  static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False", NULL };
  for (size_t i = 0; t[i]; i++)
    if (strcmp (s, t[i]) == 0)
      return *out = true, 0;
  for (size_t i = 0; f[i]; i++)
    if (strcmp (s, f[i]) == 0)
      return *out = false, 0;
  return -1;
}

static const struct flag_def *
find_flag (const struct flag_def *defs, const char *name, size_t n)
{
  for (const struct flag_def *d = defs; d->name; d++)
    {
      if (strlen (d->name) == n && strncmp (d->name, name, n) == 0)
        return d;
      if (d->short_name && n == 1 && name[0] == d->short_name)
        return d;
    }
  return NULL;
}

bool
rh_cli_looks_like_flag (const char *arg)
{
  return arg[0] == '-' && arg[1] != '\0';
}

int
rh_cli_scan_one (const char *ctx, const struct flag_def *defs, int argc, char *const *argv, int *i, struct scan *s,
                 rh_error *err)
{
  const char *arg = argv[*i];
  const char *name = arg + (arg[1] == '-' ? 2 : 1);
  size_t n = strcspn (name, "=");
  const char *eq = name[n] == '=' ? name + n + 1 : NULL;
  const struct flag_def *d;
  struct occ o = { NULL, NULL };

  if (n == 0 || name[0] == '-')
    return rh_error_set (err, EINVAL, "%sbad flag syntax: %s", ctx, arg);
  d = find_flag (defs, name, n);
  if (d == NULL)
    {
      if ((n == 4 && strncmp (name, "help", 4) == 0) || (n == 1 && name[0] == 'h'))
        return 1;
      return rh_error_set (err, EINVAL, "%sflag provided but not defined: -%.*s", ctx, (int) n, name);
    }
  o.def = d;
  if (d->value)
    {
      if (eq)
        o.value = rh_xstrdup (eq);
      else if (*i + 1 < argc)
        o.value = rh_xstrdup (argv[++*i]);
      else
        return rh_error_set (err, EINVAL, "%sflag needs an argument: -%s", ctx, d->name);
    }
  else
    {
      bool b = true;
      if (eq && rh_cli_parse_bool (eq, &b) < 0)
        return rh_error_set (err, EINVAL, "%sinvalid boolean value \"%s\" for -%s", ctx, eq, d->name);
      o.value = rh_xstrdup (b ? "true" : "false");
    }
  s->occ = rh_xrealloc (s->occ, (s->n_occ + 1) * sizeof *s->occ);
  s->occ[s->n_occ++] = o;
  return 0;
}

int
rh_cli_scan_args (const char *ctx, const struct flag_def *defs, bool stop_at_pos, int argc, char *const *argv,
                  int start, struct scan *s, rh_error *err)
{
  bool flags_done = false;

  for (int i = start; i < argc; i++)
    {
      const char *arg = argv[i];
      int r;

      if (!flags_done && strcmp (arg, "--") == 0)
        {
          flags_done = true;
          continue;
        }
      if (flags_done || !rh_cli_looks_like_flag (arg))
        {
          rh_strv_push (&s->pos, arg);
          if (stop_at_pos)
            flags_done = true;
          continue;
        }
      r = rh_cli_scan_one (ctx, defs, argc, argv, &i, s, err);
      if (r != 0)
        return r;
    }
  if (s->pos == NULL)
    s->pos = rh_xmalloc0 (sizeof (char *));
  return 0;
}

