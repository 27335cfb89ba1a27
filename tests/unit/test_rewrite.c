/* Golden tests of the core spec rewrite, and of rh_rewrite_bundle on a temp dir.
 *
 * Each tests/data/rewrite/<case>/ holds in.json and either want.json or want_error.txt (a
 * substring the error must contain); optionally policy.json (else tests/data/rewrite/policy.json),
 * fs.json (the fake file system: see rh_fake_resolver_new) and want_log.txt (lines that must each
 * appear in the log). In want.json, "@POLICY_SHA256@" stands for the policy's hash.
 *
 * Only the key-spelling check and the core modifiers (root, mounts, devices, network, annotations,
 * client hooks, sandbox joins, cgroupsPath, mark) run here, so that these goldens stay valid while the caps/seccomp/gate/hooks modifiers
 * change what they add.
 * Each passing case is run a second time on its own output, which must not change (idempotency).
 *
 * RH_REGEN_GOLDEN=1 writes want.json for cases that lack want.json and want_error.txt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups_path.h"
#include "cleanup.h"
#include "client_hooks.h"
#include "golden.h"
#include "fsutil.h"
#include "joins.h"
#include "nerdctl_annotations.h"
#include "paths.h"
#include "policy.h"
#include "spec_keys.h"
#include "spec_rewrite.h"
#include "util.h"

#define CASES RH_TEST_DATA "/rewrite"
#define TEST_BUNDLE "/run/containerd/io.containerd.runtime.v2.task/default/c1"

static struct rh_policy *
load_policy (const char *path)
{
  struct rh_policy *p = NULL;
  rh_error err;
  if (rh_policy_load_file (path, &p, &err) < 0)
    fail_msg ("%s", err.msg);
  return p;
}

static int
core_rewrite (json_t *spec, const struct rh_rewrite_ctx *ctx, rh_error *err)
{
  if (!json_is_object (spec))
    return rh_error_set (err, EINVAL, "spec: expected a JSON object");
  /* The key-spelling check runs first in rh_spec_rewrite too (spec_keys.h). */
  if (rh_spec_check_keys (spec, err) < 0)
    return -1;
  if (rh_rewrite_root (spec, ctx, err) < 0 || rh_rewrite_mounts (spec, ctx, err) < 0
      || rh_rewrite_devices (spec, ctx, err) < 0 || rh_rewrite_network (spec, ctx, err) < 0
      || rh_rewrite_annotations (spec, ctx, err) < 0 || rh_client_hooks_rewrite (spec, ctx, err) < 0
      || rh_joins_rewrite (spec, ctx, err) < 0 || rh_cgroups_rewrite (spec, ctx, err) < 0
      || rh_nerdctl_annotations_rewrite (spec, ctx, err) < 0
      || rh_rewrite_mark (spec, ctx, err) < 0)
    return -1;
  return 0;
}

/* Replace "@POLICY_SHA256@" values in want by the real hash. */
static void
subst_sha (json_t *want, const char *sha)
{
  json_t *ann = json_object_get (want, "annotations");
  json_t *v = json_object_get (ann, RH_ANNOTATION_POLICY);
  if (json_is_string (v) && strcmp (json_string_value (v), "@POLICY_SHA256@") == 0)
    json_object_set_new (ann, RH_ANNOTATION_POLICY, json_string (sha));
}

/* The adversarial corpus (tests/data/adversarial/<case>/) has the same layout plus a file
 * "expect": denied (the rewrite refuses), stripped (it succeeds and logs that it stripped or
 * removed something by policy) or kept (it succeeds and strips nothing). */
static int
check_expect (const char *dir, const char *name, int r, const char *logtext)
{
  _cleanup_free_ char *path = rh_xasprintf ("%s/expect", dir);
  _cleanup_free_ char *want = golden_slurp (path);
  bool stripped = logtext && (strstr (logtext, "stripped by policy") || strstr (logtext, "removed by policy"));
  const char *got = r < 0 ? "denied" : stripped ? "stripped" : "kept";

  if (want == NULL)
    return 0;
  want[strcspn (want, "\n")] = '\0';
  if (strcmp (want, "denied") != 0 && strcmp (want, "stripped") != 0 && strcmp (want, "kept") != 0)
    {
      print_error ("case %s: expect holds \"%s\", not denied, stripped or kept\n", name, want);
      return 1;
    }
  if (strcmp (want, got) != 0)
    {
      print_error ("case %s: expected %s, got %s\n", name, want, got);
      return 1;
    }
  return 0;
}

static const char *cases_dir = CASES;

static int
run_case (const char *name)
{
  _cleanup_free_ char *dir = rh_xasprintf ("%s/%s", cases_dir, name);
  _cleanup_free_ char *in_path = rh_xasprintf ("%s/in.json", dir);
  _cleanup_free_ char *want_path = rh_xasprintf ("%s/want.json", dir);
  _cleanup_free_ char *err_path = rh_xasprintf ("%s/want_error.txt", dir);
  _cleanup_free_ char *pol_path = rh_xasprintf ("%s/policy.json", dir);
  _cleanup_free_ char *fs_path = rh_xasprintf ("%s/fs.json", dir);
  _cleanup_free_ char *logw_path = rh_xasprintf ("%s/want_log.txt", dir);
  _cleanup_free_ char *want_err = NULL;
  _cleanup_free_ char *logtext = NULL, *first_log = NULL;
  _cleanup_json_ json_t *in = golden_load_json (in_path);
  _cleanup_json_ json_t *fs = NULL;
  _cleanup_json_ json_t *want = NULL;
  struct rh_policy *pol;
  struct rh_resolver *res;
  struct rh_logger lg = RH_LOGGER_INIT;
  struct rh_rewrite_ctx ctx;
  rh_error err = { 0 };
  int r, failed = 0;

  pol = load_policy (access (pol_path, F_OK) == 0 ? pol_path : CASES "/policy.json");
  if (strcmp (cases_dir, CASES) != 0)
    {
      _cleanup_free_ char *expect = rh_xasprintf ("%s/expect", dir);
      if (access (expect, F_OK) != 0)
        fail_msg ("case %s: no expect file (denied, stripped or kept)", name);
    }
  if (access (fs_path, F_OK) == 0)
    fs = golden_load_json (fs_path);
  res = rh_fake_resolver_new (fs, &err);
  if (res == NULL)
    fail_msg ("%s: %s", name, err.msg);
  lg.fd = memfd_create ("log", MFD_CLOEXEC);
  lg.stderr_fd = -1;
  lg.level = RH_LOG_DEBUG;
  ctx = (struct rh_rewrite_ctx) { .policy = pol, .resolver = res, .log = &lg, .bundle = TEST_BUNDLE,
                                  .container_id = "c1" };

  r = core_rewrite (in, &ctx, &err);
  first_log = golden_read_log (lg.fd); /* the first pass's decisions (the second adds its own) */
  want_err = golden_slurp (err_path);
  if (want_err)
    {
      want_err[strcspn (want_err, "\n")] = '\0';
      if (r == 0)
        {
          print_error ("case %s: rewrite succeeded, wanted error containing \"%s\"\n", name, want_err);
          failed = 1;
        }
      else if (strstr (err.msg, want_err) == NULL)
        {
          print_error ("case %s: error \"%s\" lacks \"%s\"\n", name, err.msg, want_err);
          failed = 1;
        }
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
      _cleanup_json_ json_t *copy = json_deep_copy (in);
      json_object_set_new (json_object_get (copy, "annotations"), RH_ANNOTATION_POLICY,
                           json_string ("@POLICY_SHA256@"));
      json_dump_file (copy, want_path, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
      print_message ("case %s: wrote %s\n", name, want_path);
    }
  want = golden_load_json (want_path);
  subst_sha (want, pol->sha256);
  if (!json_equal (in, want))
    {
      _cleanup_free_ char *got = json_dumps (in, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
      print_error ("case %s: output differs from want.json; got:\n%s\n", name, got);
      failed = 1;
      goto out;
    }
  /* Idempotency: the output rewritten again is unchanged. */
  r = core_rewrite (in, &ctx, &err);
  if (r < 0 || !json_equal (in, want))
    {
      print_error ("case %s: second rewrite changed the output (%s)\n", name, r < 0 ? err.msg : "differs");
      failed = 1;
    }

out:
  logtext = golden_read_log (lg.fd);
  if (!failed)
    failed = golden_check_log (name, logtext, logw_path);
  if (!failed)
    failed = check_expect (dir, name, want_err ? -1 : 0, first_log);
  close (lg.fd);
  rh_fake_resolver_free (res);
  rh_policy_free (pol);
  return failed;
}

static void
test_golden (void **state)
{
  cases_dir = CASES;
  golden_run_all (CASES, run_case, 25);
}

/* ---- rh_spec_rewrite (all modifiers) ---- */

/* The seccomp modifier installs a default profile from disk when a spec has none; these tests
 * must not depend on /etc, so their specs bring a profile of their own. */
#define TEST_SECCOMP "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\"]," \
  "\"syscalls\":[{\"names\":[\"read\",\"write\",\"exit_group\"],\"action\":\"SCMP_ACT_ALLOW\"}]}"

/* The adversarial corpus: at least 100 hostile specs, each with its expected outcome. */
static void
test_adversarial (void **state)
{
  cases_dir = RH_TEST_DATA "/adversarial";
  golden_run_all (cases_dir, run_case, 100);
  cases_dir = CASES;
}

static void
test_full_rewrite_marks_and_is_idempotent (void **state)
{
  struct rh_policy *pol = load_policy (CASES "/policy.json");
  _cleanup_json_ json_t *spec = golden_load_json (CASES "/mixed-realistic/in.json");
  _cleanup_json_ json_t *once = NULL;
  struct rh_resolver *res = rh_fake_resolver_new (NULL, NULL);
  struct rh_rewrite_ctx ctx = { .policy = pol, .resolver = res, .bundle = TEST_BUNDLE };
  rh_error err = { 0 };

  json_object_set_new (json_object_get (spec, "linux"), "seccomp", json_loads (TEST_SECCOMP, 0, NULL));
  if (rh_spec_rewrite (spec, &ctx, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_string_equal (json_string_value (json_object_get (json_object_get (spec, "annotations"),
                                                           RH_ANNOTATION_POLICY)),
                       pol->sha256);
  once = json_deep_copy (spec);
  if (rh_spec_rewrite (spec, &ctx, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_true (json_equal (once, spec));

  /* Not an object. */
  {
    _cleanup_json_ json_t *arr = json_array ();
    assert_int_equal (rh_spec_rewrite (arr, &ctx, &err), -1);
    assert_non_null (strstr (err.msg, "expected a JSON object"));
  }
  rh_fake_resolver_free (res);
  rh_policy_free (pol);
}

/* With the real host resolver: a symlink planted in a temp "volume" dir pointing at the socket,
 * and /proc magic links to a pipe. */
static void
test_host_resolver_mounts (void **state)
{
  struct rh_policy *pol = load_policy (CASES "/policy.json");
  struct rh_rewrite_ctx ctx = { .policy = pol, .resolver = rh_host_resolver (), .bundle = TEST_BUNDLE };
  char dir[] = "/tmp/rh-rewrite-vol-XXXXXX";
  _cleanup_free_ char *link = NULL, *spec_text = NULL;
  _cleanup_json_ json_t *spec = NULL;
  rh_error err = { 0 };
  int fds[2];

  assert_non_null (mkdtemp (dir));
  link = rh_xasprintf ("%s/evil", dir);
  assert_int_equal (symlink ("/run/container_launcher/teeserver.sock", link), 0);
  assert_int_equal (pipe (fds), 0);
  spec_text = rh_xasprintf ("{\"mounts\": [{\"destination\": \"/ok\", \"type\": \"bind\", \"source\": \"%s\"},"
                            " {\"destination\": \"/e\", \"type\": \"bind\", \"source\": \"%s\"},"
                            " {\"destination\": \"/p\", \"type\": \"bind\", \"source\": \"/proc/self/fd/%d\"}]}",
                            dir, link, fds[0]);
  spec = json_loads (spec_text, 0, NULL);
  assert_non_null (spec);
  if (rh_rewrite_mounts (spec, &ctx, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_int_equal (json_array_size (json_object_get (spec, "mounts")), 1);
  assert_string_equal (json_string_value (json_object_get (json_array_get (json_object_get (spec, "mounts"), 0),
                                                           "destination")),
                       "/ok");

  /* /dev/fd/N leads through /proc/self/fd to a pipe: it cannot be checked, so it is refused even
   * in strip mode. */
  json_decref (spec);
  free (spec_text);
  spec_text = rh_xasprintf ("{\"mounts\": [{\"destination\": \"/p\", \"type\": \"bind\", \"source\": \"/dev/fd/%d\"}]}",
                            fds[0]);
  spec = json_loads (spec_text, 0, NULL);
  assert_int_equal (rh_rewrite_mounts (spec, &ctx, &err), -1);
  assert_non_null (strstr (err.msg, "denied by policy (protected_paths): cannot resolve host path /dev/fd/"));

  close (fds[0]);
  close (fds[1]);
  unlink (link);
  rmdir (dir);
  rh_policy_free (pol);
}

/* ---- rh_rewrite_bundle on a temp dir ---- */

struct bundle_fixture
{
  char dir[64];
  struct rh_policy *pol;
  struct rh_rewrite_ctx ctx;
};

static int
bundle_setup (void **state)
{
  struct bundle_fixture *f = rh_xmalloc0 (sizeof *f);
  snprintf (f->dir, sizeof f->dir, "/tmp/rh-test-bundle-XXXXXX");
  if (mkdtemp (f->dir) == NULL)
    return -1;
  {
    /* The rootfs must exist: a missing one is refused (rewrite_root). */
    _cleanup_free_ char *rootfs = rh_xasprintf ("%s/rootfs", f->dir);
    if (mkdir (rootfs, 0755) < 0)
      return -1;
  }
  f->pol = load_policy (CASES "/policy.json");
  f->ctx = (struct rh_rewrite_ctx) { .policy = f->pol, .resolver = rh_host_resolver (), .bundle = f->dir };
  *state = f;
  return 0;
}

static int
bundle_teardown (void **state)
{
  struct bundle_fixture *f = *state;
  DIR *d = opendir (f->dir);
  struct dirent *de;
  while (d && (de = readdir (d)))
    if (de->d_name[0] != '.' || (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0))
      {
        _cleanup_free_ char *p = rh_xasprintf ("%s/%s", f->dir, de->d_name);
        if (unlink (p) < 0 && errno == EISDIR)
          rmdir (p);
      }
  if (d)
    closedir (d);
  rmdir (f->dir);
  rh_policy_free (f->pol);
  free (f);
  return 0;
}

static void
write_file (const char *dir, const char *name, const char *text, mode_t mode)
{
  _cleanup_free_ char *p = rh_xasprintf ("%s/%s", dir, name);
  rh_error err;
  assert_int_equal (rh_write_file_atomic (p, text, strlen (text), mode, &err), 0);
}

static char *
read_in (const char *dir, const char *name)
{
  _cleanup_free_ char *p = rh_xasprintf ("%s/%s", dir, name);
  return golden_slurp (p);
}

/* Names of the entries in dir, sorted, joined by spaces. */
static char *
listing (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  _cleanup_strv_ char **names = rh_xmalloc0 (sizeof (char *));
  char *out = rh_xstrdup ("");
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      rh_strv_push (&names, de->d_name);
  closedir (d);
  qsort (names, rh_strv_len (names), sizeof (char *), golden_cmp_str);
  for (char **p = names; *p; p++)
    {
      char *n = rh_xasprintf ("%s%s%s", out, out[0] ? " " : "", *p);
      free (out);
      out = n;
    }
  return out;
}

static const char good_spec[] = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
                                "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
                                "{\"destination\":\"/tee\",\"type\":\"bind\",\"source\":"
                                "\"//run/./container_launcher/\",\"options\":[\"rbind\"]}],"
                                "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"}],\"seccomp\":" TEST_SECCOMP "}}";

static void
test_bundle_success (void **state)
{
  struct bundle_fixture *f = *state;
  _cleanup_free_ char *orig = NULL, *now = NULL, *ls = NULL, *again = NULL;
  _cleanup_json_ json_t *j = NULL;
  _cleanup_free_ char *cfg = rh_xasprintf ("%s/config.json", f->dir);
  rh_error err = { 0 };
  struct stat st;

  write_file (f->dir, "config.json", good_spec, 06777);
  assert_int_equal (chmod (cfg, 06777), 0);
  if (rh_rewrite_bundle (f->dir, &f->ctx, &err) < 0)
    fail_msg ("%s", err.msg);
  orig = read_in (f->dir, "config.json.orig");
  assert_string_equal (orig, good_spec);
  now = read_in (f->dir, "config.json");
  j = json_loads (now, JSON_REJECT_DUPLICATES, NULL);
  assert_non_null (j);
  /* The TEE mount is gone, /proc stays, the network namespace is gone (other modifiers may add
   * things of their own, so only these are checked). */
  {
    size_t i;
    json_t *m;
    bool proc = false;
    json_array_foreach (json_object_get (j, "mounts"), i, m)
      {
        const char *dst = json_string_value (json_object_get (m, "destination"));
        assert_string_not_equal (dst, "/tee");
        if (strcmp (dst, "/proc") == 0)
          proc = true;
      }
    assert_true (proc);
    json_array_foreach (json_object_get (json_object_get (j, "linux"), "namespaces"), i, m)
      assert_string_not_equal (json_string_value (json_object_get (m, "type")), "network");
  }
  assert_string_equal (json_string_value (json_object_get (json_object_get (j, "annotations"), RH_ANNOTATION_POLICY)),
                       f->pol->sha256);
  /* Root-written files get a mode of our own, never the client's bits (setuid, world-writable). */
  assert_int_equal (stat (cfg, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);
  {
    _cleanup_free_ char *op = rh_xasprintf ("%s/config.json.orig", f->dir);
    assert_int_equal (stat (op, &st), 0);
    assert_int_equal (st.st_mode & 07777, 0600);
  }
  ls = listing (f->dir);
  assert_string_equal (ls, "config.json config.json.orig rootfs");

  /* A retried create sees our output: same result, and the first original stays. */
  assert_int_equal (rh_rewrite_bundle (f->dir, &f->ctx, &err), 0);
  again = read_in (f->dir, "config.json");
  assert_string_equal (again, now);
  free (orig);
  orig = read_in (f->dir, "config.json.orig");
  assert_string_equal (orig, good_spec);

  /* A client that forges our mark does not get to skip the .orig copy. */
  {
    _cleanup_free_ char *forged = NULL, *o2 = NULL, *c2 = NULL;
    _cleanup_json_ json_t *spec = json_loads (good_spec, 0, NULL);
    _cleanup_json_ json_t *out = NULL;
    _cleanup_free_ char *op = rh_xasprintf ("%s/config.json.orig", f->dir);
    json_object_set_new (spec, "annotations", json_pack ("{s:s}", RH_ANNOTATION_POLICY, "forged"));
    forged = json_dumps (spec, JSON_COMPACT);
    unlink (op);
    write_file (f->dir, "config.json", forged, 0600);
    if (rh_rewrite_bundle (f->dir, &f->ctx, &err) < 0)
      fail_msg ("%s", err.msg);
    o2 = read_in (f->dir, "config.json.orig");
    assert_string_equal (o2, forged);
    c2 = read_in (f->dir, "config.json");
    out = json_loads (c2, 0, NULL);
    assert_string_equal (json_string_value (json_object_get (json_object_get (out, "annotations"), RH_ANNOTATION_POLICY)),
                         f->pol->sha256);
  }
}

static void
expect_untouched (struct bundle_fixture *f, const char *text, const char *want_err)
{
  _cleanup_free_ char *now = NULL, *ls = NULL;
  rh_error err = { 0 };

  write_file (f->dir, "config.json", text, 0600);
  assert_int_equal (rh_rewrite_bundle (f->dir, &f->ctx, &err), -1);
  if (strstr (err.msg, want_err) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\"", err.msg, want_err);
  now = read_in (f->dir, "config.json");
  assert_string_equal (now, text);
  ls = listing (f->dir);
  assert_string_equal (ls, "config.json rootfs");
}

static void
test_bundle_failures_leave_config_untouched (void **state)
{
  struct bundle_fixture *f = *state;
  struct rh_policy *deny = load_policy (CASES "/policy-deny.json");
  const struct rh_policy *saved = f->ctx.policy;
  _cleanup_free_ char *cfg = rh_xasprintf ("%s/config.json", f->dir);

  expect_untouched (f, "{\"mounts\": [", "config.json: invalid JSON");
  expect_untouched (f, "[1,2]", "config.json: expected a JSON object");
  expect_untouched (f, "{\"a\":1,\"a\":2}", "duplicate object key");
  expect_untouched (f, "{\"root\":{\"path\":\"/\"}}", "root.path / (/) denied by policy (protected_paths)");

  f->ctx.policy = deny;
  expect_untouched (f, good_spec, "mount of //run/./container_launcher/ (resolves to /run/container_launcher) "
                                  "denied by policy (protected_paths)");
  f->ctx.policy = saved;
  rh_policy_free (deny);

  /* A config.json that is a symlink is refused. */
  {
    rh_error err = { 0 };
    unlink (cfg);
    assert_int_equal (symlink ("/etc/hostname", cfg), 0);
    assert_int_equal (rh_rewrite_bundle (f->dir, &f->ctx, &err), -1);
    assert_non_null (strstr (err.msg, "not a regular file"));
    unlink (cfg);
  }
  /* Missing config.json names the file. */
  {
    rh_error err = { 0 };
    assert_int_equal (rh_rewrite_bundle (f->dir, &f->ctx, &err), -1);
    assert_non_null (strstr (err.msg, "config.json"));
  }
  /* A FIFO is refused at once, not read (which would block). */
  {
    rh_error err = { 0 };
    assert_int_equal (mkfifo (cfg, 0600), 0);
    assert_int_equal (rh_rewrite_bundle (f->dir, &f->ctx, &err), -1);
    assert_non_null (strstr (err.msg, "not a regular file"));
    unlink (cfg);
  }
  /* A bundle that others may write is refused: they could swap config.json after the check. */
  {
    for (int k = 0; k < 2; k++)
      {
        mode_t mode = k == 0 ? 0777 : 0775;
        _cleanup_free_ char *now = NULL;
        rh_error err = { 0 };
        write_file (f->dir, "config.json", good_spec, 0644);
        assert_int_equal (chmod (f->dir, mode), 0);
        if (k == 1)
          assert_int_equal (chown (f->dir, geteuid (), 4242), geteuid () == 0 ? 0 : -1);
        if (k == 1 && geteuid () != 0)
          continue;
        assert_int_equal (rh_rewrite_bundle (f->dir, &f->ctx, &err), -1);
        if (strstr (err.msg, "denied by policy (built-in rule: bundle writable only by its owner)") == NULL)
          fail_msg ("%s", err.msg);
        now = read_in (f->dir, "config.json");
        assert_string_equal (now, good_spec);
      }
    assert_int_equal (chmod (f->dir, 0700), 0);
  }
}

/* The bundle dir cannot take the temp file: config.json stays as it was, nothing is left. As
 * root (directory permissions do not bind root) the rewrite runs in a child that drops to nobody. */
static void
test_bundle_unwritable_dir (void **state)
{
  struct bundle_fixture *f = *state;
  _cleanup_free_ char *now = NULL, *ls = NULL;
  rh_error err = { 0 };

  write_file (f->dir, "config.json", good_spec, 0644);
  if (geteuid () == 0)
    {
      int status = 0;
      pid_t pid;
      assert_int_equal (chmod (f->dir, 0755), 0);
      pid = fork ();
      assert_true (pid >= 0);
      if (pid == 0)
        {
          if (setgid (65534) < 0 || setuid (65534) < 0)
            _exit (2);
          _exit (rh_rewrite_bundle (f->dir, &f->ctx, &err) == -1 && strstr (err.msg, "config.json") ? 0 : 1);
        }
      assert_int_equal (waitpid (pid, &status, 0), pid);
      assert_true (WIFEXITED (status));
      assert_int_equal (WEXITSTATUS (status), 0);
    }
  else
    {
      assert_int_equal (chmod (f->dir, 0500), 0);
      assert_int_equal (rh_rewrite_bundle (f->dir, &f->ctx, &err), -1);
      chmod (f->dir, 0700);
    }
  now = read_in (f->dir, "config.json");
  assert_string_equal (now, good_spec);
  ls = listing (f->dir);
  assert_string_equal (ls, "config.json rootfs");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_golden),
    cmocka_unit_test (test_adversarial),
    cmocka_unit_test (test_full_rewrite_marks_and_is_idempotent),
    cmocka_unit_test (test_host_resolver_mounts),
    cmocka_unit_test_setup_teardown (test_bundle_success, bundle_setup, bundle_teardown),
    cmocka_unit_test_setup_teardown (test_bundle_failures_leave_config_untouched, bundle_setup, bundle_teardown),
    cmocka_unit_test_setup_teardown (test_bundle_unwritable_dir, bundle_setup, bundle_teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
