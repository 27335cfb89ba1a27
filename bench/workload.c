/* In-container workloads for bench/workload.sh, built static and bind-mounted read-only into
 * the container, so the timing is taken inside the sandbox with clock_gettime:
 *
 *   wl syscalls N         N getppid() calls (a syscall every runtime must really handle)
 *   wl files DIR N SIZE   create, write SIZE bytes, close N files in DIR; then open, read, close
 *                         each; then unlink them. Three figures.
 *   wl tcp MIB PORT       a listener on 127.0.0.1:PORT and a client thread that sends MIB MiB
 *                         through it in 64 KiB writes: loopback TCP throughput, and how many
 *                         blocking reads/writes failed with EAGAIN (they must not; see below)
 *   wl stat DIR N REPEAT  create N empty files in DIR, then stat() each REPEAT times (the
 *                         metadata lookups a build or a package manager does); then remove them
 *   wl spawn N PROG       fork, execve PROG (no arguments), wait: N times (a shell script's cost)
 *   wl echo N PORT        request/response over loopback TCP (TCP_NODELAY): a client thread
 *                         sends 64 bytes, the server echoes them, N times; the median and p99
 *                         of one round trip (latency, where "wl tcp" measures throughput)
 *
 * Output: one "key=value" line per figure, times in microseconds, throughput in MiB/s. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void
die (const char *what)
{
  fprintf (stderr, "wl: %s: %s\n", what, strerror (errno));
  exit (1);
}

static int
syscalls (long n)
{
  double t0 = now_us ();
  for (long i = 0; i < n; i++)
    syscall (SYS_getppid);
  double t = now_us () - t0;
  printf ("syscalls_total_us=%.0f\nsyscall_ns=%.1f\n", t, t * 1000 / n);
  return 0;
}

static int
files (const char *dir, int n, int size)
{
  char path[4096], *buf = calloc (1, (size_t) size);
  double t0, t1, t2, t3;

  if (buf == NULL)
    die ("calloc");
  memset (buf, 'x', (size_t) size);
  mkdir (dir, 0755);
  t0 = now_us ();
  for (int i = 0; i < n; i++)
    {
      int fd;
      snprintf (path, sizeof path, "%s/f%d", dir, i);
      fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0 || write (fd, buf, (size_t) size) != size)
        die (path);
      close (fd);
    }
  t1 = now_us ();
  for (int i = 0; i < n; i++)
    {
      int fd;
      snprintf (path, sizeof path, "%s/f%d", dir, i);
      fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0 || read (fd, buf, (size_t) size) != size)
        die (path);
      close (fd);
    }
  t2 = now_us ();
  for (int i = 0; i < n; i++)
    {
      snprintf (path, sizeof path, "%s/f%d", dir, i);
      if (unlink (path) < 0)
        die (path);
    }
  t3 = now_us ();
  printf ("create_write_us_per_file=%.1f\nopen_read_us_per_file=%.1f\nunlink_us_per_file=%.1f\n", (t1 - t0) / n,
          (t2 - t1) / n, (t3 - t2) / n);
  return 0;
}

struct client
{
  int port;
  long mib;
  long long eagain; /* blocking writes that failed with EAGAIN */
};

static void *
client (void *arg)
{
  struct client *c = arg;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) c->port) };
  static char buf[65536];
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd < 0 || connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    die ("connect");
  for (long i = 0; i < c->mib * 16; i++)
    {
      size_t off = 0;
      while (off < sizeof buf)
        {
          ssize_t w = write (fd, buf + off, sizeof buf - off);
          if (w < 0 && (errno == EAGAIN || errno == EINTR))
            {
              struct pollfd p = { .fd = fd, .events = POLLOUT };
              __atomic_add_fetch (&c->eagain, errno == EAGAIN, __ATOMIC_RELAXED);
              poll (&p, 1, 1000);
              continue;
            }
          if (w < 0)
            die ("write");
          off += (size_t) w;
        }
    }
  close (fd);
  return NULL;
}

static int
tcp (long mib, int port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
  struct client c = { .port = port, .mib = mib };
  static char buf[65536];
  int one = 1, lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), fd;
  long long got = 0, eagain = 0;
  pthread_t th;
  double t0, t;

  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (lfd < 0 || bind (lfd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen (lfd, 1) < 0)
    die ("listen");
  t0 = now_us ();
  pthread_create (&th, NULL, client, &c);
  fd = accept (lfd, NULL, NULL);
  if (fd < 0)
    die ("accept");
  /* A blocking read or write must not fail with EAGAIN; under runsc's host networking
   * (2022-12) it does. Count it, and cope, so the throughput is still measured. */
  for (;;)
    {
      ssize_t r = read (fd, buf, sizeof buf);
      if (r < 0 && (errno == EAGAIN || errno == EINTR))
        {
          eagain += errno == EAGAIN;
          struct pollfd p = { .fd = fd, .events = POLLIN };
          poll (&p, 1, 1000);
          continue;
        }
      if (r < 0)
        die ("read");
      if (r == 0)
        break;
      got += r;
    }
  t = now_us () - t0;
  pthread_join (th, NULL);
  if (got != mib * 1048576LL)
    {
      fprintf (stderr, "wl: tcp: got %lld bytes\n", got);
      return 1;
    }
  printf ("tcp_mib_per_s=%.1f\ntcp_blocking_io_eagain=%lld\n", mib / (t / 1e6), eagain + c.eagain);
  return 0;
}

static int
stat_loop (const char *dir, int n, int repeat)
{
  char path[4096];
  struct stat st;
  double t0, t;

  mkdir (dir, 0755);
  for (int i = 0; i < n; i++)
    {
      int fd;
      snprintf (path, sizeof path, "%s/s%d", dir, i);
      fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0)
        die (path);
      close (fd);
    }
  t0 = now_us ();
  for (int r = 0; r < repeat; r++)
    for (int i = 0; i < n; i++)
      {
        snprintf (path, sizeof path, "%s/s%d", dir, i);
        if (stat (path, &st) < 0)
          die (path);
      }
  t = now_us () - t0;
  for (int i = 0; i < n; i++)
    {
      snprintf (path, sizeof path, "%s/s%d", dir, i);
      unlink (path);
    }
  printf ("stat_us_per_call=%.2f\n", t / ((double) n * repeat));
  return 0;
}

static int
spawn (int n, const char *prog)
{
  char *const argv[] = { (char *) prog, NULL }, *const envp[] = { NULL };
  double t0 = now_us (), t;

  for (int i = 0; i < n; i++)
    {
      int st;
      pid_t pid = fork ();
      if (pid < 0)
        die ("fork");
      if (pid == 0)
        {
          execve (prog, argv, envp);
          _exit (127);
        }
      if (waitpid (pid, &st, 0) < 0)
        die ("waitpid");
      if (!WIFEXITED (st) || WEXITSTATUS (st) != 0)
        {
          fprintf (stderr, "wl: spawn: %s exited with status %#x\n", prog, st);
          return 1;
        }
    }
  t = now_us () - t0;
  printf ("spawn_us_per_process=%.1f\n", t / n);
  return 0;
}

/* Read or write exactly len bytes on a blocking socket (retrying EINTR and, for runsc 2022's
 * host network, EAGAIN; see tcp()). */
static void
full_io (int fd, char *buf, size_t len, int writing)
{
  size_t off = 0;
  while (off < len)
    {
      ssize_t r = writing ? write (fd, buf + off, len - off) : read (fd, buf + off, len - off);
      if (r < 0 && (errno == EAGAIN || errno == EINTR))
        {
          struct pollfd p = { .fd = fd, .events = writing ? POLLOUT : POLLIN };
          poll (&p, 1, 1000);
          continue;
        }
      if (r < 0)
        die (writing ? "echo write" : "echo read");
      if (r == 0)
        {
          errno = ECONNRESET;
          die ("echo: peer closed");
        }
      off += (size_t) r;
    }
}

struct echo_client
{
  int port, n;
  double *rtt_us;
};

static void *
echo_client (void *arg)
{
  struct echo_client *c = arg;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) c->port) };
  char msg[64];
  int one = 1, fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd < 0 || connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    die ("connect");
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  memset (msg, 'q', sizeof msg);
  for (int i = 0; i < c->n; i++)
    {
      double t0 = now_us ();
      full_io (fd, msg, sizeof msg, 1);
      full_io (fd, msg, sizeof msg, 0);
      c->rtt_us[i] = now_us () - t0;
    }
  close (fd);
  return NULL;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static int
echo (int n, int port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
  struct echo_client c = { .port = port, .n = n, .rtt_us = calloc ((size_t) n, sizeof (double)) };
  char msg[64];
  int one = 1, lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), fd;
  pthread_t th;

  if (c.rtt_us == NULL || n < 1)
    die ("echo: calloc");
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (lfd < 0 || bind (lfd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen (lfd, 1) < 0)
    die ("listen");
  pthread_create (&th, NULL, echo_client, &c);
  fd = accept (lfd, NULL, NULL);
  if (fd < 0)
    die ("accept");
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  for (int i = 0; i < n; i++)
    {
      full_io (fd, msg, sizeof msg, 0);
      full_io (fd, msg, sizeof msg, 1);
    }
  pthread_join (th, NULL);
  close (fd);
  close (lfd);
  qsort (c.rtt_us, (size_t) n, sizeof (double), cmp_double);
  printf ("echo_rtt_us=%.1f\necho_rtt_p99_us=%.1f\n", c.rtt_us[n / 2], c.rtt_us[(n * 99) / 100]);
  free (c.rtt_us);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "syscalls") == 0)
    return syscalls (atol (argv[2]));
  if (argc == 5 && strcmp (argv[1], "files") == 0)
    return files (argv[2], atoi (argv[3]), atoi (argv[4]));
  if (argc == 4 && strcmp (argv[1], "tcp") == 0)
    return tcp (atol (argv[2]), atoi (argv[3]));
  if (argc == 5 && strcmp (argv[1], "stat") == 0)
    return stat_loop (argv[2], atoi (argv[3]), atoi (argv[4]));
  if (argc == 4 && strcmp (argv[1], "spawn") == 0)
    return spawn (atoi (argv[2]), argv[3]);
  if (argc == 4 && strcmp (argv[1], "echo") == 0)
    return echo (atoi (argv[2]), atoi (argv[3]));
  fprintf (stderr, "usage: wl syscalls N | wl files DIR N SIZE | wl tcp MIB PORT | wl stat DIR N REPEAT"
                   " | wl spawn N PROG | wl echo N PORT\n");
  return 2;
}
