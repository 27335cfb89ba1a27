/* The parts of the runc grammar that are data rather than parsing: Go durations, signal names,
 * the runsc exec --detach guard, the process.json for exec --tty, usage texts and the
 * `features` document. Pure, like cli.c. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "util.h"

/* Append to a JSON array member (created when missing). */
static void
json_append_string (json_t *obj, const char *key, const char *value)
{
  json_t *a = json_object_get (obj, key);
  if (!json_is_array (a))
    {
      a = json_array ();
      json_object_set_new (obj, key, a);
    }
  json_array_append_new (a, json_string (value));
}

int
rh_cli_exec_process (const json_t *spec_process, const struct rh_cli *c, json_t **out, rh_error *err)
{
  const struct rh_cli_exec *x = &c->exec;
  _cleanup_json_ json_t *p = NULL;
  json_t *user, *caps, *args;

  if (!json_is_object (spec_process))
    return rh_error_set (err, EINVAL, "the container's config.json has no process object");
  p = json_deep_copy (spec_process);
  if (p == NULL)
    abort ();
  args = json_array ();
  for (char **a = x->args; a && *a; a++)
    if (json_array_append_new (args, json_string (*a)) < 0)
      {
        json_decref (args);
        return rh_error_set (err, EINVAL, "exec: argument is not valid UTF-8");
      }
  json_object_set_new (p, "args", args);
  /* The container's command line may be given as one string on some platforms; never here. */
  json_object_del (p, "commandLine");
  json_object_set_new (p, "terminal", json_boolean (x->tty));
  json_object_del (p, "consoleSize");
  if (x->cwd)
    json_object_set_new (p, "cwd", json_string (x->cwd));
  for (char **e = x->env; e && *e; e++)
    json_append_string (p, "env", *e);
  user = json_object_get (p, "user");
  if (!json_is_object (user))
    {
      user = json_object ();
      json_object_set_new (p, "user", user);
    }
  if (x->user)
    {
      unsigned long uid = strtoul (x->user, NULL, 10);
      const char *colon = strchr (x->user, ':');
      json_object_set_new (user, "uid", json_integer ((json_int_t) uid));
      if (colon)
        json_object_set_new (user, "gid", json_integer ((json_int_t) strtoul (colon + 1, NULL, 10)));
    }
  for (char **g = x->gids; g && *g; g++)
    {
      json_t *a = json_object_get (user, "additionalGids");
      if (!json_is_array (a))
        {
          a = json_array ();
          json_object_set_new (user, "additionalGids", a);
        }
      json_array_append_new (a, json_integer ((json_int_t) strtoul (*g, NULL, 10)));
    }
  /* As runc: each --cap joins the bounding, effective and permitted sets, and the ambient set
   * only when the spec has an inheritable set. */
  caps = json_object_get (p, "capabilities");
  if (x->caps && !json_is_object (caps))
    {
      caps = json_object ();
      json_object_set_new (p, "capabilities", caps);
    }
  for (char **cap = x->caps; cap && *cap; cap++)
    {
      json_append_string (caps, "bounding", *cap);
      json_append_string (caps, "effective", *cap);
      json_append_string (caps, "permitted", *cap);
      if (json_object_get (caps, "inheritable") != NULL)
        json_append_string (caps, "ambient", *cap);
    }
  *out = steal_pointer (&p);
  return 0;
}

int
rh_cli_check_exec_detach (char *const *argv, rh_error *err)
{
  char *const *flag = NULL;

  /* Only runsc's own --detach flag (before the "--" that precedes the id) matters. */
  for (char *const *p = argv; p && *p && strcmp (*p, "--") != 0; p++)
    if (strcmp (*p, "--detach") == 0)
      flag = p;
  if (flag == NULL)
    return 0;
  for (char *const *p = argv; *p; p++)
    if (p != flag && strstr (*p, "detach") != NULL)
      return rh_error_set (err, ENOTSUP, "exec --detach: runsc re-executes itself without every argument that "
                                         "contains \"detach\", which would drop \"%s\"; refusing rather than "
                                         "running something else (rename the path or id, or exec without "
                                         "--detach)", *p);
  return 0;
}

/* Go's time.ParseDuration grammar: [+-]? (number unit)+ with units ns us µs ms s m h, or "0". */
int
rh_cli_duration_to_seconds (const char *s, long *out, rh_error *err)
{
  static const struct
  {
    const char *unit;
    long double ns;
  } units[] = { { "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "\xce\xbcs", 1e3 }, { "ms", 1e6 },
                { "s", 1e9 },  { "m", 60e9 },  { "h", 3600e9 } };
  const char *p = s;
  long double total = 0;
  bool neg = false;

  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  if (strcmp (p, "0") == 0)
    return rh_error_set (err, EINVAL, "duration interval must be greater than 0");
  if (*p == '\0')
    return rh_error_set (err, EINVAL, "invalid duration \"%s\"", s);
  while (*p)
    {
      long double v = 0, scale = 1;
      bool digits = false;
      size_t best = 0, ulen = 0;

      while (isdigit ((unsigned char) *p))
        v = v * 10 + (*p++ - '0'), digits = true;
      if (*p == '.')
        for (p++; isdigit ((unsigned char) *p); p++)
          scale /= 10, v += (*p - '0') * scale, digits = true;
      if (!digits)
        return rh_error_set (err, EINVAL, "invalid duration \"%s\"", s);
      for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
        {
          size_t n = strlen (units[k].unit);
          if (strncmp (p, units[k].unit, n) == 0 && n > ulen)
            best = k, ulen = n;
        }
      if (ulen == 0)
        return rh_error_set (err, EINVAL, "missing or unknown unit in duration \"%s\" (use ns, us, ms, s, m, h)", s);
      /* "m" must not swallow the "m" of "ms": the longest unit wins above. */
      total += v * units[best].ns;
      p += ulen;
      if (total > 1e18L)
        return rh_error_set (err, ERANGE, "duration \"%s\" is too large", s);
    }
  if (neg || total <= 0)
    return rh_error_set (err, EINVAL, "duration interval must be greater than 0");
  {
    long double secs = total / 1e9L;
    long whole = (long) secs;
    if ((long double) whole < secs)
      whole++;
    if (whole < 1)
      whole = 1;
    if (whole > INT_MAX)
      return rh_error_set (err, ERANGE, "duration \"%s\" is too large", s);
    *out = whole;
  }
  return 0;
}

static const struct
{
  const char *name;
  int num;
} signals[] = {
  { "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },     { "TRAP", SIGTRAP },
  { "ABRT", SIGABRT },   { "IOT", SIGIOT },       { "BUS", SIGBUS },     { "FPE", SIGFPE },     { "KILL", SIGKILL },
  { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },     { "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },   { "ALRM", SIGALRM },
  { "TERM", SIGTERM },   { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },   { "CONT", SIGCONT },   { "STOP", SIGSTOP },
  { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },   { "URG", SIGURG },     { "XCPU", SIGXCPU },
  { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },   { "WINCH", SIGWINCH }, { "IO", SIGIO },
  { "POLL", SIGPOLL },   { "PWR", SIGPWR },       { "SYS", SIGSYS },
};

int
rh_cli_parse_nonneg (const char *s, long max, long *out)
{
  char *end;
  long v;

  if (*s == '\0' || !isdigit ((unsigned char) *s))
    return -1;
  errno = 0;
  v = strtol (s, &end, 10);
  if (errno || *end || v > max)
    return -1;
  *out = v;
  return 0;
}

int
rh_cli_parse_signal (const char *s, int *out, rh_error *err)
{
  long n;
  char up[16];
  const char *name;
  size_t len = strlen (s);

  if (rh_cli_parse_nonneg (s, 64, &n) == 0)
    {
      if (n < 1)
        return rh_error_set (err, EINVAL, "invalid signal \"%s\"", s);
      *out = (int) n;
      return 0;
    }
  if (len == 0 || len >= sizeof up)
    return rh_error_set (err, EINVAL, "unknown signal \"%s\"", s);
  for (size_t k = 0; k <= len; k++)
    up[k] = (char) toupper ((unsigned char) s[k]);
  name = strncmp (up, "SIG", 3) == 0 ? up + 3 : up;
  for (size_t k = 0; k < sizeof signals / sizeof signals[0]; k++)
    if (strcmp (signals[k].name, name) == 0)
      {
        *out = signals[k].num;
        return 0;
      }
  return rh_error_set (err, EINVAL, "unknown signal \"%s\"", s);
}

/* ------------------------------------------------------------------------------------------ */
/* Usage and features                                                                          */

static const struct
{
  const char *cmd;
  const char *summary; /* the NAME line, as runc's help has one */
  const char *text;
} usages[] = {
  { "create", "create a container (the bundle is rewritten under the policy first)", "create [--bundle|-b DIR] [--console-socket PATH] [--pid-file PATH] [--no-pivot] [--no-new-keyring] "
              "[--preserve-fds 0] <container-id>" },
  { "run", "create and start a container", "run [--bundle|-b DIR] [--console-socket PATH] [--pid-file PATH] [--detach|-d] [--keep (with -d)] "
           "[--no-subreaper] [--no-pivot] [--no-new-keyring] [--preserve-fds 0] <container-id>" },
  { "start", "run the user process of a created container", "start <container-id>" },
  { "state", "print the state of a container as JSON", "state <container-id>" },
  { "pause", "suspend every process of a container", "pause <container-id>" },
  { "resume", "resume a paused container", "resume <container-id>" },
  { "kill", "send a signal to the container's init process (or to all with --all)", "kill [--all|-a] <container-id> [SIGNAL (name or number; default SIGTERM)]" },
  { "delete", "remove a container and what it holds (rules, state)", "delete [--force|-f] <container-id>" },
  { "exec", "run another process in a running container", "exec [--console-socket PATH] [--cwd DIR] [--env|-e K=V]... [--tty|-t] [--user|-u UID[:GID]] "
            "[--additional-gids|-g GID]... [--process|-p FILE] [--detach|-d] [--pid-file PATH] [--cap|-c CAP]... "
            "[--process-label L] [--apparmor P] [--ignore-paused] <container-id> [--] <command> [args...]" },
  { "ps", "list the processes running in a container", "ps [--format|-f table|json] <container-id>" },
  { "events", "print a container's events and resource figures", "events [--stats] [--interval DURATION] <container-id>" },
  { "list", "list the containers of this --root", "list [--format|-f text|json] [--quiet|-q]" },
  { "spec", "write runc's config.json template", "spec [--bundle|-b DIR]" },
  { "features", "print what this runtime supports, as JSON", "features" },
  { "checkpoint", "checkpoint a running container (refused)", "checkpoint [--image-path DIR] [--work-path DIR] [--leave-running] <container-id>\n"
                  "(refused: runsc-host does not restore images the policy never checked)" },
  { "restore", "restore a container from a checkpoint (refused)", "restore [--bundle|-b DIR] [--console-socket PATH] [--image-path DIR] [--work-path DIR] "
               "[--detach|-d] [--pid-file PATH] <container-id>\n"
               "(refused: gVisor cannot restore a sandbox with host networking)" },
  { "check", "verify the installation", "check    (runsc, policy, hook, iptables, registrations)" },
  { "gc", "remove the network rules of containers that no longer exist", "gc [--dry-run]" },
  { "gate", "query the attestation gate", "gate stats [ID] [--format json]" },
  { "update", "change the resource limits of a running container",
    "update [--memory N] [--memory-reservation N] [--memory-swap N]\n"
    "       [--cpu-share N] [--cpu-quota N] [--cpu-period N] [--cpuset-cpus LIST] [--cpuset-mems LIST]\n"
    "       [--pids-limit N] [-r|--resources FILE|-] CONTAINER\n"
    "       (written into the sandbox's host cgroup: runsc has no update of its own)" },
};

/* The layout of runc's help (NAME:, then "runc - ..." on the next line): clients and runc's own
 * test suite read those two lines. */
static const char global_usage[]
    = "NAME:\n"
      "   runc - Open Container Initiative runtime, as runsc-host: the bundle is rewritten under the\n"
      "   runsc-host policy and run in gVisor (runsc). Policy: $RUNSC_HOST_CONFIG, else\n"
      "   /etc/runsc-host/config.json.\n"
      "\n"
      "USAGE:\n"
      "   runsc-host [global flags] <command> [flags] [arguments]\n"
      "\n"
      "GLOBAL FLAGS:\n"
      "   --root DIR            container state directory (passed to runsc)\n"
      "   --log FILE            log file (runc's format; errors are also written to stderr)\n"
      "   --log-format FORMAT   text or json\n"
      "   --debug               log every decision at debug level\n"
      "   --systemd-cgroup      use systemd for cgroups (passed to runsc)\n"
      "   --rootless auto|false accepted and ignored (true is refused)\n"
      "   --criu PATH           accepted and ignored (gVisor checkpoints without CRIU)\n"
      "   --help, -h            this text; `runsc-host help <command>` for a command\n"
      "   --version, -v         versions of runsc-host and of the runsc it runs\n"
      "\n"
      "COMMANDS:\n"
      "   create run start state pause resume kill delete exec ps events list spec features update\n"
      "   (checkpoint and restore are refused); runsc-host's own: check gc gate\n";

char *
rh_cli_help (const char *cmd)
{
  if (cmd)
    for (size_t k = 0; k < sizeof usages / sizeof usages[0]; k++)
      if (strcmp (usages[k].cmd, cmd) == 0)
        {
          /* runsc-host's own commands are not runc's */
          bool own = strcmp (cmd, "check") == 0 || strcmp (cmd, "gc") == 0 || strcmp (cmd, "gate") == 0;
          return rh_xasprintf ("NAME:\n   %s %s - %s\n\nUSAGE:\n   runsc-host [global flags] %s\n\n"
                               "See docs/cli.md for how each runc flag is mapped, dropped or refused.\n",
                               own ? "runsc-host" : "runc", cmd, usages[k].summary, usages[k].text);
        }
  return cmd ? NULL : rh_xstrdup (global_usage);
}

static json_t *
strings_array (const char *const *v)
{
  json_t *a = json_array ();
  for (; *v; v++)
    json_array_append_new (a, json_string (*v));
  return a;
}

char *
rh_cli_features_json (const char *runsc_path, const char *platform)
{
  /* Hooks runsc runs: prestart and createRuntime in the host namespaces after the sandbox exists,
   * poststart and poststop best-effort. createContainer and startContainer would have to run
   * inside the container's namespaces, which runsc skips. */
  static const char *const hooks[] = { "prestart", "createRuntime", "poststart", "poststop", NULL };
  /* The mount options runsc's specutils accepts (shared/rshared are refused: mount propagation
   * back to the host would break isolation). */
  static const char *const mount_options[]
      = { "acl",     "async",      "atime",    "bind",      "defaults",    "dev",         "diratime",
          "dirsync", "exec",       "iversion", "loud",      "mand",        "noacl",       "noatime",
          "nodev",   "nodiratime", "noexec",   "noiversion", "nomand",     "norelatime",  "nostrictatime",
          "nosuid",  "rbind",      "relatime", "remount",   "ro",          "rw",          "silent",
          "strictatime", "suid",   "sync",     "private",   "rprivate",    "slave",       "rslave",
          "unbindable", "runbindable", NULL };
  /* The network namespace is listed because a spec may carry one: the rewrite removes it and
   * runsc runs with --network=host. There is no user namespace support in runsc (2022). */
  static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "uts", NULL };
  /* Capabilities runsc (2022-12-19) knows: CAP_CHOWN (0) to CAP_AUDIT_READ (37). */
  static const char *const caps[]
      = { "CAP_CHOWN",          "CAP_DAC_OVERRIDE",  "CAP_DAC_READ_SEARCH", "CAP_FOWNER",       "CAP_FSETID",
          "CAP_KILL",           "CAP_SETGID",        "CAP_SETUID",          "CAP_SETPCAP",      "CAP_LINUX_IMMUTABLE",
          "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",     "CAP_NET_RAW",      "CAP_IPC_LOCK",
          "CAP_IPC_OWNER",      "CAP_SYS_MODULE",    "CAP_SYS_RAWIO",       "CAP_SYS_CHROOT",   "CAP_SYS_PTRACE",
          "CAP_SYS_PACCT",      "CAP_SYS_ADMIN",     "CAP_SYS_BOOT",        "CAP_SYS_NICE",     "CAP_SYS_RESOURCE",
          "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",          "CAP_LEASE",        "CAP_AUDIT_WRITE",
          "CAP_AUDIT_CONTROL",  "CAP_SETFCAP",       "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",    "CAP_SYSLOG",
          "CAP_WAKE_ALARM",     "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",      NULL };
  /* runsc --oci-seccomp (always on under runsc-host) builds the filter inside the sandbox and
   * supports these actions, operators and architectures. */
  static const char *const actions[]
      = { "SCMP_ACT_KILL", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", NULL };
  static const char *const operators[] = { "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
                                           "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL };
  static const char *const archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64", NULL };
  json_t *doc = json_object (), *linux_ = json_object (), *cg = json_object (), *sc = json_object ();
  json_t *ann = json_object ();
  char *text;

  json_object_set_new (doc, "ociVersionMin", json_string ("1.0.0"));
  json_object_set_new (doc, "ociVersionMax", json_string ("1.0.2-dev"));
  json_object_set_new (doc, "hooks", strings_array (hooks));
  json_object_set_new (doc, "mountOptions", strings_array (mount_options));
  json_object_set_new (linux_, "namespaces", strings_array (namespaces));
  json_object_set_new (linux_, "capabilities", strings_array (caps));
  json_object_set_new (cg, "v1", json_true ());
  json_object_set_new (cg, "v2", json_true ());
  json_object_set_new (cg, "systemd", json_true ());
  json_object_set_new (cg, "systemdUser", json_false ());
  json_object_set_new (linux_, "cgroup", cg);
  json_object_set_new (sc, "enabled", json_true ());
  json_object_set_new (sc, "actions", strings_array (actions));
  json_object_set_new (sc, "operators", strings_array (operators));
  json_object_set_new (sc, "archs", strings_array (archs));
  json_object_set_new (linux_, "seccomp", sc);
  /* Host LSMs do not confine guest processes: gVisor's kernel does. */
  json_object_set_new (linux_, "apparmor", json_pack ("{s:b}", "enabled", 0));
  json_object_set_new (linux_, "selinux", json_pack ("{s:b}", "enabled", 0));
  json_object_set_new (doc, "linux", linux_);
  json_object_set_new (ann, "run.runsc-host.runtime", json_string ("gVisor (runsc)"));
  if (runsc_path)
    json_object_set_new (ann, "run.runsc-host.runsc.path", json_string (runsc_path));
  if (platform)
    json_object_set_new (ann, "run.runsc-host.runsc.platform", json_string (platform));
  json_object_set_new (ann, "run.runsc-host.network", json_string ("host"));
  json_object_set_new (doc, "annotations", ann);
  text = json_dumps (doc, JSON_INDENT (4) | JSON_PRESERVE_ORDER);
  json_decref (doc);
  if (text == NULL)
    abort ();
  return text;
}
