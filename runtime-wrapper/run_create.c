/* create and run: rewrite config.json under the policy, stage what it pins, prepare the gate;
 * then main() execs runsc. Nothing has been started before this; on failure nothing will be. */
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
#include "paths.h"
#include "spec_rewrite.h"
#include "stage.h"

static int
stage_spec (json_t *spec, void *data, rh_error *err)
{
  return rh_stage_spec (spec, data, err);
}

/* create/run: rewrite config.json under the policy, then prepare what the rewritten
 * spec refers to. Nothing has been started yet; on failure nothing will be. */
int
rh_wrapper_prepare_bundle (const struct rh_cli *cli, const struct rh_policy *policy, const struct rh_logger *log,
                           rh_error *err)
{
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  struct rh_rewrite_ctx ctx = {
    .policy = policy,
    .resolver = rh_host_resolver (),
    .log = log,
    .bundle = cli->bundle,
    .container_id = cli->id,
    .self_exe = NULL,
  };
  _cleanup_free_ char *stage_dir = rh_xasprintf ("%s/stage", policy->state_dir);
  struct rh_stage stage = { .dir = stage_dir, .log = log, .policy = policy, .container_id = cli->id };

  /* What runsc mounts is what was checked: pinned paths are bound, by descriptor, into a tmpfs
   * of a mount namespace that runsc and its sandbox inherit (stage.h). */
  ctx.stage = stage_spec;
  ctx.stage_data = &stage;

  /* Our own binary is protected like runsc (a workload that could rewrite it runs as root next). */
  if (n > 0 && self[0] == '/')
    {
      self[n] = '\0';
      ctx.self_exe = self;
    }

  if (rh_rewrite_bundle (cli->bundle, &ctx, err) < 0)
    return -1;
  if (rh_gate_prepare (policy, cli->id, log, err) < 0)
    return -1;
  return 0;
}

/* After create (or a detached run/restore) with --console-socket, runc does not keep the
 * caller's stdio; runsc's sandbox would inherit and hold it, and a caller that waits for EOF on
 * those pipes would hang. The terminal goes through the console socket, and errors are already
 * in --log, so stdio becomes /dev/null. */
void
rh_wrapper_detach_stdio (const struct rh_logger *log)
{
  int fd = open ("/dev/null", O_RDWR | O_CLOEXEC);

  if (fd < 0)
    {
      rh_log_warn (log, "open /dev/null: %s; stdio stays attached", strerror (errno));
      return;
    }
  /* dup2() clears FD_CLOEXEC on the copies, so runsc gets /dev/null as 0, 1 and 2. */
  for (int i = 0; i < 3; i++)
    if (fd != i && dup2 (fd, i) < 0)
      rh_log_warn (log, "dup2 /dev/null to fd %d: %s", i, strerror (errno));
  if (fd > 2)
    close (fd);
}
