/* Starting other programs (spawnutil.h). */
#include "spawnutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "util.h"

char *const rh_child_env[] = { (char *) "PATH=" RH_CHILD_PATH, (char *) "LC_ALL=C", NULL };

int64_t
rh_monotonic_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A memory file above the standard descriptors, so that the child's dup2 onto 0..2 never
 * clobbers another of them. */
static int
memfd_high (const char *name, rh_error *err)
{
  _cleanup_close_ int fd = memfd_create (name, MFD_CLOEXEC);
  int high;
  if (fd < 0)
    return rh_error_sys (err, errno, "memfd_create");
  high = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  if (high < 0)
    return rh_error_sys (err, errno, "fcntl");
  return high;
}

/* The child: only async-signal-safe calls until execve (the caller may have threads). */
static void __attribute__ ((noreturn))
child (const struct rh_spawn_opts *o, pid_t parent, int in_fd, int out_fd, int err_fd)
{
  sigset_t none;

  if (o->new_pgroup)
    setpgid (0, 0);
  /* Killed along with its parent: a hook that runsc kills on its timeout must not leave a hung
   * tool behind (the parent may already be gone by the time the flag is set: check). */
  if (o->die_with_parent && (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent))
    _exit (125);
  /* The shim may have left signals blocked or ignored; the child must see them as it expects. */
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  for (int s = 1; s < 32; s++)
    if (s != SIGKILL && s != SIGSTOP)
      signal (s, SIG_DFL);
  if (dup2 (in_fd, 0) < 0 || dup2 (out_fd, 1) < 0
      || (!o->keep_stderr && dup2 (o->merge_stderr ? out_fd : err_fd, 2) < 0))
    _exit (126);
  /* Nothing of the caller's (a console socket, the shim's pipes) leaks in, inherited-without-
   * CLOEXEC descriptors included. */
  if (syscall (SYS_close_range, 3U, ~0U, 0U) < 0)
    for (int fd = 3; fd < 1024; fd++)
      close (fd);
  execve (o->argv[0], o->argv, o->envp ? o->envp : rh_child_env);
  {
    static const char msg[] = RH_SPAWN_EXEC_FAILED;
    ssize_t w = write (2, msg, sizeof msg - 1);
    (void) w;
  }
  _exit (127);
}

int
rh_spawn_start (const struct rh_spawn_opts *o, struct rh_spawn *s, rh_error *err)
{
  _cleanup_close_ int in_fd = -1, out_fd = -1, err_fd = -1;
  const char *p = o->input ? o->input : "";
  pid_t pid, self;

  memset (s, 0, sizeof *s);
  s->pid = -1;
  s->pidfd = s->out_fd = s->err_fd = -1;
  s->path = o->argv[0];
  if ((in_fd = memfd_high ("rh-in", err)) < 0 || (out_fd = memfd_high ("rh-out", err)) < 0
      || (err_fd = memfd_high ("rh-err", err)) < 0)
    return -1;
  if (rh_write_all (in_fd, p, strlen (p)) < 0 || lseek (in_fd, 0, SEEK_SET) < 0)
    return rh_error_sys (err, errno, "stdin of %s", s->path);

  self = getpid ();
  pid = fork ();
  if (pid < 0)
    return rh_error_sys (err, errno, "fork");
  if (pid == 0)
    child (o, self, in_fd, out_fd, err_fd);
  /* Also in the parent, so that a kill of the group can never race the child's own setpgid. */
  if (o->new_pgroup)
    setpgid (pid, pid);
  s->pid = pid;
  s->pgroup = o->new_pgroup;
  s->pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  s->deadline_ms = o->timeout_ms > 0 ? rh_monotonic_ms () + o->timeout_ms : 0;
  s->reap_grace_ms = o->reap_grace_ms;
  s->out_fd = rh_steal_fd (&out_fd);
  s->err_fd = rh_steal_fd (&err_fd);
  return 0;
}

/* Has pid exited? Leaves it a zombie (WNOWAIT) so that its pid, and the group id we kill by,
 * cannot be reused until we reap it. */
static bool
exited (pid_t pid)
{
  siginfo_t si;
  memset (&si, 0, sizeof si);
  return waitid (P_PID, (id_t) pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

int
rh_spawn_wait (struct rh_spawn *s, int *status, bool *timed_out, rh_error *err)
{
  *timed_out = false;
  if (s->pid <= 0)
    return rh_error_set (err, EINVAL, "%s was not started", s->path);
  while (s->deadline_ms > 0 && !exited (s->pid))
    {
      int64_t left = s->deadline_ms - rh_monotonic_ms ();
      if (left <= 0)
        {
          *timed_out = true;
          break;
        }
      if (s->pidfd >= 0)
        {
          struct pollfd pfd = { .fd = s->pidfd, .events = POLLIN };
          poll (&pfd, 1, left > 100 ? 100 : (int) left);
        }
      else
        usleep (10000);
    }
  /* Whether it finished or not, nothing of its group may outlive it: the group still exists (its
   * leader is at least a zombie), so this cannot hit anyone else. */
  if (s->pgroup)
    kill (-s->pid, SIGKILL);
  else if (*timed_out)
    kill (s->pid, SIGKILL);
  for (int64_t until = rh_monotonic_ms () + s->reap_grace_ms;;)
    {
      pid_t w = waitpid (s->pid, status, s->reap_grace_ms > 0 ? WNOHANG : 0);
      if (w == s->pid)
        break;
      if (w < 0 && errno != EINTR)
        return rh_error_sys (err, errno, "waitpid %s", s->path);
      if (w == 0 && rh_monotonic_ms () >= until)
        return rh_error_set (err, ECHILD, "process %d (%s) could not be reaped", (int) s->pid, s->path);
      if (w == 0)
        usleep (10000);
    }
  s->pid = -1;
  return 0;
}

int
rh_spawn_output (int fd, size_t max, bool tail, char **out, rh_error *err)
{
  off_t size = lseek (fd, 0, SEEK_END);
  off_t from = 0;
  char *buf;
  ssize_t n;

  if (size < 0)
    return rh_error_sys (err, errno, "lseek");
  if (tail && (size_t) size > max)
    from = size - (off_t) max;
  buf = rh_xmalloc0 (max + 1);
  n = pread (fd, buf, max, from);
  if (n < 0)
    {
      free (buf);
      return rh_error_sys (err, errno, "read output");
    }
  buf[n] = '\0';
  *out = buf;
  return 0;
}

void
rh_spawn_release (struct rh_spawn *s)
{
  if (s->pidfd >= 0)
    close (s->pidfd);
  if (s->out_fd >= 0)
    close (s->out_fd);
  if (s->err_fd >= 0)
    close (s->err_fd);
  s->pidfd = s->out_fd = s->err_fd = -1;
}

/* In the grandchild, between fork and exec: only async-signal-safe calls. */
static void __attribute__ ((noreturn))
exec_daemon (char *const *argv, char *const *envp, int keep_fd)
{
  sigset_t none;
  int hi, devnull;

  /* Move keep_fd out of the way of 0-2, then give the daemon /dev/null for stdio: a daemon
   * holding the caller's stdio would keep containerd's shim waiting for EOF forever. */
  hi = fcntl (keep_fd, F_DUPFD, 10);
  devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (hi < 0 || devnull < 0 || dup2 (devnull, 0) < 0 || dup2 (devnull, 1) < 0 || dup2 (devnull, 2) < 0
      || dup2 (hi, 3) < 0)
    _exit (126);
  /* Nothing else from the caller (runc's --preserve-fds, a console socket...) leaks in. */
  if (syscall (SYS_close_range, 4U, ~0U, 0U) < 0)
    for (int fd = 4; fd < 1024; fd++)
      close (fd);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++)
    signal (s, SIG_DFL);
  execve (argv[0], argv, envp ? envp : rh_child_env);
  {
    static const char msg[] = "error: cannot execute the daemon\n";
    ssize_t ignored = write (3, msg, sizeof msg - 1);
    (void) ignored;
  }
  _exit (127);
}

int
rh_spawn_daemon (char *const *argv, char *const *envp, int keep_fd, rh_error *err)
{
  int status;
  pid_t pid = fork ();

  if (pid < 0)
    return rh_error_sys (err, errno, "fork");
  if (pid == 0)
    {
      /* Double fork in a new session: the daemon is nobody's session leader, has no
       * controlling terminal, and is not our child to reap. */
      pid_t gc;
      setsid ();
      gc = fork ();
      if (gc < 0)
        _exit (1);
      if (gc > 0)
        _exit (0);
      exec_daemon (argv, envp, keep_fd);
    }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  return 0;
}
