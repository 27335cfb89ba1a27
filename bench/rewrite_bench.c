/* Rewrite cost of a realistic spec: a docker-style config.json with a large seccomp profile.
 *
 *   rewrite_bench gen DIR RULES SHAPE   write DIR/config.json (+ DIR/rootfs, volume sources);
 *                                      SHAPE "docker" (one allow rule holding most names, plus
 *                                      ~20 argument-conditional rules, as Docker lays out its
 *                                      default profile) or "flat" (RULES rules of one name each,
 *                                      every 10th with an argument condition)
 *   rewrite_bench time POLICY DIR N     N in-memory rewrites (parse, rewrite, serialise): median,
 *                                      p10, p90 of wall and CPU microseconds; and policy loads
 *   rewrite_bench once POLICY DIR       one warm iteration inside bench_measured(), for
 *                                      valgrind --tool=callgrind --toggle-collect=bench_measured
 *   rewrite_bench rss POLICY DIR        the create path once (load the policy file, rewrite the
 *                                      bundle on disk): peak RSS (KiB) of this process, and how
 *                                      much of the arena the rewrite used
 *   rewrite_bench bundle POLICY DIR N   rh_rewrite_bundle N times (atomic write, fsync included)
 *
 * Every mode does what `runsc-host create` does (runtime-wrapper/main.c): the policy is loaded
 * first, then the jansson arena is installed (lib/base/arena.h), then the bundle is rewritten. The
 * in-memory iteration is rh_rewrite_bundle's middle, step by step: parse with the arena's bump
 * mode on, rewrite, serialise (JSON_INDENT (2) | JSON_PRESERVE_ORDER into a buffer of ours,
 * bump mode on). runsc-host then execs runsc without freeing the tree, so the teardown (and the
 * arena reset that stands for a fresh process) runs outside the measured part.
 * RH_BENCH_NO_ARENA=1 measures the same without the arena (the tree freed inside the measured
 * part, as a process without the arena does).
 *
 * Built by bench/rewrite.sh against the build's librhcore.a. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "paths.h"
#include "policy.h"
#include "spec_rewrite.h"

static void
die (const char *what, const char *msg)
{
  fprintf (stderr, "rewrite_bench: %s: %s\n", what, msg);
  exit (1);
}

static double
now_us (clockid_t c)
{
  struct timespec ts;
  clock_gettime (c, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void
touch (const char *dir, const char *name, const char *text)
{
  char path[4096];
  FILE *f;
  snprintf (path, sizeof path, "%s/%s", dir, name);
  f = fopen (path, "w");
  if (!f)
    die (path, strerror (errno));
  fputs (text, f);
  fclose (f);
}

/* ---- spec generation -------------------------------------------------------------------- */

static json_t *
strs (const char *const *v)
{
  json_t *a = json_array ();
  for (; *v; v++)
    json_array_append_new (a, json_string (*v));
  return a;
}

static json_t *
mount (const char *dst, const char *type, const char *src, const char *const *opts)
{
  return json_pack ("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src, "options",
                    strs (opts));
}

static json_t *
seccomp_profile (int rules, const char *shape)
{
  json_t *sc = json_object (), *sys = json_array (), *names = json_array ();
  int n = 0;

  json_object_set_new (sc, "defaultAction", json_string ("SCMP_ACT_ERRNO"));
  json_object_set_new (sc, "defaultErrnoRet", json_integer (1));
  json_object_set_new (sc, "architectures",
                       strs ((const char *const[]){ "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL }));
  /* Real names, from libseccomp's table, in syscall-number order. */
  for (int nr = 0; nr < 1024 && n < rules; nr++)
    {
      char *name = seccomp_syscall_resolve_num_arch (SCMP_ARCH_X86_64, nr);
      json_t *rule;
      if (name == NULL)
        continue;
      if (strcmp (shape, "flat") == 0)
        {
          rule = json_pack ("{s:[s], s:s}", "names", name, "action", "SCMP_ACT_ALLOW");
          if (n % 10 == 9)
            json_object_set_new (rule, "args",
                                 json_pack ("[{s:i, s:i, s:i, s:s}]", "index", 0, "value", n, "valueTwo", 0, "op",
                                            "SCMP_CMP_NE"));
          json_array_append_new (sys, rule);
        }
      else if (n % 15 == 14)
        {
          /* Docker keeps ~20 names in rules of their own, with argument conditions. */
          rule = json_pack ("{s:[s], s:s, s:[{s:i, s:i, s:i, s:s}], s:{s:[s]}}", "names", name, "action",
                            "SCMP_ACT_ALLOW", "args", "index", 0, "value", 2080505856, "valueTwo", 0, "op",
                            "SCMP_CMP_MASKED_EQ", "includes", "caps", "CAP_SYS_ADMIN");
          json_array_append_new (sys, rule);
        }
      else
        json_array_append_new (names, json_string (name));
      free (name);
      n++;
    }
  if (json_array_size (names))
    json_array_insert_new (sys, 0, json_pack ("{s:o, s:s}", "names", names, "action", "SCMP_ACT_ALLOW"));
  else
    json_decref (names);
  json_object_set_new (sc, "syscalls", sys);
  return sc;
}

static void
gen (const char *dir, int rules, const char *shape)
{
  static const char *const caps[] = { "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
                                      "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
                                      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
                                      NULL };
  static const char *const masked[] = { "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
                                        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                        "/proc/sched_debug", "/proc/scsi", "/sys/firmware", NULL };
  static const char *const ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
                                    NULL };
  char path[4096], src[4096];
  json_t *spec, *mounts, *devs;

  snprintf (path, sizeof path, "%s/rootfs", dir);
  mkdir (dir, 0755);
  mkdir (path, 0755);
  snprintf (path, sizeof path, "%s/vol", dir);
  mkdir (path, 0755);
  touch (dir, "resolv.conf", "nameserver 127.0.0.1\n");
  touch (dir, "hostname", "bench\n");
  touch (dir, "hosts", "127.0.0.1 localhost\n");

  mounts = json_array ();
  json_array_append_new (mounts, mount ("/proc", "proc", "proc", (const char *const[]){ "nosuid", "noexec", "nodev", NULL }));
  json_array_append_new (mounts, mount ("/dev", "tmpfs", "tmpfs",
                                        (const char *const[]){ "nosuid", "strictatime", "mode=755", "size=65536k", NULL }));
  json_array_append_new (mounts, mount ("/dev/pts", "devpts", "devpts",
                                        (const char *const[]){ "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                                               "mode=0620", "gid=5", NULL }));
  json_array_append_new (mounts, mount ("/sys", "sysfs", "sysfs", (const char *const[]){ "nosuid", "noexec", "nodev", "ro", NULL }));
  json_array_append_new (mounts, mount ("/sys/fs/cgroup", "cgroup", "cgroup",
                                        (const char *const[]){ "ro", "nosuid", "noexec", "nodev", NULL }));
  json_array_append_new (mounts, mount ("/dev/mqueue", "mqueue", "mqueue", (const char *const[]){ "nosuid", "noexec", "nodev", NULL }));
  json_array_append_new (mounts, mount ("/dev/shm", "tmpfs", "shm",
                                        (const char *const[]){ "nosuid", "noexec", "nodev", "mode=1777", "size=67108864", NULL }));
  snprintf (src, sizeof src, "%s/resolv.conf", dir);
  json_array_append_new (mounts, mount ("/etc/resolv.conf", "bind", src, (const char *const[]){ "rbind", "rprivate", NULL }));
  snprintf (src, sizeof src, "%s/hostname", dir);
  json_array_append_new (mounts, mount ("/etc/hostname", "bind", src, (const char *const[]){ "rbind", "rprivate", NULL }));
  snprintf (src, sizeof src, "%s/hosts", dir);
  json_array_append_new (mounts, mount ("/etc/hosts", "bind", src, (const char *const[]){ "rbind", "rprivate", NULL }));
  snprintf (src, sizeof src, "%s/vol", dir);
  json_array_append_new (mounts, mount ("/data", "bind", src, (const char *const[]){ "rbind", "rprivate", NULL }));

  devs = json_pack ("[{s:b, s:s}]", "allow", 0, "access", "rwm");
  for (int i = 0; i < 10; i++)
    json_array_append_new (devs, json_pack ("{s:b, s:s, s:i, s:i, s:s}", "allow", 1, "type", "c", "major", i < 5 ? 1 : 5,
                                            "minor", i, "access", "rwm"));

  spec = json_pack ("{s:s, s:{s:b, s:{s:i, s:i}, s:[s, s], s:[s, s, s, s], s:s, s:{s:o, s:o, s:o, s:o}, s:s, s:i},"
                    " s:{s:s}, s:s, s:o, s:{s:s}}",
                    "ociVersion", "1.0.2-dev",
                    "process", "terminal", 0, "user", "uid", 0, "gid", 0, "args", "/bin/echo", "hello",
                    "env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=bench",
                    "TERM=xterm", "LANG=C.UTF-8", "cwd", "/",
                    "capabilities", "bounding", strs (caps), "effective", strs (caps), "permitted", strs (caps),
                    "inheritable", strs (caps), "apparmorProfile", "docker-default", "oomScoreAdj", 0,
                    "root", "path", "rootfs", "hostname", "bench", "mounts", mounts,
                    "annotations", "org.opencontainers.image.exposedPorts", "8080/tcp");
  json_object_set_new (spec, "hooks",
                       json_pack ("{s:[{s:s, s:[s, s, s, s]}]}", "prestart", "path", "/usr/sbin/dockerd", "args",
                                  "libnetwork-setkey", "-exec-root=/var/run/docker", "0123456789ab", "fedcba987654"));
  json_object_set_new (
      spec, "linux",
      json_pack ("{s:{}, s:{s:o, s:{}, s:{}, s:{}}, s:s, s:[{s:s}, {s:s}, {s:s}, {s:s}], s:o, s:o, s:o}", "sysctl",
                 "resources", "devices", devs, "memory", "cpu", "blockIO", "cgroupsPath",
                 "system.slice:docker:bench-0123456789abcdef", "namespaces", "type", "mount", "type", "uts", "type", "pid",
                 "type", "ipc", "maskedPaths", strs (masked), "readonlyPaths", strs (ro), "seccomp",
                 seccomp_profile (rules, shape)));
  snprintf (path, sizeof path, "%s/config.json", dir);
  if (json_dump_file (spec, path, JSON_COMPACT) < 0)
    die (path, "write failed");
  snprintf (path, sizeof path, "%s/config.json.pristine", dir);
  json_dump_file (spec, path, JSON_COMPACT);
  json_decref (spec);
}

/* ---- measuring ---------------------------------------------------------------------------- */

struct bench
{
  struct rh_policy *policy;
  struct rh_logger log;
  struct rh_rewrite_ctx ctx;
  char *text;
  size_t len;
  /* one iteration's results, released by bench_release */
  json_t *spec;
  char *out;
  size_t out_len;
};

/* As runtime-wrapper/main.c does before the bundle is rewritten (unless RH_BENCH_NO_ARENA=1). */
static void
arena_install (void)
{
  rh_error err;
  const char *no = getenv ("RH_BENCH_NO_ARENA");

  if (no && strcmp (no, "1") == 0)
    return;
  if (rh_arena_json_install (RH_ARENA_JSON_CAP, &err) < 0)
    die ("arena", err.msg);
}

static void
bench_init (struct bench *b, const char *policy, const char *dir)
{
  rh_error err;
  char path[4096];
  static char bundle[4096];

  if (rh_policy_load_file (policy, &b->policy, &err) < 0)
    die (policy, err.msg);
  b->log = (struct rh_logger) RH_LOGGER_INIT;
  b->log.fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  b->log.json = true;
  b->log.stderr_fd = -1;
  if (realpath (dir, bundle) == NULL)
    die (dir, strerror (errno));
  b->ctx.policy = b->policy;
  b->ctx.resolver = rh_host_resolver ();
  b->ctx.log = &b->log;
  b->ctx.bundle = bundle;
  b->ctx.container_id = "bench-0123456789abcdef";
  snprintf (path, sizeof path, "%s/config.json.pristine", dir);
  if (rh_read_file_capped (path, RH_SPEC_MAX_BYTES, &b->text, &b->len, &err) < 0)
    die (path, err.msg);
  arena_install ();
}

/* One create-time rewrite in memory, as rh_rewrite_bundle does it between reading config.json
 * and writing the result (lib/rewrite/spec_rewrite.c: rh_spec_parse, rh_spec_rewrite, rh_spec_serialise). */
static __attribute__ ((noinline)) int
bench_iteration (struct bench *b)
{
  rh_error err;

  if (rh_spec_parse ("spec", b->text, b->len, &b->spec, &err) < 0)
    die ("spec", err.msg);
  if (rh_spec_rewrite (b->spec, &b->ctx, &err) < 0)
    die ("rewrite", err.msg);
  b->out = rh_spec_serialise (b->spec, b->len, &b->out_len);
  if (b->out == NULL)
    die ("serialise", "failed");
  /* Without the arena, rh_rewrite_bundle frees the tree before returning. */
  if (!rh_arena_json_installed ())
    {
      json_decref (b->spec);
      b->spec = NULL;
    }
  return 0;
}

/* What runsc-host never does (it execs runsc): free the tree and the text, and start the next
 * iteration with an empty arena, as a new process would. */
static void
bench_release (struct bench *b)
{
  if (b->spec)
    json_decref (b->spec);
  b->spec = NULL;
  free (b->out);
  b->out = NULL;
  rh_arena_json_reset ();
}

/* The iteration callgrind counts (--toggle-collect=bench_measured): the warm-up calls
 * bench_iteration directly, so only the second, warm iteration is counted. The call is not a
 * tail call (callgrind then attributes the callee to the caller's caller). */
__attribute__ ((noinline)) int bench_measured (struct bench *b);
__attribute__ ((noinline)) int
bench_measured (struct bench *b)
{
  int r = bench_iteration (b);
  __asm__ volatile ("" ::: "memory");
  return r;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
report (const char *what, double *v, int n)
{
  qsort (v, (size_t) n, sizeof *v, cmp_double);
  printf ("%s median_us=%.1f p10_us=%.1f p90_us=%.1f n=%d\n", what, v[n / 2], v[n / 10], v[(n * 9) / 10], n);
}

static void
restore (const char *dir)
{
  char a[4096], b[4096], cmd[8300];
  snprintf (a, sizeof a, "%s/config.json.pristine", dir);
  snprintf (b, sizeof b, "%s/config.json", dir);
  snprintf (cmd, sizeof cmd, "%s/config.json.orig", dir);
  unlink (cmd);
  {
    char *text = NULL;
    size_t len = 0;
    rh_error err;
    if (rh_read_file_capped (a, RH_SPEC_MAX_BYTES, &text, &len, &err) < 0
        || rh_write_file_atomic (b, text, len, 0644, &err) < 0)
      die (b, err.msg);
    free (text);
  }
}

int
main (int argc, char **argv)
{
  struct bench b;

  memset (&b, 0, sizeof b);
  if (argc == 5 && strcmp (argv[1], "gen") == 0)
    {
      gen (argv[2], atoi (argv[3]), argv[4]);
      return 0;
    }
  if (argc == 5 && strcmp (argv[1], "time") == 0)
    {
      int n = atoi (argv[4]);
      double *wall = calloc ((size_t) n, sizeof *wall), *cpu = calloc ((size_t) n, sizeof *cpu);
      bench_init (&b, argv[2], argv[3]);
      for (int i = 0; i < 20; i++)
        {
          bench_iteration (&b);
          bench_release (&b);
        }
      for (int i = 0; i < n; i++)
        {
          double w0 = now_us (CLOCK_MONOTONIC), c0 = now_us (CLOCK_PROCESS_CPUTIME_ID);
          bench_iteration (&b);
          cpu[i] = now_us (CLOCK_PROCESS_CPUTIME_ID) - c0;
          wall[i] = now_us (CLOCK_MONOTONIC) - w0;
          bench_release (&b);
        }
      report ("rewrite_wall", wall, n);
      report ("rewrite_cpu", cpu, n);
      for (int i = 0; i < n; i++)
        {
          struct rh_policy *p;
          rh_error err;
          double c0 = now_us (CLOCK_PROCESS_CPUTIME_ID);
          if (rh_policy_load_file (argv[2], &p, &err) < 0)
            die (argv[2], err.msg);
          cpu[i] = now_us (CLOCK_PROCESS_CPUTIME_ID) - c0;
          rh_policy_free (p);
        }
      report ("policy_load_cpu", cpu, n);
      printf ("spec_bytes=%zu\n", b.len);
      return 0;
    }
  if (argc == 4 && strcmp (argv[1], "once") == 0)
    {
      int r;
      bench_init (&b, argv[2], argv[3]);
      bench_iteration (&b); /* warm: lazy initialisation in libraries is not the rewrite's cost */
      bench_release (&b);
      r = bench_measured (&b);
      bench_release (&b);
      return r;
    }
  if (argc == 4 && strcmp (argv[1], "rss") == 0)
    {
      struct rh_policy *p;
      struct rusage ru;
      rh_error err;
      char bundle[4096];
      struct rh_logger lg = RH_LOGGER_INIT;
      struct rh_rewrite_ctx ctx;

      restore (argv[3]);
      getrusage (RUSAGE_SELF, &ru);
      printf ("maxrss_start_kib=%ld\n", ru.ru_maxrss);
      if (rh_policy_load_file (argv[2], &p, &err) < 0)
        die (argv[2], err.msg);
      arena_install ();
      if (realpath (argv[3], bundle) == NULL)
        die (argv[3], strerror (errno));
      lg.stderr_fd = -1;
      memset (&ctx, 0, sizeof ctx);
      ctx.policy = p;
      ctx.resolver = rh_host_resolver ();
      ctx.log = &lg;
      ctx.bundle = bundle;
      ctx.container_id = "bench-0123456789abcdef";
      if (rh_rewrite_bundle (bundle, &ctx, &err) < 0)
        die ("rewrite_bundle", err.msg);
      getrusage (RUSAGE_SELF, &ru);
      printf ("maxrss_kib=%ld\n", ru.ru_maxrss);
      if (rh_arena_json ())
        printf ("arena_peak_kib=%zu arena_fallback_allocs=%zu\n", rh_arena_json ()->peak / 1024,
                rh_arena_json ()->fallback_allocs);
      /* runsc-host execs here; this driver exits, so valgrind's leak check (tests/valgrind)
       * sees only what the create path itself lost. */
      rh_policy_free (p);
      return 0;
    }
  if (argc == 5 && strcmp (argv[1], "bundle") == 0)
    {
      int n = atoi (argv[4]);
      double *wall = calloc ((size_t) n, sizeof *wall);
      bench_init (&b, argv[2], argv[3]);
      for (int i = 0; i < n; i++)
        {
          rh_error err;
          double w0;
          restore (argv[3]);
          w0 = now_us (CLOCK_MONOTONIC);
          if (rh_rewrite_bundle (b.ctx.bundle, &b.ctx, &err) < 0)
            die ("rewrite_bundle", err.msg);
          wall[i] = now_us (CLOCK_MONOTONIC) - w0;
          rh_arena_json_reset (); /* the tree it left is dropped, as by the exec */
        }
      report ("rewrite_bundle_wall", wall, n);
      return 0;
    }
  fprintf (stderr, "usage: see the comment at the top of bench/rewrite_bench.c\n");
  return 2;
}
