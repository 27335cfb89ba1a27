/* Platform "auto": probe once, cache, log. See platform.h for the why. */
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "policy.h"
#include "runsc_flags.h"
#include "spawnutil.h"
#include "util.h"

/* Preference order: fastest first, the one that always works last. */
static const char *const candidates[] = { "systrap", "kvm", "ptrace", NULL };

#define CACHE_MAX_BYTES 16384
#define STDERR_TAIL 512
/* After SIGKILL, how long we wait to reap before giving up (a task stuck in the kernel). */
#define REAP_GRACE_MS 2000

bool
rh_platform_name_valid (const char *name)
{
  for (const char *const *c = candidates; *c; c++)
    if (name && strcmp (*c, name) == 0)
      return true;
  return false;
}

void
rh_platform_opts_from_policy (const struct rh_policy *p, const struct rh_logger *log, struct rh_platform_opts *o)
{
  memset (o, 0, sizeof *o);
  o->runsc_path = p->runsc.path;
  o->state_dir = p->state_dir;
  o->timeout_ms = p->runsc.probe_timeout_ms > 0 ? p->runsc.probe_timeout_ms : 3000;
  o->kvm_device = "/dev/kvm";
  o->probe_cmd = "/bin/true";
  o->boot_id_path = "/proc/sys/kernel/random/boot_id";
  o->log = log;
}

int
rh_runsc_resolve_platform (const struct rh_policy *p, const struct rh_logger *log, char **out, rh_error *err)
{
  struct rh_platform_opts o;

  if (strcmp (p->runsc.platform, "auto") != 0)
    {
      *out = rh_xstrdup (p->runsc.platform);
      return 0;
    }
  rh_platform_opts_from_policy (p, log, &o);
  if (rh_platform_auto (&o, out, err) < 0)
    return rh_error_prefix (err, "policy key runsc.platform (auto)");
  return 0;
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms (int ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
  while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
    ;
}

static bool
kvm_usable (const char *dev)
{
  struct stat st;
  _cleanup_close_ int fd = -1;

  if (dev == NULL)
    return false;
  fd = open (dev, O_RDWR | O_CLOEXEC | O_NOCTTY);
  return fd >= 0 && fstat (fd, &st) == 0 && S_ISCHR (st.st_mode);
}

/* The cache key: everything whose change could change the answer. Read on every call, so it
 * costs a stat, an open of the kvm device and a 37-byte read; never an exec. */
static int
cache_key (const struct rh_platform_opts *o, char **out, rh_error *err)
{
  struct stat st;
  char boot[64] = "";

  if (stat (o->runsc_path, &st) < 0)
    return rh_error_sys (err, errno, "stat runsc %s", o->runsc_path);
  if (o->boot_id_path)
    {
      _cleanup_close_ int fd = open (o->boot_id_path, O_RDONLY | O_CLOEXEC);
      ssize_t n = fd >= 0 ? read (fd, boot, sizeof boot - 1) : -1;
      boot[n > 0 ? n : 0] = '\0';
      boot[strcspn (boot, "\n")] = '\0';
    }
  *out = rh_xasprintf ("runsc=%s dev=%ju ino=%ju size=%jd mtime=%jd.%09ld kvm=%d boot=%s", o->runsc_path,
                       (uintmax_t) st.st_dev, (uintmax_t) st.st_ino, (intmax_t) st.st_size,
                       (intmax_t) st.st_mtim.tv_sec, st.st_mtim.tv_nsec, kvm_usable (o->kvm_device) ? 1 : 0,
                       boot);
  return 0;
}

/* The cached platform when the file exists, parses, matches key and names a valid platform. The
 * file is ours, but it is still input: anything unexpected is a miss, never an argv element. */
static char *
cache_read (const char *path, const char *key)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
  _cleanup_free_ char *text = NULL;
  _cleanup_json_ json_t *j = NULL;
  struct stat st;
  size_t len = 0;
  rh_error err;
  const char *k, *pl;

  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    return NULL;
  if (rh_read_fd_capped (fd, CACHE_MAX_BYTES, &text, &len, &err) < 0)
    return NULL;
  j = json_loadb (text, len, JSON_REJECT_DUPLICATES, NULL);
  if (!json_is_object (j))
    return NULL;
  k = json_string_value (json_object_get (j, "key"));
  pl = json_string_value (json_object_get (j, "platform"));
  if (k == NULL || strcmp (k, key) != 0 || !rh_platform_name_valid (pl))
    return NULL;
  return rh_xstrdup (pl);
}

/* Keep the last non-empty line of the probe's stderr, printable ASCII only, for the log. */
static void
tail_line (const char *buf, size_t len, char *out, size_t outsz)
{
  size_t end = len, start, n = 0;

  while (end > 0 && (buf[end - 1] == '\n' || buf[end - 1] == '\r' || buf[end - 1] == ' '))
    end--;
  start = end;
  while (start > 0 && buf[start - 1] != '\n')
    start--;
  for (size_t i = start; i < end && n + 1 < outsz; i++)
    out[n++] = (buf[i] >= 0x20 && buf[i] < 0x7f) ? buf[i] : '?';
  out[n] = '\0';
}

static int
rm_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  remove (path);
  return 0;
}

static void
rm_rf (const char *dir)
{
  /* FTW_PHYS: never follow a symlink out of the scratch dir; FTW_MOUNT: never cross a mount. */
  nftw (dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int
rh_platform_probe_one (const struct rh_platform_opts *o, const char *platform, rh_error *err)
{
  _cleanup_free_ char *tmpl = rh_xasprintf ("%s/probe.XXXXXX", o->state_dir);
  _cleanup_free_ char *root_flag = NULL, *pl_flag = NULL, *tmpdir_env = NULL, *errtext = NULL;
  char *argv[8], *envp[3];
  char line[200] = "";
  int status = 0, rc;
  bool timed_out = false;
  int64_t start;
  struct rh_spawn s;
  /* Own process group: on timeout the whole probe (runsc and its gofer) is killed at once. The
   * sandbox process starts its own session but runsc binds it to its parent's death. */
  struct rh_spawn_opts so = { .argv = argv, .envp = envp, .timeout_ms = o->timeout_ms, .new_pgroup = true,
                              .reap_grace_ms = REAP_GRACE_MS };

  if (!rh_platform_name_valid (platform))
    return rh_error_set (err, EINVAL, "%s is not a runsc platform", platform ? platform : "(null)");
  /* Scratch dir of our own: runsc do writes a bundle into $TMPDIR and leaves it behind when
   * killed; the probe's container state goes here too, never into runsc's default root. */
  if (mkdtemp (tmpl) == NULL)
    return rh_error_sys (err, errno, "create probe dir %s", tmpl);
  root_flag = rh_xasprintf ("--root=%s/root", tmpl);
  pl_flag = rh_xasprintf ("--platform=%s", platform);
  tmpdir_env = rh_xasprintf ("TMPDIR=%s", tmpl);
  argv[0] = (char *) o->runsc_path;
  argv[1] = root_flag;
  /* No network namespace is needed to tell whether the platform runs. */
  argv[2] = (char *) "--network=none";
  argv[3] = pl_flag;
  argv[4] = (char *) "do";
  argv[5] = (char *) o->probe_cmd;
  argv[6] = NULL;
  envp[0] = rh_child_env[0];
  envp[1] = tmpdir_env;
  envp[2] = NULL;

  start = now_ms ();
  if (rh_spawn_start (&so, &s, err) < 0)
    {
      rm_rf (tmpl);
      return -1;
    }
  rc = rh_spawn_wait (&s, &status, &timed_out, err);
  if (rh_spawn_output (s.err_fd, STDERR_TAIL, true, &errtext, NULL) == 0)
    tail_line (errtext, strlen (errtext), line, sizeof line);
  rh_spawn_release (&s);
  rm_rf (tmpl);

  if (timed_out)
    return rh_error_set (err, ETIMEDOUT, "timed out after %d ms", o->timeout_ms);
  if (rc < 0)
    return -1;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    {
      rh_error_set (err, 0, "ok in %" PRId64 " ms", now_ms () - start);
      return 0;
    }
  if (WIFSIGNALED (status))
    return rh_error_set (err, EIO, "killed by signal %d%s%s", WTERMSIG (status), *line ? ": " : "", line);
  return rh_error_set (err, EIO, "exit status %d%s%s", WEXITSTATUS (status), *line ? ": " : "", line);
}

/* Take the probe lock, waiting at most ms: concurrent first creates probe once, not N times. On
 * timeout we probe without it (a stuck holder must not block every create). */
static int
take_lock (const char *path, int64_t ms)
{
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
  int64_t until = now_ms () + ms;

  if (fd < 0)
    return -1;
  while (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      if ((errno != EWOULDBLOCK && errno != EINTR) || now_ms () >= until)
        {
          close (fd);
          return -1;
        }
      sleep_ms (20);
    }
  return fd;
}

int
rh_platform_auto (const struct rh_platform_opts *o, char **out, rh_error *err)
{
  _cleanup_free_ char *key = NULL, *cache = NULL, *lockpath = NULL, *hit = NULL, *summary = NULL;
  _cleanup_free_ char *text = NULL;
  _cleanup_close_ int lockfd = -1;
  _cleanup_json_ json_t *j = NULL, *results = NULL;
  const char *chosen = NULL;
  size_t ncand = 0;
  rh_error werr;

  if (cache_key (o, &key, err) < 0)
    return -1;
  cache = rh_xasprintf ("%s/%s", o->state_dir, RH_PLATFORM_CACHE_NAME);
  hit = cache_read (cache, key);
  if (hit)
    {
      rh_log_debug (o->log, "runsc platform %s (probed earlier, cached in %s)", hit, cache);
      *out = steal_pointer (&hit);
      return 0;
    }

  /* 0711: the state dir holds per-container data of other modules; nobody but root lists it. */
  if (rh_mkdir_p (o->state_dir, 0711, err) < 0)
    return rh_error_prefix (err, "state_dir");
  lockpath = rh_xasprintf ("%s/%s", o->state_dir, RH_PLATFORM_LOCK_NAME);
  for (const char *const *c = candidates; *c; c++)
    ncand++;
  lockfd = take_lock (lockpath, (int64_t) ncand * (o->timeout_ms + REAP_GRACE_MS) + 1000);
  if (lockfd < 0)
    rh_log_warn (o->log, "runsc platform probe: could not lock %s; probing anyway", lockpath);
  /* Someone else may have probed while we waited. */
  hit = cache_read (cache, key);
  if (hit)
    {
      *out = steal_pointer (&hit);
      return 0;
    }

  results = json_object ();
  summary = rh_xstrdup ("");
  for (const char *const *c = candidates; *c && chosen == NULL; c++)
    {
      rh_error perr;
      char *s;

      rh_error_clear (&perr);
      if (strcmp (*c, "kvm") == 0 && !kvm_usable (o->kvm_device))
        rh_error_set (&perr, ENODEV, "skipped: %s is not a usable character device",
                      o->kvm_device ? o->kvm_device : "(none)");
      else if (rh_platform_probe_one (o, *c, &perr) == 0)
        chosen = *c;
      json_object_set_new (results, *c, json_string (perr.msg));
      s = rh_xasprintf ("%s%s%s: %s", summary, *summary ? "; " : "", *c, perr.msg);
      free (summary);
      summary = s;
    }

  j = json_object ();
  json_object_set_new (j, "key", json_string (key));
  json_object_set_new (j, "platform", json_string (chosen ? chosen : "ptrace"));
  json_object_set_new (j, "fallback", json_boolean (chosen == NULL));
  json_object_set_new (j, "probe", json_incref (results));
  text = json_dumps (j, JSON_INDENT (2) | JSON_SORT_KEYS);
  if (text == NULL)
    return rh_error_set (err, ENOMEM, "serialise platform cache");
  if (rh_write_file_atomic (cache, text, strlen (text), 0644, &werr) < 0)
    rh_log_warn (o->log, "runsc platform: cannot cache the probe result (%s); the next call probes again",
                 werr.msg);

  if (chosen)
    rh_log_info (o->log, "runsc platform auto: using %s (%s); cached in %s", chosen, summary, cache);
  else
    rh_log_warn (o->log,
                 "runsc platform auto: no platform passed the probe (%s); using ptrace, runsc's default. "
                 "Remove %s to probe again, or set runsc.platform",
                 summary, cache);
  *out = rh_xstrdup (chosen ? chosen : "ptrace");
  return 0;
}
