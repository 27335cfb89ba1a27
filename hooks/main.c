/* runsc-host-hook: the OCI hook that opens a container's exposed ports and closes its egress to
 * the policy's denied destinations (createRuntime), and takes both back (poststop).
 *
 *   runsc-host-hook [--config FILE | --embedded-policy] [--log FILE] [--log-format text|json]
 *                   [--debug] createRuntime|prestart|poststop|gc [--dry-run]
 *
 * runsc runs it in the host's namespaces with the OCI state on stdin and the fixed environment
 * the spec rewrite (lib/rewrite/hookspec.c) gives it, along with the policy the create ran under.
 * Errors go to stderr, which runsc puts into its own error, which containerd shows the user. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "hookspec.h"
#include "log.h"
#include "netrules.h"
#include "policy.h"
#include "ports.h"
#include "rules.h"
#include "util.h"

#ifndef RH_SYSCONF_POLICY
#define RH_SYSCONF_POLICY "/etc/runsc-host/config.json"
#endif

static void
usage (FILE *f)
{
  fputs ("usage: runsc-host-hook [--config FILE | --embedded-policy] [--log FILE] [--log-format text|json]\n"
         "                       [--debug] COMMAND\n"
         "commands:\n"
         "  createRuntime, prestart  open the exposed ports and deny egress for the container whose\n"
         "                           OCI state is on stdin (runsc runs this)\n"
         "  poststop                 remove that container's rules (runsc runs this)\n"
         "  gc [--dry-run]           remove the rules of containers whose sandbox is gone\n",
         f);
}

/* fds 0-2 must exist, or the first file we open would become someone's stdout. */
static void
ensure_std_fds (void)
{
  for (int fd = 0; fd < 3; fd++)
    if (fcntl (fd, F_GETFD) < 0 && errno == EBADF)
      {
        int n = open ("/dev/null", O_RDWR);
        if (n >= 0 && n != fd)
          close (n);
      }
}

/* The state's pid must be a runsc process (the sandbox): the hook moves it between cgroups and
 * matches firewall rules on it, so a state naming any other process is refused. */
static int
check_sandbox_pid (const struct rh_policy *p, pid_t pid, rh_error *err)
{
  char exe[64];
  struct stat want, got;

  if (pid <= 1 || pid == getpid () || pid == getppid ())
    return rh_error_set (err, EINVAL, "state pid %d is not a sandbox process", (int) pid);
  snprintf (exe, sizeof exe, "/proc/%d/exe", (int) pid);
  if (stat (exe, &got) < 0)
    return rh_error_sys (err, errno, "sandbox process %d", (int) pid);
  if (stat (p->runsc.path, &want) < 0)
    return rh_error_sys (err, errno, "runsc %s", p->runsc.path);
  if (got.st_dev != want.st_dev || got.st_ino != want.st_ino)
    return rh_error_set (err, EPERM, "state pid %d is not a process of %s (policy key runsc.path)", (int) pid,
                         p->runsc.path);
  return 0;
}

static int
read_state (struct rh_hook_state *st, rh_error *err)
{
  _cleanup_free_ char *text = NULL;
  size_t len = 0;

  if (rh_read_fd_capped (0, RH_HOOK_STATE_MAX, &text, &len, err) < 0)
    return rh_error_prefix (err, "read OCI state from stdin");
  return rh_hook_state_parse (text, len, st, err);
}

static int
cmd_create (const struct rh_policy *p, const struct rh_logger *log, rh_error *err)
{
  struct rh_hook_state st;
  _cleanup_json_ json_t *ann = NULL;
  _cleanup_free_ struct rh_port *ports = NULL;
  size_t n = 0;
  int ret = -1;

  if (read_state (&st, err) < 0)
    return -1;
  if (strcmp (st.status, "stopped") == 0)
    {
      rh_error_set (err, EINVAL, "container %s: state status is stopped at create time", st.id);
      goto out;
    }
  /* The policy file is read again here, after runsc has started: refuse to act on one that is
   * not the policy the rewrite checked this spec against, before any of its values is used
   * (runsc.path included). */
  if (rh_hook_annotations (&st, &ann, err) < 0 || rh_hook_check_policy (ann, p->sha256, p->source_path, err) < 0
      || check_sandbox_pid (p, st.pid, err) < 0 || rh_ports_compute (ann, &p->ports, &ports, &n, err) < 0)
    {
      rh_error_prefix (err, "container %s", st.id);
      goto out;
    }
  {
    struct rh_netrules_request req = { .id = st.id, .pid = st.pid, .ports = ports, .n_ports = n };
    ret = rh_netrules_apply (p, &req, log, err);
  }
out:
  rh_hook_state_clear (&st);
  return ret;
}

/* No policy check here: removal takes back exactly what the record written at create names
 * (rules, tools, group), so a policy changed since then cannot widen anything, and refusing would
 * only leave ports open and groups behind. */
static int
cmd_poststop (const struct rh_policy *p, const struct rh_logger *log, rh_error *err)
{
  struct rh_hook_state st;
  int ret;

  if (read_state (&st, err) < 0)
    return -1;
  ret = rh_netrules_remove_stopped (p, st.id, log, err);
  rh_hook_state_clear (&st);
  return ret;
}

int
main (int argc, char **argv)
{
  struct rh_logger log = RH_LOGGER_INIT;
  struct rh_policy *policy = NULL;
  const char *config = NULL, *log_path = NULL;
  bool embedded = false, json = false, debug = false, dry_run = false;
  const char *cmd = NULL;
  rh_error err;
  int i, ret = 1;

  ensure_std_fds ();
  for (i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "--config") == 0 && i + 1 < argc)
        config = argv[++i];
      else if (strcmp (a, "--embedded-policy") == 0)
        embedded = true;
      else if (strcmp (a, "--log") == 0 && i + 1 < argc)
        log_path = argv[++i];
      else if (strcmp (a, "--log-format") == 0 && i + 1 < argc)
        {
          const char *f = argv[++i];
          if (strcmp (f, "json") != 0 && strcmp (f, "text") != 0)
            {
              fprintf (stderr, "runsc-host-hook: --log-format must be text or json\n");
              return 2;
            }
          json = strcmp (f, "json") == 0;
        }
      else if (strcmp (a, "--debug") == 0)
        debug = true;
      else if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0)
        {
          usage (stdout);
          return 0;
        }
      else if (a[0] == '-')
        {
          fprintf (stderr, "runsc-host-hook: unknown option %s\n", a);
          usage (stderr);
          return 2;
        }
      else
        break;
    }
  if (i >= argc)
    {
      usage (stderr);
      return 2;
    }
  cmd = argv[i++];
  for (; i < argc; i++)
    {
      if (strcmp (cmd, "gc") == 0 && strcmp (argv[i], "--dry-run") == 0)
        dry_run = true;
      else
        {
          fprintf (stderr, "runsc-host-hook: unexpected argument %s\n", argv[i]);
          return 2;
        }
    }
  if (config && embedded)
    {
      fprintf (stderr, "runsc-host-hook: --config and --embedded-policy exclude each other\n");
      return 2;
    }

  /* runsc's timeout starts when it starts us; gc, run by hand, has no such bound. */
  if (strcmp (cmd, "gc") != 0)
    rh_netrules_set_budget (RH_HOOK_BUDGET_MS);
  if (rh_logger_open (&log, log_path, json, debug, &err) < 0)
    {
      fprintf (stderr, "runsc-host-hook: %s\n", err.msg);
      return 1;
    }
  /* The injected hook always names its policy; RUNSC_HOST_CONFIG only matters when run by hand. */
  if (rh_policy_load_for (config, embedded, getenv ("RUNSC_HOST_CONFIG"), RH_SYSCONF_POLICY, &policy, &err) < 0)
    goto fail;

  if (strcmp (cmd, "createRuntime") == 0 || strcmp (cmd, "prestart") == 0)
    ret = cmd_create (policy, &log, &err) < 0 ? 1 : 0;
  else if (strcmp (cmd, "poststop") == 0)
    ret = cmd_poststop (policy, &log, &err) < 0 ? 1 : 0;
  else if (strcmp (cmd, "gc") == 0)
    {
      size_t removed = 0;
      ret = rh_netrules_gc (policy, dry_run, &log, &removed, &err) < 0 ? 1 : 0;
      if (ret == 0)
        printf ("%s %zu container(s)\n", dry_run ? "would clean" : "cleaned", removed);
    }
  else
    {
      rh_error_set (&err, EINVAL, "unknown command %s", cmd);
      ret = 2;
    }
  if (ret != 0)
    goto fail;
  rh_policy_free (policy);
  rh_logger_close (&log);
  return 0;

fail:
  rh_log_error (&log, "%s", err.msg);
  rh_policy_free (policy);
  rh_logger_close (&log);
  return ret ? ret : 1;
}
