/* Unit tests of the capability policy and of the process rewrite used for `exec --process`.
 * Whole-spec cases (privileged specs, device rules) are goldens in test_seccomp.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "cleanup.h"
#include "policy.h"
#include "util.h"

#define BASE "\"runsc\": {\"path\": \"/usr/bin/runsc\"}, \"protected_paths\": [], \"hook_path\": \"/h\""

static struct rh_policy *
policy (const char *extra)
{
  _cleanup_free_ char *text = rh_xasprintf ("{" BASE "%s%s}", extra ? ", " : "", extra ? extra : "");
  struct rh_policy *p = NULL;
  rh_error err = { 0 };
  if (rh_policy_parse (text, strlen (text), NULL, &p, &err) < 0)
    fail_msg ("%s: %s", text, err.msg);
  return p;
}

static json_t *
parse (const char *text)
{
  json_error_t jerr;
  json_t *j = json_loads (text, 0, &jerr);
  if (j == NULL)
    fail_msg ("%s: %s", text, jerr.text);
  return j;
}

static void
test_default_drop_list (void **state)
{
  struct rh_policy *p = policy (NULL);
  static const char *const defaults[] = { RH_CAPS_DEFAULT_DROP, NULL };

  for (const char *const *c = defaults; *c; c++)
    {
      assert_true (rh_strv_contains (p->caps.drop, *c));
      assert_true (rh_caps_is_dropped (p, *c));
    }
  assert_int_equal (rh_strv_len (p->caps.drop), sizeof defaults / sizeof defaults[0] - 1);
  assert_true (p->caps.no_new_privileges);
  /* Any spelling libcap reads. */
  assert_true (rh_caps_is_dropped (p, "cap_sys_admin"));
  assert_true (rh_caps_is_dropped (p, "21"));
  assert_false (rh_caps_is_dropped (p, "CAP_CHOWN"));
  assert_false (rh_caps_is_dropped (p, "CAP_NOPE"));
  assert_false (rh_caps_is_dropped (p, NULL));
  rh_policy_free (p);
}

static void
test_drop_list_replaces_and_dedups (void **state)
{
  struct rh_policy *p = policy ("\"capabilities\": {\"drop\": [\"CAP_CHOWN\", \"CAP_CHOWN\", \"CAP_KILL\"]}, "
                                "\"no_new_privileges\": false");
  assert_int_equal (rh_strv_len (p->caps.drop), 2);
  assert_true (rh_caps_is_dropped (p, "CAP_CHOWN"));
  assert_false (rh_caps_is_dropped (p, "CAP_SYS_ADMIN"));
  assert_false (p->caps.no_new_privileges);
  rh_policy_free (p);

  p = policy ("\"capabilities\": {\"drop\": []}");
  assert_int_equal (p->caps.drop_mask, 0);
  rh_policy_free (p);
}

static void
test_policy_errors (void **state)
{
  static const struct
  {
    const char *section, *want;
  } cases[] = {
    { "\"capabilities\": {\"drop\": [\"CAP_SYS_ADMIN\", \"SYS_ADMIN\"]}", "capabilities.drop[1]: unknown capability" },
    { "\"capabilities\": {\"drop\": \"CAP_SYS_ADMIN\"}", "capabilities.drop: expected an array of strings" },
    { "\"capabilities\": {\"drop\": [7]}", "capabilities.drop[0]: expected a string" },
    { "\"capabilities\": {\"add\": [\"CAP_CHOWN\"]}", "capabilities.add: unknown key" },
    { "\"capabilities\": [\"CAP_CHOWN\"]", "capabilities: expected an object" },
    { "\"capabilities\": {\"drop\": [\"CAP_ALL\"]}", "capabilities.drop[0]: unknown capability" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      _cleanup_free_ char *text = rh_xasprintf ("{" BASE ", %s}", cases[i].section);
      struct rh_policy *p = NULL;
      rh_error err = { 0 };
      assert_int_equal (rh_policy_parse (text, strlen (text), NULL, &p, &err), -1);
      if (strstr (err.msg, cases[i].want) == NULL)
        fail_msg ("%s: error \"%s\" lacks \"%s\"", cases[i].section, err.msg, cases[i].want);
    }
}

/* The process.json of an exec, as containerd builds it from the client's original spec. */
static void
test_exec_process (void **state)
{
  struct rh_policy *p = policy (NULL);
  _cleanup_json_ json_t *proc = parse (
      "{\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0},"
      " \"capabilities\": {\"bounding\": [\"CAP_SYS_ADMIN\", \"CAP_CHOWN\"], \"effective\": [\"CAP_SYS_ADMIN\"],"
      " \"permitted\": [\"CAP_NET_RAW\", \"CAP_CHOWN\"], \"inheritable\": [], \"ambient\": [\"CAP_BPF\"]},"
      " \"noNewPrivileges\": false}");
  _cleanup_json_ json_t *want = parse (
      "{\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0},"
      " \"capabilities\": {\"bounding\": [\"CAP_CHOWN\"], \"effective\": [], \"permitted\": [\"CAP_CHOWN\"],"
      " \"inheritable\": [], \"ambient\": []}, \"noNewPrivileges\": true}");
  rh_error err = { 0 };

  assert_int_equal (rh_caps_rewrite_process (proc, p, NULL, "process.json", &err), 0);
  assert_true (json_equal (proc, want));
  assert_int_equal (rh_caps_rewrite_process (proc, p, NULL, "process.json", &err), 0);
  assert_true (json_equal (proc, want));

  {
    _cleanup_json_ json_t *bad = parse ("[1]");
    assert_int_equal (rh_caps_rewrite_process (bad, p, NULL, "process.json", &err), -1);
    assert_string_equal (err.msg, "process.json: expected an object");
  }
  {
    _cleanup_json_ json_t *bad = parse ("{\"capabilities\": {\"effective\": [\"CAP_CHOWN\", 3]}}");
    assert_int_equal (rh_caps_rewrite_process (bad, p, NULL, "process.json", &err), -1);
    assert_string_equal (err.msg, "process.json.capabilities.effective[1]: expected a capability name");
  }
  {
    /* No capabilities at all: nothing to drop, noNewPrivileges still forced. */
    _cleanup_json_ json_t *bare = parse ("{\"args\": [\"true\"]}");
    assert_int_equal (rh_caps_rewrite_process (bare, p, NULL, "process", &err), 0);
    assert_true (json_is_true (json_object_get (bare, "noNewPrivileges")));
    assert_null (json_object_get (bare, "capabilities"));
  }
  rh_policy_free (p);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_default_drop_list),
    cmocka_unit_test (test_drop_list_replaces_and_dedups),
    cmocka_unit_test (test_policy_errors),
    cmocka_unit_test (test_exec_process),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
