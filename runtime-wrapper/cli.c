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
#include "cli_scan.h"
#include "util.h"

/* ------------------------------------------------------------------------------------------ */
/* Flag tables                                                                                 */


/* Reasons shared by several subcommands. */
#define WHY_NO_PIVOT "runsc always pivot_roots into a root of its own and does not know the flag"
#define WHY_KEYRING "the sandbox has no host session keyring to share; runsc does not know the flag"
#define WHY_SUBREAPER "runsc does not use a subreaper"
#define WHY_CRIU_OPT "gVisor checkpoints the whole sandbox itself, without CRIU; the CRIU option has no equivalent"
#define WHY_CRIU_MODE "it selects a CRIU mode (pre-dump, lazy pages, page server, incremental images) that runsc cannot do"
#define WHY_LSM "guest processes run inside gVisor's kernel, where host LSM profiles and labels do not apply (runsc ignores them in config.json too)"

static const struct flag_def global_flags[] = {
  { "root", 0, true, SPECIAL, NULL, NULL },
  { "log", 0, true, SPECIAL, NULL, NULL },
  { "log-format", 0, true, SPECIAL, NULL, NULL },
  { "debug", 0, false, SPECIAL, NULL, NULL },
  { "systemd-cgroup", 0, false, SPECIAL, NULL, NULL },
  { "rootless", 0, true, SPECIAL, NULL, NULL },
  { "criu", 0, true, DROP, NULL, "runsc checkpoints without CRIU" },
  { "help", 'h', false, SPECIAL, NULL, NULL },
  { "version", 'v', false, SPECIAL, NULL, NULL },
  END_FLAGS,
};

static const struct flag_def create_flags[] = {
  { "bundle", 'b', true, SPECIAL, NULL, NULL },
  { "console-socket", 0, true, SPECIAL, NULL, NULL },
  { "pid-file", 0, true, MAP, NULL, NULL },
  { "no-pivot", 0, false, DROP, NULL, WHY_NO_PIVOT },
  { "no-new-keyring", 0, false, DROP, NULL, WHY_KEYRING },
  { "preserve-fds", 0, true, SPECIAL, NULL, NULL },
  /* run only (checked by the handler) */
  { "detach", 'd', false, SPECIAL, NULL, NULL },
  { "no-subreaper", 0, false, DROP, NULL, WHY_SUBREAPER },
  { "keep", 0, false, SPECIAL, NULL, NULL },
  END_FLAGS,
};

static const struct flag_def no_flags[] = { END_FLAGS };

static const struct flag_def kill_flags[] = {
  { "all", 'a', false, MAP, NULL, NULL },
  END_FLAGS,
};

static const struct flag_def delete_flags[] = {
  { "force", 'f', false, MAP, NULL, NULL },
  END_FLAGS,
};

static const struct flag_def exec_flags[] = {
  { "console-socket", 0, true, SPECIAL, NULL, NULL },
  { "cwd", 0, true, SPECIAL, NULL, NULL },
  { "env", 'e', true, SPECIAL, NULL, NULL },
  { "tty", 't', false, SPECIAL, NULL, NULL },
  { "user", 'u', true, SPECIAL, NULL, NULL },
  { "additional-gids", 'g', true, SPECIAL, NULL, NULL },
  { "process", 'p', true, SPECIAL, NULL, NULL },
  { "detach", 'd', false, SPECIAL, NULL, NULL },
  { "pid-file", 0, true, MAP, NULL, NULL },
  { "process-label", 0, true, SPECIAL, NULL, WHY_LSM },
  { "apparmor", 0, true, SPECIAL, NULL, WHY_LSM },
  { "no-new-privs", 0, false, SPECIAL, NULL, NULL },
  { "cap", 'c', true, SPECIAL, NULL, NULL },
  { "preserve-fds", 0, true, SPECIAL, NULL, NULL },
  { "cgroup", 0, true, REFUSE, NULL,
    "runsc cannot place an exec'd process in a host sub-cgroup (the sandbox accounts for it as a whole)" },
  { "ignore-paused", 0, false, DROP, NULL,
    "runsc refuses to exec into a paused container either way, which is the stricter behaviour" },
  { "no-subreaper", 0, false, DROP, NULL, WHY_SUBREAPER },
  END_FLAGS,
};

static const struct flag_def ps_flags[] = {
  { "format", 'f', true, SPECIAL, NULL, NULL },
  END_FLAGS,
};

static const struct flag_def events_flags[] = {
  { "stats", 0, false, MAP, NULL, NULL },
  { "interval", 0, true, SPECIAL, NULL, NULL },
  END_FLAGS,
};

static const struct flag_def list_flags[] = {
  { "format", 'f', true, SPECIAL, NULL, NULL },
  { "quiet", 'q', false, MAP, NULL, NULL },
  END_FLAGS,
};

static const struct flag_def spec_flags[] = {
  { "bundle", 'b', true, MAP, NULL, NULL },
  { "rootless", 0, false, REFUSE, NULL,
    "runsc spec cannot generate a rootless spec, and runsc-host runs sandboxes as root only" },
  END_FLAGS,
};

static const struct flag_def checkpoint_flags[] = {
  { "image-path", 0, true, SPECIAL, NULL, NULL },
  { "work-path", 0, true, MAP, NULL, NULL },
  { "leave-running", 0, false, MAP, NULL, NULL },
  { "tcp-established", 0, false, DROP, NULL, WHY_CRIU_OPT },
  { "ext-unix-sk", 0, false, DROP, NULL, WHY_CRIU_OPT },
  { "shell-job", 0, false, DROP, NULL, WHY_CRIU_OPT },
  { "file-locks", 0, false, DROP, NULL, WHY_CRIU_OPT },
  { "manage-cgroups-mode", 0, true, DROP, NULL, WHY_CRIU_OPT },
  { "empty-ns", 0, true, DROP, NULL, WHY_CRIU_OPT },
  { "auto-dedup", 0, false, DROP, NULL, WHY_CRIU_OPT },
  { "pre-dump", 0, false, REFUSE, NULL, WHY_CRIU_MODE },
  { "lazy-pages", 0, false, REFUSE, NULL, WHY_CRIU_MODE },
  { "page-server", 0, true, REFUSE, NULL, WHY_CRIU_MODE },
  { "parent-path", 0, true, REFUSE, NULL, WHY_CRIU_MODE },
  { "status-fd", 0, true, REFUSE, NULL, WHY_CRIU_MODE },
  END_FLAGS,
};

static const struct flag_def restore_flags[] = {
  { "bundle", 'b', true, SPECIAL, NULL, NULL },
  { "console-socket", 0, true, SPECIAL, NULL, NULL },
  { "image-path", 0, true, SPECIAL, NULL, NULL },
  { "work-path", 0, true, MAP, NULL, NULL },
  { "detach", 'd', false, SPECIAL, NULL, NULL },
  { "pid-file", 0, true, MAP, NULL, NULL },
  { "no-subreaper", 0, false, DROP, NULL, WHY_SUBREAPER },
  { "no-pivot", 0, false, DROP, NULL, WHY_NO_PIVOT },
  { "tcp-established", 0, false, DROP, NULL, WHY_CRIU_OPT },
  { "ext-unix-sk", 0, false, DROP, NULL, WHY_CRIU_OPT },
  { "shell-job", 0, false, DROP, NULL, WHY_CRIU_OPT },
  { "file-locks", 0, false, DROP, NULL, WHY_CRIU_OPT },
  { "manage-cgroups-mode", 0, true, DROP, NULL, WHY_CRIU_OPT },
  { "empty-ns", 0, true, DROP, NULL, WHY_CRIU_OPT },
  { "auto-dedup", 0, false, DROP, NULL, WHY_CRIU_OPT },
  { "lsm-profile", 0, true, DROP, NULL, WHY_LSM },
  { "lsm-mount-context", 0, true, DROP, NULL, WHY_LSM },
  { "lazy-pages", 0, false, REFUSE, NULL, WHY_CRIU_MODE },
  END_FLAGS,
};

enum arity
{
  ARGS_NONE,     /* no positionals */
  ARGS_ID,       /* exactly the container id */
  ARGS_ID_OPT1,  /* id [one more] (kill) */
  ARGS_ID_REST,  /* id, then everything verbatim (exec, ps) */
};

struct cmd_def
{
  const char *name;
  enum rh_cli_cmd cmd;
  const struct flag_def *flags;
  enum arity arity;
};

static const struct cmd_def commands[] = {
  { "create", RH_CLI_CREATE, create_flags, ARGS_ID },
  { "run", RH_CLI_RUN, create_flags, ARGS_ID },
  { "start", RH_CLI_START, no_flags, ARGS_ID },
  { "state", RH_CLI_STATE, no_flags, ARGS_ID },
  { "pause", RH_CLI_PAUSE, no_flags, ARGS_ID },
  { "resume", RH_CLI_RESUME, no_flags, ARGS_ID },
  { "kill", RH_CLI_KILL, kill_flags, ARGS_ID_OPT1 },
  { "delete", RH_CLI_DELETE, delete_flags, ARGS_ID },
  { "exec", RH_CLI_EXEC, exec_flags, ARGS_ID_REST },
  { "ps", RH_CLI_PS, ps_flags, ARGS_ID_REST },
  { "events", RH_CLI_EVENTS, events_flags, ARGS_ID },
  { "list", RH_CLI_LIST, list_flags, ARGS_NONE },
  { "spec", RH_CLI_SPEC, spec_flags, ARGS_NONE },
  { "features", RH_CLI_FEATURES, no_flags, ARGS_NONE },
  { "checkpoint", RH_CLI_CHECKPOINT, checkpoint_flags, ARGS_ID },
  { "restore", RH_CLI_RESTORE, restore_flags, ARGS_ID },
  { NULL, RH_CLI_NONE, NULL, ARGS_NONE },
};

/* ------------------------------------------------------------------------------------------ */
/* Helpers for the handlers                                                                    */

static void __attribute__ ((format (printf, 2, 3)))
decide (struct rh_cli *c, const char *fmt, ...)
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
static void
push_owned (char ***v, char *s)
{
  rh_strv_push (v, s);
  free (s);
}

static void
push_flag (struct rh_cli *c, const char *name, const char *value)
{
  _cleanup_free_ char *s = value ? rh_xasprintf ("--%s=%s", name, value) : rh_xasprintf ("--%s", name);
  rh_strv_push (&c->sub_args, s);
}

static bool
is_true (const struct occ *o)
{
  return strcmp (o->value, "true") == 0;
}

/* runc's container id rule (^[\w+.-]+$, not . or ..); it becomes a path component and a
 * netfilter comment, so it is checked here for every subcommand. */
static int
check_id (const char *cmd, const char *id, rh_error *err)
{
  size_t n = strlen (id);

  if (n == 0)
    return rh_error_set (err, EINVAL, "%s: container id must not be empty", cmd);
  if (n > 255)
    return rh_error_set (err, EINVAL, "%s: container id is longer than 255 characters", cmd);
  if (strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return rh_error_set (err, EINVAL, "%s: invalid container id %s", cmd, id);
  for (const char *p = id; *p; p++)
    if (!(isalnum ((unsigned char) *p) || *p == '_' || *p == '+' || *p == '-' || *p == '.'))
      return rh_error_set (err, EINVAL, "%s: invalid container id \"%s\": only letters, digits, '_', '+', '-' "
                                        "and '.' are allowed", cmd, id);
  return 0;
}

/* path made absolute against the working directory; NULL when that is unknown (getcwd failed,
 * for example because the directory was removed). */
static char *
absolute (const struct rh_cli_env *env, const char *path)
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
static int
handle_preserve_fds (struct rh_cli *c, const char *cmd, const struct occ *o, rh_error *err)
{
  long n;

  if (rh_cli_parse_nonneg (o->value, INT_MAX, &n) < 0)
    return rh_error_set (err, EINVAL, "%s: invalid value \"%s\" for --preserve-fds", cmd, o->value);
  if (n > 0)
    return rh_error_set (err, ENOTSUP, "%s --preserve-fds %ld: runsc cannot pass extra file descriptors into the "
                                       "sandbox; refusing rather than starting without them", cmd, n);
  decide (c, "dropped --preserve-fds 0: nothing to preserve");
  return 0;
}

/* The generic treatment for MAP/DROP/REFUSE entries. Returns 1 when the flag is SPECIAL. */
static int
handle_generic (struct rh_cli *c, const char *cmd, const struct occ *o, rh_error *err)
{
  const struct flag_def *d = o->def;
  const char *rname = d->runsc ? d->runsc : d->name;

  switch (d->act)
    {
    case MAP:
      if (!d->value && !is_true (o))
        {
          decide (c, "--%s=false: nothing to pass to runsc", d->name);
          return 0;
        }
      push_flag (c, rname, d->value ? o->value : NULL);
      decide (c, "mapped --%s to runsc --%s", d->name, rname);
      return 0;
    case DROP:
      decide (c, "dropped --%s: %s", d->name, d->why);
      return 0;
    case REFUSE:
      if (!d->value && !is_true (o))
        {
          decide (c, "--%s=false: nothing to refuse", d->name);
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
      int r = handle_generic (c, cmd, o, err);

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
          if (handle_preserve_fds (c, cmd, o, err) < 0)
            goto fail;
        }
      else if (strcmp (name, "detach") == 0 && (is_run || is_restore))
        c->detach = is_true (o);
      else if (strcmp (name, "keep") == 0 && is_run)
        keep = is_true (o);
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
    decide (c, "dropped --keep: a detached runsc container stays until delete anyway");

  c->bundle = absolute (env, bundle && bundle[0] ? bundle : ".");
  if (c->bundle == NULL)
    return rh_error_set (err, ENOENT, "%s: cannot resolve the bundle %s: the current directory is unknown", cmd,
                         bundle && bundle[0] ? bundle : "(current directory)");
  push_flag (c, "bundle", c->bundle);
  decide (c, "bundle %s%s", c->bundle, bundle && bundle[0] ? "" : " (current directory, as runc defaults)");
  if (console)
    {
      push_flag (c, "console-socket", console);
      c->console_socket = true;
      decide (c, "mapped --console-socket to runsc --console-socket");
    }
  if (is_restore)
    {
      _cleanup_free_ char *img = image ? rh_xstrdup (image) : absolute (env, "checkpoint");
      if (img == NULL)
        return rh_error_set (err, ENOENT, "restore: no --image-path, and the current directory is unknown");
      push_flag (c, "image-path", img);
      decide (c, "image path %s%s", img, image ? "" : " (./checkpoint, as runc defaults)");
    }
  if (c->detach)
    {
      push_flag (c, "detach", NULL);
      decide (c, "mapped --detach to runsc --detach");
    }
  for (char **p = rest; p && *p; p++)
    rh_strv_push (&c->sub_args, *p);
  return 0;

fail:
  rh_strv_free (c->sub_args);
  c->sub_args = saved;
  return -1;
}

static int
do_kill (struct rh_cli *c, const struct scan *s, rh_error *err)
{
  int sig = SIGTERM;
  char num[16];

  for (size_t i = 0; i < s->n_occ; i++)
    if (handle_generic (c, "kill", &s->occ[i], err) < 0)
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
  decide (c, "signal %s -> %d", s->pos[1] ? s->pos[1] : "(default SIGTERM)", sig);
  return 0;
}

/* uid[:gid], decimal, as runc accepts it. */
static int
check_user (const char *u)
{
  long v;
  _cleanup_free_ char *copy = rh_xstrdup (u);
  char *colon = strchr (copy, ':');

  if (colon)
    {
      *colon = '\0';
      if (rh_cli_parse_nonneg (colon + 1, UINT32_MAX, &v) < 0)
        return -1;
    }
  return rh_cli_parse_nonneg (copy, UINT32_MAX, &v);
}

static int
do_exec (struct rh_cli *c, const struct rh_cli_env *env, const struct scan *s, rh_error *err)
{
  struct rh_cli_exec *x = &c->exec;
  const char *process = NULL;
  bool tty_set = false, nnp = false;
  _cleanup_strv_ char **inline_args = NULL; /* runsc flags for the inline form */
  size_t inline_count = 0;
  char *const *cmdv = s->pos + 1;
  char **saved = c->sub_args;

  c->sub_args = NULL;
  for (size_t i = 0; i < s->n_occ; i++)
    {
      const struct occ *o = &s->occ[i];
      const char *name = o->def->name;
      int r = handle_generic (c, "exec", o, err);

      if (r < 0)
        goto fail;
      if (r == 0)
        continue;
      if (strcmp (name, "process") == 0)
        process = o->value[0] ? o->value : NULL;
      else if (strcmp (name, "detach") == 0)
        c->detach = is_true (o);
      else if (strcmp (name, "console-socket") == 0)
        {
          if (o->value[0])
            {
              push_flag (c, "console-socket", o->value);
              c->console_socket = true;
              decide (c, "mapped --console-socket to runsc --console-socket");
            }
        }
      else if (strcmp (name, "preserve-fds") == 0)
        {
          if (handle_preserve_fds (c, "exec", o, err) < 0)
            goto fail;
        }
      else if (strcmp (name, "process-label") == 0 || strcmp (name, "apparmor") == 0)
        decide (c, "dropped --%s: %s", name, o->def->why);
      else if (strcmp (name, "tty") == 0)
        x->tty = is_true (o), tty_set = true, inline_count++;
      else if (strcmp (name, "no-new-privs") == 0)
        nnp = is_true (o), inline_count++;
      else
        {
          /* cwd, env, user, additional-gids, cap: the inline process description. */
          long v;
          if (strcmp (name, "user") == 0 && check_user (o->value) < 0)
            {
              rh_error_set (err, EINVAL, "exec: invalid --user \"%s\": expected UID[:GID] (numbers)", o->value);
              goto fail;
            }
          if (strcmp (name, "additional-gids") == 0 && rh_cli_parse_nonneg (o->value, UINT32_MAX, &v) < 0)
            {
              rh_error_set (err, EINVAL, "exec: invalid --additional-gids \"%s\": expected a number", o->value);
              goto fail;
            }
          inline_count++;
          push_owned (&inline_args, rh_xasprintf ("--%s=%s", name, o->value));
          if (strcmp (name, "cwd") == 0)
            free (x->cwd), x->cwd = rh_xstrdup (o->value);
          else if (strcmp (name, "user") == 0)
            free (x->user), x->user = rh_xstrdup (o->value);
          else
            rh_strv_push (strcmp (name, "env") == 0 ? &x->env : strcmp (name, "cap") == 0 ? &x->caps : &x->gids,
                          o->value);
        }
    }

  if (process)
    {
      /* runc reads everything from process.json and ignores the inline flags and command. */
      push_flag (c, "process", process);
      free (x->process_file);
      x->process_file = rh_xstrdup (process);
      decide (c, "mapped --process to runsc --process (a copy filtered by the capability policy)");
      if (inline_count)
        decide (c, "ignored %zu inline process flag(s): --process gives the whole process (as in runc)",
                inline_count);
      if (*cmdv)
        decide (c, "ignored the command after the container id: --process gives the whole process (as in runc)");
      cmdv = NULL;
      x->tty = false;
    }
  else
    {
      if (*cmdv && strcmp (*cmdv, "--") == 0)
        cmdv++;
      if (*cmdv == NULL)
        {
          rh_error_set (err, EINVAL, "exec: a command is required after the container id (or use --process)");
          goto fail;
        }
      if (nnp)
        {
          /* gVisor implements no_new_privs for guest processes, but runsc exec cannot set it (it
           * ignores noNewPrivileges in a process.json too): dropping it would run the process with
           * fewer restrictions than asked for. */
          rh_error_set (err, ENOTSUP, "exec --no-new-privs is not supported: runsc exec cannot set "
                                      "no_new_privs on the new process");
          goto fail;
        }
      /* runc's rules for terminals and console sockets. */
      if (x->tty && c->detach && !c->console_socket)
        {
          rh_error_set (err, EINVAL, "exec: cannot allocate tty if runc will detach without setting console socket");
          goto fail;
        }
      if (c->console_socket && (!x->tty || !c->detach))
        {
          rh_error_set (err, EINVAL, "exec: cannot use console socket if runc will not detach or allocate tty");
          goto fail;
        }
      if (x->tty && !c->console_socket && !env->stdin_is_tty)
        {
          rh_error_set (err, ENOTSUP, "exec --tty without --console-socket needs a terminal on stdin: runsc "
                                      "passes the caller's stdio through and cannot allocate a terminal itself");
          goto fail;
        }
      if (x->tty)
        {
          /* runsc's inline exec never gives the process a terminal (it has no --tty), so main
           * builds the process as runc would (the container's process, then these overrides,
           * terminal: true) and passes it with --process. */
          c->exec_synth_process = true;
          for (char *const *p = cmdv; *p; p++)
            rh_strv_push (&x->args, *p);
          cmdv = NULL;
          decide (c, "--tty: the inline process goes to runsc as a process.json with terminal: true");
        }
      else
        {
          for (char **p = inline_args; p && *p; p++)
            {
              rh_strv_push (&c->sub_args, *p);
              decide (c, "mapped %.*s to runsc", (int) strcspn (*p, "="), *p);
            }
          if (tty_set)
            decide (c, "--tty=false: nothing to pass to runsc");
        }
    }
  if (c->detach)
    {
      push_flag (c, "detach", NULL);
      decide (c, "mapped --detach to runsc --detach");
    }
  {
    char **flags = c->sub_args;
    c->sub_args = saved;
    for (char **p = flags; p && *p; p++)
      rh_strv_push (&c->sub_args, *p);
    rh_strv_free (flags);
  }
  rh_strv_push (&c->sub_args, "--");
  rh_strv_push (&c->sub_args, c->id);
  for (char *const *p = cmdv; p && *p; p++)
    rh_strv_push (&c->sub_args, *p);
  return 0;

fail:
  rh_strv_free (c->sub_args);
  c->sub_args = saved;
  return -1;
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
      int r = handle_generic (c, cmd, o, err);

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
          push_flag (c, "format", list_table ? "text" : o->value);
          decide (c, "mapped --format %s to runsc --format %s", o->value, list_table ? "text" : o->value);
        }
      else if (strcmp (name, "interval") == 0)
        {
          long secs;
          char num[32];
          if (rh_cli_duration_to_seconds (o->value, &secs, err) < 0)
            return rh_error_prefix (err, "events --interval");
          snprintf (num, sizeof num, "%ld", secs);
          push_flag (c, "interval", num);
          decide (c, "events --interval %s -> runsc --interval=%ld (whole seconds, rounded up)", o->value, secs);
        }
      else
        return rh_error_set (err, EINVAL, "%s: flag provided but not defined: -%s", cmd, name);
    }
  if (c->cmd == RH_CLI_PS && s->pos[0] && s->pos[1])
    {
      if (format && strcmp (format, "json") == 0)
        decide (c, "ignored ps(1) arguments with --format json (as runc does)");
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
      int r = handle_generic (c, "checkpoint", o, err);
      if (r < 0)
        return -1;
      if (r == 1)
        image = o->value[0] ? o->value : NULL; /* the only SPECIAL: --image-path */
    }
  /* runsc requires --image-path; runc defaults it to ./checkpoint. */
  img = image ? rh_xstrdup (image) : absolute (env, "checkpoint");
  if (img == NULL)
    return rh_error_set (err, ENOENT, "checkpoint: no --image-path, and the current directory is unknown");
  push_flag (c, "image-path", img);
  decide (c, "image path %s%s", img, image ? "" : " (./checkpoint, as runc defaults)");
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
      r = rh_cli_scan_one ("", global_flags, argc, argv, i, &s, have_err ? NULL : &first);
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
          decide (c, "dropped --%s: %s", name, o->def->why);
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
          c->debug = is_true (o);
        else if (strcmp (name, "systemd-cgroup") == 0)
          c->systemd_cgroup = is_true (o);
        else if (strcmp (name, "help") == 0)
          c->cmd = is_true (o) ? RH_CLI_HELP : c->cmd;
        else if (strcmp (name, "version") == 0 && is_true (o))
          c->cmd = c->cmd == RH_CLI_HELP ? RH_CLI_HELP : RH_CLI_VERSION;
        else if (strcmp (name, "rootless") == 0)
          {
            bool b = false;
            if (strcmp (o->value, "auto") == 0 || (rh_cli_parse_bool (o->value, &b) == 0 && !b))
              decide (c, "dropped --rootless=%s: runsc-host runs sandboxes as root", o->value);
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
    push_owned (&c->global_args, rh_xasprintf ("--root=%s", c->root));
  if (c->log)
    push_owned (&c->global_args, rh_xasprintf ("--log=%s", c->log));
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
  for (const struct cmd_def *d = commands; d->name; d++)
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
      r = do_exec (out, env, &s, err);
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
