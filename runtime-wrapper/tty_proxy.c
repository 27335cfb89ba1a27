/* `run` in the foreground of a spec with process.terminal: true, and no --console-socket.
 *
 * runc then makes a new pseudo-terminal for the container and copies between it and its own
 * stdio, so `runc run ID > file` (and every test of runc's suite that reads `runc run`'s
 * output) gets what the container printed. runsc instead hands the container the caller's own
 * terminal: the output goes to that terminal, not to runsc's stdout, and a caller whose stdin
 * is not a terminal gets nothing at all (seen on this runsc).
 *
 * So runsc-host does what runc does: it listens on a console socket of its own (in a private
 * 0700 directory), runs runsc as a child with --console-socket, receives the terminal's master
 * and copies stdin -> master and master -> stdout until the container's side closes and runsc
 * exits. The caller's terminal, if stdin is one, is put in raw mode meanwhile (as runc does) and
 * restored after. Signals the caller sends are passed on to runsc, and runsc-host exits with
 * runsc's status. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "fsutil.h"
#include "runsc_child.h"
#include "tty_proxy.h"
#include "util.h"

bool
rh_tty_proxy_wanted (const char *bundle)
{
  _cleanup_free_ char *path = rh_xasprintf ("%s/config.json", bundle), *text = NULL;
  _cleanup_json_ json_t *spec = NULL;
  size_t len;
  rh_error err;

  if (rh_read_file_capped (path, 64u << 20, &text, &len, &err) < 0)
    return false;
  spec = json_loadb (text, len, 0, NULL);
  return json_is_true (json_object_get (json_object_get (spec, "process"), "terminal"));
}

/* The master from the runtime's one connection, or -1. Waits while the child runs. */
static int
receive_master (int lsock, pid_t child)
{
  for (;;)
    {
      struct pollfd p = { .fd = lsock, .events = POLLIN };
      int r = poll (&p, 1, 200);
      if (r < 0 && errno != EINTR)
        return -1;
      if (r > 0)
        break;
      siginfo_t info = { 0 };
      /* WNOWAIT: leave the status for the caller's waitpid. */
      if (waitid (P_PID, (id_t) child, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == child)
        return -1; /* runsc ended before it sent a terminal */
    }
  _cleanup_close_ int c = accept4 (lsock, NULL, NULL, SOCK_CLOEXEC);
  char buf[512], cbuf[CMSG_SPACE (sizeof (int))];
  struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *cm;
  int fd;

  if (c < 0 || recvmsg (c, &m, MSG_CMSG_CLOEXEC) < 0)
    return -1;
  cm = CMSG_FIRSTHDR (&m);
  if (cm == NULL || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
    return -1;
  memcpy (&fd, CMSG_DATA (cm), sizeof fd);
  return fd;
}

static void
copy_loop (int master)
{
  bool in_open = true;
  char buf[16384];

  for (;;)
    {
      struct pollfd p[2] = { { .fd = master, .events = POLLIN }, { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
      if (poll (p, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return;
        }
      if (p[0].revents)
        {
          ssize_t n = read (master, buf, sizeof buf);
          if (n <= 0)
            return; /* EIO: every slave fd is closed, the container is done */
          if (rh_write_all (STDOUT_FILENO, buf, (size_t) n) < 0)
            return;
        }
      if (in_open && p[1].revents)
        {
          ssize_t n = read (STDIN_FILENO, buf, sizeof buf);
          if (n <= 0)
            in_open = false;
          else if (rh_write_all (master, buf, (size_t) n) < 0)
            in_open = false;
        }
    }
}

int
rh_tty_proxy_run (const char *runsc, char *const *argv, size_t insert_at, int *exit_code, rh_error *err)
{
  char dir[] = "/tmp/runsc-host-tty.XXXXXX";
  _cleanup_free_ char *sock = NULL, *flag = NULL;
  _cleanup_strv_ char **cargv = NULL;
  _cleanup_close_ int lsock = -1, master = -1;
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  struct termios saved;
  bool raw = false;
  struct rh_runsc_child child;
  int status;

  if (mkdtemp (dir) == NULL)
    return rh_error_sys (err, errno, "run: console socket directory");
  sock = rh_xasprintf ("%s/console.sock", dir);
  lsock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lsock < 0 || strlen (sock) >= sizeof sa.sun_path)
    {
      rmdir (dir);
      return rh_error_sys (err, errno, "run: console socket");
    }
  memcpy (sa.sun_path, sock, strlen (sock) + 1);
  if (bind (lsock, (struct sockaddr *) &sa, sizeof sa) < 0 || listen (lsock, 1) < 0)
    {
      int e = errno;
      unlink (sock);
      rmdir (dir);
      return rh_error_sys (err, e, "run: console socket %s", sock);
    }
  flag = rh_xasprintf ("--console-socket=%s", sock);
  for (size_t i = 0; argv[i]; i++)
    {
      rh_strv_push (&cargv, argv[i]);
      if (i == insert_at)
        rh_strv_push (&cargv, flag);
    }

  /* The container's stdio is the terminal; runsc's own stdin/stdout are not needed, and the
   * sandbox must not hold the caller's pipes. Errors still reach stderr. */
  if (rh_runsc_child_start (runsc, cargv, -1, true, &child) < 0)
    {
      unlink (sock);
      rmdir (dir);
      return rh_error_sys (err, errno, "run: fork");
    }

  master = receive_master (lsock, child.pid);
  unlink (sock);
  rmdir (dir);
  if (master >= 0)
    {
      if (isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &saved) == 0)
        {
          struct termios r = saved;
          cfmakeraw (&r);
          raw = tcsetattr (STDIN_FILENO, TCSANOW, &r) == 0;
        }
      copy_loop (master);
      if (raw)
        tcsetattr (STDIN_FILENO, TCSANOW, &saved);
    }
  if (rh_runsc_child_wait (&child, &status) < 0)
    return rh_error_sys (err, errno, "run: waiting for runsc");
  *exit_code = rh_runsc_child_exit_code (status, false);
  return 0;
}
