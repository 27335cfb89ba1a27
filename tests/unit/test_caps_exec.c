/* [execcaps] The capability policy applied to exec'd processes (lib/rewrite/caps_exec.c): the drop-list
 * on all five sets, noNewPrivileges, idempotency, hostile process objects, and inline --cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <unistd.h>

#include "caps.h"
#include "caps_exec.h"
#include "cleanup.h"
#include "fsutil.h"
#include "log.h"
#include "policy.h"
#include "util.h"

static const char *const sets[] = { "bounding", "effective", "inheritable", "permitted", "ambient", NULL };

/* The shipped default policy with the drop-list used by these tests (three capabilities) and
 * no_new_privileges as given, through the capabilities section's own parsers. */
static struct rh_policy *
policy_with (const char *nnp)
{
  struct rh_policy *p = NULL;
  rh_error err;
  _cleanup_json_ json_t *section = json_pack ("{s:[sss]}", "drop", "CAP_SYS_ADMIN", "CAP_NET_RAW", "CAP_SYS_PTRACE");
  _cleanup_json_ json_t *nnp_value = json_loads (nnp, JSON_DECODE_ANY, NULL);

  if (rh_policy_parse (rh_default_policy_json, strlen (rh_default_policy_json), NULL, &p, &err) < 0
      || rh_caps_policy_parse (section, p, &err) < 0 || rh_nnp_policy_parse (nnp_value, p, &err) < 0)
    fail_msg ("%s", err.msg);
  return p;
}

static json_t *
parse (const char *text)
{
  json_error_t jerr;
  json_t *j = json_loads (text, 0, &jerr);
  if (j == NULL)
    fail_msg ("test JSON: %s", jerr.text);
  return j;
}

/* A logger writing info lines to a memfd, so that tests can read what was logged. */
struct captured
{
  struct rh_logger log;
};

static void
capture_open (struct captured *c)
{
  c->log = (struct rh_logger) RH_LOGGER_INIT;
  c->log.fd = memfd_create ("test-log", MFD_CLOEXEC);
  c->log.stderr_fd = -1;
  assert_true (c->log.fd >= 0);
}

static char *
capture_text (struct captured *c)
{
  char *text = NULL;
  size_t len;
  rh_error err;
  assert_int_equal (lseek (c->log.fd, 0, SEEK_SET), 0);
  assert_int_equal (rh_read_fd_capped (c->log.fd, 1u << 20, &text, &len, &err), 0);
  return text;
}

static void
capture_close (struct captured *c)
{
  close (c->log.fd);
}

/* Every capability libcap knows, in every set, as `docker exec --privileged` sends them. */
static json_t *
all_caps_process (void)
{
  json_t *proc = json_pack ("{s:[s], s:s, s:{s:i, s:i}, s:b}", "args", "sh", "cwd", "/", "user", "uid", 0, "gid", 0,
                            "noNewPrivileges", 0);
  json_t *caps = json_object ();
  for (const char *const *s = sets; *s; s++)
    {
      json_t *a = json_array ();
      for (int v = 0; v <= CAP_LAST_CAP; v++)
        {
          char *lower = cap_to_name ((cap_value_t) v);
          char *up = rh_xstrdup (lower);
          for (char *c = up; *c; c++)
            *c = (char) (*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
          json_array_append_new (a, json_string (up));
          free (up);
          cap_free (lower);
        }
      json_object_set_new (caps, *s, a);
    }
  json_object_set_new (proc, "capabilities", caps);
  return proc;
}

static bool
set_has (json_t *proc, const char *set, const char *cap)
{
  json_t *a = json_object_get (json_object_get (proc, "capabilities"), set);
  size_t i;
  json_t *e;
  json_array_foreach (a, i, e)
    if (strcmp (json_string_value (e), cap) == 0)
      return true;
  return false;
}

static void
test_all_caps_dropped_from_every_set (void **state)
{
  struct rh_policy *p = policy_with ("true");
  _cleanup_json_ json_t *proc = all_caps_process ();
  struct captured cap;
  _cleanup_free_ char *logged = NULL;
  rh_error err;

  (void) state;
  capture_open (&cap);
  assert_int_equal (rh_caps_filter_process (proc, p, &cap.log, &err), 0);
  for (const char *const *s = sets; *s; s++)
    {
      json_t *a = json_object_get (json_object_get (proc, "capabilities"), *s);
      assert_false (set_has (proc, *s, "CAP_SYS_ADMIN"));
      assert_false (set_has (proc, *s, "CAP_NET_RAW"));
      assert_false (set_has (proc, *s, "CAP_SYS_PTRACE"));
      /* Everything else stays, in order. */
      assert_true (set_has (proc, *s, "CAP_CHOWN"));
      assert_true (set_has (proc, *s, "CAP_NET_ADMIN"));
      assert_int_equal (json_array_size (a), CAP_LAST_CAP + 1 - 3);
      assert_string_equal (json_string_value (json_array_get (a, 0)), "CAP_CHOWN");
    }
  assert_true (json_is_true (json_object_get (proc, "noNewPrivileges")));
  logged = capture_text (&cap);
  assert_non_null (strstr (logged, "CAP_NET_RAW, CAP_SYS_PTRACE, CAP_SYS_ADMIN dropped from process.capabilities "
                                   "(bounding, effective, inheritable, permitted, ambient) by policy "
                                   "(capabilities.drop)"));
  assert_non_null (strstr (logged, "process.noNewPrivileges set to true by policy (no_new_privileges)"));
  capture_close (&cap);
  rh_policy_free (p);
}

/* Every spelling libcap reads goes, so that no runtime can read a dropped capability back in. */
static void
test_other_spellings_dropped (void **state)
{
  struct rh_policy *p = policy_with ("true");
  _cleanup_json_ json_t *proc
      = parse ("{\"capabilities\": {\"effective\": [\"cap_sys_admin\", \"21\", \"CAP_KILL\", \"CAP_BOGUS\"]}}");
  _cleanup_json_ json_t *want = parse ("{\"capabilities\": {\"effective\": [\"CAP_KILL\", \"CAP_BOGUS\"]}, "
                                       "\"noNewPrivileges\": true}");
  rh_error err;

  (void) state;
  assert_int_equal (rh_caps_filter_process (proc, p, NULL, &err), 0);
  assert_true (json_equal (proc, want));
  rh_policy_free (p);
}

static void
test_nnp (void **state)
{
  struct rh_policy *on = policy_with ("true"), *off = policy_with ("false");
  _cleanup_json_ json_t *a = parse ("{\"args\": [\"sh\"], \"noNewPrivileges\": false}");
  _cleanup_json_ json_t *b = parse ("{\"args\": [\"sh\"]}");
  _cleanup_json_ json_t *c = parse ("{\"args\": [\"sh\"], \"noNewPrivileges\": false}");
  rh_error err;

  (void) state;
  assert_int_equal (rh_caps_filter_process (a, on, NULL, &err), 0);
  assert_true (json_is_true (json_object_get (a, "noNewPrivileges")));
  assert_int_equal (rh_caps_filter_process (b, on, NULL, &err), 0);
  assert_true (json_is_true (json_object_get (b, "noNewPrivileges")));
  /* With the policy's no_new_privileges off, the client's choice stands. */
  assert_int_equal (rh_caps_filter_process (c, off, NULL, &err), 0);
  assert_true (json_is_false (json_object_get (c, "noNewPrivileges")));
  rh_policy_free (on);
  rh_policy_free (off);
}

/* No capabilities object: runsc then reuses the container's own (trimmed at create); nothing to
 * add here. */
static void
test_absent_capabilities_untouched (void **state)
{
  struct rh_policy *p = policy_with ("true");
  _cleanup_json_ json_t *proc = parse ("{\"args\": [\"id\"], \"capabilities\": null}");
  _cleanup_json_ json_t *want = parse ("{\"args\": [\"id\"], \"capabilities\": null, \"noNewPrivileges\": true}");
  rh_error err;

  (void) state;
  assert_int_equal (rh_caps_filter_process (proc, p, NULL, &err), 0);
  assert_true (json_equal (proc, want));
  rh_policy_free (p);
}

static void
test_idempotent (void **state)
{
  struct rh_policy *p = policy_with ("true");
  _cleanup_json_ json_t *once = all_caps_process ();
  _cleanup_json_ json_t *twice = NULL, *fresh = all_caps_process ();
  _cleanup_free_ char *logged = NULL, *t1 = NULL, *t2 = NULL, *t3 = NULL;
  struct captured cap;
  rh_error err;

  (void) state;
  assert_int_equal (rh_caps_filter_process (once, p, NULL, &err), 0);
  twice = json_deep_copy (once);
  capture_open (&cap);
  assert_int_equal (rh_caps_filter_process (twice, p, &cap.log, &err), 0);
  assert_true (json_equal (once, twice));
  logged = capture_text (&cap);
  assert_string_equal (logged, ""); /* nothing left to change, nothing logged */
  capture_close (&cap);

  /* The text form as well: its output, filtered again, is byte-for-byte the same. */
  t1 = json_dumps (fresh, JSON_COMPACT);
  assert_int_equal (rh_caps_filter_process_text (t1, strlen (t1), p, NULL, &t2, &err), 0);
  assert_int_equal (rh_caps_filter_process_text (t2, strlen (t2), p, NULL, &t3, &err), 0);
  assert_string_equal (t2, t3);
  assert_null (strstr (t2, "CAP_SYS_ADMIN"));
  rh_policy_free (p);
}

struct bad_case
{
  const char *name;
  const char *json;
  const char *want; /* substring of the error */
};

static const struct bad_case bad_cases[] = {
  { "not_object", "[\"sh\"]", "process: expected an object" },
  { "caps_string", "{\"capabilities\": \"ALL\"}", "process.capabilities: expected an object" },
  { "caps_array", "{\"capabilities\": [\"CAP_SYS_ADMIN\"]}", "process.capabilities: expected an object" },
  { "set_string", "{\"capabilities\": {\"bounding\": \"CAP_SYS_ADMIN\"}}",
    "process.capabilities.bounding: expected an array of strings" },
  { "set_object", "{\"capabilities\": {\"ambient\": {}}}", "process.capabilities.ambient: expected an array" },
  { "element_number", "{\"capabilities\": {\"permitted\": [\"CAP_KILL\", 21]}}",
    "process.capabilities.permitted[1]: expected a capability name" },
  { "element_null", "{\"capabilities\": {\"effective\": [null]}}",
    "process.capabilities.effective[0]: expected a capability name" },
  { "nnp_string", "{\"noNewPrivileges\": \"false\"}", "process.noNewPrivileges: expected true or false" },
  { "nnp_number", "{\"noNewPrivileges\": 0}", "process.noNewPrivileges: expected true or false" },
  /* Spellings Go's encoding/json reads as the governed fields. */
  { "caps_upper", "{\"capabilities\": {}, \"Capabilities\": {\"bounding\": [\"CAP_SYS_ADMIN\"]}}",
    "process.Capabilities: refused: runsc would read this key as \"capabilities\"" },
  { "caps_all_upper", "{\"CAPABILITIES\": {\"bounding\": [\"CAP_SYS_ADMIN\"]}}",
    "process.CAPABILITIES: refused" },
  { "caps_long_s", "{\"capabilitie\xc5\xbf\": {\"bounding\": [\"CAP_SYS_ADMIN\"]}}",
    "runsc would read this key as \"capabilities\"" },
  { "caps_dotless_i", "{\"capab\xc4\xb1lities\": {}}", "runsc would read this key as \"capabilities\"" },
  { "nnp_lower", "{\"nonewprivileges\": false}", "process.nonewprivileges: refused: runsc would read this key as "
                                                 "\"noNewPrivileges\"" },
  { "set_upper", "{\"capabilities\": {\"Bounding\": [\"CAP_SYS_ADMIN\"]}}",
    "process.capabilities.Bounding: refused: runsc would read this key as \"bounding\"" },
  { "set_ambient_upper", "{\"capabilities\": {\"AMBIENT\": []}}", "process.capabilities.AMBIENT: refused" },
  /* [gokeys] The whole process is checked, not only the fields the capability policy governs:
   * a twin of args, user or rlimits would also run something other than what was checked. */
  { "args_upper", "{\"args\": [\"true\"], \"Args\": [\"sh\"]}",
    "process.Args: refused: runsc would read this key as \"args\"" },
  { "user_uid_upper", "{\"user\": {\"uid\": 1000, \"UID\": 0}}",
    "process.user.UID: refused: runsc would read this key as \"uid\"" },
  { "rlimit_type_upper", "{\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"Type\": \"RLIMIT_NPROC\"}]}",
    "process.rlimits[0].Type: refused" },
  { "non_ascii_unknown", "{\"caf\xc3\xa9\": 1}", "process.caf\xc3\xa9: refused: the key has the non-ASCII "
                                                "character U+00E9" },
};

static void
test_malformed (void **state)
{
  struct rh_policy *p = policy_with ("true");

  (void) state;
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
    {
      _cleanup_json_ json_t *proc = parse (bad_cases[i].json);
      _cleanup_free_ char *out = NULL;
      rh_error err;

      rh_error_clear (&err);
      if (rh_caps_filter_process (proc, p, NULL, &err) == 0)
        fail_msg ("%s: accepted", bad_cases[i].name);
      if (strstr (err.msg, bad_cases[i].want) == NULL)
        fail_msg ("%s: error \"%s\" lacks \"%s\"", bad_cases[i].name, err.msg, bad_cases[i].want);
      /* The text form refuses the same input. */
      assert_int_equal (rh_caps_filter_process_text (bad_cases[i].json, strlen (bad_cases[i].json), p, NULL, &out,
                                                     &err), -1);
      assert_null (out);
    }
  rh_policy_free (p);
}

/* Keys that only look alike stay: they are not fields runsc reads. */
static void
test_unrelated_keys_kept (void **state)
{
  struct rh_policy *p = policy_with ("true");
  _cleanup_json_ json_t *proc = parse ("{\"args\": [\"sh\"], \"capabilities2\": 1, \"capabilitie\": 2, "
                                       "\"capabilities\": {\"bounding\": [], \"boundings\": 3}}");
  rh_error err;

  (void) state;
  assert_int_equal (rh_caps_filter_process (proc, p, NULL, &err), 0);
  assert_int_equal (json_integer_value (json_object_get (proc, "capabilities2")), 1);
  rh_policy_free (p);
}

static void
test_text_errors (void **state)
{
  struct rh_policy *p = policy_with ("true");
  static const char dup[] = "{\"capabilities\": {\"bounding\": []}, \"capabilities\": {\"bounding\": "
                            "[\"CAP_SYS_ADMIN\"]}}";
  static const char dup_set[] = "{\"capabilities\": {\"bounding\": [], \"bounding\": [\"CAP_SYS_ADMIN\"]}}";
  static const char broken[] = "{\"args\": [\"sh\"";
  static const char trailing[] = "{} {}";
  static const char with_nul[] = "{\"args\": [\"sh\"]}\0{\"capabilities\": 1}";
  char *out = NULL;
  rh_error err;

  (void) state;
  assert_int_equal (rh_caps_filter_process_text (dup, strlen (dup), p, NULL, &out, &err), -1);
  assert_non_null (strstr (err.msg, "duplicate"));
  assert_int_equal (rh_caps_filter_process_text (dup_set, strlen (dup_set), p, NULL, &out, &err), -1);
  assert_int_equal (rh_caps_filter_process_text (broken, strlen (broken), p, NULL, &out, &err), -1);
  assert_non_null (strstr (err.msg, "process.json: invalid JSON"));
  assert_int_equal (rh_caps_filter_process_text (trailing, strlen (trailing), p, NULL, &out, &err), -1);
  assert_int_equal (rh_caps_filter_process_text (with_nul, sizeof with_nul - 1, p, NULL, &out, &err), -1);
  assert_null (out);
  rh_policy_free (p);
}

static void
test_inline_caps (void **state)
{
  struct rh_policy *p = policy_with ("true");
  char *ok[] = { "CAP_CHOWN", "CAP_NET_ADMIN", "CAP_BOGUS", NULL };
  char *bad[] = { "CAP_KILL", "CAP_SYS_ADMIN", NULL };
  char *bad_lower[] = { "cap_net_raw", NULL };
  rh_error err;

  (void) state;
  assert_int_equal (rh_caps_check_exec_caps (NULL, p, &err), 0);
  assert_int_equal (rh_caps_check_exec_caps (ok, p, &err), 0);
  assert_int_equal (rh_caps_check_exec_caps (bad, p, &err), -1);
  assert_string_equal (err.msg, "exec --cap CAP_SYS_ADMIN refused: the capability is dropped by policy (policy key "
                                "capabilities.drop)");
  assert_int_equal (rh_caps_check_exec_caps (bad_lower, p, &err), -1);
  assert_non_null (strstr (err.msg, "exec --cap cap_net_raw refused"));
  rh_policy_free (p);
}

/* The shipped default policy drops CAP_SYS_ADMIN (bit 21) and friends from an exec too. */
static void
test_default_policy (void **state)
{
  struct rh_policy *p = NULL;
  _cleanup_json_ json_t *proc = all_caps_process ();
  rh_error err;

  (void) state;
  if (rh_policy_parse (rh_default_policy_json, strlen (rh_default_policy_json), NULL, &p, &err) < 0)
    fail_msg ("%s", err.msg);
  assert_int_equal (rh_caps_filter_process (proc, p, NULL, &err), 0);
  for (const char *const *s = sets; *s; s++)
    for (char **d = p->caps.drop; *d; d++)
      assert_false (set_has (proc, *s, *d));
  assert_true (json_is_true (json_object_get (proc, "noNewPrivileges")));
  rh_policy_free (p);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_all_caps_dropped_from_every_set),
    cmocka_unit_test (test_other_spellings_dropped),
    cmocka_unit_test (test_nnp),
    cmocka_unit_test (test_absent_capabilities_untouched),
    cmocka_unit_test (test_idempotent),
    cmocka_unit_test (test_malformed),
    cmocka_unit_test (test_unrelated_keys_kept),
    cmocka_unit_test (test_text_errors),
    cmocka_unit_test (test_inline_caps),
    cmocka_unit_test (test_default_policy),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
