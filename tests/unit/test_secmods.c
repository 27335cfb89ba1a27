/* The three spec modifiers of issue 11 classes 4, 5 and 9 beyond the goldens (tests/data/rewrite
 * and tests/data/adversarial): the argv pattern matcher, the policy keys' errors, the defaults
 * of the installed policy, and the full rewrite with runsc-host's own hook alongside a client's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "cleanup.h"
#include "client_hooks.h"
#include "policy.h"
#include "spec_rewrite.h"
#include "util.h"

#define HOOK "/usr/libexec/runsc-host/runsc-host-hook"
#define BASE_POLICY                                                                                        \
  "\"runsc\": {\"path\": \"/usr/bin/runsc\"}, \"protected_paths\": [\"/run/container_launcher\"], "        \
  "\"hook_path\": \"" HOOK "\""

static struct rh_policy *
policy_with (const char *extra, rh_error *err)
{
  struct rh_policy *p = NULL;
  _cleanup_free_ char *text = rh_xasprintf ("{" BASE_POLICY "%s%s}", extra ? ", " : "", extra ? extra : "");
  if (rh_policy_parse (text, strlen (text), "/etc/runsc-host/config.json", &p, err) < 0)
    return NULL;
  return p;
}

static bool
match (const char *const *pats, const char *argv_json)
{
  _cleanup_json_ json_t *argv = json_loads (argv_json, 0, NULL);
  assert_non_null (argv);
  return rh_hook_args_match ((char *const *) pats, argv);
}

static void
test_args_patterns (void **state)
{
  static const char *const p[] = { "nerdctl|*/nerdctl", "--a=*|--b...", "internal", "oci-hook", "x|y", NULL };
  static const char *const one[] = { "libnetwork-setkey", NULL };

  assert_true (match (p, "[\"nerdctl\", \"internal\", \"oci-hook\", \"x\"]"));
  assert_true (match (p, "[\"/usr/bin/nerdctl\", \"--a=1\", \"--b\", \"--a=2\", \"internal\", \"oci-hook\", \"y\"]"));
  assert_false (match (p, "[\"nerdctl\", \"--c\", \"internal\", \"oci-hook\", \"x\"]"));
  assert_false (match (p, "[\"nerdctl\", \"internal\", \"oci-hook\", \"x\", \"extra\"]"));
  assert_false (match (p, "[\"nerdctl\", \"internal\", \"oci-hook\"]"));
  assert_false (match (p, "[\"sh\", \"internal\", \"oci-hook\", \"x\"]"));
  assert_false (match (p, "[\"nerdctl\", \"internal\", \"oci-hook\", 7]"));
  assert_false (match (p, "{}"));
  assert_true (match (one, "[\"libnetwork-setkey\"]"));
  /* No patterns: at most a plain argv[0]. */
  assert_true (rh_hook_args_match (NULL, NULL));
  assert_true (match (NULL, "[]"));
  assert_true (match (NULL, "[\"tool\"]"));
  assert_false (match (NULL, "[\"tool\", \"-c\"]"));
}

static void
test_policy_errors (void **state)
{
  static const struct
  {
    const char *extra, *want;
  } cases[] = {
    { "\"hooks\": {\"action\": \"maybe\"}", "policy key hooks.action: maybe is not \"deny\" or \"strip\"" },
    { "\"hooks\": {\"allowed\": [{\"args\": []}]}", "policy key hooks.allowed[0].path: missing" },
    { "\"hooks\": {\"allowed\": [{\"path\": \"bin/x\"}]}", "policy key hooks.allowed[0].path: path bin/x is not absolute" },
    { "\"hooks\": {\"allowed\": [{\"path\": \"/x\", \"kinds\": [\"preStart\"]}]}",
      "policy key hooks.allowed[0].kinds[0]: preStart is not an OCI hook list" },
    { "\"hooks\": {\"allowed\": [{\"path\": \"/x\", \"argv\": []}]}", "policy key hooks.allowed[0].argv: unknown key" },
    { "\"hooks\": {\"allowed\": {}}", "policy key hooks.allowed: expected an array of objects" },
    { "\"hooks\": {\"env_deny\": \"LD_*\"}", "policy key hooks.env_deny: expected an array of strings" },
    { "\"allow_sandbox_join\": \"yes\"", "policy key allow_sandbox_join: expected true or false" },
    { "\"cgroups\": {\"allowed_parents\": [\"default\"]}", "policy key cgroups.allowed_parents[0]: default must be an absolute pattern" },
    { "\"cgroups\": {\"denied_parents\": [\"/a/../b\"]}", "policy key cgroups.denied_parents[0]: /a/../b contains \"..\"" },
    { "\"cgroups\": {\"allowed_slices\": [\"a/b.slice\"]}", "policy key cgroups.allowed_slices[0]: a/b.slice must be a slice" },
    { "\"cgroups\": {\"parents\": []}", "policy key cgroups.parents: unknown key" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      rh_error err = { 0 };
      struct rh_policy *p = policy_with (cases[i].extra, &err);
      if (p != NULL)
        fail_msg ("policy with %s parsed", cases[i].extra);
      if (strstr (err.msg, cases[i].want) == NULL)
        fail_msg ("error \"%s\" lacks \"%s\"", err.msg, cases[i].want);
    }
}

/* The shipped policy spells out the same hooks.allowed list as the built-in default. */
static void
test_installed_default_matches_builtin (void **state)
{
  struct rh_policy *shipped = NULL, *builtin;
  rh_error err = { 0 };

  if (rh_policy_parse (rh_default_policy_json, strlen (rh_default_policy_json), NULL, &shipped, &err) < 0)
    fail_msg ("%s", err.msg);
  builtin = policy_with (NULL, &err);
  assert_non_null (builtin);
  assert_int_equal (shipped->client_hooks.n_allowed, builtin->client_hooks.n_allowed);
  for (size_t i = 0; i < builtin->client_hooks.n_allowed; i++)
    {
      const struct rh_hook_allow *a = &shipped->client_hooks.allowed[i], *b = &builtin->client_hooks.allowed[i];
      assert_string_equal (a->path, b->path);
      assert_int_equal (rh_strv_len (a->args), rh_strv_len (b->args));
      for (size_t k = 0; b->args[k]; k++)
        assert_string_equal (a->args[k], b->args[k]);
    }
  assert_int_equal (shipped->client_hooks.action, RH_HOOK_DENY);
  assert_false (shipped->allow_sandbox_join);
  assert_true (shipped->cgroups.leaf_is_container_id);
  rh_policy_free (shipped);
  rh_policy_free (builtin);
}

/* All modifiers: a client's copy of our hook goes (hookspec), nerdctl's stays first, ours is
 * appended, and a second rewrite changes nothing. */
static void
test_full_rewrite_with_client_hooks (void **state)
{
  rh_error err = { 0 };
  struct rh_policy *p = policy_with (NULL, &err);
  struct rh_rewrite_ctx ctx = { .policy = p, .bundle = "/b", .container_id = "c1" };
  _cleanup_json_ json_t *spec = json_loads (
      "{\"process\": {\"args\": [\"sh\"]}, \"root\": {\"path\": \"rootfs\"},"
      " \"linux\": {\"cgroupsPath\": \"/default/c1\", \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\"}},"
      " \"hooks\": {\"createRuntime\": ["
      "   {\"path\": \"/usr/local/bin/nerdctl\", \"args\": [\"nerdctl\", \"internal\", \"oci-hook\", \"createRuntime\"]},"
      "   {\"path\": \"" HOOK "\", \"args\": [\"runsc-host-hook\", \"--config\", \"/tmp/evil\", \"createRuntime\"]}]}}",
      0, NULL);
  _cleanup_json_ json_t *once = NULL;
  json_t *cr;

  assert_non_null (p);
  assert_non_null (spec);
  if (rh_spec_rewrite (spec, &ctx, &err) < 0)
    fail_msg ("%s", err.msg);
  cr = json_object_get (json_object_get (spec, "hooks"), "createRuntime");
  assert_int_equal (json_array_size (cr), 2);
  assert_string_equal (json_string_value (json_object_get (json_array_get (cr, 0), "path")), "/usr/local/bin/nerdctl");
  assert_string_equal (json_string_value (json_object_get (json_array_get (cr, 1), "path")), HOOK);
  assert_string_equal (json_string_value (json_array_get (json_object_get (json_array_get (cr, 1), "args"), 1)),
                       "--config");
  assert_string_equal (json_string_value (json_array_get (json_object_get (json_array_get (cr, 1), "args"), 2)),
                       "/etc/runsc-host/config.json");
  once = json_deep_copy (spec);
  if (rh_spec_rewrite (spec, &ctx, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_true (json_equal (once, spec));

  /* A shell hook fails the whole rewrite with the hook and the key named. */
  json_array_append_new (json_object_get (json_object_get (spec, "hooks"), "poststop"),
                         json_pack ("{s:s, s:[s,s,s]}", "path", "/bin/sh", "args", "sh", "-c", "id"));
  assert_int_equal (rh_spec_rewrite (spec, &ctx, &err), -1);
  assert_string_equal (err.msg, "hook poststop[1] /bin/sh denied by policy (hooks.allowed)");
  rh_policy_free (p);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_args_patterns),
    cmocka_unit_test (test_policy_errors),
    cmocka_unit_test (test_installed_default_matches_builtin),
    cmocka_unit_test (test_full_rewrite_with_client_hooks),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
