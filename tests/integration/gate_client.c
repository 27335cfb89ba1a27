/* gate-client: a small HTTP-over-Unix-socket client for the attestation gate's tests and
 * benchmark. Built statically (cc -static) so it runs inside a busybox test container under
 * gVisor, where neither busybox nc nor wget can speak to a Unix socket.
 *
 *   gate-client [-n COUNT] [-k] [-a AUDIENCE] [-t TYPE] [-N] [-X METHOD] [-p PATH] [-d BODY]
 *               [-v] [-T] [--duration S] [--gap MS] [--gap429 MS] SOCKET
 *   gate-client --raw [--slow MS] SOCKET        (request bytes from stdin, answer to stdout)
 *
 * Prints one "status CODE COUNT" line per status seen, "errors N" for failed exchanges, and with
 * -T the elapsed time, requests per second and latency percentiles, and "max_ms_200 X" (the
 * slowest 200 answer) when any. --duration stops after S seconds (-n is then a maximum), --gap
 * sleeps MS after every answer, --gap429 after every 429 (a flooder that does not spin the CPU
 * on refusals, but always has a request in when its budget allows). -a builds a POST /v1/token
 * body; -N adds a fresh nonce to every request (never cacheable). Exit status 1 when any
 * exchange failed at the socket level. Test tool only. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
dial (const char *path)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  strncpy (a.sun_path, path, sizeof a.sun_path - 1);
  if (connect (fd, (struct sockaddr *) &a, sizeof a) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static int
write_all (int fd, const char *p, size_t n)
{
  while (n > 0)
    {
      ssize_t w = send (fd, p, n, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return -1;
      p += w;
      n -= (size_t) w;
    }
  return 0;
}

/* Read one response; returns status or -1. *closed is set when the server will close. */
static int
read_response (int fd, char **body_out, size_t *body_len, char *retry_after, size_t ra_size, int *closed)
{
  static char buf[1 << 20];
  size_t used = 0, need = (size_t) -1, hdr_end = 0;
  long clen = -1;
  int status = -1;

  *closed = 0;
  for (;;)
    {
      if (hdr_end == 0)
        {
          char *e = memmem (buf, used, "\r\n\r\n", 4);
          if (e)
            {
              char *p;
              hdr_end = (size_t) (e - buf) + 4;
              buf[hdr_end - 1] = '\0';
              if (sscanf (buf, "HTTP/1.%*d %d", &status) != 1)
                return -1;
              for (p = buf; p && *p; p = strstr (p, "\r\n") ? strstr (p, "\r\n") + 2 : NULL)
                {
                  if (strncasecmp (p, "Content-Length:", 15) == 0)
                    clen = strtol (p + 15, NULL, 10);
                  else if (strncasecmp (p, "Connection: close", 17) == 0)
                    *closed = 1;
                  else if (strncasecmp (p, "Retry-After:", 12) == 0 && retry_after)
                    {
                      size_t n = strcspn (p + 12, "\r\n");
                      snprintf (retry_after, ra_size, "%.*s", (int) n, p + 12);
                    }
                }
              buf[hdr_end - 1] = '\n';
              if (clen >= 0)
                need = hdr_end + (size_t) clen;
            }
        }
      if (hdr_end && used >= need)
        break;
      if (used == sizeof buf)
        return -1;
      ssize_t r = recv (fd, buf + used, sizeof buf - used, 0);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        {
          if (hdr_end && clen < 0)
            break; /* body delimited by EOF */
          return -1;
        }
      used += (size_t) r;
    }
  if (body_out)
    {
      *body_len = (need == (size_t) -1 ? used : need) - hdr_end;
      *body_out = buf + hdr_end;
    }
  return status;
}

static int
raw_mode (const char *path, int slow_ms)
{
  static char req[1 << 20];
  size_t n = fread (req, 1, sizeof req, stdin);
  int fd = dial (path);
  char out[65536];
  ssize_t r;

  if (fd < 0)
    {
      perror ("connect");
      return 1;
    }
  if (slow_ms > 0)
    {
      for (size_t i = 0; i < n; i++)
        {
          struct timespec ts = { slow_ms / 1000, (slow_ms % 1000) * 1000000L };
          if (send (fd, req + i, 1, MSG_NOSIGNAL) != 1)
            break; /* the server gave up on us: read its answer */
          nanosleep (&ts, NULL);
        }
    }
  else if (write_all (fd, req, n) < 0)
    perror ("send");
  while ((r = recv (fd, out, sizeof out, 0)) > 0)
    fwrite (out, 1, (size_t) r, stdout);
  close (fd);
  return 0;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  const char *method = NULL, *path = "/v1/token", *body = NULL, *aud = NULL, *ttype = "OIDC", *sock = NULL;
  long count = 1;
  int keep = 0, verbose = 0, timing = 0, nonce = 0, raw = 0, slow = 0, gap = 0, gap429 = 0;
  double duration = 0, max200 = 0;
  long done = 0;
  long statuses[600] = { 0 };
  long errors = 0;
  char retry_after[64] = "";
  double *lat, t0;
  int fd = -1;

  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (!strcmp (a, "-n") && i + 1 < argc) count = atol (argv[++i]);
      else if (!strcmp (a, "-k")) keep = 1;
      else if (!strcmp (a, "-a") && i + 1 < argc) aud = argv[++i];
      else if (!strcmp (a, "-t") && i + 1 < argc) ttype = argv[++i];
      else if (!strcmp (a, "-N")) nonce = 1;
      else if (!strcmp (a, "-X") && i + 1 < argc) method = argv[++i];
      else if (!strcmp (a, "-p") && i + 1 < argc) path = argv[++i];
      else if (!strcmp (a, "-d") && i + 1 < argc) body = argv[++i];
      else if (!strcmp (a, "-v")) verbose = 1;
      else if (!strcmp (a, "-T")) timing = 1;
      else if (!strcmp (a, "--raw")) raw = 1;
      else if (!strcmp (a, "--slow") && i + 1 < argc) slow = atoi (argv[++i]);
      else if (!strcmp (a, "--duration") && i + 1 < argc) duration = atof (argv[++i]);
      else if (!strcmp (a, "--gap") && i + 1 < argc) gap = atoi (argv[++i]);
      else if (!strcmp (a, "--gap429") && i + 1 < argc) gap429 = atoi (argv[++i]);
      else if (a[0] != '-' && !sock) sock = a;
      else
        {
          fprintf (stderr, "usage: gate-client [-n N] [-k] [-a AUD] [-t TYPE] [-N] [-X M] [-p PATH] [-d BODY] "
                           "[-v] [-T] SOCKET | --raw [--slow MS] SOCKET\n");
          return 2;
        }
    }
  if (!sock)
    return 2;
  if (raw)
    return raw_mode (sock, slow);
  if (count < 1)
    count = 1;
  lat = calloc ((size_t) count, sizeof *lat);
  if (!method)
    method = (body || aud) ? "POST" : "GET";
  t0 = now ();
  for (long i = 0; i < count && !(duration > 0 && now () - t0 >= duration); i++)
    {
      char b[4096], req[8192];
      const char *bd = body;
      char *rbody = NULL;
      size_t rlen = 0;
      int st, closed, n;
      double s = now ();

      done = i + 1;
      if (aud)
        {
          if (nonce)
            snprintf (b, sizeof b, "{\"audience\":\"%s\",\"token_type\":\"%s\",\"nonces\":[\"nonce-%ld-%ld-abcdef\"]}",
                      aud, ttype, (long) getpid (), i);
          else
            snprintf (b, sizeof b, "{\"audience\":\"%s\",\"token_type\":\"%s\"}", aud, ttype);
          bd = b;
        }
      if (bd)
        n = snprintf (req, sizeof req, "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n%s\r\n%s", method, path, strlen (bd), keep ? "" : "Connection: close\r\n", bd);
      else
        n = snprintf (req, sizeof req, "%s %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n", method, path,
                      keep ? "" : "Connection: close\r\n");
      if (fd < 0 && (fd = dial (sock)) < 0)
        {
          errors++;
          continue;
        }
      if (write_all (fd, req, (size_t) n) < 0
          || (st = read_response (fd, &rbody, &rlen, retry_after[0] ? NULL : retry_after, sizeof retry_after, &closed)) < 0)
        {
          errors++;
          close (fd);
          fd = -1;
          continue;
        }
      lat[i] = now () - s;
      if (st >= 0 && st < 600)
        statuses[st]++;
      if (st == 200 && lat[i] > max200)
        max200 = lat[i];
      /* -v: the body of the first answer with each status. */
      if (verbose && st >= 0 && st < 600 && statuses[st] == 1)
        {
          printf ("first %d ", st);
          fwrite (rbody, 1, rlen, stdout);
          if (rlen == 0 || rbody[rlen - 1] != '\n')
            putchar ('\n');
        }
      if (!keep || closed)
        {
          close (fd);
          fd = -1;
        }
      if (st == 429 && gap429 > 0)
        usleep ((useconds_t) gap429 * 1000);
      else if (gap > 0)
        usleep ((useconds_t) gap * 1000);
    }
  for (int s = 0; s < 600; s++)
    if (statuses[s])
      printf ("status %d %ld\n", s, statuses[s]);
  if (retry_after[0])
    printf ("retry_after%s\n", retry_after);
  printf ("errors %ld\n", errors);
  if (timing)
    {
      double el = now () - t0;
      if (statuses[200])
        printf ("max_ms_200 %.0f\n", max200 * 1e3);
      if (done < 1)
        done = 1;
      qsort (lat, (size_t) done, sizeof *lat, cmp_double);
      printf ("elapsed_s %.3f\nreq_per_s %.0f\np50_us %.0f\np99_us %.0f\n", el, done / el, lat[done / 2] * 1e6,
              lat[(done * 99) / 100 < done ? (done * 99) / 100 : done - 1] * 1e6);
    }
  return errors ? 1 : 0;
}
