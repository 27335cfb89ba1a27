/* Platform "auto": probe order, the hard time bound, the cache and its key, and that nothing of
 * a probe outlives it. A fake runsc (a shell script) plays each platform's part; a last test
 * runs the real runsc when we are root and it is installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "platform.h"
#include "policy.h"
#include "runsc_flags.h"
#include "util.h"

struct fixture
{
  char dir[64];
  char *state;
  char *runsc;
  char *logpath;
  struct rh_logger log;
  struct rh_platform_opts o;
};

/* The fake runsc records each call's platform, checks that it runs in the scratch dir it was
 * given, then acts as mode.<platform> says: ok, unknown (fails fast like an old runsc), hang
 * (with a grandchild, to see the whole group die), fds (lists its open descriptors). */
static const char fake_runsc[] =
  "#!/bin/sh\n"
  "d=%s\n"
  "for a in \"$@\"; do case \"$a\" in --platform=*) pl=${a#--platform=};; --root=*) root=${a#--root=};; esac; done\n"
  "echo \"$pl\" >> $d/calls\n"
  "case \"$TMPDIR\" in $d/state/probe.*) ;; *) echo \"bad TMPDIR $TMPDIR\" >&2; exit 3;; esac\n"
  "case \"$root\" in \"$TMPDIR\"/root) ;; *) echo \"bad root $root\" >&2; exit 3;; esac\n"
  "test \"$4 $5\" = 'do /bin/true' || { echo \"bad args $*\" >&2; exit 3; }\n"
  "mode=$(cat $d/mode.$pl 2>/dev/null || echo unknown)\n"
  "case $mode in\n"
  "ok) exit 0;;\n"
  "hang) sleep 1000 & echo $! > $d/grandchild.$pl; echo $$ > $d/pid.$pl; while :; do sleep 1; done;;\n"
  "fds) ls /proc/$$/fd > $d/fds.$pl; exit 0;;\n"
  "*) echo 'W1128 util.go:64] FATAL ERROR: junk'; printf 'unknown platform: %%s\\n\\n' \"$pl\" >&2; exit 128;;\n"
  "esac\n";

static void
write_text (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  assert_non_null (f);
  fputs (text, f);
  fclose (f);
}

static char *
read_text (const char *path)
{
  char *text = NULL;
  rh_error err;
  if (rh_read_file_capped (path, 1 << 20, &text, NULL, &err) < 0)
    return NULL;
  return text;
}

static void
set_mode (struct fixture *f, const char *platform, const char *mode)
{
  _cleanup_free_ char *p = rh_xasprintf ("%s/mode.%s", f->dir, platform);
  write_text (p, mode);
}

static char *
calls (struct fixture *f)
{
  _cleanup_free_ char *p = rh_xasprintf ("%s/calls", f->dir);
  char *t = read_text (p);
  return t ? t : rh_xstrdup ("");
}

static void
reset_calls (struct fixture *f)
{
  _cleanup_free_ char *p = rh_xasprintf ("%s/calls", f->dir);
  unlink (p);
}

static int
setup (void **state)
{
  struct fixture *f = rh_xmalloc0 (sizeof *f);
  _cleanup_free_ char *script = NULL;

  strcpy (f->dir, "/tmp/rh-test-platform.XXXXXX");
  assert_non_null (mkdtemp (f->dir));
  f->state = rh_xasprintf ("%s/state", f->dir);
  f->runsc = rh_xasprintf ("%s/runsc", f->dir);
  f->logpath = rh_xasprintf ("%s/log", f->dir);
  script = rh_xasprintf (fake_runsc, f->dir);
  write_text (f->runsc, script);
  assert_int_equal (chmod (f->runsc, 0755), 0);
  f->log = (struct rh_logger) RH_LOGGER_INIT;
  f->log.fd = open (f->logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  f->log.level = RH_LOG_DEBUG;
  f->log.stderr_fd = -1;
  f->o.runsc_path = f->runsc;
  f->o.state_dir = f->state;
  f->o.timeout_ms = 300;
  f->o.kvm_device = "/dev/null"; /* a character device that opens read-write: "usable" */
  f->o.probe_cmd = "/bin/true";
  f->o.boot_id_path = "/proc/sys/kernel/random/boot_id";
  f->o.log = &f->log;
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *cmd = rh_xasprintf ("rm -rf '%s'", f->dir);
  if (system (cmd) != 0)
    fprintf (stderr, "cleanup of %s failed\n", f->dir);
  close (f->log.fd);
  free (f->state);
  free (f->runsc);
  free (f->logpath);
  free (f);
  return 0;
}

static int64_t
mono_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Gone, or a zombie waiting for a reaper that is not us: either way no longer running. */
static bool
not_running (pid_t pid)
{
  _cleanup_free_ char *p = rh_xasprintf ("/proc/%d/stat", (int) pid);
  _cleanup_free_ char *t = read_text (p);
  const char *rp;
  if (t == NULL)
    return true;
  rp = strrchr (t, ')');
  return rp && (rp[2] == 'Z' || rp[2] == 'X');
}

static pid_t
pid_from (struct fixture *f, const char *name)
{
  _cleanup_free_ char *p = rh_xasprintf ("%s/%s", f->dir, name);
  _cleanup_free_ char *t = read_text (p);
  assert_non_null (t);
  return (pid_t) atoi (t);
}

static size_t
scratch_dirs_left (struct fixture *f)
{
  DIR *d = opendir (f->state);
  struct dirent *e;
  size_t n = 0;
  if (d == NULL)
    return 0;
  while ((e = readdir (d)))
    if (strncmp (e->d_name, "probe.", 6) == 0)
      n++;
  closedir (d);
  return n;
}

static json_t *
cache_json (struct fixture *f)
{
  _cleanup_free_ char *p = rh_xasprintf ("%s/%s", f->state, RH_PLATFORM_CACHE_NAME);
  json_t *j = json_load_file (p, 0, NULL);
  assert_non_null (j);
  return j;
}

static void
test_fixed_platform_never_probes (void **state)
{
  struct fixture *f = *state;
  struct rh_policy p;
  _cleanup_free_ char *out = NULL, *c = NULL;
  rh_error err;

  memset (&p, 0, sizeof p);
  p.runsc.path = f->runsc;
  p.runsc.platform = (char *) "kvm";
  p.state_dir = f->state;
  assert_int_equal (rh_runsc_resolve_platform (&p, &f->log, &out, &err), 0);
  assert_string_equal (out, "kvm");
  c = calls (f);
  assert_string_equal (c, "");
}

static void
test_order_timeout_and_cleanup (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *out = NULL, *c = NULL, *log = NULL;
  _cleanup_json_ json_t *j = NULL;
  rh_error err;
  int64_t t0;

  set_mode (f, "systrap", "unknown");
  set_mode (f, "kvm", "hang");
  set_mode (f, "ptrace", "ok");
  t0 = mono_ms ();
  assert_int_equal (rh_platform_auto (&f->o, &out, &err), 0);
  /* A hang guard, not a speed test: the hanging kvm probe must have been cut off. */
  assert_true (mono_ms () - t0 < 10000);
  assert_string_equal (out, "ptrace");
  c = calls (f);
  assert_string_equal (c, "systrap\nkvm\nptrace\n");
  /* The hung probe and its grandchild are dead, the scratch dirs gone. */
  assert_true (not_running (pid_from (f, "pid.kvm")));
  assert_true (not_running (pid_from (f, "grandchild.kvm")));
  assert_int_equal (scratch_dirs_left (f), 0);

  j = cache_json (f);
  assert_string_equal (json_string_value (json_object_get (j, "platform")), "ptrace");
  assert_true (json_is_false (json_object_get (j, "fallback")));
  assert_string_equal (json_string_value (json_object_get (json_object_get (j, "probe"), "kvm")),
                       "timed out after 300 ms");
  assert_string_equal (json_string_value (json_object_get (json_object_get (j, "probe"), "systrap")),
                       "exit status 128: unknown platform: systrap");

  log = read_text (f->logpath);
  assert_non_null (strstr (log, "runsc platform auto: using ptrace"));
  assert_non_null (strstr (log, "kvm: timed out after 300 ms"));
}

static void
test_cache_hit_and_invalidation (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *out = NULL, *out2 = NULL, *out3 = NULL, *c = NULL, *c2 = NULL;
  struct timespec times[2] = { { .tv_sec = 1000000000, .tv_nsec = 0 }, { .tv_sec = 1000000000, .tv_nsec = 0 } };
  rh_error err;

  set_mode (f, "systrap", "unknown");
  set_mode (f, "kvm", "unknown");
  set_mode (f, "ptrace", "ok");
  assert_int_equal (rh_platform_auto (&f->o, &out, &err), 0);
  assert_string_equal (out, "ptrace");
  reset_calls (f);

  /* Second call: answered from the cache, runsc not run at all. */
  assert_int_equal (rh_platform_auto (&f->o, &out2, &err), 0);
  assert_string_equal (out2, "ptrace");
  c = calls (f);
  assert_string_equal (c, "");

  /* "Upgrade" runsc (new mtime): probed again, and now systrap works. */
  set_mode (f, "systrap", "ok");
  assert_int_equal (utimensat (AT_FDCWD, f->runsc, times, 0), 0);
  assert_int_equal (rh_platform_auto (&f->o, &out3, &err), 0);
  assert_string_equal (out3, "systrap");
  c2 = calls (f);
  assert_string_equal (c2, "systrap\n");
}

static void
test_kvm_skipped_without_device (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *out = NULL, *out2 = NULL, *c = NULL, *regular = NULL;
  _cleanup_json_ json_t *j = NULL;
  rh_error err;

  set_mode (f, "systrap", "unknown");
  set_mode (f, "kvm", "ok");
  set_mode (f, "ptrace", "ok");
  f->o.kvm_device = "/nonexistent/kvm";
  assert_int_equal (rh_platform_auto (&f->o, &out, &err), 0);
  assert_string_equal (out, "ptrace");
  c = calls (f);
  assert_string_equal (c, "systrap\nptrace\n");
  j = cache_json (f);
  assert_true (rh_str_has_prefix (json_string_value (json_object_get (json_object_get (j, "probe"), "kvm")),
                                  "skipped"));

  /* A regular file is not a kvm device either, and a change of kvm usability is a new key. */
  regular = rh_xasprintf ("%s/not-a-device", f->dir);
  write_text (regular, "");
  f->o.kvm_device = regular;
  reset_calls (f);
  assert_int_equal (rh_platform_auto (&f->o, &out2, &err), 0);
  assert_string_equal (out2, "ptrace");
  free (c);
  c = calls (f);
  assert_string_equal (c, ""); /* same key: usable neither time */
}

static void
test_kvm_usability_is_part_of_key (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *out = NULL, *out2 = NULL, *c = NULL;
  rh_error err;

  set_mode (f, "systrap", "unknown");
  set_mode (f, "kvm", "ok");
  set_mode (f, "ptrace", "ok");
  f->o.kvm_device = "/nonexistent/kvm";
  assert_int_equal (rh_platform_auto (&f->o, &out, &err), 0);
  assert_string_equal (out, "ptrace");
  reset_calls (f);
  f->o.kvm_device = "/dev/null";
  assert_int_equal (rh_platform_auto (&f->o, &out2, &err), 0);
  assert_string_equal (out2, "kvm");
  c = calls (f);
  assert_string_equal (c, "systrap\nkvm\n");
}

static void
test_tampered_cache_is_a_miss (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *out = NULL, *out2 = NULL, *out3 = NULL, *c = NULL, *text = NULL, *cache = NULL;
  _cleanup_free_ char *target = NULL;
  _cleanup_json_ json_t *j = NULL;
  rh_error err;

  set_mode (f, "systrap", "unknown");
  set_mode (f, "kvm", "unknown");
  set_mode (f, "ptrace", "ok");
  assert_int_equal (rh_platform_auto (&f->o, &out, &err), 0);
  cache = rh_xasprintf ("%s/%s", f->state, RH_PLATFORM_CACHE_NAME);

  /* Right key, a platform that would smuggle a flag into runsc's argv: ignored, re-probed. */
  j = cache_json (f);
  json_object_set_new (j, "platform", json_string ("ptrace --debug-log=/tmp/x"));
  text = json_dumps (j, 0);
  write_text (cache, text);
  reset_calls (f);
  assert_int_equal (rh_platform_auto (&f->o, &out2, &err), 0);
  assert_string_equal (out2, "ptrace");
  c = calls (f);
  assert_string_equal (c, "systrap\nkvm\nptrace\n");

  /* A symlink in place of the cache is not followed. */
  target = rh_xasprintf ("%s/elsewhere", f->dir);
  rename (cache, target);
  assert_int_equal (symlink (target, cache), 0);
  reset_calls (f);
  assert_int_equal (rh_platform_auto (&f->o, &out3, &err), 0);
  free (c);
  c = calls (f);
  assert_string_equal (c, "systrap\nkvm\nptrace\n");

  /* Garbage: also a miss, never an error. */
  write_text (cache, "{not json");
  free (out3);
  out3 = NULL;
  assert_int_equal (rh_platform_auto (&f->o, &out3, &err), 0);
  assert_string_equal (out3, "ptrace");
}

static void
test_all_fail_falls_back_to_ptrace (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *out = NULL, *out2 = NULL, *log = NULL, *c = NULL;
  _cleanup_json_ json_t *j = NULL;
  rh_error err;

  set_mode (f, "systrap", "unknown");
  set_mode (f, "kvm", "hang");
  set_mode (f, "ptrace", "unknown");
  assert_int_equal (rh_platform_auto (&f->o, &out, &err), 0);
  assert_string_equal (out, "ptrace");
  j = cache_json (f);
  assert_true (json_is_true (json_object_get (j, "fallback")));
  log = read_text (f->logpath);
  assert_non_null (strstr (log, "no platform passed the probe"));
  /* The fallback is cached too: a broken probe costs once, not on every create. */
  reset_calls (f);
  assert_int_equal (rh_platform_auto (&f->o, &out2, &err), 0);
  c = calls (f);
  assert_string_equal (c, "");
}

static void
test_no_descriptor_leaks_into_probe (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *fds = NULL, *p = NULL;
  rh_error err;
  int fd = open ("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */

  assert_true (fd >= 0);
  assert_int_equal (dup2 (fd, 77), 77);
  set_mode (f, "systrap", "fds");
  assert_int_equal (mkdir (f->state, 0700), 0);
  if (rh_platform_probe_one (&f->o, "systrap", &err) < 0)
    fail_msg ("probe: %s", err.msg);
  p = rh_xasprintf ("%s/fds.systrap", f->dir);
  fds = read_text (p);
  assert_non_null (fds);
  assert_null (strstr (fds, "77\n"));
  close (77);
  close (fd);
}

static void
test_bad_inputs (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *out = NULL;
  rh_error err;

  assert_int_equal (rh_platform_probe_one (&f->o, "auto", &err), -1);
  assert_int_equal (rh_platform_probe_one (&f->o, "ptrace;rm", &err), -1);
  assert_false (rh_platform_name_valid ("auto"));
  assert_false (rh_platform_name_valid (NULL));
  assert_true (rh_platform_name_valid ("systrap"));
  f->o.runsc_path = "/nonexistent/runsc";
  assert_int_equal (rh_platform_auto (&f->o, &out, &err), -1);
  assert_non_null (strstr (err.msg, "/nonexistent/runsc"));
}

/* The real thing: on this kind of host systrap is unknown, kvm hangs and ptrace works; elsewhere
 * the answer differs, so we only check that it is a real platform, quick enough to not be a
 * hang, and that no probe process or scratch dir is left behind. */
static void
test_real_runsc (void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *out = NULL;
  rh_error err;
  DIR *d;
  struct dirent *e;
  int64_t t0;

  if (geteuid () != 0 || access ("/usr/bin/runsc", X_OK) != 0 || access ("/bin/true", X_OK) != 0)
    {
      print_message ("skipped: the real-runsc probe needs root, /usr/bin/runsc and /bin/true\n");
      skip ();
    }
  f->o.runsc_path = "/usr/bin/runsc";
  f->o.kvm_device = "/dev/kvm";
  f->o.timeout_ms = 2000;
  t0 = mono_ms ();
  assert_int_equal (rh_platform_auto (&f->o, &out, &err), 0);
  assert_true (rh_platform_name_valid (out));
  assert_true (mono_ms () - t0 < 3 * (2000 + 2000) + 2000);
  assert_int_equal (scratch_dirs_left (f), 0);
  /* No process still names our state dir in its command line. */
  d = opendir ("/proc");
  assert_non_null (d);
  while ((e = readdir (d)))
    {
      _cleanup_free_ char *p = NULL, *cmd = NULL;
      char *text = NULL;
      size_t len = 0;
      if (e->d_name[0] < '0' || e->d_name[0] > '9')
        continue;
      p = rh_xasprintf ("/proc/%s/cmdline", e->d_name);
      {
        _cleanup_close_ int fd = open (p, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || rh_read_fd_capped (fd, 1 << 16, &text, &len, &err) < 0)
          continue;
      }
      cmd = text;
      for (size_t i = 0; i < len; i++)
        if (cmd[i] == '\0')
          cmd[i] = ' ';
      if (strstr (cmd, f->state) && !not_running ((pid_t) atoi (e->d_name)))
        fail_msg ("probe process left running: %s", cmd);
    }
  closedir (d);
  print_message ("real runsc chose %s in %lld ms\n", out, (long long) (mono_ms () - t0));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_fixed_platform_never_probes, setup, teardown),
    cmocka_unit_test_setup_teardown (test_order_timeout_and_cleanup, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cache_hit_and_invalidation, setup, teardown),
    cmocka_unit_test_setup_teardown (test_kvm_skipped_without_device, setup, teardown),
    cmocka_unit_test_setup_teardown (test_kvm_usability_is_part_of_key, setup, teardown),
    cmocka_unit_test_setup_teardown (test_tampered_cache_is_a_miss, setup, teardown),
    cmocka_unit_test_setup_teardown (test_all_fail_falls_back_to_ptrace, setup, teardown),
    cmocka_unit_test_setup_teardown (test_no_descriptor_leaks_into_probe, setup, teardown),
    cmocka_unit_test_setup_teardown (test_bad_inputs, setup, teardown),
    cmocka_unit_test_setup_teardown (test_real_runsc, setup, teardown),
  };
  /* The fake runsc's grandchildren are reparented; keep SIGCHLD default so waitpid works. */
  signal (SIGCHLD, SIG_DFL);
  return cmocka_run_group_tests (tests, NULL, NULL);
}
