/* delete: runsc's delete, and the container's firewall rules and gate socket released. */
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
#include "gate_policy.h"
#include "netrules.h"
#include "runsc_child.h"

/* ---- delete: runsc's delete and the rule removal side by side ---- */

/* What delete undoes besides runsc's state: the firewall rules and the gate socket. Best effort:
 * a delete must not be blocked by a rule or socket that is already gone. */
void
rh_wrapper_release_container (const struct rh_policy *policy, const char *id, const struct rh_logger *log)
{
  rh_error err;

  if (rh_netrules_remove (policy, id, log, &err) < 0)
    rh_log_warn (log, "delete %s: removing network rules: %s", id, err.msg);
  if (rh_gate_release (policy, id, log, &err) < 0)
    rh_log_warn (log, "delete %s: releasing the gate socket: %s", id, err.msg);
}

/* Removing a container's rules costs an nf_tables commit that deletes rules, and such a commit
 * waits for an RCU grace period (10-15 ms here, whatever the rules are); runsc's own delete
 * takes about as long. When the sandbox is already gone there is no order to keep between them,
 * so runsc runs as a child while this process removes the rules, and this process exits with
 * runsc's status once both are done: the rules are still gone by the time the caller sees the
 * delete finish. Signals the caller sends are passed on to runsc; if this process is killed,
 * runsc is killed with it (as it would be, being the same process, after an exec). Returns -1
 * without side effects when it cannot fork; the caller then does both in turn. */
int
rh_wrapper_delete_alongside (const struct rh_policy *policy, const struct rh_cli *cli, char *const *rargv,
                             const struct rh_logger *log, int *exit_code)
{
  struct rh_runsc_child child;
  int status;

  if (rh_runsc_child_start (policy->runsc.path, rargv, -1, false, &child) < 0)
    return -1;
  rh_wrapper_release_container (policy, cli->id, log);
  if (rh_runsc_child_wait (&child, &status) < 0)
    {
      rh_log_error (log, "delete %s: waiting for runsc: %s", cli->id, strerror (errno));
      *exit_code = 1;
      return 0;
    }
  *exit_code = rh_runsc_child_exit_code (status, true);
  return 0;
}
