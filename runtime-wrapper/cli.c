/* runc argv -> runsc argv. Pure: see cli.h. The table of what happens to each flag, and why,
 * is docs/cli.md; keep the two in step. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "container_id.h"
#include "cli_scan.h"
#include "cli_table.h"
#include "util.h"

/* ------------------------------------------------------------------------------------------ */
/* Helpers for the handlers                                                                    */

/* A handler that fails puts back the sub_args it had (saved) and frees what it pushed. */
int
rh_cli_undo_sub_args (struct rh_cli *c, char **saved)
{
  rh_strv_free (c->sub_args);
  c->sub_args = saved;
  return -1;
}

void __attribute__ ((format (printf, 2, 3)))
rh_cli_decide (struct rh_cli *c, const char *fmt, ...)
{
  va_list ap;
  char *line = NULL;

  va_start (ap, fmt);
  if (vasprintf (&line, fmt, ap) < 0)
    abort ();
  va_end (ap);
  rh_strv_push (&c->decisions, line);
  free (line);
}

/* Push a malloc'd string and free it (rh_strv_push copies). */
void
rh_cli_push_owned (char ***v, char *s)
{
  rh_strv_push (v, s);
  free (s);
}

void
rh_cli_push_flag (struct rh_cli *c, const char *name, const char *value)
{
  _cleanup_free_ char *s = value ? rh_xasprintf ("--%s=%s", name, value) : rh_xasprintf ("--%s", name);
  rh_strv_push (&c->sub_args, s);
}

bool
rh_cli_is_true (const struct occ *o)
{
  return strcmp (o->value, "true") == 0;
}

/* Every subcommand checks its id with the one rule (container_id.h): it becomes a path component
 * and a netfilter comment. */
static int
check_id (const char *cmd, const char *id, rh_error *err)
{
  if (rh_container_id_check (id, err) < 0)
    return rh_error_prefix (err, "%s", cmd);
  return 0;
}

/* path made absolute against the working directory; NULL when that is unknown (getcwd failed,
 * for example because the directory was removed). */
char *
rh_cli_absolute (const struct rh_cli_env *env, const char *path)
{
  if (path[0] == '/')
    return rh_xstrdup (path);
  if (env->cwd == NULL || env->cwd[0] != '/')
    return NULL;
  if (strcmp (path, ".") == 0)
    return rh_xstrdup (env->cwd);
  return rh_xasprintf ("%s%s%s", env->cwd, env->cwd[strlen (env->cwd) - 1] == '/' ? "" : "/", path);
}

/* --preserve-fds N: 0 is a no-op; runsc (2022) cannot pass extra fds into the sandbox, and
 * starting without them would hand the workload a different fd table than asked for. */
int
rh_cli_handle_preserve_fds (struct rh_cli *c, const char *cmd, const struct occ *o, rh_error *err)
{
  long n;

  if (rh_cli_parse_nonneg (o->value, INT_MAX, &n) < 0)
    return rh_error_set (err, EINVAL, "%s: invalid value \"%s\" for --preserve-fds", cmd, o->value);
  if (n > 0)
    return rh_error_set (err, ENOTSUP, "%s --preserve-fds %ld: runsc cannot pass extra file descriptors into the "
                                       "sandbox; refusing rather than starting without them", cmd, n);
  rh_cli_decide (c, "dropped --preserve-fds 0: nothing to preserve");
  return 0;
}

/* The generic treatment for MAP/DROP/REFUSE entries. Returns 1 when the flag is SPECIAL. */
int
rh_cli_handle_generic (struct rh_cli *c, const char *cmd, const struct occ *o, rh_error *err)
{
  const struct flag_def *d = o->def;
  const char *rname = d->runsc ? d->runsc : d->name;

  switch (d->act)
    {
    case MAP:
      if (!d->value && !rh_cli_is_true (o))
        {
          rh_cli_decide (c, "--%s=false: nothing to pass to runsc", d->name);
          return 0;
        }
      rh_cli_push_flag (c, rname, d->value ? o->value : NULL);
      rh_cli_decide (c, "mapped --%s to runsc --%s", d->name, rname);
      return 0;
    case DROP:
      rh_cli_decide (c, "dropped --%s: %s", d->name, d->why);
      return 0;
    case REFUSE:
      if (!d->value && !rh_cli_is_true (o))
        {
          rh_cli_decide (c, "--%s=false: nothing to refuse", d->name);
          return 0;
        }
      return rh_error_set (err, ENOTSUP, "%s --%s is not supported: %s", cmd, d->name, d->why);
    case SPECIAL:
    default:
      return 1;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Subcommand handlers: each turns the scan into c->sub_args.                                   */

static int
do_create (struct rh_cli *c, const struct rh_cli_env *env, const struct scan *s, rh_error *err)
{
  const char *cmd = c->cmd_name;
  bool is_run = c->cmd == RH_CLI_RUN, is_restore = c->cmd == RH_CLI_RESTORE;
  const char *bundle = NULL, *console = NULL, *image = NULL;
  bool keep = false;
  _cleanup_strv_ char **rest = NULL;
  char **saved;

  /* Flags that belong after --bundle are collected in a side vector so the order stays
   * canonical: subcommand, --bundle, the rest. */
  saved = c->sub_args;
  c->sub_args = NULL;
  for (size_t i = 0; i < s->n_occ; i++)
    {
      const struct occ *o = &s->occ[i];
      const char *name = o->def->name;
      int r = rh_cli_handle_generic (c, cmd, o, err);

      if (r < 0)
        goto fail;
      if (r == 0)
        continue;
      if (strcmp (name, "bundle") == 0)
        bundle = o->value;
      else if (strcmp (name, "console-socket") == 0)
        console = o->value[0] ? o->value : NULL;
      else if (strcmp (name, "image-path") == 0)
        image = o->value[0] ? o->value : NULL;
      else if (strcmp (name, "preserve-fds") == 0)
        {
          if (rh_cli_handle_preserve_fds (c, cmd, o, err) < 0)
            goto fail;
        }
      else if (strcmp (name, "detach") == 0 && (is_run || is_restore))
        c->detach = rh_cli_is_true (o);
      else if (strcmp (name, "keep") == 0 && is_run)
        keep = rh_cli_is_true (o);
      else
        {
          rh_error_set (err, EINVAL, "%s: flag provided but not defined: -%s", cmd, name);
          goto fail;
        }
    }
  rest = c->sub_args;
  c->sub_args = saved;

  /* runc run --keep keeps a stopped container's state until delete. runsc run without
   * --detach deletes the container when it exits; with --detach it stays until delete. */
  if (keep && !c->detach)
    return rh_error_set (err, ENOTSUP, "run --keep is not supported without --detach: runsc deletes a "
                                       "foreground container when it exits");
  if (keep)
    rh_cli_decide (c, "dropped --keep: a detached runsc container stays until delete anyway");

  c->bundle = rh_cli_absolute (env, bundle && bundle[0] ? bundle : ".");
  if (c->bundle == NULL)
    return rh_error_set (err, ENOENT, "%s: cannot resolve the bundle %s: the current directory is unknown", cmd,
                         bundle && bundle[0] ? bundle : "(current directory)");
  rh_cli_push_flag (c, "bundle", c->bundle);
  rh_cli_decide (c, "bundle %s%s", c->bundle, bundle && bundle[0] ? "" : " (current directory, as runc defaults)");
  if (console)
    {
      rh_cli_push_flag (c, "console-socket", console);
      c->console_socket = true;
      rh_cli_decide (c, "mapped --console-socket to runsc --console-socket");
    }
  if (is_restore)
    {
      _cleanup_free_ char *img = image ? rh_xstrdup (image) : rh_cli_absolute (env, "checkpoint");
      if (img == NULL)
        return rh_error_set (err, ENOENT, "restore: no --image-path, and the current directory is unknown");
      rh_cli_push_flag (c, "image-path", img);
      rh_cli_decide (c, "image path %s%s", img, image ? "" : " (./checkpoint, as runc defaults)");
    }
  if (c->detach)
    {
      rh_cli_push_flag (c, "detach", NULL);
      rh_cli_decide (c, "mapped --detach to runsc --detach");
    }
  for (char **p = rest; p && *p; p++)
    rh_strv_push (&c->sub_args, *p);
  return 0;

fail:
  return rh_cli_undo_sub_args (c, saved);
}

static int
do_kill (struct rh_cli *c, const struct scan *s, rh_error *err)
{
  int sig = SIGTERM;
  char num[16];

  for (size_t i = 0; i < s->n_occ; i++)
    if (rh_cli_handle_generic (c, "kill", &s->occ[i], err) < 0)
      return -1;
  /* Signal 0 (runc: "does it exist?") is answered by main (cmd_compat.c): runsc refuses it. */
  if (s->pos[1] && strcmp (s->pos[1], "0") == 0)
    sig = 0;
  else if (s->pos[1] && rh_cli_parse_signal (s->pos[1], &sig, err) < 0)
    return rh_error_prefix (err, "kill");
  snprintf (num, sizeof num, "%d", sig);
  rh_strv_push (&c->sub_args, "--");
  rh_strv_push (&c->sub_args, c->id);
  rh_strv_push (&c->sub_args, num);
  rh_cli_decide (c, "signal %s -> %d", s->pos[1] ? s->pos[1] : "(default SIGTERM)", sig);
  return 0;
}

static int
check_format (const char *cmd, const char *v, const char *a, const char *b, rh_error *err)
{
  if (strcmp (v, a) != 0 && strcmp (v, b) != 0)
    return rh_error_set (err, EINVAL, "%s: invalid format \"%s\": expected %s or %s", cmd, v, a, b);
  return 0;
}

static int
do_simple (struct rh_cli *c, const struct scan *s, rh_error *err)
{
  const char *cmd = c->cmd_name;
  const char *format = NULL;

  for (size_t i = 0; i < s->n_occ; i++)
    {
      const struct occ *o = &s->occ[i];
      const char *name = o->def->name;
      int r = rh_cli_handle_generic (c, cmd, o, err);

      if (r < 0)
        return -1;
      if (r == 0)
        continue;
      if (strcmp (name, "format") == 0)
        {
          /* runc's list calls its default "table" (and accepts only table and json); runsc
           * calls the same layout "text". Both spellings are taken. */
          bool list_table = c->cmd == RH_CLI_LIST && strcmp (o->value, "table") == 0;
          if (!list_table && check_format (cmd, o->value, c->cmd == RH_CLI_PS ? "table" : "text", "json", err) < 0)
            return -1;
          format = o->value;
          rh_cli_push_flag (c, "format", list_table ? "text" : o->value);
          rh_cli_decide (c, "mapped --format %s to runsc --format %s", o->value, list_table ? "text" : o->value);
        }
      else if (strcmp (name, "interval") == 0)
        {
          long secs;
          char num[32];
          if (rh_cli_duration_to_seconds (o->value, &secs, err) < 0)
            return rh_error_prefix (err, "events --interval");
          snprintf (num, sizeof num, "%ld", secs);
          rh_cli_push_flag (c, "interval", num);
          rh_cli_decide (c, "events --interval %s -> runsc --interval=%ld (whole seconds, rounded up)", o->value, secs);
        }
      else
        return rh_error_set (err, EINVAL, "%s: flag provided but not defined: -%s", cmd, name);
    }
  if (c->cmd == RH_CLI_PS && s->pos[0] && s->pos[1])
    {
      if (format && strcmp (format, "json") == 0)
        rh_cli_decide (c, "ignored ps(1) arguments with --format json (as runc does)");
      else
        return rh_error_set (err, ENOTSUP, "ps: ps(1) arguments (%s ...) are not supported: runsc lists the "
                                           "sandbox's processes itself", s->pos[1]);
    }
  if (c->id)
    {
      rh_strv_push (&c->sub_args, "--");
      rh_strv_push (&c->sub_args, c->id);
    }
  return 0;
}

static int
do_checkpoint (struct rh_cli *c, const struct rh_cli_env *env, const struct scan *s, rh_error *err)
{
  const char *image = NULL;
  _cleanup_free_ char *img = NULL;

  for (size_t i = 0; i < s->n_occ; i++)
    {
      const struct occ *o = &s->occ[i];
      int r = rh_cli_handle_generic (c, "checkpoint", o, err);
      if (r < 0)
        return -1;
      if (r == 1)
        image = o->value[0] ? o->value : NULL; /* the only SPECIAL: --image-path */
    }
  /* runsc requires --image-path; runc defaults it to ./checkpoint. */
  img = image ? rh_xstrdup (image) : rh_cli_absolute (env, "checkpoint");
  if (img == NULL)
    return rh_error_set (err, ENOENT, "checkpoint: no --image-path, and the current directory is unknown");
  rh_cli_push_flag (c, "image-path", img);
  rh_cli_decide (c, "image path %s%s", img, image ? "" : " (./checkpoint, as runc defaults)");
  rh_strv_push (&c->sub_args, "--");
  rh_strv_push (&c->sub_args, c->id);
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Global flags and dispatch                                                                   */

static int
parse_globals (int argc, char *const *argv, int *i, struct rh_cli *c, rh_error *err)
{
  bool have_err = false;
  rh_error first;
  bool have_format = false;

  rh_error_clear (&first);
  for (; *i < argc; ++*i)
    {
      const char *arg = argv[*i];
      struct scan s = { NULL, 0, NULL };
      int r;

      if (strcmp (arg, "--") == 0)
        {
          ++*i;
          break;
        }
      if (!rh_cli_looks_like_flag (arg))
        break;
      r = rh_cli_scan_one ("", rh_cli_global_flags, argc, argv, i, &s, have_err ? NULL : &first);
      if (r < 0)
        {
          have_err = true;
          rh_cli_scan_free (&s);
          continue; /* keep going: a later --log must still be honoured */
        }
      if (r == 1)
        {
          c->cmd = RH_CLI_HELP;
          rh_cli_scan_free (&s);
          continue;
        }
      {
        const struct occ *o = &s.occ[0];
        const char *name = o->def->name;
        if (o->def->act == DROP)
          rh_cli_decide (c, "dropped --%s: %s", name, o->def->why);
        else if (strcmp (name, "root") == 0)
          free (c->root), c->root = o->value[0] ? rh_xstrdup (o->value) : NULL;
        else if (strcmp (name, "log") == 0)
          free (c->log), c->log = o->value[0] ? rh_xstrdup (o->value) : NULL;
        else if (strcmp (name, "log-format") == 0)
          {
            if (strcmp (o->value, "json") == 0 || strcmp (o->value, "text") == 0)
              c->log_json = strcmp (o->value, "json") == 0, have_format = true;
            else if (!have_err)
              have_err = true, rh_error_set (&first, EINVAL, "unknown log-format \"%s\": expected text or json",
                                             o->value);
          }
        else if (strcmp (name, "debug") == 0)
          c->debug = rh_cli_is_true (o);
        else if (strcmp (name, "systemd-cgroup") == 0)
          c->systemd_cgroup = rh_cli_is_true (o);
        else if (strcmp (name, "help") == 0)
          c->cmd = rh_cli_is_true (o) ? RH_CLI_HELP : c->cmd;
        else if (strcmp (name, "version") == 0 && rh_cli_is_true (o))
          c->cmd = c->cmd == RH_CLI_HELP ? RH_CLI_HELP : RH_CLI_VERSION;
        else if (strcmp (name, "rootless") == 0)
          {
            bool b = false;
            if (strcmp (o->value, "auto") == 0 || (rh_cli_parse_bool (o->value, &b) == 0 && !b))
              rh_cli_decide (c, "dropped --rootless=%s: runsc-host runs sandboxes as root", o->value);
            else if (!have_err)
              {
                have_err = true;
                if (rh_cli_parse_bool (o->value, &b) < 0)
                  rh_error_set (&first, EINVAL, "invalid --rootless value \"%s\": expected true, false or auto",
                                o->value);
                else
                  rh_error_set (&first, ENOTSUP, "--rootless=true is not supported: runsc-host runs sandboxes as "
                                                 "root (runsc's own --rootless mode weakens the sandbox)");
              }
          }
      }
      rh_cli_scan_free (&s);
    }
  if (have_err)
    {
      *err = first;
      return -1;
    }
  /* Mapped for runsc in a fixed order; the last occurrence of a value flag wins, as in Go. */
  if (c->root)
    rh_cli_push_owned (&c->global_args, rh_xasprintf ("--root=%s", c->root));
  if (c->log)
    rh_cli_push_owned (&c->global_args, rh_xasprintf ("--log=%s", c->log));
  if (have_format)
    rh_strv_push (&c->global_args, c->log_json ? "--log-format=json" : "--log-format=text");
  if (c->debug)
    rh_strv_push (&c->global_args, "--debug");
  if (c->systemd_cgroup)
    rh_strv_push (&c->global_args, "--systemd-cgroup");
  return 0;
}

int
rh_cli_parse (int argc, char *const *argv, const struct rh_cli_env *env, struct rh_cli *out, rh_error *err)
{
  const struct cmd_def *cd = NULL;
  struct scan s = { NULL, 0, NULL };
  size_t npos;
  int i = 1, r;

  memset (out, 0, sizeof *out);
  out->cmd = RH_CLI_NONE;
  if (parse_globals (argc, argv, &i, out, err) < 0)
    return -1;
  if (out->cmd == RH_CLI_VERSION)
    return 0;
  if (i >= argc)
    return 0; /* no subcommand: usage (or --help) */
  if (out->cmd == RH_CLI_HELP)
    {
      out->help_topic = rh_xstrdup (argv[i]);
      return 0;
    }
  out->cmd_name = rh_xstrdup (argv[i]);

  if (strcmp (argv[i], "help") == 0)
    {
      out->cmd = RH_CLI_HELP;
      if (i + 1 < argc)
        out->help_topic = rh_xstrdup (argv[i + 1]);
      return 0;
    }
  /* Our own subcommands parse their own arguments (commands.h). */
  {
    static const struct
    {
      const char *name;
      enum rh_cli_cmd cmd;
    } own[] = { { "check", RH_CLI_CHECK }, { "gc", RH_CLI_GC }, { "gate", RH_CLI_GATE },
                { "update", RH_CLI_UPDATE } };
    for (size_t k = 0; k < sizeof own / sizeof own[0]; k++)
      if (strcmp (argv[i], own[k].name) == 0)
        {
          out->cmd = own[k].cmd;
          for (int k2 = i; k2 < argc; k2++)
            rh_strv_push (&out->own_argv, argv[k2]);
          return 0;
        }
  }
  for (const struct cmd_def *d = rh_cli_commands; d->name; d++)
    if (strcmp (d->name, argv[i]) == 0)
      cd = d;
  if (cd == NULL)
    {
      /* `runc foo -h` answers in urfave/cli's words; scripts and runc's tests look for them. */
      for (int k = i + 1; k < argc && strcmp (argv[k], "--") != 0; k++)
        if (strcmp (argv[k], "-h") == 0 || strcmp (argv[k], "--help") == 0)
          return rh_error_set (err, EINVAL, "No help topic for '%s'", argv[i]);
      return rh_error_set (err, EINVAL, "unknown command \"%s\" (see runsc-host --help)", argv[i]);
    }
  out->cmd = cd->cmd;

  {
    char ctx[64];
    snprintf (ctx, sizeof ctx, "%s: ", cd->name);
    r = rh_cli_scan_args (ctx, cd->flags, cd->arity == ARGS_ID_REST, argc, argv, i + 1, &s, err);
  }
  if (r < 0)
    goto fail;
  if (r == 1)
    {
      out->cmd = RH_CLI_HELP;
      out->help_topic = rh_xstrdup (cd->name);
      rh_cli_scan_free (&s);
      return 0;
    }

  npos = rh_strv_len (s.pos);
  switch (cd->arity)
    {
    case ARGS_NONE:
      if (npos != 0)
        {
          rh_error_set (err, EINVAL, "%s: takes no arguments, got \"%s\"", cd->name, s.pos[0]);
          goto fail;
        }
      break;
    case ARGS_ID:
      if (npos != 1)
        {
          rh_error_set (err, EINVAL, "%s: requires exactly 1 argument (the container id), got %zu", cd->name, npos);
          goto fail;
        }
      break;
    case ARGS_ID_OPT1:
      if (npos < 1 || npos > 2)
        {
          rh_error_set (err, EINVAL, "%s: requires the container id and an optional signal, got %zu arguments",
                        cd->name, npos);
          goto fail;
        }
      break;
    case ARGS_ID_REST:
    default:
      if (npos < 1)
        {
          rh_error_set (err, EINVAL, "%s: requires at least 1 argument (the container id)", cd->name);
          goto fail;
        }
      break;
    }
  if (cd->arity != ARGS_NONE)
    {
      if (check_id (cd->name, s.pos[0], err) < 0)
        goto fail;
      out->id = rh_xstrdup (s.pos[0]);
    }

  rh_strv_push (&out->sub_args, cd->name);
  switch (cd->cmd)
    {
    case RH_CLI_CREATE:
    case RH_CLI_RUN:
    case RH_CLI_RESTORE:
      r = do_create (out, env, &s, err);
      if (r == 0)
        {
          rh_strv_push (&out->sub_args, "--");
          rh_strv_push (&out->sub_args, out->id);
        }
      break;
    case RH_CLI_KILL:
      r = do_kill (out, &s, err);
      break;
    case RH_CLI_EXEC:
      r = rh_cli_do_exec (out, env, &s, err);
      break;
    case RH_CLI_CHECKPOINT:
      r = do_checkpoint (out, env, &s, err);
      break;
    default:
      r = do_simple (out, &s, err);
      break;
    }
  if (r < 0)
    goto fail;
  rh_cli_scan_free (&s);
  return 0;

fail:
  rh_cli_scan_free (&s);
  return -1;
}

void
rh_cli_free (struct rh_cli *c)
{
  free (c->root);
  free (c->log);
  free (c->cmd_name);
  free (c->help_topic);
  free (c->id);
  free (c->bundle);
  rh_strv_free (c->global_args);
  rh_strv_free (c->sub_args);
  rh_strv_free (c->decisions);
  rh_strv_free (c->own_argv);
  free (c->exec.process_file);
  rh_strv_free (c->exec.args);
  free (c->exec.cwd);
  rh_strv_free (c->exec.env);
  free (c->exec.user);
  rh_strv_free (c->exec.gids);
  rh_strv_free (c->exec.caps);
  memset (c, 0, sizeof *c);
}
