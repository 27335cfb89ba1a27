/* [gate] runsc-host-gate: the attestation gate daemon.
 *
 *   runsc-host-gate [--config FILE | --embedded-policy] [--ready-fd N] [--debug]
 *
 * Serves one Unix socket per sandbox (created on request over the control socket) and forwards
 * allowed, rate-limited, cache-missing requests to the real TEE server socket. Started on demand
 * by `runsc-host create` (detached, stdio on /dev/null) or in the foreground by
 * `runsc-host gate run` / a service manager. See docs/gate.md. */
#include "gate.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "util.h"

#ifndef RH_SYSCONF_POLICY
#define RH_SYSCONF_POLICY "/etc/runsc-host/config.json"
#endif

#define SWEEP_INTERVAL 0.1

double
gate_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

double
gate_now_wall (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int
gate_ep_set (struct gate_daemon *d, int fd, uint32_t events, void *ptr, bool add)
{
  struct epoll_event ev = { .events = events, .data.ptr = ptr };
  return epoll_ctl (d->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

void
gate_ep_del (struct gate_daemon *d, int fd)
{
  epoll_ctl (d->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void
gate_bury (struct gate_daemon *d, struct gate_ev *ev)
{
  ev->dead = true;
  ev->dead_next = d->graveyard;
  d->graveyard = ev;
}

void
gate_reap (struct gate_daemon *d)
{
  while (d->graveyard)
    {
      struct gate_ev *ev = d->graveyard;
      d->graveyard = ev->dead_next;
      switch (ev->kind)
        {
        case GK_CLIENT:
        case GK_CONTROL_CONN:
          gate_conn_free ((struct gate_conn *) ev);
          break;
        case GK_UPSTREAM:
          gate_upcall_free ((struct gate_upcall *) ev);
          break;
        case GK_SANDBOX_LISTEN:
          gate_sandbox_free ((struct gate_sandbox *) ev);
          break;
        default:
          break;
        }
    }
}

struct options
{
  const char *config;
  bool embedded;
  int ready_fd;
  bool debug;
};

static void
usage (FILE *f)
{
  fputs ("usage: runsc-host-gate [--config FILE | --embedded-policy] [--ready-fd N] [--debug]\n"
         "The attestation gate of runsc-host: a rate-limited, caching proxy to the TEE server socket.\n"
         "Without --config the policy is RUNSC_HOST_CONFIG, else " RH_SYSCONF_POLICY ", else the embedded one.\n",
         f);
}

static int
parse_args (int argc, char **argv, struct options *o)
{
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "--config") == 0 && i + 1 < argc)
        o->config = argv[++i];
      else if (strcmp (a, "--embedded-policy") == 0)
        o->embedded = true;
      else if (strcmp (a, "--ready-fd") == 0 && i + 1 < argc)
        {
          char *end;
          long v = strtol (argv[++i], &end, 10);
          if (*end || v < 0 || v > 1024)
            return -1;
          o->ready_fd = (int) v;
        }
      else if (strcmp (a, "--debug") == 0)
        o->debug = true;
      else if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0)
        {
          usage (stdout);
          exit (0);
        }
      else
        return -1;
    }
  return 0;
}

/* Tell whoever started us how it went ("ok", "busy", or "error: ..."), once. */
static void
report_ready (struct options *o, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
report_ready (struct options *o, const char *fmt, ...)
{
  char buf[2048];
  va_list ap;
  int n;

  if (o->ready_fd < 0)
    return;
  va_start (ap, fmt);
  n = vsnprintf (buf, sizeof buf - 1, fmt, ap);
  va_end (ap);
  if (n < 0)
    n = 0;
  if ((size_t) n > sizeof buf - 2)
    n = sizeof buf - 2;
  buf[n++] = '\n';
  if (write (o->ready_fd, buf, (size_t) n) < 0)
    { /* the starter is gone; nothing to tell */
    }
  close (o->ready_fd);
  o->ready_fd = -1;
}

static int
load_policy (const struct options *o, struct rh_policy **p, rh_error *err)
{
  return rh_policy_load_for (o->config, o->embedded, getenv ("RUNSC_HOST_CONFIG"), RH_SYSCONF_POLICY, p, err);
}

/* After every listening socket exists, the daemon needs no privilege: it only creates files in
 * directories it owns and connects to a socket owned by its own uid. Dropping every capability
 * (and the bounding set, with no_new_privs) means a bug in request handling cannot be turned
 * into root's full power over the host. */
static int
drop_privileges (rh_error *err)
{
  cap_t none;

  for (int c = 0; c <= CAP_LAST_CAP; c++)
    if (prctl (PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL && errno != EPERM)
      return rh_error_sys (err, errno, "drop capability %d from the bounding set", c);
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return rh_error_sys (err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  none = cap_init ();
  if (none == NULL)
    return rh_error_sys (err, errno, "cap_init");
  if (cap_set_proc (none) < 0)
    {
      int e = errno;
      cap_free (none);
      return rh_error_sys (err, e, "cap_set_proc");
    }
  cap_free (none);
  return 0;
}

static void
raise_nofile (void)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

static int
setup (struct gate_daemon *d, struct options *o, int *sigfd, struct gate_ev *sig_ev, rh_error *err)
{
  sigset_t mask;
  const struct rh_gate_policy *g = d->g;

  d->client_limits.max_header_bytes = (size_t) g->max_header_bytes;
  d->client_limits.max_body_bytes = (size_t) g->max_body_bytes;
  d->upstream_limits.max_header_bytes = 64 * 1024;
  d->upstream_limits.max_body_bytes = (size_t) g->max_response_bytes;
  d->started = gate_now ();
  gate_sched_init (&d->sched, g->global_rate, (double) g->global_burst, (double) g->global_wait_ms / 1000.0,
                   d->started);

  d->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (d->epfd < 0)
    return rh_error_sys (err, errno, "epoll_create1");
  sigemptyset (&mask);
  sigaddset (&mask, SIGTERM);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGHUP);
  sigaddset (&mask, SIGQUIT);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  signal (SIGPIPE, SIG_IGN);
  *sigfd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (*sigfd < 0)
    return rh_error_sys (err, errno, "signalfd");
  sig_ev->kind = GK_SIGNAL;
  if (gate_ep_set (d, *sigfd, EPOLLIN, sig_ev, true) < 0)
    return rh_error_sys (err, errno, "epoll_ctl");

  if (rh_mkdir_p (g->socket_dir, 0711, err) < 0)
    return rh_error_prefix (err, "gate.socket_dir");
  if (gate_control_listen (d, err) < 0)
    return -1;
  raise_nofile ();
  d->reserve_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  gate_sandbox_restore (d);
  return drop_privileges (err);
}

static void
dispatch (struct gate_daemon *d, struct epoll_event *ev, int sigfd, bool *stop, bool *reopen)
{
  struct gate_ev *k = ev->data.ptr;

  switch (k->kind)
    {
    case GK_SIGNAL:
      {
        struct signalfd_siginfo si;
        while (read (sigfd, &si, sizeof si) == (ssize_t) sizeof si)
          {
            if (si.ssi_signo == SIGHUP)
              *reopen = true;
            else
              *stop = true;
          }
        return;
      }
    case GK_CONTROL_LISTEN:
      gate_control_accept (d);
      return;
    case GK_SANDBOX_LISTEN:
      gate_client_accept (d, (struct gate_sandbox *) k);
      return;
    case GK_CLIENT:
    case GK_CONTROL_CONN:
      gate_conn_event (d, (struct gate_conn *) k, ev->events);
      return;
    case GK_UPSTREAM:
      gate_upcall_event (d, (struct gate_upcall *) k, ev->events);
      return;
    }
}

static void
run (struct gate_daemon *d, struct rh_logger *lg, const char *log_path, bool debug, int sigfd)
{
  struct epoll_event events[64];
  double next_sweep = gate_now () + SWEEP_INTERVAL;
  bool stop = false, reopen = false;

  while (!stop)
    {
      int timeout = (d->conns || d->upcalls) ? (int) (SWEEP_INTERVAL * 1000) : -1;
      double queue_wait = gate_sched_timeout (&d->sched, gate_now ());
      int n;

      /* A queued request is granted when the global bucket's next token accrues, not at the
       * next sweep. */
      if (queue_wait >= 0 && (timeout < 0 || queue_wait * 1000 < timeout))
        timeout = (int) ceil (queue_wait * 1000);
      n = epoll_wait (d->epfd, events, 64, timeout);
      double now;

      if (n < 0 && errno != EINTR)
        {
          rh_log_error (d->log, "epoll_wait: %s", strerror (errno));
          return;
        }
      /* An event may close an object a later event of the same batch points to (an upstream
       * answer can end a waiter's connection; a removal ends a sandbox's): closed objects are
       * marked dead and only freed after the batch. */
      for (int i = 0; i < n; i++)
        if (!((struct gate_ev *) events[i].data.ptr)->dead)
          dispatch (d, &events[i], sigfd, &stop, &reopen);
      now = gate_now ();
      gate_sched_run (d, now);
      if (now >= next_sweep)
        {
          gate_conn_sweep (d, now);
          gate_upcall_sweep (d, now);
          next_sweep = now + SWEEP_INTERVAL;
        }
      gate_reap (d);
      if (reopen)
        {
          rh_error err = { 0 };
          rh_logger_close (lg);
          if (rh_logger_open (lg, log_path, true, debug, &err) < 0)
            fprintf (stderr, "runsc-host-gate: %s\n", err.msg);
          reopen = false;
        }
    }
  rh_log_info (d->log, "stopping on signal");
}

int
main (int argc, char **argv)
{
  struct options o = { .ready_fd = -1 };
  struct rh_policy *policy = NULL;
  struct rh_logger lg = RH_LOGGER_INIT;
  struct gate_daemon d = { .epfd = -1, .ctl_fd = -1, .lock_fd = -1, .reserve_fd = -1 };
  struct gate_ev sig_ev = { 0 };
  int sigfd = -1;
  rh_error err = { 0 };

  if (parse_args (argc, argv, &o) < 0)
    {
      usage (stderr);
      return 2;
    }
  /* A daemon that lives as long as the VM must not pin whatever its starter left open (a shell's
   * pipes, a shim's fds): keep stdio and the ready pipe, close the rest. */
  if (o.ready_fd > 3)
    close_range (3, (unsigned) o.ready_fd - 1, 0);
  close_range (o.ready_fd >= 3 ? (unsigned) o.ready_fd + 1 : 3, ~0U, 0);
  umask (077);
  if (load_policy (&o, &policy, &err) < 0)
    {
      fprintf (stderr, "runsc-host-gate: %s\n", err.msg);
      report_ready (&o, "error: %s", err.msg);
      return 1;
    }
  if (!policy->gate.enabled)
    {
      fprintf (stderr, "runsc-host-gate: the gate is disabled by policy (gate.enabled)\n");
      report_ready (&o, "error: the gate is disabled by policy (gate.enabled)");
      rh_policy_free (policy);
      return 1;
    }
  {
    _cleanup_free_ char *logdir = rh_xstrdup (policy->gate.log_file);
    *strrchr (logdir, '/') = '\0';
    if (logdir[0] != '\0' && rh_mkdir_p (logdir, 0755, &err) < 0)
      {
        fprintf (stderr, "runsc-host-gate: %s\n", err.msg);
        report_ready (&o, "error: %s", err.msg);
        rh_policy_free (policy);
        return 1;
      }
  }
  if (rh_logger_open (&lg, policy->gate.log_file, true, o.debug, &err) < 0)
    {
      fprintf (stderr, "runsc-host-gate: %s\n", err.msg);
      report_ready (&o, "error: %s", err.msg);
      rh_policy_free (policy);
      return 1;
    }
  d.policy = policy;
  d.g = &policy->gate;
  d.log = &lg;
  if (setup (&d, &o, &sigfd, &sig_ev, &err) < 0)
    {
      if (err.code == EBUSY)
        {
          /* Another daemon owns the control socket: it serves the caller. */
          report_ready (&o, "busy");
          return 0;
        }
      rh_log_error (&lg, "%s", err.msg);
      report_ready (&o, "error: %s", err.msg);
      return 1;
    }
  rh_log_info (&lg, "runsc-host-gate %d listening on %s (policy %.12s, upstream %s)", (int) getpid (),
               d.g->control_socket, policy->sha256, d.g->upstream);
  report_ready (&o, "ok");
  run (&d, &lg, policy->gate.log_file, o.debug, sigfd);

  while (d.conns)
    gate_conn_close (&d, d.conns);
  while (d.upcalls)
    gate_upcall_forget_sandbox (&d, d.upcalls->sb);
  gate_reap (&d);
  gate_sandboxes_close (&d);
  gate_memo_free (&d.memo);
  unlink (d.g->control_socket);
  close (d.ctl_fd);
  close (d.lock_fd);
  close (sigfd);
  close (d.epfd);
  rh_logger_close (&lg);
  rh_policy_free (policy);
  return 0;
}
