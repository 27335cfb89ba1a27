/* The hooks modifier (our hook injected at createRuntime and poststop, client hooks kept in
 * order, idempotent, client copies of our hook removed, ports validated at create time) and the
 * hook's own input: the OCI state on stdin and the annotations of the bundle's spec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "hookspec.h"
#include "policy.h"
#include "rules.h"
#include "spec_rewrite.h"
#include "util.h"

#define HOOK "/usr/libexec/runsc-host/runsc-host-hook"

#define assert_contains(hay, needle)                                                                         \
  do                                                                                                         \
    {                                                                                                        \
      if (strstr ((hay), (needle)) == NULL)                                                                  \
        fail_msg ("expected \"%s\" in \"%s\"", (needle), (hay));                                             \
    }                                                                                                        \
  while (0)

static struct rh_policy *
policy (const char *source_path, const char *extra)
{
  struct rh_policy *p = NULL;
  rh_error err;
  _cleanup_free_ char *text
      = rh_xasprintf ("{\"protected_paths\":[\"/run/container_launcher\"],\"hook_path\":\"" HOOK "\","
                      "\"runsc\":{\"path\":\"/usr/bin/runsc\"}%s%s}",
                      *extra ? "," : "", extra);
  if (rh_policy_parse (text, strlen (text), source_path, &p, &err) < 0)
    fail_msg ("%s", err.msg);
  return p;
}

static json_t *
parse (const char *text)
{
  json_error_t jerr;
  json_t *j = json_loads (text, 0, &jerr);
  if (j == NULL)
    fail_msg ("bad test JSON: %s: %s", jerr.text, text);
  return j;
}

static void
assert_json (json_t *got, const char *want_text)
{
  _cleanup_json_ json_t *want = parse (want_text);
  if (!json_equal (got, want))
    {
      _cleanup_free_ char *g = json_dumps (got, JSON_SORT_KEYS);
      _cleanup_free_ char *w = json_dumps (want, JSON_SORT_KEYS);
      fail_msg ("got  %s\nwant %s", g, w);
    }
}

static int
rewrite (json_t *spec, struct rh_policy *p, const char *id, rh_error *err)
{
  struct rh_rewrite_ctx ctx = { .policy = p, .container_id = id, .bundle = "/b" };
  return rh_hooks_rewrite (spec, &ctx, err);
}

#define OURS_CR(cfg)                                                                                         \
  "{\"path\":\"" HOOK "\",\"args\":[\"runsc-host-hook\"," cfg ",\"createRuntime\"],\"timeout\":30,"          \
  "\"env\":[\"" RH_HOOK_ENV_PATH "\",\"LC_ALL=C\"]}"
#define OURS_PS(cfg)                                                                                         \
  "{\"path\":\"" HOOK "\",\"args\":[\"runsc-host-hook\"," cfg ",\"poststop\"],\"timeout\":30,"               \
  "\"env\":[\"" RH_HOOK_ENV_PATH "\",\"LC_ALL=C\"]}"

static void
test_inject_empty (void **state)
{
  struct rh_policy *p = policy ("/etc/runsc-host/config.json", "");
  _cleanup_json_ json_t *spec = parse ("{\"ociVersion\":\"1.0.2\"}");
  rh_error err;

  assert_int_equal (rewrite (spec, p, "c1", &err), 0);
  assert_json (spec, "{\"ociVersion\":\"1.0.2\",\"hooks\":{"
                     "\"createRuntime\":[" OURS_CR ("\"--config\",\"/etc/runsc-host/config.json\"") "],"
                     "\"poststop\":[" OURS_PS ("\"--config\",\"/etc/runsc-host/config.json\"") "]}}");
  rh_policy_free (p);
}

static void
test_inject_embedded_policy (void **state)
{
  struct rh_policy *p = policy (NULL, "");
  _cleanup_json_ json_t *spec = parse ("{\"hooks\":null}");
  rh_error err;

  assert_int_equal (rewrite (spec, p, "c1", &err), 0);
  assert_json (spec, "{\"hooks\":{\"createRuntime\":[" OURS_CR ("\"--embedded-policy\"") "],"
                     "\"poststop\":[" OURS_PS ("\"--embedded-policy\"") "]}}");
  rh_policy_free (p);
}

/* nerdctl's own hooks stay first and in order; other lists are untouched. */
static const char client_spec[]
    = "{\"hooks\":{"
      "\"prestart\":[{\"path\":\"/usr/bin/pre\"}],"
      "\"createRuntime\":[{\"path\":\"/usr/local/bin/nerdctl\",\"args\":[\"nerdctl\",\"internal\",\"oci-hook\","
      "\"createRuntime\"]},{\"path\":\"/usr/bin/second\"}],"
      "\"poststop\":[{\"path\":\"/usr/local/bin/nerdctl\",\"args\":[\"nerdctl\",\"internal\",\"oci-hook\","
      "\"postStop\"],\"env\":[\"A=1\"]}],"
      "\"startContainer\":[{\"path\":\"/usr/bin/sc\"}]}}";

static const char client_want[]
    = "{\"hooks\":{"
      "\"prestart\":[{\"path\":\"/usr/bin/pre\"}],"
      "\"createRuntime\":[{\"path\":\"/usr/local/bin/nerdctl\",\"args\":[\"nerdctl\",\"internal\",\"oci-hook\","
      "\"createRuntime\"]},{\"path\":\"/usr/bin/second\"}," OURS_CR ("\"--embedded-policy\"") "],"
      "\"poststop\":[{\"path\":\"/usr/local/bin/nerdctl\",\"args\":[\"nerdctl\",\"internal\",\"oci-hook\","
      "\"postStop\"],\"env\":[\"A=1\"]}," OURS_PS ("\"--embedded-policy\"") "],"
      "\"startContainer\":[{\"path\":\"/usr/bin/sc\"}]}}";

static void
test_keep_client_hooks (void **state)
{
  struct rh_policy *p = policy (NULL, "");
  _cleanup_json_ json_t *spec = parse (client_spec);
  rh_error err;

  assert_int_equal (rewrite (spec, p, "c1", &err), 0);
  assert_json (spec, client_want);
  rh_policy_free (p);
}

static void
test_idempotent (void **state)
{
  struct rh_policy *p = policy ("/etc/p.json", "");
  _cleanup_json_ json_t *spec = parse (client_spec);
  _cleanup_json_ json_t *once = NULL;
  rh_error err;

  assert_int_equal (rewrite (spec, p, "c1", &err), 0);
  once = json_deep_copy (spec);
  assert_int_equal (rewrite (spec, p, "c1", &err), 0);
  assert_int_equal (rewrite (spec, p, "c1", &err), 0);
  assert_true (json_equal (spec, once));
  assert_int_equal (json_array_size (json_object_get (json_object_get (spec, "hooks"), "createRuntime")), 3);
  rh_policy_free (p);
}

/* A client's entries that run our binary (any spelling of the path, any list) are removed: they
 * could pass arguments of the client's choosing. */
static void
test_strip_client_copies (void **state)
{
  struct rh_policy *p = policy (NULL, "");
  _cleanup_json_ json_t *spec
      = parse ("{\"hooks\":{\"prestart\":[{\"path\":\"/usr/libexec//runsc-host/./runsc-host-hook\",\"args\":[\"x\","
               "\"--config\",\"/tmp/evil.json\",\"createRuntime\"]},{\"path\":\"/usr/bin/pre\"}],"
               "\"poststart\":[{\"path\":\"" HOOK "\",\"args\":[\"x\",\"poststop\"]}],"
               "\"createRuntime\":[{\"path\":\"" HOOK "\"}]}}");
  rh_error err;

  assert_int_equal (rewrite (spec, p, "c1", &err), 0);
  assert_json (spec, "{\"hooks\":{\"prestart\":[{\"path\":\"/usr/bin/pre\"}],\"poststart\":[],"
                     "\"createRuntime\":[" OURS_CR ("\"--embedded-policy\"") "],"
                     "\"poststop\":[" OURS_PS ("\"--embedded-policy\"") "]}}");
  rh_policy_free (p);
}

static void
test_bad_hooks_shape (void **state)
{
  static const struct
  {
    const char *spec, *want;
  } cases[] = {
    { "{\"hooks\":[]}", "hooks: expected an object" },
    { "{\"hooks\":{\"createRuntime\":{}}}", "hooks.createRuntime: expected an array" },
    { "{\"hooks\":{\"poststop\":[1]}}", "hooks.poststop[0]" },
    { "{\"hooks\":{\"prestart\":[{\"args\":[]}]}}", "hooks.prestart[0]" },
    { "{\"annotations\":[]}", "annotations: expected an object" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct rh_policy *p = policy (NULL, "");
      _cleanup_json_ json_t *spec = parse (cases[i].spec);
      rh_error err;
      if (rewrite (spec, p, "c1", &err) == 0)
        fail_msg ("spec %s accepted", cases[i].spec);
      assert_contains (err.msg, cases[i].want);
      rh_policy_free (p);
    }
}

/* A bad port fails the create, naming the port and where it came from, before anything runs. */
static void
test_ports_validated (void **state)
{
  static const struct
  {
    const char *value, *want1, *want2;
  } cases[] = {
    { "80x", "\"80x\"", "org.opencontainers.image.exposedPorts" },
    { "0", "\"0\"", "exposedPorts" },
    { "70000", "\"70000\"", "exposedPorts" },
    { "80/icmp", "\"80/icmp\"", "protocol" },
    { "80;reboot", "\"80;reboot\"", "exposedPorts" },
    { "22", "port 22/tcp", "(ports.deny)" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct rh_policy *p = policy (NULL, "");
      _cleanup_json_ json_t *spec = json_pack ("{s:{s:s}}", "annotations", "org.opencontainers.image.exposedPorts",
                                               cases[i].value);
      rh_error err;
      assert_int_equal (rewrite (spec, p, "c1", &err), -1);
      assert_contains (err.msg, "exposed ports: ");
      assert_contains (err.msg, cases[i].want1);
      assert_contains (err.msg, cases[i].want2);
      rh_policy_free (p);
    }
  {
    struct rh_policy *p = policy (NULL, "");
    _cleanup_json_ json_t *spec
        = parse ("{\"annotations\":{\"org.opencontainers.image.exposedPorts\":\"8080/tcp,53/udp\","
                 "\"nerdctl/exposed-ports\":\"{\\\"9090/tcp\\\":{}}\"}}");
    rh_error err;
    assert_int_equal (rewrite (spec, p, "c1", &err), 0);
    rh_policy_free (p);
  }
}

static void
test_bad_container_id (void **state)
{
  struct rh_policy *p = policy (NULL, "");
  _cleanup_json_ json_t *spec = parse ("{}");
  rh_error err;

  assert_int_equal (rewrite (spec, p, "a\"b", &err), -1);
  assert_contains (err.msg, "container id");
  rh_policy_free (p);
}

/* ---- the hook's input ---- */

static void
test_state_valid (void **state)
{
  static const char text[] = "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"created\",\"pid\":4242,"
                             "\"bundle\":\"/run/x//bundle/\",\"annotations\":{\"a\":\"b\"},\"future\":1}";
  struct rh_hook_state st;
  rh_error err;

  assert_int_equal (rh_hook_state_parse (text, strlen (text), &st, &err), 0);
  assert_string_equal (st.id, "c1");
  assert_int_equal (st.pid, 4242);
  assert_string_equal (st.status, "created");
  assert_string_equal (st.bundle, "/run/x/bundle");
  assert_non_null (st.annotations);
  rh_hook_state_clear (&st);
}

static void
test_state_poststop (void **state)
{
  static const char *const texts[] = {
    "{\"id\":\"c1\",\"status\":\"stopped\",\"pid\":-1,\"bundle\":\"/b\"}",
    "{\"id\":\"c1\",\"status\":\"stopped\",\"bundle\":\"/b\"}",
    "{\"id\":\"c1\",\"status\":\"stopped\",\"pid\":0,\"bundle\":\"/b\"}",
  };
  for (size_t i = 0; i < 3; i++)
    {
      struct rh_hook_state st;
      rh_error err;
      if (rh_hook_state_parse (texts[i], strlen (texts[i]), &st, &err) < 0)
        fail_msg ("%s: %s", texts[i], err.msg);
      assert_int_equal (st.pid, 0);
      rh_hook_state_clear (&st);
    }
}

static void
test_state_invalid (void **state)
{
  static const struct
  {
    const char *text, *want;
  } cases[] = {
    { "", "invalid JSON" },
    { "[]", "expected a JSON object" },
    { "{\"id\":\"c1\",\"id\":\"c2\",\"status\":\"created\",\"pid\":5,\"bundle\":\"/b\"}", "invalid JSON" },
    { "{\"status\":\"created\",\"pid\":5,\"bundle\":\"/b\"}", "state field id" },
    { "{\"id\":\"../x\",\"status\":\"created\",\"pid\":5,\"bundle\":\"/b\"}", "state field id" },
    { "{\"id\":\"c\\u0000x\",\"status\":\"created\",\"pid\":5,\"bundle\":\"/b\"}", "invalid JSON" },
    { "{\"id\":\"c1\",\"status\":\"weird\",\"pid\":5,\"bundle\":\"/b\"}", "state field status" },
    { "{\"id\":\"c1\",\"pid\":5,\"bundle\":\"/b\"}", "state field status" },
    { "{\"id\":\"c1\",\"status\":\"created\",\"bundle\":\"/b\"}", "state field pid" },
    { "{\"id\":\"c1\",\"status\":\"created\",\"pid\":-5,\"bundle\":\"/b\"}", "state field pid" },
    { "{\"id\":\"c1\",\"status\":\"created\",\"pid\":\"5\",\"bundle\":\"/b\"}", "state field pid" },
    { "{\"id\":\"c1\",\"status\":\"created\",\"pid\":5.5,\"bundle\":\"/b\"}", "state field pid" },
    { "{\"id\":\"c1\",\"status\":\"created\",\"pid\":99999999999,\"bundle\":\"/b\"}", "state field pid" },
    { "{\"id\":\"c1\",\"status\":\"created\",\"pid\":5,\"bundle\":\"b\"}", "state field bundle" },
    { "{\"id\":\"c1\",\"status\":\"created\",\"pid\":5}", "state field bundle" },
    { "{\"id\":\"c1\",\"status\":\"created\",\"pid\":5,\"bundle\":\"/b\\u0000/x\"}", "invalid JSON" },
    { "{\"id\":\"c1\",\"status\":\"created\",\"pid\":5,\"bundle\":\"/b\",\"annotations\":[]}", "annotations" },
    { "{\"id\":\"c1\",\"status\":\"created\",\"pid\":5,\"bundle\":\"/b\",\"annotations\":{\"a\":1}}", "annotation a" },
    { "{\"id\":\"c1\",\"status\":\"created\",\"pid\":5,\"bundle\":\"/b\",\"ociVersion\":2}", "ociVersion" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct rh_hook_state st;
      rh_error err;
      if (rh_hook_state_parse (cases[i].text, strlen (cases[i].text), &st, &err) == 0)
        fail_msg ("state %s accepted", cases[i].text);
      assert_contains (err.msg, cases[i].want);
    }
}

static void
test_state_too_big (void **state)
{
  size_t n = RH_HOOK_STATE_MAX + 1;
  _cleanup_free_ char *big = rh_xmalloc0 (n + 1);
  struct rh_hook_state st;
  rh_error err;

  memset (big, ' ', n);
  assert_int_equal (rh_hook_state_parse (big, n, &st, &err), -1);
  assert_contains (err.msg, "larger than");
}

/* Without annotations in the state (runsc's case) they come from <bundle>/config.json. */
static void
test_annotations_from_bundle (void **state)
{
  char dir[] = "/tmp/rh-test-hookspec.XXXXXX";
  _cleanup_free_ char *cfg = NULL;
  _cleanup_free_ char *text = NULL;
  struct rh_hook_state st;
  json_t *ann = NULL;
  rh_error err;
  FILE *f;

  assert_non_null (mkdtemp (dir));
  cfg = rh_xasprintf ("%s/config.json", dir);
  f = fopen (cfg, "w");
  assert_non_null (f);
  fputs ("{\"annotations\":{\"org.opencontainers.image.exposedPorts\":\"80/tcp\"}}", f);
  fclose (f);
  text = rh_xasprintf ("{\"id\":\"c1\",\"status\":\"created\",\"pid\":5,\"bundle\":\"%s\"}", dir);
  assert_int_equal (rh_hook_state_parse (text, strlen (text), &st, &err), 0);
  assert_int_equal (rh_hook_annotations (&st, &ann, &err), 0);
  assert_string_equal (json_string_value (json_object_get (ann, "org.opencontainers.image.exposedPorts")), "80/tcp");
  json_decref (ann);

  /* A missing spec is an error (the hook must not silently open nothing). */
  unlink (cfg);
  assert_int_equal (rh_hook_annotations (&st, &ann, &err), -1);
  assert_contains (err.msg, "config.json");
  rh_hook_state_clear (&st);
  rmdir (dir);

  assert_int_equal (rh_hook_spec_annotations ("{}", 2, &ann, &err), 0);
  assert_null (ann);
  assert_int_equal (rh_hook_spec_annotations ("{\"annotations\":{\"x\":[]}}", 23, &ann, &err), -1);
  assert_int_equal (rh_hook_spec_annotations ("[", 1, &ann, &err), -1);
}

/* Class 10 of issue 11: the hook acts only under the policy the rewrite marked the spec with. */
static void
test_policy_mark_checked (void **state)
{
  struct rh_policy *file = policy ("/etc/runsc-host/config.json", "");
  struct rh_policy *other = policy ("/etc/runsc-host/config.json", "\"comment\":\"changed\"");
  struct rh_policy *embedded = NULL;
  struct rh_rewrite_ctx ctx = { .policy = file, .container_id = "c1", .bundle = "/b" };
  /* A client's own copy of the mark is overwritten (and stripped earlier by the rewrite). */
  _cleanup_json_ json_t *spec = parse ("{\"annotations\":{\"run.runsc-host.policy-sha256\":\"x\"}}");
  json_t *ann;
  rh_error err;

  assert_int_equal (rh_rewrite_mark (spec, &ctx, &err), 0);
  ann = json_object_get (spec, "annotations");
  assert_int_equal (rh_hook_check_policy (ann, file->sha256, file->source_path, &err), 0);

  /* The file changed between the rewrite and the hook: both hashes and the key are named. */
  assert_string_not_equal (file->sha256, other->sha256);
  assert_int_equal (rh_hook_check_policy (ann, other->sha256, other->source_path, &err), -1);
  assert_int_equal (err.code, EPERM);
  assert_contains (err.msg, "policy /etc/runsc-host/config.json has sha256 ");
  assert_contains (err.msg, other->sha256);
  assert_contains (err.msg, file->sha256);
  assert_contains (err.msg, "(annotation run.runsc-host.policy-sha256)");

  /* The embedded default: the rewrite and the hook hash the same compiled-in text. */
  assert_int_equal (rh_policy_parse (rh_default_policy_json, strlen (rh_default_policy_json), NULL, &embedded, &err),
                    0);
  ctx.policy = embedded;
  assert_int_equal (rh_rewrite_mark (spec, &ctx, &err), 0);
  assert_int_equal (rh_hook_check_policy (ann, embedded->sha256, NULL, &err), 0);
  assert_int_equal (rh_hook_check_policy (ann, file->sha256, file->source_path, &err), -1);
  /* And a file policy against a spec made under the embedded one names the latter's hash. */
  assert_contains (err.msg, embedded->sha256);
  assert_int_equal (rh_hook_check_policy (ann, "0", NULL, &err), -1);
  assert_contains (err.msg, "policy embedded default policy has sha256 0,");

  rh_policy_free (file);
  rh_policy_free (other);
  rh_policy_free (embedded);
}

static void
test_policy_mark_bad (void **state)
{
  static const char sha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  static const char *const bad[] = {
    "{\"run.runsc-host.policy-sha256\":\"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"}",
    "{\"run.runsc-host.policy-sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\"}",
    "{\"run.runsc-host.policy-sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0\"}",
    "{\"run.runsc-host.policy-sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\"}",
    "{\"run.runsc-host.policy-sha256\":\"\"}",
    "{\"run.runsc-host.policy-sha256\":42}",
    "{\"run.runsc-host.policy-sha256\":null}",
  };
  rh_error err;

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      _cleanup_json_ json_t *ann = parse (bad[i]);
      if (rh_hook_check_policy (ann, sha, "/p.json", &err) == 0)
        fail_msg ("accepted %s", bad[i]);
      assert_int_equal (err.code, EPERM);
      assert_contains (err.msg, "annotation run.runsc-host.policy-sha256: expected 64 lower-case hex digits");
    }
  {
    _cleanup_json_ json_t *ann = json_pack ("{s:s}", RH_ANNOTATION_POLICY, sha);
    assert_int_equal (rh_hook_check_policy (ann, sha, "/p.json", &err), 0);
  }
  {
    /* An embedded NUL (a json_t can hold one) does not cut the value short. */
    _cleanup_json_ json_t *ann = json_object ();
    json_object_set_new (ann, RH_ANNOTATION_POLICY,
                         json_stringn ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\0x", 65));
    assert_int_equal (rh_hook_check_policy (ann, sha, "/p.json", &err), -1);
  }
  /* Missing: no annotations at all, or not this one. */
  assert_int_equal (rh_hook_check_policy (NULL, sha, "/p.json", &err), -1);
  assert_contains (err.msg, "annotation run.runsc-host.policy-sha256 is missing from the spec");
  assert_contains (err.msg, "policy /p.json (sha256 " );
  {
    _cleanup_json_ json_t *ann = parse ("{\"org.opencontainers.image.exposedPorts\":\"80\"}");
    assert_int_equal (rh_hook_check_policy (ann, sha, NULL, &err), -1);
    assert_contains (err.msg, "is missing from the spec");
    assert_contains (err.msg, "embedded default policy");
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_inject_empty),
    cmocka_unit_test (test_inject_embedded_policy),
    cmocka_unit_test (test_keep_client_hooks),
    cmocka_unit_test (test_idempotent),
    cmocka_unit_test (test_strip_client_copies),
    cmocka_unit_test (test_bad_hooks_shape),
    cmocka_unit_test (test_ports_validated),
    cmocka_unit_test (test_bad_container_id),
    cmocka_unit_test (test_state_valid),
    cmocka_unit_test (test_state_poststop),
    cmocka_unit_test (test_state_invalid),
    cmocka_unit_test (test_state_too_big),
    cmocka_unit_test (test_annotations_from_bundle),
    cmocka_unit_test (test_policy_mark_checked),
    cmocka_unit_test (test_policy_mark_bad),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
