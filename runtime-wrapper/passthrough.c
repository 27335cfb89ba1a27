/* What every subcommand that execs runsc shares: the checks on the runsc we are about to run
 * (never this binary, never a copy of it that would exec us again), the debug line of its argv,
 * and the mark runsc's environment carries. Pass-through subcommands are only these and the
 * execv at the end of main(). */
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

/* Set in runsc's environment to "<st_dev>:<st_ino>" of the runsc we exec. A process that finds
 * its own identity there is a copy of runsc-host that was installed as runsc: it refuses,
 * instead of exec'ing itself forever. */
#define RH_ENV_EXEC_ID "RUNSC_HOST_EXEC_ID"

static char *
identity_of (const struct stat *st)
{
  return rh_xasprintf ("%llu:%llu", (unsigned long long) st->st_dev, (unsigned long long) st->st_ino);
}

/* Refuse a runsc path that is this very binary, whatever it is called (alias mode installs us
 * as `runc`; a policy that names us as runsc would exec us forever). Also refuse a runsc that
 * is missing or not executable, before anything is rewritten or started. */
int
rh_wrapper_check_runsc (const char *path, rh_error *err)
{
  struct stat self, target;
  _cleanup_free_ char *self_real = realpath ("/proc/self/exe", NULL);
  _cleanup_free_ char *target_real = NULL;
  bool same;

  if (stat (path, &target) < 0)
    return rh_error_sys (err, errno, "runsc not found at %s (policy key runsc.path)", path);
  if (!S_ISREG (target.st_mode) || access (path, X_OK) < 0)
    return rh_error_set (err, EACCES, "runsc at %s is not an executable file (policy key runsc.path)", path);
  target_real = realpath (path, NULL);
  /* Same inode catches hard links and bind mounts; same resolved path catches symlinks even
   * across a stat race. */
  same = (stat ("/proc/self/exe", &self) == 0 && self.st_dev == target.st_dev && self.st_ino == target.st_ino)
         || (self_real && target_real && strcmp (self_real, target_real) == 0);
  if (same)
    {
      bool alias = target_real && strcmp (target_real, path) != 0;
      return rh_error_set (err, ELOOP, "policy key runsc.path: %s is runsc-host itself%s%s%s, not runsc; refusing to "
                           "run it (set runsc.path to the real runsc binary)", path, alias ? " (" : "",
                           alias ? target_real : "", alias ? ")" : "");
    }
  return 0;
}

/* Called first thing: are we a copy of runsc-host that a runsc-host exec'd as runsc? */
int
rh_wrapper_check_not_exec_loop (rh_error *err)
{
  const char *mark = getenv (RH_ENV_EXEC_ID);
  struct stat self;
  _cleanup_free_ char *me = NULL;

  if (mark == NULL)
    return 0;
  if (stat ("/proc/self/exe", &self) == 0)
    me = identity_of (&self);
  if (me && strcmp (me, mark) == 0)
    return rh_error_set (err, ELOOP, "policy key runsc.path names a copy of runsc-host, which was just run as "
                         "runsc; refusing to recurse (set runsc.path to the real runsc binary)");
  unsetenv (RH_ENV_EXEC_ID);
  return 0;
}

void
rh_wrapper_log_argv (const struct rh_logger *log, const char *what, char *const *argv)
{
  size_t len = 1;
  _cleanup_free_ char *line = NULL;

  for (char *const *p = argv; *p; p++)
    len += strlen (*p) + 3;
  line = rh_xmalloc0 (len);
  for (char *const *p = argv; *p; p++)
    {
      if (p != argv)
        strcat (line, " ");
      strcat (line, *p);
    }
  rh_log_debug (log, "%s: %s", what, line);
}

void
rh_wrapper_set_exec_id (const struct rh_policy *policy)
{
  struct stat st;
  if (stat (policy->runsc.path, &st) == 0)
    {
      _cleanup_free_ char *id = identity_of (&st);
      setenv (RH_ENV_EXEC_ID, id, 1);
    }
}
