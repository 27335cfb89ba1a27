/* [gate] The "gate" policy section, the spec modifier that mounts a sandbox's gate directory at
 * /run/container_launcher, and (when the daemon is built) the wrapper's prepare/release round
 * trip through a real runsc-host-gate started on demand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "gate_policy.h"
#include "policy.h"
#include "spec_rewrite.h"
#include "util.h"

static char *
policy_text (const char *state_dir, const char *gate)
{
  return rh_xasprintf ("{\"runsc\": {\"path\": \"/usr/bin/runsc\"}, \"state_dir\": \"%s\","
                       " \"protected_paths\": [\"/run/container_launcher\", \"%s\"],"
                       " \"hook_path\": \"/usr/libexec/runsc-host/runsc-host-hook\", \"gate\": %s}",
                       state_dir, state_dir, gate);
}

static struct rh_policy *
parse (const char *state_dir, const char *gate, rh_error *err)
{
  _cleanup_free_ char *t = policy_text (state_dir, gate);
  struct rh_policy *p = NULL;
  if (rh_policy_parse (t, strlen (t), NULL, &p, err) < 0)
    return NULL;
  return p;
}

static void
expect_error (const char *gate, const char *want)
{
  rh_error err = { 0 };
  struct rh_policy *p = parse ("/run/runsc-host", gate, &err);
  if (p)
    {
      rh_policy_free (p);
      fail_msg ("parsed, wanted \"%s\": %s", want, gate);
    }
  if (strstr (err.msg, want) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\"", err.msg, want);
}

static void
test_defaults (void **state)
{
  rh_error err = { 0 };
  struct rh_policy *p = parse ("/run/runsc-host", "{}", &err);

  assert_non_null (p);
  assert_false (p->gate.enabled);
  assert_string_equal (p->gate.upstream, "/run/container_launcher/teeserver.sock");
  assert_string_equal (p->gate.socket_dir, "/run/runsc-host/gate");
  assert_string_equal (p->gate.control_socket, "/run/runsc-host/gate.sock");
  assert_true (p->gate.cache_fraction == 0.8);
  assert_true (rh_strv_contains (p->gate.allowed_audiences, "*"));
  assert_true (rh_strv_contains (p->gate.allowed_token_types, "OIDC"));
  rh_policy_free (p);
  /* The shipped default policy parses, with the gate off. */
  p = NULL;
  assert_int_equal (rh_policy_parse (rh_default_policy_json, strlen (rh_default_policy_json), NULL, &p, &err), 0);
  assert_false (p->gate.enabled);
  rh_policy_free (p);
}

static void
test_errors (void **state)
{
  expect_error ("{\"enabled\": 1}", "policy key gate.enabled: expected true or false");
  expect_error ("{\"ratelimit\": 1}", "policy key gate.ratelimit: unknown key");
  expect_error ("{\"sandbox_rate\": 0}", "policy key gate.sandbox_rate: expected a number");
  expect_error ("{\"sandbox_burst\": 0}", "policy key gate.sandbox_burst: expected an integer");
  expect_error ("{\"cache_fraction\": 1.5}", "policy key gate.cache_fraction");
  expect_error ("{\"upstream\": \"tee.sock\"}", "policy key gate.upstream: path tee.sock is not absolute");
  expect_error ("{\"allowed_audiences\": [\"\"]}", "policy key gate.allowed_audiences[0]: empty string");
  expect_error ("{\"allowed_token_types\": \"OIDC\"}", "policy key gate.allowed_token_types: expected an array");
  /* Enabled: the gate's own sockets must be out of every workload's reach. */
  expect_error ("{\"enabled\": true, \"socket_dir\": \"/srv/gate\"}",
                "policy key gate.socket_dir: /srv/gate must lie inside one of protected_paths");
  expect_error ("{\"enabled\": true, \"control_socket\": \"/tmp/gate.sock\"}",
                "policy key gate.control_socket: /tmp/gate.sock must lie inside one of protected_paths");
  expect_error ("{\"enabled\": true, \"upstream\": \"/tmp/tee.sock\"}",
                "policy key gate.upstream: /tmp/tee.sock must lie inside one of protected_paths");
  expect_error ("{\"enabled\": true, \"control_socket\": \"/run/runsc-host/gate/c.sock\"}",
                "must not contain gate.control_socket");
  expect_error ("{\"enabled\": true, \"socket_dir\": \"/run/runsc-host/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
                "policy key gate.socket_dir: too long");
}

static void
test_ids (void **state)
{
  rh_error err = { 0 };
  struct rh_policy *p = parse ("/run/runsc-host", "{\"enabled\": true}", &err);
  char id[200];

  assert_non_null (p);
  assert_int_equal (rh_gate_check_id (&p->gate, "abc-DEF_1.2", &err), 0);
  memset (id, 'f', 64);
  id[64] = '\0';
  assert_int_equal (rh_gate_check_id (&p->gate, id, &err), 0); /* a docker/k8s id fits */
  assert_int_equal (rh_gate_check_id (&p->gate, "", &err), -1);
  assert_int_equal (rh_gate_check_id (&p->gate, NULL, &err), -1);
  assert_int_equal (rh_gate_check_id (&p->gate, "..", &err), -1);
  assert_int_equal (rh_gate_check_id (&p->gate, ".hidden", &err), -1);
  assert_int_equal (rh_gate_check_id (&p->gate, "a/../../etc", &err), -1);
  assert_int_equal (rh_gate_check_id (&p->gate, "a b", &err), -1);
  memset (id, 'f', 120);
  id[120] = '\0';
  assert_int_equal (rh_gate_check_id (&p->gate, id, &err), -1);
  assert_int_equal (err.code, ENAMETOOLONG);
  {
    _cleanup_free_ char *s = rh_gate_socket_path (&p->gate, "abc");
    assert_string_equal (s, "/run/runsc-host/gate/abc/teeserver.sock");
  }
  rh_policy_free (p);
}

static json_t *
rewrite (struct rh_policy *p, const char *id, const char *spec_text, int *ret, rh_error *err)
{
  struct rh_rewrite_ctx ctx = { .policy = p, .container_id = id, .bundle = "/b" };
  json_t *spec = json_loads (spec_text, 0, NULL);
  assert_non_null (spec);
  *ret = rh_gate_rewrite (spec, &ctx, err);
  return spec;
}

static void
test_rewrite (void **state)
{
  rh_error err = { 0 };
  struct rh_policy *p = parse ("/run/runsc-host", "{\"enabled\": true}", &err);
  _cleanup_json_ json_t *spec = NULL;
  _cleanup_json_ json_t *again = NULL;
  _cleanup_json_ json_t *want = NULL;
  struct rh_rewrite_ctx ctx = { .policy = p, .container_id = "c1" };
  int r;

  /* Client mounts at or below the TEE dir go (they would shadow or fake our socket); a tmpfs
   * on /run stays, before ours. */
  spec = rewrite (p, "c1",
                  "{\"mounts\": ["
                  "{\"destination\": \"/run\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"},"
                  "{\"destination\": \"/run//container_launcher/./teeserver.sock\", \"type\": \"bind\", \"source\": \"/srv/fake.sock\"},"
                  "{\"destination\": \"/run/container_launcher\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"},"
                  "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/srv/data\"}]}",
                  &r, &err);
  assert_int_equal (r, 0);
  want = json_loads ("{\"mounts\": ["
                     "{\"destination\": \"/run\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"},"
                     "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/srv/data\"},"
                     "{\"destination\": \"/run/container_launcher\", \"type\": \"bind\","
                     " \"source\": \"/run/runsc-host/gate/c1\", \"options\": [\"bind\", \"ro\", \"nosuid\", \"nodev\", \"noexec\"]}]}",
                     0, NULL);
  if (!json_equal (spec, want))
    fail_msg ("got %s", json_dumps (spec, JSON_COMPACT));
  /* Idempotent. */
  again = json_deep_copy (spec);
  assert_int_equal (rh_gate_rewrite (again, &ctx, &err), 0);
  assert_true (json_equal (again, spec));
  assert_true (rh_gate_is_own_mount (p, "c1", "/run/runsc-host/gate/c1", "/run/container_launcher/"));
  assert_false (rh_gate_is_own_mount (p, "c2", "/run/runsc-host/gate/c1", "/run/container_launcher"));
  assert_false (rh_gate_is_own_mount (p, "c1", "/run/runsc-host/gate", "/run/container_launcher"));
  json_decref (spec);
  /* No mounts at all: one is added. */
  spec = rewrite (p, "c1", "{}", &r, &err);
  assert_int_equal (r, 0);
  assert_int_equal (json_array_size (json_object_get (spec, "mounts")), 1);
  json_decref (spec);
  /* A bad id fails the create. */
  spec = rewrite (p, "../x", "{}", &r, &err);
  assert_int_equal (r, -1);
  assert_non_null (strstr (err.msg, "cannot name a gate socket"));
  json_decref (spec);
  spec = rewrite (p, "c1", "{\"mounts\": {}}", &r, &err);
  assert_int_equal (r, -1);
  rh_policy_free (p);
  /* Disabled: nothing changes. */
  p = parse ("/run/runsc-host", "{\"enabled\": false}", &err);
  json_decref (spec);
  spec = rewrite (p, "c1", "{\"mounts\": [{\"destination\": \"/run/container_launcher\", \"type\": \"tmpfs\"}]}", &r, &err);
  assert_int_equal (r, 0);
  assert_int_equal (json_array_size (json_object_get (spec, "mounts")), 1);
  assert_string_equal (json_string_value (json_object_get (json_array_get (json_object_get (spec, "mounts"), 0), "type")),
                       "tmpfs");
  rh_policy_free (p);
}

/* gate.allowed_bind_sources: with the gate on (--host-uds=open), bind sources outside the list
 * are stripped (or denied), wherever they point. */
static void
test_bind_allowlist (void **state)
{
  rh_error err = { 0 };
  struct rh_policy *p = parse ("/run/runsc-host", "{\"enabled\": true, \"allowed_bind_sources\": [\"/srv//vol/\", \"/etc/hosts\"]}",
                               &err);
  struct rh_rewrite_ctx ctx = { .policy = p, .container_id = "c1", .bundle = "/srv/vol/bundle" };
  _cleanup_json_ json_t *spec = NULL;
  json_t *mounts;

  assert_non_null (p);
  assert_string_equal (p->gate.allowed_bind_sources[0], "/srv/vol");
  spec = json_loads ("{\"mounts\": ["
                     "{\"destination\": \"/a\", \"type\": \"bind\", \"source\": \"/srv/vol/a\"},"
                     "{\"destination\": \"/b\", \"type\": \"none\", \"source\": \"/srv/other\", \"options\": [\"rbind\"]},"
                     "{\"destination\": \"/c\", \"type\": \"bind\", \"source\": \"/srv/vol/../other\"},"
                     "{\"destination\": \"/d\", \"type\": \"bind\", \"source\": \"data\"},"
                     "{\"destination\": \"/etc/hosts\", \"type\": \"bind\", \"source\": \"/etc/hosts\"},"
                     "{\"destination\": \"/tmp\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}]}",
                     0, NULL);
  assert_int_equal (rh_gate_rewrite (spec, &ctx, &err), 0);
  mounts = json_object_get (spec, "mounts");
  assert_int_equal (json_array_size (mounts), 5);
  assert_string_equal (json_string_value (json_object_get (json_array_get (mounts, 0), "destination")), "/a");
  assert_string_equal (json_string_value (json_object_get (json_array_get (mounts, 1), "destination")), "/d");
  assert_string_equal (json_string_value (json_object_get (json_array_get (mounts, 2), "destination")), "/etc/hosts");
  assert_string_equal (json_string_value (json_object_get (json_array_get (mounts, 3), "destination")), "/tmp");
  assert_string_equal (json_string_value (json_object_get (json_array_get (mounts, 4), "destination")),
                       "/run/container_launcher");
  /* deny mode: the create fails and says why. */
  p->mount_action = RH_MOUNT_DENY;
  json_decref (spec);
  spec = json_loads ("{\"mounts\": [{\"destination\": \"/b\", \"type\": \"bind\", \"source\": \"/run/dbus\"}]}", 0, NULL);
  assert_int_equal (rh_gate_rewrite (spec, &ctx, &err), -1);
  assert_non_null (strstr (err.msg, "mount of /run/dbus denied by policy (gate.allowed_bind_sources)"));
  rh_policy_free (p);
  expect_error ("{\"allowed_bind_sources\": [\"srv\"]}", "policy key gate.allowed_bind_sources[0]: path srv is not absolute");
}

/* The whole rewrite, run again on its own output, keeps the gate's mount even in deny mode:
 * its source lies under a protected path, and only the gate modifier may own it. */
static void
test_full_rewrite_twice_deny (void **state)
{
  rh_error err = { 0 };
  struct rh_policy *p = parse ("/run/runsc-host", "{\"enabled\": true}", &err);
  _cleanup_json_ json_t *fs = json_loads ("{}", 0, NULL);
  struct rh_resolver *res = rh_fake_resolver_new (fs, &err);
  struct rh_rewrite_ctx ctx = { .policy = p, .container_id = "c1", .bundle = "/b", .resolver = res };
  _cleanup_json_ json_t *spec = NULL;
  _cleanup_json_ json_t *once = NULL;
  _cleanup_free_ char *a = NULL;
  _cleanup_free_ char *b = NULL;

  assert_non_null (p);
  assert_non_null (res);
  p->mount_action = RH_MOUNT_DENY;
  spec = json_loads ("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
                     " \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\"}},"
                     " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"}]}",
                     0, NULL);
  assert_non_null (spec);
  if (rh_spec_rewrite (spec, &ctx, &err) < 0)
    fail_msg ("first pass: %s", err.msg);
  once = json_deep_copy (spec);
  if (rh_spec_rewrite (spec, &ctx, &err) < 0)
    fail_msg ("second pass: %s", err.msg);
  a = json_dumps (once, JSON_SORT_KEYS);
  b = json_dumps (spec, JSON_SORT_KEYS);
  assert_string_equal (a, b);
  assert_non_null (strstr (b, "/run/runsc-host/gate/c1"));
  rh_fake_resolver_free (res);
  rh_policy_free (p);
}

static char unit_dir[] = "/tmp/rh-gate-unit-XXXXXX";
static bool unit_dir_made;

/* Whatever happened in the test: stop a daemon it left running, remove its directory. */
static int
teardown_daemon (void **state)
{
  struct rh_gate_policy g = { 0 };
  json_t *req = json_pack ("{s:s}", "op", "ping"), *resp = NULL;
  rh_error err = { 0 };

  if (!unit_dir_made)
    {
      json_decref (req);
      return 0;
    }
  g.control_socket = rh_xasprintf ("%s/gate.sock", unit_dir);
  if (rh_gate_control_call (&g, req, &resp, &err) == 0)
    {
      kill ((pid_t) json_integer_value (json_object_get (resp, "pid")), SIGTERM);
      json_decref (resp);
      usleep (100000);
    }
  json_decref (req);
  free (g.control_socket);
  {
    _cleanup_free_ char *cmd = rh_xasprintf ("rm -rf '%s'", unit_dir);
    if (system (cmd) != 0)
      fprintf (stderr, "could not remove %s\n", unit_dir);
  }
  unit_dir_made = false;
  return 0;
}

/* The wrapper's side for real: prepare starts the daemon (detached), creates the socket; stats
 * answer; release removes it; release again is fine; the daemon dies on SIGTERM. */
static void
test_prepare_release (void **state)
{
  _cleanup_free_ char *bin = rh_xstrdup (RH_BINARY_DIR "/gate/runsc-host-gate");
  char *dir = unit_dir;
  _cleanup_free_ char *gate = NULL;
  _cleanup_free_ char *text = NULL;
  _cleanup_free_ char *pfile = NULL;
  _cleanup_free_ char *sock = NULL;
  _cleanup_json_ json_t *req = NULL;
  _cleanup_json_ json_t *resp = NULL;
  struct rh_policy *p = NULL;
  rh_error err = { 0 };
  struct stat st;
  pid_t pid;

  if (access (bin, X_OK) < 0)
    {
      fprintf (stderr, "skip: %s not built\n", bin);
      skip ();
    }
  assert_non_null (mkdtemp (dir));
  unit_dir_made = true;
  gate = rh_xasprintf ("{\"enabled\": true, \"binary\": \"%s\", \"upstream\": \"%s/tee.sock\"}", bin, dir);
  text = policy_text (dir, gate);
  pfile = rh_xasprintf ("%s/policy.json", dir);
  assert_int_equal (rh_write_file_atomic (pfile, text, strlen (text), 0600, &err), 0);
  assert_int_equal (rh_policy_load_file (pfile, &p, &err), 0);

  /* Not running yet: stats fail with "not running". */
  req = json_pack ("{s:s}", "op", "ping");
  assert_int_equal (rh_gate_control_call (&p->gate, req, &resp, &err), -1);
  assert_true (err.code == ENOENT || err.code == ECONNREFUSED);

  if (rh_gate_prepare (p, "unit-1", NULL, &err) < 0)
    fail_msg ("prepare: %s", err.msg);
  sock = rh_gate_socket_path (&p->gate, "unit-1");
  assert_int_equal (lstat (sock, &st), 0);
  assert_true (S_ISSOCK (st.st_mode));
  /* Twice is fine. */
  assert_int_equal (rh_gate_prepare (p, "unit-1", NULL, &err), 0);

  assert_int_equal (rh_gate_control_call (&p->gate, req, &resp, &err), 0);
  pid = (pid_t) json_integer_value (json_object_get (resp, "pid"));
  assert_true (pid > 1);
  assert_string_equal (json_string_value (json_object_get (resp, "policy_sha256")), p->sha256);
  json_decref (req);
  json_decref (resp);
  resp = NULL;
  req = json_pack ("{s:s, s:s}", "op", "stats", "id", "nope");
  assert_int_equal (rh_gate_control_call (&p->gate, req, &resp, &err), -1);
  assert_non_null (strstr (err.msg, "no gate socket for container nope"));
  json_decref (req);
  req = json_pack ("{s:s, s:s}", "op", "frobnicate", "id", "x");
  assert_int_equal (rh_gate_control_call (&p->gate, req, &resp, &err), -1);
  assert_non_null (strstr (err.msg, "unknown op"));

  assert_int_equal (rh_gate_release (p, "unit-1", NULL, &err), 0);
  assert_int_equal (lstat (sock, &st), -1);
  assert_int_equal (rh_gate_release (p, "unit-1", NULL, &err), 0);

  /* SIGTERM: the daemon stops and removes its control socket (it is not our child, so we watch
   * the socket rather than wait for the pid). */
  assert_int_equal (kill (pid, SIGTERM), 0);
  for (int i = 0; i < 200 && stat (p->gate.control_socket, &st) == 0; i++)
    usleep (10000);
  assert_int_equal (stat (p->gate.control_socket, &st), -1);
  /* With the daemon gone, release still cleans up by itself. */
  {
    _cleanup_free_ char *d = rh_gate_sandbox_dir (&p->gate, "unit-2");
    assert_int_equal (mkdir (d, 0755), 0);
    assert_int_equal (rh_gate_release (p, "unit-2", NULL, &err), 0);
    assert_int_equal (lstat (d, &st), -1);
  }
  rh_policy_free (p);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_defaults), cmocka_unit_test (test_errors),          cmocka_unit_test (test_ids),
    cmocka_unit_test (test_rewrite),  cmocka_unit_test (test_bind_allowlist), cmocka_unit_test (test_full_rewrite_twice_deny), cmocka_unit_test_teardown (test_prepare_release, teardown_daemon),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
