/* Platform "auto": which runsc platform this host can run, probed once and cached.
 *
 * runsc has several ways to intercept the sandbox's system calls (its "platform"): systrap (the
 * default of current gVisor, missing from older releases), kvm (fast when /dev/kvm works, but it
 * can hang on hosts with broken nested virtualisation) and ptrace (slow, works everywhere). With
 * runsc.platform "auto" runsc-host tries them in that order, each with a real tiny sandbox and a
 * hard time bound, and keeps the first that runs.
 *
 * The answer is cached in <state_dir>/platform (JSON, written atomically). The cache key names
 * the runsc binary (path, device, inode, size, mtime), whether the kvm device opens, and the boot
 * id, so a runsc upgrade, a new /dev/kvm or a reboot re-probes. Only the first invocation pays
 * for the probe; every later one reads one small file.
 *
 * This is the one place in lib/ that starts a process. It does so with an argv and environment
 * built element by element, never a shell. */
#ifndef RH_PLATFORM_H
#define RH_PLATFORM_H

#include <stdbool.h>

#include "error.h"
#include "log.h"

#define RH_PLATFORM_CACHE_NAME "platform"
#define RH_PLATFORM_LOCK_NAME "platform.lock"

struct rh_platform_opts
{
  const char *runsc_path;   /* absolute path of runsc */
  const char *state_dir;    /* the cache, its lock and the probe's scratch dirs live here */
  int timeout_ms;           /* bound on each candidate's probe */
  const char *kvm_device;   /* kvm is tried only when this is a character device that opens
                               read-write ("/dev/kvm") */
  const char *probe_cmd;    /* absolute path run inside the probe sandbox ("/bin/true") */
  const char *boot_id_path; /* "/proc/sys/kernel/random/boot_id"; NULL leaves it out of the key */
  const struct rh_logger *log;
};

/* Fill o with the production defaults for this policy (strings point into p or are literals). */
struct rh_policy;
void rh_platform_opts_from_policy (const struct rh_policy *p, const struct rh_logger *log,
                                   struct rh_platform_opts *o);

/* The probed (or cached) platform; a malloc'd name from rh_platform_names. When no candidate
 * passes, the answer is "ptrace" (runsc's own default, compiled into every release), cached and
 * logged as a warning: the probe decides speed, never safety, and runsc's own error on create
 * says more than ours would. Fails only when runsc cannot be stat'ed or the state dir cannot be
 * created. */
int rh_platform_auto (const struct rh_platform_opts *o, char **out, rh_error *err);

/* Run one candidate in a fresh scratch dir: 0 when `runsc --platform=NAME do probe_cmd` exits 0
 * within the time bound, else -1 with the reason ("timed out after 3000 ms", "exit status 128:
 * unknown platform: systrap"). Every process of the probe is gone when it returns. Exposed for
 * tests and for `runsc-host check`. */
int rh_platform_probe_one (const struct rh_platform_opts *o, const char *platform, rh_error *err);

/* True when name is a platform runsc-host may pass to runsc (never "auto"). */
bool rh_platform_name_valid (const char *name);

#endif
