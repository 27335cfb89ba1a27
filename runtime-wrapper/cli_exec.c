/* runc exec -> runsc exec (see cli.h and docs/cli.md, "exec"): the process comes from
 * --process FILE or is synthesized from the flags; either way runsc-host hands runsc a filtered
 * copy (run_exec.c). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "cli_scan.h"
#include "cli_table.h"
#include "util.h"

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

int
rh_cli_do_exec (struct rh_cli *c, const struct rh_cli_env *env, const struct scan *s, rh_error *err)
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
      int r = rh_cli_handle_generic (c, "exec", o, err);

      if (r < 0)
        goto fail;
      if (r == 0)
        continue;
      if (strcmp (name, "process") == 0)
        process = o->value[0] ? o->value : NULL;
      else if (strcmp (name, "detach") == 0)
        c->detach = rh_cli_is_true (o);
      else if (strcmp (name, "console-socket") == 0)
        {
          if (o->value[0])
            {
              rh_cli_push_flag (c, "console-socket", o->value);
              c->console_socket = true;
              rh_cli_decide (c, "mapped --console-socket to runsc --console-socket");
            }
        }
      else if (strcmp (name, "preserve-fds") == 0)
        {
          if (rh_cli_handle_preserve_fds (c, "exec", o, err) < 0)
            goto fail;
        }
      else if (strcmp (name, "process-label") == 0 || strcmp (name, "apparmor") == 0)
        rh_cli_decide (c, "dropped --%s: %s", name, o->def->why);
      else if (strcmp (name, "tty") == 0)
        x->tty = rh_cli_is_true (o), tty_set = true, inline_count++;
      else if (strcmp (name, "no-new-privs") == 0)
        nnp = rh_cli_is_true (o), inline_count++;
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
          rh_cli_push_owned (&inline_args, rh_xasprintf ("--%s=%s", name, o->value));
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
      rh_cli_push_flag (c, "process", process);
      free (x->process_file);
      x->process_file = rh_xstrdup (process);
      rh_cli_decide (c, "mapped --process to runsc --process (a copy filtered by the capability policy)");
      if (inline_count)
        rh_cli_decide (c, "ignored %zu inline process flag(s): --process gives the whole process (as in runc)",
                       inline_count);
      if (*cmdv)
        rh_cli_decide (c, "ignored the command after the container id: --process gives the whole process (as in runc)");
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
          rh_cli_decide (c, "--tty: the inline process goes to runsc as a process.json with terminal: true");
        }
      else
        {
          for (char **p = inline_args; p && *p; p++)
            {
              rh_strv_push (&c->sub_args, *p);
              rh_cli_decide (c, "mapped %.*s to runsc", (int) strcspn (*p, "="), *p);
            }
          if (tty_set)
            rh_cli_decide (c, "--tty=false: nothing to pass to runsc");
        }
    }
  if (c->detach)
    {
      rh_cli_push_flag (c, "detach", NULL);
      rh_cli_decide (c, "mapped --detach to runsc --detach");
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
  return rh_cli_undo_sub_args (c, saved);
}
