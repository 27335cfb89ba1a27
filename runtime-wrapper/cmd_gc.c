/* `runsc-host gc [--dry-run]`: remove the firewall rules, cgroup v2 groups and records of
 * containers whose sandbox is gone (after a crash, or when runsc's best-effort poststop hook
 * did not run).
 *
 * How it knows a container is gone: runsc-host-hook records every container it applied rules
 * for in <state_dir>/net/<id>.json with the sandbox's pid and that process's start time. A
 * container is alive while that process runs (same pid, same start time, not a zombie). Rules
 * in this network namespace that carry a container id with no live record are removed; so are
 * records whose sandbox is gone, and their cgroups. runc's --root is not consulted: containerd
 * gives every namespace its own root, and the sandbox process is the thing the rules are for.
 *
 * Run it in the network namespace of the containerd whose containers it cleans (rules live in
 * a network namespace; records and cgroups are host-wide). Exit status 0 on success (also when
 * nothing was found), 1 on error, 2 on a usage error. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "netrules.h"

int
rh_cmd_gc (const struct rh_cmd_env *env, int argc, char **argv)
{
  bool dry_run = false;
  size_t removed = 0;
  rh_error err;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--dry-run") == 0)
        dry_run = true;
      else if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
        {
          printf ("usage: runsc-host gc [--dry-run]\n"
                  "Remove the firewall rules, cgroups and records of containers whose sandbox is gone.\n");
          return 0;
        }
      else
        {
          fprintf (stderr, "runsc-host gc: unknown argument %s\nusage: runsc-host gc [--dry-run]\n", argv[i]);
          return 2;
        }
    }
  if (env->policy == NULL)
    {
      fprintf (stderr, "runsc-host gc: no usable policy: %s\n", env->policy_error ? env->policy_error : "unknown");
      return 1;
    }
  if (rh_netrules_gc (env->policy, dry_run, env->log, &removed, &err) < 0)
    {
      rh_log_error (env->log, "gc: %s", err.msg);
      return 1;
    }
  printf ("%s %zu container(s)\n", dry_run ? "would clean" : "cleaned", removed);
  return 0;
}
