/* The one way runsc-host, its hook and its gate start another program: fork + execve of an
 * absolute path with an argv built element by element (never a shell, never a PATH lookup), the
 * one child environment, stdin from a memory file (or empty), stdout and stderr into memory files
 * (never a pipe that a chatty child could fill and block on), signals reset, every other
 * descriptor closed, an optional process group of its own and an optional deadline after which
 * the child (or its whole group) is killed. rh_spawn_daemon starts a process that outlives us. */
#ifndef RH_SPAWNUTIL_H
#define RH_SPAWNUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* The PATH every child gets: the programs we start as root see only root-owned directories. */
#define RH_CHILD_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* The one child environment: PATH=RH_CHILD_PATH and LC_ALL=C (tools' messages in English, the
 * caller's LD_PRELOAD, XTABLES_LIBDIR, ... kept out). */
extern char *const rh_child_env[];

/* What a child that could not execute its program writes to its stderr, before exit status 127. */
#define RH_SPAWN_EXEC_FAILED "cannot execute the program\n"

struct rh_spawn_opts
{
  char *const *argv;  /* argv[0] is the absolute path executed */
  char *const *envp;  /* NULL: rh_child_env */
  const char *input;  /* stdin text; NULL: empty */
  int timeout_ms;     /* > 0: killed (SIGKILL) when still running after this long */
  bool new_pgroup;    /* a process group of its own, killed whole when it ends or times out */
  bool merge_stderr;  /* stderr goes into the stdout file */
  bool keep_stderr;   /* stderr stays the caller's (passed through, not captured) */
  int reap_grace_ms;  /* > 0: after the kill, wait at most this long to reap it (else: ECHILD) */
  bool die_with_parent; /* SIGKILLed when the caller dies (PR_SET_PDEATHSIG; single-threaded callers) */
};

struct rh_spawn
{
  const char *path;
  pid_t pid;
  int pidfd;
  int out_fd, err_fd; /* memory files, read with rh_spawn_output */
  int64_t deadline_ms; /* CLOCK_MONOTONIC, 0: none */
  int reap_grace_ms;
  bool pgroup;
};

/* CLOCK_MONOTONIC in milliseconds. */
int64_t rh_monotonic_ms (void);

/* Start it. On success s holds the child and its output files; end with rh_spawn_wait. */
int rh_spawn_start (const struct rh_spawn_opts *o, struct rh_spawn *s, rh_error *err);

/* Wait for it (at most until its deadline: then it, or its group, is killed and *timed_out set),
 * reap it and set *status to its wait status. The output files stay open for rh_spawn_output;
 * rh_spawn_release closes them. */
int rh_spawn_wait (struct rh_spawn *s, int *status, bool *timed_out, rh_error *err);

/* What the child wrote to fd (s->out_fd or s->err_fd): its first max bytes, or with tail its
 * last max bytes; NUL-terminated. */
int rh_spawn_output (int fd, size_t max, bool tail, char **out, rh_error *err);

void rh_spawn_release (struct rh_spawn *s);

/* Start argv as a daemon: double fork (it is reparented and never our zombie), a session of its
 * own, stdio on /dev/null, keep_fd as its descriptor 3 and nothing else. Returns once the
 * intermediate child has exited; the daemon reports readiness through keep_fd itself. */
int rh_spawn_daemon (char *const *argv, char *const *envp, int keep_fd, rh_error *err);

#endif
