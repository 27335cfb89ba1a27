/* exec: the process runsc will start in a running container, filtered under the policy (the
 * capability drop-list, noNewPrivileges) and handed to runsc in a sealed memfd; runsc never
 * reads the caller's process.json itself. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "log.h"
#include "policy.h"
#include "util.h"
#include "wrapper.h"
#include "caps_exec.h"
#include "fsutil.h"
#include "jsonutil.h"
#include "runsc_child.h"

/* The container's bundle, from `runsc state`. This is the one place that runs runsc as a child
 * rather than exec'ing it: the answer is needed before the real exec. */
static int
container_bundle (char *const *state_argv, char **bundle, rh_error *err)
{
  _cleanup_free_ char *out = NULL;
  _cleanup_json_ json_t *state = NULL;
  const char *b;
  int status = 0;

  if (rh_runsc_capture (state_argv, 1u << 20, false, &out, &status, err) < 0)
    return rh_error_prefix (err, "runsc state");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return rh_error_set (err, ENOENT, "runsc state failed (the container does not exist or is not readable)");
  if (rh_json_parse ("runsc state", out, strlen (out), 0, &state, err) < 0)
    state = NULL;
  b = json_string_value (json_object_get (state, "bundle"));
  if (b == NULL || b[0] != '/')
    return rh_error_set (err, EINVAL, "runsc state gave no absolute bundle path");
  *bundle = rh_xstrdup (b);
  return 0;
}

/* Hand a process.json to runsc through a memfd, read back as /proc/self/fd/N. The memfd is
 * deliberately not close-on-exec: runsc (and the copy of itself that `exec --detach` starts)
 * opens it by that path. It is sealed once written, so nothing that shares the fd can change
 * the checked process between this check and runsc's read. */
static int
process_memfd (const char *text, int *fd_out, rh_error *err)
{
  _cleanup_close_ int fd = memfd_create ("runsc-host-exec-process", MFD_ALLOW_SEALING);

  if (fd < 0)
    return rh_error_sys (err, errno, "memfd_create");
  for (size_t off = 0, n = strlen (text); off < n;)
    {
      ssize_t w = write (fd, text + off, n - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return rh_error_sys (err, errno, "write process.json to memfd");
      off += (size_t) w;
    }
  if (fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    return rh_error_sys (err, errno, "seal the process.json memfd");
  *fd_out = rh_steal_fd (&fd);
  return 0;
}

/* exec --tty in the inline form: build the process runc would run (the container's process
 * with the inline overrides, terminal: true), filtered by the capability policy like any exec'd
 * process, and return it as JSON text. */
static int
synth_exec_process (const struct rh_cli *cli, const struct rh_policy *policy, const struct rh_logger *log,
                    char *const *rargv, size_t sub_at, char **text_out, rh_error *err)
{
  _cleanup_strv_ char **sargv = NULL;
  _cleanup_free_ char *bundle = NULL, *config = NULL;
  _cleanup_json_ json_t *spec = NULL, *proc = NULL;

  for (size_t i = 0; i < sub_at; i++)
    rh_strv_push (&sargv, rargv[i]);
  rh_strv_push (&sargv, "state");
  rh_strv_push (&sargv, "--");
  rh_strv_push (&sargv, cli->id);
  if (container_bundle (sargv, &bundle, err) < 0)
    return rh_error_prefix (err, "exec --tty: container %s", cli->id);
  config = rh_xasprintf ("%s/config.json", bundle);
  if (rh_json_load_file (config, RH_SPEC_MAX_BYTES, &spec, err) < 0)
    return rh_error_prefix (err, "exec --tty");
  if (rh_cli_exec_process (json_object_get (spec, "process"), cli, &proc, err) < 0)
    return rh_error_prefix (err, "exec --tty: %s", config);
  /* The container's process was trimmed at create, under the policy of that time; this one
   * runs under today's. */
  if (rh_caps_filter_process (proc, policy, log, err) < 0)
    return rh_error_prefix (err, "exec --tty: %s", config);
  *text_out = json_dumps (proc, JSON_COMPACT);
  if (*text_out == NULL)
    return rh_error_set (err, ENOMEM, "exec --tty: cannot serialise the process");
  return 0;
}

/* exec under the capability policy (docs/cli.md, "Exec-time policy"). runsc gives an exec'd
 * process exactly the capabilities its process.json or --cap flags list, not the container's
 * trimmed set, so each form is checked here:
 *   --process FILE   read (size-capped), filtered, and passed on as a sealed memfd;
 *   inline --tty     the synthesised process, filtered the same way;
 *   inline --cap X   refused when X is dropped by policy;
 *   inline, no --cap runsc reuses the container's own capabilities, trimmed at create.
 * *flag_out is the "--process=/proc/self/fd/N" argument for runsc, or NULL. */
int
rh_wrapper_prepare_exec (const struct rh_cli *cli, const struct rh_policy *policy, const struct rh_logger *log,
                         char *const *rargv, size_t sub_at, char **flag_out, rh_error *err)
{
  _cleanup_free_ char *text = NULL, *filtered = NULL;
  size_t len;
  int fd = -1;

  *flag_out = NULL;
  if (cli->exec.process_file)
    {
      if (rh_read_file_capped (cli->exec.process_file, RH_EXEC_PROCESS_MAX_BYTES, &text, &len, err) < 0
          || rh_caps_filter_process_text (text, len, policy, log, &filtered, err) < 0)
        return rh_error_prefix (err, "exec --process %s", cli->exec.process_file);
    }
  else
    {
      if (rh_caps_check_exec_caps (cli->exec.caps, policy, err) < 0)
        return -1;
      if (!cli->exec_synth_process)
        return 0;
      if (synth_exec_process (cli, policy, log, rargv, sub_at, &filtered, err) < 0)
        return -1;
    }
  if (process_memfd (filtered, &fd, err) < 0)
    return rh_error_prefix (err, "exec");
  *flag_out = rh_xasprintf ("--process=/proc/self/fd/%d", fd);
  return 0;
}

/* The subcommand's own arguments after runsc's: exec --process FILE becomes the filtered copy
 * (process_flag), and a synthesized process goes right after the subcommand. Fails closed:
 * runsc must never run the unfiltered process. */
int
rh_wrapper_push_sub_args (const struct rh_cli *cli, const char *process_flag, char ***rargv, rh_error *err)
{
  bool placed = process_flag == NULL;

  for (char **p = cli->sub_args, **end = NULL; p && *p; p++)
    {
      if (end == NULL && strcmp (*p, "--") == 0)
        end = p;
      if (end == NULL && process_flag && cli->exec.process_file && rh_str_has_prefix (*p, "--process="))
        {
          rh_strv_push (rargv, process_flag);
          placed = true;
          continue;
        }
      rh_strv_push (rargv, *p);
      if (p == cli->sub_args && process_flag && cli->exec_synth_process)
        rh_strv_push (rargv, process_flag), placed = true;
    }
  if (!placed)
    return rh_error_set (err, EINVAL, "exec: internal error: no --process argument to replace with the filtered "
                                      "process");
  return 0;
}

/* `runsc exec --detach` without --pid-file re-executes itself with "--pid-file=<tmp>" appended
 * at the END of its argv, after the container id and the command: the command then gets it as
 * an argument ("sleep: invalid number '--pid-file=...'", seen on runsc 2022). So runsc-host
 * always gives one, right after "exec": <state_dir>/exec-pid/<our pid>, a file in a directory of
 * root's (the current runsc writes it through a temp file and a rename in the same directory,
 * which a memfd's /proc/PID/fd cannot take). This process becomes runsc, so the name is runsc's
 * pid; files whose process is gone are swept by the next `exec --detach`. */
static void
sweep_stale_pid_files (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    {
      char proc[300];
      if (de->d_name[0] == '.' || strspn (de->d_name, "0123456789") != strlen (de->d_name))
        continue;
      snprintf (proc, sizeof proc, "/proc/%s", de->d_name);
      if (access (proc, F_OK) < 0 && errno == ENOENT)
        unlinkat (dirfd (d), de->d_name, 0);
    }
  closedir (d);
}

int
rh_wrapper_exec_detach_pid_file (char ***rargv, size_t sub_at, const char *state_dir, rh_error *err)
{
  _cleanup_strv_ char **old = *rargv;
  _cleanup_free_ char *flag = NULL;
  _cleanup_free_ char *dir = rh_xasprintf ("%s/exec-pid", state_dir);

  for (char **p = old + sub_at; *p && strcmp (*p, "--") != 0; p++)
    if (rh_str_has_prefix (*p, "--pid-file="))
      {
        old = NULL;
        return 0;
      }
  if (rh_mkdir_p (dir, 0700, err) < 0)
    {
      old = NULL;
      return rh_error_prefix (err, "exec --detach: pid file dir");
    }
  sweep_stale_pid_files (dir);
  flag = rh_xasprintf ("--pid-file=%s/%ld", dir, (long) getpid ());
  *rargv = NULL;
  for (size_t i = 0; old[i]; i++)
    {
      rh_strv_push (rargv, old[i]);
      if (i == sub_at)
        rh_strv_push (rargv, flag);
    }
  return 0;
}
