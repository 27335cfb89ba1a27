/* bench/gate_upstream.c: a fixed-answer upstream for bench/gate.sh. BENCHMARK USE ONLY.
 *
 * Listens on a Unix socket, reads one HTTP request per connection (headers and a
 * Content-Length body), answers every one with the same JWT-shaped token (exp in 2096) and
 * closes. Single-threaded and allocation-free, so that what the benchmark measures between
 * "direct" and "through the gate" is the gate, not the upstream (the Python stand-in's thread
 * per connection dominates otherwise). It validates nothing.
 *
 *   gate_upstream SOCKET */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char token[] = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
                            "eyJpc3MiOiJiZW5jaCIsImV4cCI6NDAwMDAwMDAwMCwiaWF0IjoxNzAwMDAwMDAwfQ.c2ln";

int
main (int argc, char **argv)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  char resp[512];
  int l, n;

  if (argc != 2 || strlen (argv[1]) >= sizeof a.sun_path)
    {
      fprintf (stderr, "usage: gate_upstream SOCKET\n");
      return 2;
    }
  signal (SIGPIPE, SIG_IGN);
  strcpy (a.sun_path, argv[1]);
  unlink (argv[1]);
  l = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0 || bind (l, (struct sockaddr *) &a, sizeof a) < 0 || listen (l, 512) < 0)
    {
      perror ("gate_upstream: listen");
      return 1;
    }
  chmod (argv[1], 0666);
  n = snprintf (resp, sizeof resp,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                strlen (token), token);
  for (;;)
    {
      char buf[16384];
      size_t used = 0;
      int fd = accept4 (l, NULL, NULL, SOCK_CLOEXEC);

      if (fd < 0)
        continue;
      for (;;)
        {
          ssize_t r = read (fd, buf + used, sizeof buf - 1 - used);
          char *end, *cl;
          if (r <= 0)
            break;
          used += (size_t) r;
          buf[used] = '\0';
          end = strstr (buf, "\r\n\r\n");
          if (end == NULL)
            continue;
          cl = strcasestr (buf, "\r\nContent-Length:");
          if (used >= (size_t) (end - buf) + 4 + (cl ? strtoul (cl + 17, NULL, 10) : 0))
            break;
        }
      if (write (fd, resp, (size_t) n) < 0)
        { /* the client left */
        }
      close (fd);
    }
}
