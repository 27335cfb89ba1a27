/* [hooks] Internal to netrules_apply.c: running iptables tools, reading /proc, and cgroup v2.
 * Not part of the library's contract; split out to keep each file small. */
#ifndef RH_NETRULES_SYS_H
#define RH_NETRULES_SYS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spawnutil.h"

/* ---- running a tool: fork + execve of an absolute path, argv built by hand, a fixed
 * environment, stdin from a memory file, stdout and stderr captured, a process group of its own
 * killed with us, and killed after 60 s or at the deadline, whichever comes first ---- */

struct rh_tool_run
{
  struct rh_spawn s;
  int timeout_ms;
};

/* Every tool started from now on ends by this CLOCK_MONOTONIC time (0: no deadline), and none is
 * started once it has passed. */
void rh_tool_set_deadline (int64_t deadline_ms);
int64_t rh_tool_deadline (void);

/* Start path with args (argv[0] is path itself; at most 14 args) and input on stdin. */
int rh_tool_spawn (const char *path, const char *const *args, const char *input, struct rh_tool_run *run,
                   rh_error *err);
/* Wait for it; exit status 0 is success, anything else an error carrying its stderr. With out,
 * its stdout (capped at 16 MiB). Always releases run's descriptors. */
int rh_tool_finish (struct rh_tool_run *run, char **out, rh_error *err);
int rh_tool_run (const char *path, const char *const *args, const char *input, char **out, rh_error *err);

/* ---- processes and namespaces ---- */

/* starttime (clock ticks since boot) of a live, non-zombie process; 0 when it is gone. */
unsigned long long rh_proc_start_time (pid_t pid);
/* "<dev>:<ino>" of our network namespace. Caller frees. */
char *rh_current_netns (void);

/* ---- cgroup v2 ---- */

struct rh_cg2
{
  char *mnt;  /* where the cgroup2 file system is mounted */
  char *root; /* which cgroup it shows there (mountinfo's root field, "/" normally) */
};

int rh_cg2_find (struct rh_cg2 *c, rh_error *err);
void rh_cg2_clear (struct rh_cg2 *c);
/* The cgroup v2 path ("0::/x/y" in /proc/<pid>/cgroup) of a process; pid 0 for ourselves. */
int rh_cg2_path_of (pid_t pid, char **out, rh_error *err);
/* The directory of a cgroup path under the mount, or NULL when the mount does not show it. */
char *rh_cg2_dir (const struct rh_cg2 *c, const char *cgpath);
bool rh_cg2_path_contains (const char *ancestor, const char *path);
int rh_cg2_write_pid (const char *dir, pid_t pid, rh_error *err);
/* Move pid and every process below it into dir. */
int rh_cg2_move_tree (const char *dir, pid_t pid, rh_error *err);
/* Move every process listed in dir back into dest (best effort). */
void rh_cg2_evacuate (const char *dir, const char *dest);

#endif
