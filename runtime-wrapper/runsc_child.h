/* runsc as a child of runsc-host, for the two subcommands that must do something while runsc
 * runs (delete: remove the rules alongside; kill: relay its stderr). Everything else execs
 * runsc. The child dies with us (PR_SET_PDEATHSIG), as it would being the same process after an
 * exec, and the signals a caller sends us are passed on to it. */
#ifndef RH_RUNSC_CHILD_H
#define RH_RUNSC_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

#define RH_RUNSC_CHILD_NSIG 7

struct rh_runsc_child
{
  pid_t pid;
  struct sigaction old[RH_RUNSC_CHILD_NSIG]; /* our handlers before the forwarding ones */
};

/* Start runsc (argv[0] aside, execv'd at path runsc) with our environment; stderr_fd >= 0
 * becomes its stderr; null_stdio puts its stdin and stdout on /dev/null. -1 when it cannot fork:
 * nothing has changed (the caller may exec instead). */
int rh_runsc_child_start (const char *runsc, char *const *argv, int stderr_fd, bool null_stdio,
                          struct rh_runsc_child *c);

/* Wait for it, stop forwarding signals, and give its wait status. -1 (errno) if waitpid fails. */
int rh_runsc_child_wait (struct rh_runsc_child *c, int *status);

/* The exit code a caller should see: runsc's own, or 128 + its signal. With die_alike, a runsc
 * killed by a signal makes us die of the same signal (then this returns only if that fails). */
int rh_runsc_child_exit_code (int status, bool die_alike);

/* Run runsc (argv[0] its path) for its answer: our environment, stdin empty, stdout captured (at
 * most max bytes, NUL-terminated in *out), stderr passed through, or dropped when quiet. *status
 * is its wait status. For `runsc state` and `runsc ps` before the real work. */
int rh_runsc_capture (char *const *argv, size_t max, bool quiet, char **out, int *status, rh_error *err);

#endif
