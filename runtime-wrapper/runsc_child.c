/* runsc as a child that dies with us, signals forwarded (runsc_child.h). */
#include "runsc_child.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawnutil.h"

extern char **environ;

static const int forwarded[RH_RUNSC_CHILD_NSIG] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH };
static volatile pid_t the_child;

static void
forward (int sig)
{
  if (the_child > 0)
    kill (the_child, sig);
}

int
rh_runsc_child_start (const char *runsc, char *const *argv, int stderr_fd, bool null_stdio,
                      struct rh_runsc_child *c)
{
  int null = null_stdio ? open ("/dev/null", O_RDWR | O_CLOEXEC) : -1;
  struct sigaction fwd = { .sa_handler = forward };
  pid_t parent = getpid ();

  fflush (NULL);
  c->pid = fork ();
  if (c->pid < 0)
    {
      if (null >= 0)
        close (null);
      return -1;
    }
  if (c->pid == 0)
    {
      /* Only async-signal-safe calls: the parent may have threads (it has none today). */
      if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent
          || (stderr_fd >= 0 && dup2 (stderr_fd, STDERR_FILENO) < 0)
          || (null >= 0 && (dup2 (null, STDIN_FILENO) < 0 || dup2 (null, STDOUT_FILENO) < 0)))
        _exit (1);
      execv (runsc, argv);
      {
        static const char msg[] = "runsc-host: cannot execute runsc (policy key runsc.path)\n";
        ssize_t ignored = write (STDERR_FILENO, msg, sizeof msg - 1);
        (void) ignored;
      }
      _exit (127);
    }
  if (null >= 0)
    close (null);
  the_child = c->pid;
  sigemptyset (&fwd.sa_mask);
  fwd.sa_flags = SA_RESTART;
  for (size_t i = 0; i < RH_RUNSC_CHILD_NSIG; i++)
    sigaction (forwarded[i], &fwd, &c->old[i]);
  return 0;
}

int
rh_runsc_child_wait (struct rh_runsc_child *c, int *status)
{
  int ret = 0;

  while (waitpid (c->pid, status, 0) < 0)
    if (errno != EINTR)
      {
        ret = -1;
        break;
      }
  the_child = 0;
  for (size_t i = 0; i < RH_RUNSC_CHILD_NSIG; i++)
    sigaction (forwarded[i], &c->old[i], NULL);
  return ret;
}

int
rh_runsc_child_exit_code (int status, bool die_alike)
{
  if (!WIFSIGNALED (status))
    return WEXITSTATUS (status);
  if (die_alike)
    {
      /* Die the way runsc died, so the caller sees the status it would have after an exec. */
      signal (WTERMSIG (status), SIG_DFL);
      raise (WTERMSIG (status));
    }
  return 128 + WTERMSIG (status);
}

int
rh_runsc_capture (char *const *argv, size_t max, bool quiet, char **out, int *status, rh_error *err)
{
  struct rh_spawn_opts o = { .argv = argv, .envp = environ, .keep_stderr = !quiet };
  struct rh_spawn sp;
  bool timed_out;
  int r;

  *out = NULL;
  if (rh_spawn_start (&o, &sp, err) < 0)
    return rh_error_prefix (err, "run %s (policy key runsc.path)", argv[0]);
  r = rh_spawn_wait (&sp, status, &timed_out, err);
  if (r == 0)
    r = rh_spawn_output (sp.out_fd, max, false, out, err);
  rh_spawn_release (&sp);
  return r;
}
