/* Internal to `runsc-host check`: the report it prints and the helpers its items share
 * (check_report.c); the items themselves are cmd_check.c. */
#ifndef RH_CHECK_REPORT_H
#define RH_CHECK_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "spawnutil.h"

#define CHECK_TIMEOUT_MS 10000
#define CHECK_OUTPUT_MAX 8192
#define CHECK_CONFIG_MAX (1u << 20)

#define SHIM_NAME "containerd-shim-runsc-host-v1"
#define CONTAINERD_CONFIG "/etc/containerd/config.toml"
#define DOCKER_CONFIG "/etc/docker/daemon.json"
#define CHILD_PATH RH_CHILD_PATH

/* Where daemons started by an init system find their programs. We look here, not in the
 * caller's $PATH: the question is what containerd and dockerd will find. */
extern const char *const rh_check_std_dirs[];

enum check_status
{
  CHECK_OK,
  CHECK_FAIL,
  CHECK_WARN,
  CHECK_SKIP,
  CHECK_INFO,
};

struct report
{
  FILE *out;
  int failed;
  int warned;
};

struct check_opts
{
  const char *containerd_config;
  const char *docker_config;
  const char *shim;
};

/* One line of the report: "[ ok ] item  text", and for a failure or warning the fix under it. */
void __attribute__ ((format (printf, 5, 6)))
rh_check_report (struct report *r, enum check_status st, const char *item, const char *fix, const char *fmt, ...);
bool rh_check_is_exec_file (const char *path);
bool rh_check_same_file (const char *a, const char *b);
/* name in rh_check_std_dirs, the first executable one; NULL when none. Caller frees. */
char *rh_check_find_std (const char *name);
/* The first line of s, at most 200 characters. Caller frees. */
char *rh_check_first_line (const char *s);
/* Run `path arg` (bounded, output captured) and require exit status 0; *out gets its output. */
int rh_check_run_ok (const char *path, const char *arg, char **out, rh_error *err);

#endif
