/* kill: runsc's words for "that container is not running", in the words runc clients look for.
 *
 * containerd's runc v2 shim decides whether a failed `kill` matters by the text of the runtime's
 * output (go-runc puts stdout and stderr into the error): "container not running", "no such
 * process" or "process already finished" mean "already gone", so `nerdctl rm -f`, `nerdctl stop`
 * and `docker rm -f` go on to delete. runsc (2022 and current alike) says "sandbox is not
 * running" instead, which the shim reports as "unknown error after kill", and nerdctl then leaves
 * the exited container behind. So for `kill` runsc runs as a child with its stderr through a
 * pipe: every byte is passed on unchanged, and when runsc failed saying that, one more line in
 * runc's words follows. The exit status stays runsc's. If the pipe or fork fails, the caller
 * execs runsc as before. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kill_relay.h"
#include "runsc_child.h"

int
rh_kill_relay (const char *runsc, char *const *argv, int *exit_code)
{
  char tail[512] = "", buf[4096];
  size_t tail_len = 0;
  struct rh_runsc_child child;
  int fds[2], status;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return -1;
  if (rh_runsc_child_start (runsc, argv, fds[1], false, &child) < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return -1;
    }
  close (fds[1]);

  for (;;)
    {
      ssize_t n = read (fds[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      for (ssize_t off = 0; off < n;)
        {
          ssize_t w = write (STDERR_FILENO, buf + off, (size_t) (n - off));
          if (w < 0 && errno == EINTR)
            continue;
          if (w <= 0)
            break;
          off += w;
        }
      /* Keep the last bytes only: the message is runsc's last line. */
      size_t keep = (size_t) n < sizeof tail - 1 ? (size_t) n : sizeof tail - 1;
      if (tail_len + keep > sizeof tail - 1)
        {
          size_t drop = tail_len + keep - (sizeof tail - 1);
          memmove (tail, tail + drop, tail_len - drop);
          tail_len -= drop;
        }
      memcpy (tail + tail_len, buf + n - keep, keep);
      tail_len += keep;
      tail[tail_len] = '\0';
    }
  close (fds[0]);
  if (rh_runsc_child_wait (&child, &status) < 0)
    {
      *exit_code = 1;
      return 0;
    }
  *exit_code = rh_runsc_child_exit_code (status, false);
  if (*exit_code != 0 && strstr (tail, "sandbox is not running") != NULL)
    {
      static const char msg[] = "container not running\n";
      ssize_t ignored = write (STDERR_FILENO, msg, sizeof msg - 1);
      (void) ignored;
    }
  return 0;
}
