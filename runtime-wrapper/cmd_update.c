/* `runsc-host update [flags] ID`: change a running container's memory, CPU and pids limits.
 *
 * runsc (2022-12-19) has no `update`, but every sandbox lives in a host cgroup (the spec's
 * linux.cgroupsPath, which containerd, docker and nerdctl always set), and the host kernel
 * enforces that cgroup's limits on the sandbox's processes whatever gVisor does inside. So the
 * limits are written there, as runc writes them into its container's cgroup: the sandbox's pid
 * comes from `runsc state`, its groups from /proc/PID/cgroup, and on this hybrid host each
 * cgroup v1 controller (memory, cpu, cpuset, pids) is written, plus the cgroup v2 group where
 * that group has the controller enabled (pure v2 hosts).
 *
 * Refused, naming the reason, when the sandbox has no cgroup of its own (it shares the caller's
 * group, or sits at a hierarchy's root): writing there would limit processes that are not the
 * container's. Flags are runc 1.1's: --memory --memory-reservation --memory-swap --cpu-share
 * --cpu-quota --cpu-period --cpuset-cpus --cpuset-mems --pids-limit, -r/--resources FILE ("-":
 * stdin, runc's LinuxResources JSON). --blkio-weight, --kernel-memory*, --cpu-rt-*,
 * --l3-cache-schema and --mem-bw-schema are refused: runsc-host cannot apply them here.
 * Exit status 0 on success, 1 on error (message via --log, as every runsc-host error). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "cli.h"
#include "runsc_child.h"
#include "commands.h"
#include "fsutil.h"
#include "util.h"

extern char **environ;

/* One requested change. A value of UNSET leaves the limit alone. */
#define UNSET LLONG_MIN

struct update_req
{
  long long mem, mem_reservation, mem_swap, cpu_shares, cpu_quota, cpu_period, pids;
  char *cpus, *mems;
};

/* runc's (docker/go-units RAMInBytes) sizes: digits with an optional b/k/m/g/t/p suffix, binary
 * multiples, or -1 for unlimited. */
static int
parse_size (const char *flag, const char *s, long long *out, rh_error *err)
{
  char *end;
  long long v, mul = 1;

  if (strcmp (s, "-1") == 0)
    return *out = -1, 0;
  errno = 0;
  v = strtoll (s, &end, 10);
  if (end == s || errno || v < 0)
    return rh_error_set (err, EINVAL, "update: --%s: invalid size \"%s\"", flag, s);
  switch (tolower ((unsigned char) *end))
    {
    case '\0': case 'b': break;
    case 'k': mul = 1LL << 10; break;
    case 'm': mul = 1LL << 20; break;
    case 'g': mul = 1LL << 30; break;
    case 't': mul = 1LL << 40; break;
    case 'p': mul = 1LL << 50; break;
    default: return rh_error_set (err, EINVAL, "update: --%s: invalid size \"%s\"", flag, s);
    }
  if (*end && end[1] && !((end[1] == 'b' || end[1] == 'B') && end[2] == '\0'))
    return rh_error_set (err, EINVAL, "update: --%s: invalid size \"%s\"", flag, s);
  if (v > LLONG_MAX / mul)
    return rh_error_set (err, ERANGE, "update: --%s: size \"%s\" is too large", flag, s);
  *out = v * mul;
  return 0;
}

static int
parse_int (const char *flag, const char *s, bool allow_neg, long long *out, rh_error *err)
{
  char *end;
  errno = 0;
  *out = strtoll (s, &end, 10);
  if (end == s || *end || errno || (!allow_neg && *out < 0))
    return rh_error_set (err, EINVAL, "update: --%s: invalid number \"%s\"", flag, s);
  return 0;
}

/* cpuset lists: digits, ',' and '-' only (they are written into a cgroup file verbatim). */
static int
check_cpuset (const char *flag, const char *s, rh_error *err)
{
  if (*s == '\0' || strspn (s, "0123456789,-") != strlen (s))
    return rh_error_set (err, EINVAL, "update: --%s: invalid list \"%s\"", flag, s);
  return 0;
}

/* As in runc, 0 means "leave as it is" (containerd's shim sends every field, unset ones as 0). */
static void
json_num (json_t *obj, const char *key, long long *out)
{
  json_t *v = json_object_get (obj, key);
  if (json_is_integer (v) && json_integer_value (v) != 0)
    *out = json_integer_value (v);
}

/* -r FILE: runc's LinuxResources JSON (memory.limit/reservation/swap, cpu.shares/quota/period/
 * cpus/mems, pids.limit). Anything else in it that is set is refused, as the flags are. */
static int
parse_resources (const char *file, struct update_req *r, rh_error *err)
{
  _cleanup_free_ char *text = NULL;
  _cleanup_json_ json_t *doc = NULL;
  json_error_t jerr;
  json_t *mem, *cpu, *pids, *v;
  size_t len;

  if (strcmp (file, "-") == 0 ? rh_read_fd_capped (STDIN_FILENO, 1u << 20, &text, &len, err) < 0
                              : rh_read_file_capped (file, 1u << 20, &text, &len, err) < 0)
    return rh_error_prefix (err, "update: --resources %s", file);
  doc = json_loadb (text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!json_is_object (doc))
    return rh_error_set (err, EINVAL, "update: --resources %s: not a JSON object (%s)", file,
                         doc ? "wrong type" : jerr.text);
  if ((mem = json_object_get (doc, "memory")))
    {
      json_num (mem, "limit", &r->mem);
      json_num (mem, "reservation", &r->mem_reservation);
      json_num (mem, "swap", &r->mem_swap);
      if (json_integer_value (json_object_get (mem, "kernel")) || json_integer_value (json_object_get (mem, "kernelTCP")))
        return rh_error_set (err, ENOTSUP, "update: --resources %s: memory.kernel is not supported", file);
    }
  if ((cpu = json_object_get (doc, "cpu")))
    {
      json_num (cpu, "shares", &r->cpu_shares);
      json_num (cpu, "quota", &r->cpu_quota);
      json_num (cpu, "period", &r->cpu_period);
      if ((v = json_object_get (cpu, "cpus")) && json_is_string (v) && json_string_length (v))
        r->cpus = rh_xstrdup (json_string_value (v));
      if ((v = json_object_get (cpu, "mems")) && json_is_string (v) && json_string_length (v))
        r->mems = rh_xstrdup (json_string_value (v));
      if (json_integer_value (json_object_get (cpu, "realtimeRuntime"))
          || json_integer_value (json_object_get (cpu, "realtimePeriod")))
        return rh_error_set (err, ENOTSUP, "update: --resources %s: cpu.realtime* is not supported", file);
    }
  if ((pids = json_object_get (doc, "pids")))
    json_num (pids, "limit", &r->pids);
  if ((v = json_object_get (json_object_get (doc, "blockIO"), "weight")) && json_integer_value (v))
    return rh_error_set (err, ENOTSUP, "update: --resources %s: blockIO.weight is not supported", file);
  if ((r->cpus && check_cpuset ("resources cpu.cpus", r->cpus, err) < 0)
      || (r->mems && check_cpuset ("resources cpu.mems", r->mems, err) < 0))
    return -1;
  return 0;
}

/* The sandbox's pid, from `runsc [--root R] state ID` (runsc run as a child: the answer is
 * needed before anything is written). */
static int
sandbox_pid (const struct rh_cmd_env *env, const char *id, long *pid_out, rh_error *err)
{
  _cleanup_strv_ char **argv = NULL;
  _cleanup_free_ char *out = NULL;
  _cleanup_json_ json_t *st = NULL;
  json_error_t jerr;
  int status;

  rh_strv_push (&argv, env->policy->runsc.path);
  if (env->root)
    {
      _cleanup_free_ char *root = rh_xasprintf ("--root=%s", env->root);
      rh_strv_push (&argv, root);
    }
  rh_strv_push (&argv, "state");
  rh_strv_push (&argv, "--");
  rh_strv_push (&argv, id);
  if (rh_runsc_capture (argv, 1u << 20, true, &out, &status, err) < 0)
    return rh_error_prefix (err, "update: runsc state");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return rh_error_set (err, ENOENT, "container \"%s\" does not exist", id);
  st = json_loadb (out, strlen (out), 0, &jerr);
  if (!json_is_integer (json_object_get (st, "pid")) || json_integer_value (json_object_get (st, "pid")) <= 0)
    return rh_error_set (err, ESRCH, "update: container %s has no running sandbox", id);
  if (strcmp (json_string_value (json_object_get (st, "status")) ?: "", "stopped") == 0)
    return rh_error_set (err, ESRCH, "cannot update a stopped container %s", id);
  *pid_out = (long) json_integer_value (json_object_get (st, "pid"));
  return 0;
}

/* The path of CONTROLLER's group in a /proc/PID/cgroup text ("" for cgroup v2's line). */
static char *
group_of (const char *text, const char *controller)
{
  for (const char *line = text; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
    {
      const char *c1 = strchr (line, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL, *eol = strchr (line, '\n');
      if (c2 == NULL || (eol && c2 > eol))
        continue;
      size_t clen = (size_t) (c2 - c1 - 1);
      bool match = false;
      if (*controller == '\0')
        match = clen == 0;
      else
        for (const char *p = c1 + 1; p < c2;)
          {
            const char *comma = memchr (p, ',', (size_t) (c2 - p));
            const char *e = comma ? comma : c2;
            if ((size_t) (e - p) == strlen (controller) && memcmp (p, controller, (size_t) (e - p)) == 0)
              match = true;
            p = e + 1;
          }
      if (match)
        return strndup (c2 + 1, eol ? (size_t) (eol - c2 - 1) : strlen (c2 + 1));
    }
  return NULL;
}

struct target
{
  char *sandbox_cg; /* /proc/<sandbox>/cgroup */
  char *self_cg;    /* /proc/self/cgroup */
  const char *id;
};

/* The directory of the sandbox's CONTROLLER group under MOUNT, or NULL (with *refuse set when
 * it exists but is not the container's own). */
static char *
group_dir (const struct target *t, const char *controller, const char *mount, bool *refuse)
{
  _cleanup_free_ char *g = group_of (t->sandbox_cg, controller), *mine = group_of (t->self_cg, controller);
  char *dir;

  *refuse = false;
  if (g == NULL)
    return NULL;
  if (strcmp (g, "/") == 0 || (mine && strcmp (g, mine) == 0) || strstr (g, "/../") || strstr (g, "\n"))
    {
      *refuse = true;
      return NULL;
    }
  dir = rh_xasprintf ("%s%s", mount, g);
  if (access (dir, F_OK) < 0)
    {
      free (dir);
      return NULL;
    }
  return dir;
}

static int
write_cg (const char *dir, const char *file, const char *value, rh_error *err)
{
  _cleanup_free_ char *path = rh_xasprintf ("%s/%s", dir, file);
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0)
    return rh_error_sys (err, errno, "update: open %s", path);
  if (rh_write_all (fd, value, strlen (value)) < 0)
    return rh_error_sys (err, errno, "update: write \"%s\" to %s", value, path);
  return 0;
}

static int
write_num (const char *dir, const char *file, long long v, const char *unlimited, rh_error *err)
{
  char buf[32];
  if (v == -1 && unlimited)
    return write_cg (dir, file, unlimited, err);
  snprintf (buf, sizeof buf, "%lld", v);
  return write_cg (dir, file, buf, err);
}

static bool
has_controller (const char *dir, const char *name)
{
  _cleanup_free_ char *path = rh_xasprintf ("%s/cgroup.controllers", dir), *text = NULL;
  size_t len;
  rh_error err;
  if (rh_read_file_capped (path, 4096, &text, &len, &err) < 0)
    return false;
  for (char *tok = strtok (text, " \n"); tok; tok = strtok (NULL, " \n"))
    if (strcmp (tok, name) == 0)
      return true;
  return false;
}

#define V1 "/sys/fs/cgroup/"
#define REFUSE_MSG "update: container %s has no %s cgroup of its own (it shares runsc-host's, or sits at the root); " \
                   "give it a linux.cgroupsPath at create to update its limits"

static int
apply (const struct target *t, const struct update_req *r, int *applied, rh_error *err)
{
  _cleanup_free_ char *mem = NULL, *cpu = NULL, *cpuset = NULL, *pids = NULL, *v2 = NULL;
  bool refuse, want_mem = r->mem != UNSET || r->mem_reservation != UNSET || r->mem_swap != UNSET;
  bool want_cpu = r->cpu_shares != UNSET || r->cpu_quota != UNSET || r->cpu_period != UNSET;
  bool want_cpuset = r->cpus || r->mems, want_pids = r->pids != UNSET;
  const char *v2mount = access ("/sys/fs/cgroup/unified", F_OK) == 0 ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";

#define GROUP(var, ctl, want)                                                                                   \
  if (want)                                                                                                     \
    {                                                                                                           \
      var = group_dir (t, ctl, V1 ctl, &refuse);                                                                \
      if (refuse)                                                                                               \
        return rh_error_set (err, EPERM, REFUSE_MSG, t->id, ctl);                                               \
    }
  GROUP (mem, "memory", want_mem);
  GROUP (cpu, "cpu", want_cpu);
  GROUP (cpuset, "cpuset", want_cpuset);
  GROUP (pids, "pids", want_pids);
#undef GROUP
  v2 = group_dir (t, "", v2mount, &refuse);
  if (refuse && v2mount[15] == '\0') /* pure v2: the only hierarchy */
    return rh_error_set (err, EPERM, REFUSE_MSG, t->id, "cgroup v2");

  /* cgroup v1 */
  if (mem)
    {
      /* The swap limit (memory+swap) must stay >= the memory limit: raise it first when the
       * memory limit goes up, as runc does. */
      if (r->mem_swap != UNSET)
        {
          _cleanup_free_ char *sw = rh_xasprintf ("%s/memory.memsw.limit_in_bytes", mem);
          if (access (sw, F_OK) == 0 && write_num (mem, "memory.memsw.limit_in_bytes", r->mem_swap, NULL, err) < 0)
            rh_error_clear (err); /* retried after the memory limit below */
        }
      if (r->mem != UNSET && write_num (mem, "memory.limit_in_bytes", r->mem, NULL, err) < 0)
        return -1;
      if (r->mem_swap != UNSET)
        {
          _cleanup_free_ char *sw = rh_xasprintf ("%s/memory.memsw.limit_in_bytes", mem);
          if (access (sw, F_OK) == 0 && write_num (mem, "memory.memsw.limit_in_bytes", r->mem_swap, NULL, err) < 0)
            return -1;
        }
      if (r->mem_reservation != UNSET && write_num (mem, "memory.soft_limit_in_bytes", r->mem_reservation, NULL, err) < 0)
        return -1;
      (*applied)++;
    }
  if (cpu)
    {
      if (r->cpu_shares != UNSET && write_num (cpu, "cpu.shares", r->cpu_shares, NULL, err) < 0)
        return -1;
      if (r->cpu_period != UNSET && write_num (cpu, "cpu.cfs_period_us", r->cpu_period, NULL, err) < 0)
        return -1;
      if (r->cpu_quota != UNSET && write_num (cpu, "cpu.cfs_quota_us", r->cpu_quota, NULL, err) < 0)
        return -1;
      (*applied)++;
    }
  if (cpuset)
    {
      if ((r->cpus && write_cg (cpuset, "cpuset.cpus", r->cpus, err) < 0)
          || (r->mems && write_cg (cpuset, "cpuset.mems", r->mems, err) < 0))
        return -1;
      (*applied)++;
    }
  if (pids)
    {
      if (write_num (pids, "pids.max", r->pids < 0 ? -1 : r->pids, "max", err) < 0)
        return -1;
      (*applied)++;
    }

  /* cgroup v2: only where the group has the controller (on a hybrid host, v1 holds them). */
  if (v2)
    {
      if (want_mem && has_controller (v2, "memory"))
        {
          if ((r->mem != UNSET && write_num (v2, "memory.max", r->mem, "max", err) < 0)
              || (r->mem_reservation != UNSET && write_num (v2, "memory.low", r->mem_reservation, "max", err) < 0))
            return -1;
          /* runc's swap is memory+swap; v2's memory.swap.max is swap alone. */
          if (r->mem_swap != UNSET && r->mem != UNSET)
            if (write_num (v2, "memory.swap.max", r->mem_swap == -1 ? -1 : r->mem_swap - r->mem, "max", err) < 0)
              return -1;
          (*applied)++;
        }
      if (want_cpu && has_controller (v2, "cpu"))
        {
          if (r->cpu_shares != UNSET && r->cpu_shares >= 2)
            if (write_num (v2, "cpu.weight", 1 + ((r->cpu_shares - 2) * 9999) / 262142, NULL, err) < 0)
              return -1;
          if (r->cpu_quota != UNSET || r->cpu_period != UNSET)
            {
              char buf[64];
              long long period = r->cpu_period != UNSET ? r->cpu_period : 100000;
              if (r->cpu_quota == UNSET || r->cpu_quota < 0)
                snprintf (buf, sizeof buf, "max %lld", period);
              else
                snprintf (buf, sizeof buf, "%lld %lld", r->cpu_quota, period);
              if (write_cg (v2, "cpu.max", buf, err) < 0)
                return -1;
            }
          (*applied)++;
        }
      if (want_cpuset && has_controller (v2, "cpuset"))
        {
          if ((r->cpus && write_cg (v2, "cpuset.cpus", r->cpus, err) < 0)
              || (r->mems && write_cg (v2, "cpuset.mems", r->mems, err) < 0))
            return -1;
          (*applied)++;
        }
      if (want_pids && has_controller (v2, "pids"))
        {
          if (write_num (v2, "pids.max", r->pids < 0 ? -1 : r->pids, "max", err) < 0)
            return -1;
          (*applied)++;
        }
    }
  return 0;
}

int
rh_cmd_update (const struct rh_cmd_env *env, int argc, char **argv)
{
  struct update_req r = { UNSET, UNSET, UNSET, UNSET, UNSET, UNSET, UNSET, NULL, NULL };
  _cleanup_free_ char *resources = NULL, *proc = NULL;
  struct target t = { 0 };
  const char *id = NULL;
  long pid = 0;
  size_t len;
  int applied = 0, ret = 1;
  rh_error err;

  rh_error_clear (&err);
  for (int i = 1; i < argc; i++)
    {
      char *a = argv[i], *name, *val = NULL, *eq;
      if (a[0] != '-' || strcmp (a, "-") == 0)
        {
          if (id)
            {
              rh_log_error (env->log, "update: requires exactly 1 argument (the container id), got more: \"%s\"", a);
              goto out;
            }
          id = a;
          continue;
        }
      if (strcmp (a, "--") == 0)
        {
          if (i + 1 < argc && id == NULL)
            id = argv[++i];
          continue;
        }
      name = a + (a[1] == '-' ? 2 : 1);
      if (strcmp (name, "h") == 0 || strcmp (name, "help") == 0)
        {
          _cleanup_free_ char *help = rh_cli_help ("update");
          fputs (help, stdout);
          ret = 0;
          goto out;
        }
      _cleanup_free_ char *nm = (eq = strchr (name, '=')) ? strndup (name, (size_t) (eq - name)) : rh_xstrdup (name);
      if (eq)
        val = eq + 1;
      else if (i + 1 < argc)
        val = argv[++i];
      else
        {
          rh_log_error (env->log, "update: flag needs an argument: -%s", nm);
          goto out;
        }
      if (strcmp (nm, "r") == 0 || strcmp (nm, "resources") == 0)
        free (resources), resources = rh_xstrdup (val);
      else if (strcmp (nm, "memory") == 0 ? parse_size (nm, val, &r.mem, &err) < 0
               : strcmp (nm, "memory-reservation") == 0 ? parse_size (nm, val, &r.mem_reservation, &err) < 0
               : strcmp (nm, "memory-swap") == 0 ? parse_size (nm, val, &r.mem_swap, &err) < 0
               : strcmp (nm, "cpu-share") == 0 ? parse_int (nm, val, false, &r.cpu_shares, &err) < 0
               : strcmp (nm, "cpu-quota") == 0 ? parse_int (nm, val, true, &r.cpu_quota, &err) < 0
               : strcmp (nm, "cpu-period") == 0 ? parse_int (nm, val, false, &r.cpu_period, &err) < 0
               : strcmp (nm, "pids-limit") == 0 ? parse_int (nm, val, true, &r.pids, &err) < 0
               : strcmp (nm, "cpuset-cpus") == 0 ? (check_cpuset (nm, val, &err) < 0 || !(free (r.cpus), r.cpus = rh_xstrdup (val)))
               : strcmp (nm, "cpuset-mems") == 0 ? (check_cpuset (nm, val, &err) < 0 || !(free (r.mems), r.mems = rh_xstrdup (val)))
               : (strcmp (nm, "blkio-weight") == 0 || strncmp (nm, "kernel-memory", 13) == 0
                  || strncmp (nm, "cpu-rt-", 7) == 0 || strcmp (nm, "l3-cache-schema") == 0
                  || strcmp (nm, "mem-bw-schema") == 0)
                   ? rh_error_set (&err, ENOTSUP, "update --%s is not supported: runsc-host applies memory, cpu "
                                   "(shares, quota, period, cpuset) and pids limits only", nm) < 0
                   : rh_error_set (&err, EINVAL, "update: flag provided but not defined: -%s", nm) < 0)
        {
          rh_log_error (env->log, "%s", err.msg);
          goto out;
        }
    }
  /* runc: a zero flag value is no change as well; a negative pids limit is unlimited. */
  long long *zero_is_unset[] = { &r.mem, &r.mem_reservation, &r.mem_swap, &r.cpu_shares, &r.cpu_quota, &r.cpu_period, &r.pids };
  for (size_t k = 0; k < sizeof zero_is_unset / sizeof *zero_is_unset; k++)
    if (*zero_is_unset[k] == 0)
      *zero_is_unset[k] = UNSET;
  if (id == NULL)
    {
      rh_log_error (env->log, "update: requires exactly 1 argument (the container id), got 0");
      goto out;
    }
  if (env->policy == NULL)
    {
      rh_log_error (env->log, "%s", env->policy_error ? env->policy_error : "no usable policy");
      goto out;
    }
  if (resources && parse_resources (resources, &r, &err) < 0)
    {
      rh_log_error (env->log, "%s", err.msg);
      goto out;
    }
  if (sandbox_pid (env, id, &pid, &err) < 0)
    {
      rh_log_error (env->log, "%s", err.msg);
      goto out;
    }
  proc = rh_xasprintf ("/proc/%ld/cgroup", pid);
  if (rh_read_file_capped (proc, 1u << 16, &t.sandbox_cg, &len, &err) < 0
      || rh_read_file_capped ("/proc/self/cgroup", 1u << 16, &t.self_cg, &len, &err) < 0)
    {
      rh_log_error (env->log, "update: container %s: %s", id, err.msg);
      goto out;
    }
  t.id = id;
  if (apply (&t, &r, &applied, &err) < 0)
    {
      rh_log_error (env->log, "update: container %s: %s", id, err.msg);
      goto out;
    }
  rh_log_debug (env->log, "update %s: %d controller group(s) written", id, applied);
  ret = 0;
out:
  free (r.cpus);
  free (r.mems);
  free (t.sandbox_cg);
  free (t.self_cg);
  return ret;
}
