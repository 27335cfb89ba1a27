/* Golden tests of the caps and seccomp modifiers (and nothing else), plus checks of the shipped
 * default profile and of the seccomp policy section.
 *
 * Each tests/data/seccomp/<case>/ holds in.json and either want.json or want_error.txt (a
 * substring the error must contain: from the policy parse or from the rewrite); optionally
 * policy.json (else tests/data/seccomp/policy.json), fs.json (the fake host: see
 * rh_fake_resolver_new) and want_log.txt (lines that must each appear in the log). "@DATA@" in
 * a policy stands for tests/data/seccomp. Each passing case is rewritten a second time, which
 * must change nothing.
 *
 * RH_REGEN_GOLDEN=1 writes want.json for cases that lack want.json and want_error.txt (read
 * every one before committing it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "golden.h"
#include "fsutil.h"
#include "paths.h"
#include "policy.h"
#include "seccomp.h"
#include "spec_rewrite.h"
#include "util.h"

#define CASES RH_TEST_DATA "/seccomp"

/* libseccomp's header shares its name with lib/policy/seccomp.h (see lib/policy/seccomp_policy.c). */
uint32_t seccomp_arch_resolve_name (const char *arch_name);
int seccomp_syscall_resolve_name_arch (uint32_t arch_token, const char *name);

/* Replace every "@DATA@" in text. */
static char *
subst_data (const char *text)
{
  char *out = rh_xstrdup ("");
  const char *p = text, *hit;
  while ((hit = strstr (p, "@DATA@")))
    {
      char *next = rh_xasprintf ("%s%.*s%s", out, (int) (hit - p), p, CASES);
      free (out);
      out = next;
      p = hit + 6;
    }
  {
    char *next = rh_xasprintf ("%s%s", out, p);
    free (out);
    out = next;
  }
  return out;
}

static int
parse_policy_file (const char *path, struct rh_policy **out, rh_error *err)
{
  _cleanup_free_ char *raw = golden_slurp (path);
  _cleanup_free_ char *text = NULL;
  if (raw == NULL)
    fail_msg ("cannot read %s", path);
  text = subst_data (raw);
  return rh_policy_parse (text, strlen (text), path, out, err);
}

static int
my_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  if (rh_caps_rewrite (spec, ctx, err) < 0 || rh_seccomp_rewrite (spec, ctx, err) < 0)
    return -1;
  return 0;
}

static bool
error_matches (const char *name, const char *got, const char *want)
{
  if (strstr (got, want) != NULL)
    return true;
  print_error ("case %s: error \"%s\" lacks \"%s\"\n", name, got, want);
  return false;
}

static int
run_case (const char *name)
{
  _cleanup_free_ char *dir = rh_xasprintf ("%s/%s", CASES, name);
  _cleanup_free_ char *in_path = rh_xasprintf ("%s/in.json", dir);
  _cleanup_free_ char *want_path = rh_xasprintf ("%s/want.json", dir);
  _cleanup_free_ char *err_path = rh_xasprintf ("%s/want_error.txt", dir);
  _cleanup_free_ char *pol_path = rh_xasprintf ("%s/policy.json", dir);
  _cleanup_free_ char *fs_path = rh_xasprintf ("%s/fs.json", dir);
  _cleanup_free_ char *logw_path = rh_xasprintf ("%s/want_log.txt", dir);
  _cleanup_free_ char *want_err = golden_slurp (err_path);
  _cleanup_free_ char *logtext = NULL;
  _cleanup_json_ json_t *in = golden_load_json (in_path);
  _cleanup_json_ json_t *fs = NULL;
  _cleanup_json_ json_t *want = NULL;
  struct rh_policy *pol = NULL;
  struct rh_resolver *res;
  struct rh_logger lg = RH_LOGGER_INIT;
  struct rh_rewrite_ctx ctx;
  rh_error err = { 0 };
  int r, failed = 0;

  if (want_err)
    want_err[strcspn (want_err, "\n")] = '\0';
  if (parse_policy_file (access (pol_path, F_OK) == 0 ? pol_path : CASES "/policy.json", &pol, &err) < 0)
    {
      if (want_err == NULL)
        {
          print_error ("case %s: policy refused: %s\n", name, err.msg);
          return 1;
        }
      return error_matches (name, err.msg, want_err) ? 0 : 1;
    }
  if (access (fs_path, F_OK) == 0)
    fs = golden_load_json (fs_path);
  res = rh_fake_resolver_new (fs, &err);
  if (res == NULL)
    fail_msg ("%s: %s", name, err.msg);
  lg.fd = memfd_create ("log", MFD_CLOEXEC);
  lg.stderr_fd = -1;
  lg.level = RH_LOG_DEBUG;
  ctx = (struct rh_rewrite_ctx) { .policy = pol, .resolver = res, .log = &lg, .bundle = "/run/b/c1",
                                  .container_id = "c1" };

  r = my_rewrite (in, &ctx, &err);
  if (want_err)
    {
      if (r == 0)
        {
          print_error ("case %s: rewrite succeeded, wanted error containing \"%s\"\n", name, want_err);
          failed = 1;
        }
      else if (!error_matches (name, err.msg, want_err))
        failed = 1;
      goto out;
    }
  if (r < 0)
    {
      print_error ("case %s: unexpected error: %s\n", name, err.msg);
      failed = 1;
      goto out;
    }
  if (access (want_path, F_OK) != 0 && getenv ("RH_REGEN_GOLDEN"))
    {
      json_dump_file (in, want_path, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
      print_message ("case %s: wrote %s\n", name, want_path);
    }
  want = golden_load_json (want_path);
  if (!json_equal (in, want))
    {
      _cleanup_free_ char *got = json_dumps (in, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
      print_error ("case %s: output differs from want.json; got:\n%s\n", name, got);
      failed = 1;
      goto out;
    }
  r = my_rewrite (in, &ctx, &err);
  if (r < 0 || !json_equal (in, want))
    {
      print_error ("case %s: second rewrite changed the output (%s)\n", name, r < 0 ? err.msg : "differs");
      failed = 1;
    }

out:
  logtext = golden_read_log (lg.fd);
  if (!failed)
    failed = golden_check_log (name, logtext, logw_path);
  close (lg.fd);
  rh_fake_resolver_free (res);
  rh_policy_free (pol);
  return failed;
}

static void
test_golden (void **state)
{
  golden_run_all (CASES, run_case, 20);
}

/* ---- the shipped default profile ---- */

static void
test_shipped_profile (void **state)
{
  _cleanup_json_ json_t *prof = golden_load_json (RH_SOURCE_DIR "/config/seccomp/default.json");
  _cleanup_json_ json_t *seen = json_object ();
  uint32_t x86 = seccomp_arch_resolve_name ("x86_64"), arm = seccomp_arch_resolve_name ("aarch64");
  rh_error err = { 0 };
  size_t i, j, count = 0;
  json_t *rule, *name;

  assert_int_equal (rh_seccomp_check_profile (prof, "default.json", &err), 0);
  assert_string_equal (json_string_value (json_object_get (prof, "defaultAction")), "SCMP_ACT_ERRNO");
  json_array_foreach (json_object_get (prof, "syscalls"), i, rule)
    {
      /* An allow-list: nothing in it is stricter than the default. */
      assert_string_equal (json_string_value (json_object_get (rule, "action")), "SCMP_ACT_ALLOW");
      json_array_foreach (json_object_get (rule, "names"), j, name)
        {
          const char *s = json_string_value (name);
          if (seccomp_syscall_resolve_name_arch (x86, s) < 0 && seccomp_syscall_resolve_name_arch (arm, s) < 0)
            fail_msg ("default.json: %s is not a system call on x86_64 or aarch64", s);
          if (json_array_size (json_object_get (rule, "args")) == 0)
            {
              if (json_object_get (seen, s))
                fail_msg ("default.json: %s listed twice", s);
              json_object_set_new (seen, s, json_true ());
              count++;
            }
        }
    }
  /* The calls that must stay out: they reach past the sandbox's own kernel or administer it. */
  {
    static const char *const never[]
        = { "mount", "umount2", "pivot_root", "unshare", "setns", "init_module", "finit_module", "delete_module",
            "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "bpf", "perf_event_open",
            "open_by_handle_at", "userfaultfd", "keyctl", "add_key", "request_key", "iopl", "ioperm",
            "settimeofday", "clock_settime", "acct", "syslog", "io_uring_setup", "fsopen", "move_mount", NULL };
    for (const char *const *n = never; *n; n++)
      if (json_object_get (seen, *n))
        fail_msg ("default.json allows %s", *n);
  }
  /* glibc falls back on ENOSYS only: these must reach gVisor, which answers ENOSYS itself. */
  {
    static const char *const needed[] = { "clone3", "faccessat2", "pselect6", "rseq", "statx", "close_range",
                                          "getrandom", "openat", "newfstatat", "futex", NULL };
    for (const char *const *n = needed; *n; n++)
      if (!json_object_get (seen, *n))
        fail_msg ("default.json does not allow %s", *n);
  }
  print_message ("default.json allows %zu system calls unconditionally\n", count);
  assert_true (count >= 250);
}

/* The embedded default policy carries the required drop-list and deny rules. */
static void
test_default_policy (void **state)
{
  struct rh_policy *p = NULL;
  rh_error err = { 0 };
  static const char *const required[] = { "CAP_SYS_ADMIN", "CAP_NET_ADMIN",  "CAP_NET_RAW",         "CAP_SYS_MODULE",
                                          "CAP_SYS_PTRACE", "CAP_SYS_RAWIO", "CAP_DAC_READ_SEARCH", NULL };

  if (rh_policy_parse (rh_default_policy_json, strlen (rh_default_policy_json), NULL, &p, &err) < 0)
    fail_msg ("%s", err.msg);
  for (const char *const *c = required; *c; c++)
    assert_true (rh_strv_contains (p->caps.drop, *c));
  assert_true (p->caps.no_new_privileges);
  assert_string_equal (p->seccomp.default_profile, RH_SECCOMP_DEFAULT_PROFILE);
  /* Installed, or found in this source tree: a build tree runs without `cmake --install`. */
  {
    const json_t *prof = NULL;
    const char *source = NULL;
    if (rh_seccomp_default_profile (&p->seccomp, &prof, &source, &err) < 0)
      fail_msg ("%s", err.msg);
    assert_non_null (prof);
    assert_non_null (source);
  }
  assert_true (json_array_size (p->seccomp.deny) >= 2);
  assert_true (p->seccomp.enosys_as_trace);
  rh_policy_free (p);
}

/* The default policy's deny rules, merged into the shipped profile, still allow the socket
 * families ordinary programs use and come first. */
static void
test_default_rules_order (void **state)
{
  struct rh_policy *p = NULL;
  rh_error err = { 0 };
  _cleanup_json_ json_t *spec = json_object ();
  json_t *sys;
  struct rh_rewrite_ctx ctx;

  assert_int_equal (rh_policy_parse (rh_default_policy_json, strlen (rh_default_policy_json), NULL, &p, &err), 0);
  ctx = (struct rh_rewrite_ctx) { .policy = p };
  assert_int_equal (rh_seccomp_rewrite (spec, &ctx, &err), 0);
  sys = json_object_get (json_object_get (json_object_get (spec, "linux"), "seccomp"), "syscalls");
  assert_true (json_array_size (sys) > 2);
  for (size_t i = 0; i < 2; i++)
    {
      json_t *r = json_array_get (sys, i);
      assert_string_equal (json_string_value (json_object_get (r, "action")), "SCMP_ACT_ERRNO");
      assert_string_equal (json_string_value (json_array_get (json_object_get (r, "names"), 0)), "socket");
    }
  rh_policy_free (p);
}

static void
test_action_rank (void **state)
{
  assert_true (rh_seccomp_action_rank ("SCMP_ACT_KILL_PROCESS") < rh_seccomp_action_rank ("SCMP_ACT_KILL"));
  assert_true (rh_seccomp_action_rank ("SCMP_ACT_KILL") < rh_seccomp_action_rank ("SCMP_ACT_TRAP"));
  assert_true (rh_seccomp_action_rank ("SCMP_ACT_TRAP") < rh_seccomp_action_rank ("SCMP_ACT_ERRNO"));
  assert_true (rh_seccomp_action_rank ("SCMP_ACT_ERRNO") < rh_seccomp_action_rank ("SCMP_ACT_TRACE"));
  assert_true (rh_seccomp_action_rank ("SCMP_ACT_TRACE") < rh_seccomp_action_rank ("SCMP_ACT_ALLOW"));
  assert_int_equal (rh_seccomp_action_rank ("SCMP_ACT_KILL"), rh_seccomp_action_rank ("SCMP_ACT_KILL_THREAD"));
  assert_int_equal (rh_seccomp_action_rank ("SCMP_ACT_ALLOWX"), -1);
  assert_int_equal (rh_seccomp_action_rank (NULL), -1);
}

/* errno names and their aliases. */
static void
test_errno_names (void **state)
{
  static const struct
  {
    const char *spelling;
    int value;
  } cases[] = { { "\"EPERM\"", 1 }, { "\"EWOULDBLOCK\"", 11 }, { "\"ENOTSUP\"", 95 }, { "\"ENOSYS\"", 38 },
                { "13", 13 } };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      _cleanup_free_ char *text = rh_xasprintf (
          "{\"runsc\": {\"path\": \"/usr/bin/runsc\"}, \"protected_paths\": [], \"hook_path\": \"/h\", "
          "\"seccomp\": {\"default_profile\": \"/nonexistent/p.json\", "
          "\"deny\": [{\"names\": [\"chroot\"], \"errno\": %s}]}}", cases[i].spelling);
      struct rh_policy *p = NULL;
      rh_error err = { 0 };
      if (rh_policy_parse (text, strlen (text), NULL, &p, &err) < 0)
        fail_msg ("%s: %s", cases[i].spelling, err.msg);
      assert_int_equal (json_integer_value (json_object_get (json_array_get (p->seccomp.deny, 0), "errnoRet")),
                        cases[i].value);
      /* A missing profile at a chosen path is no error until a spec needs it, and then it is one
       * every time it is asked for. */
      for (int twice = 0; twice < 2; twice++)
        {
          const json_t *prof = NULL;
          assert_int_equal (rh_seccomp_default_profile (&p->seccomp, &prof, NULL, &err), -1);
          assert_int_equal (err.code, ENOENT);
          assert_non_null (strstr (err.msg, "/nonexistent/p.json"));
          assert_null (prof);
        }
      rh_policy_free (p);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_golden),          cmocka_unit_test (test_shipped_profile),
    cmocka_unit_test (test_default_policy),  cmocka_unit_test (test_default_rules_order),
    cmocka_unit_test (test_action_rank),     cmocka_unit_test (test_errno_names),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
