/* Policy parsing: the embedded default, every core key, and errors that name the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "policy.h"
#include "util.h"

#define DATA RH_TEST_DATA "/policy"

/* A valid policy with one fragment spliced in at the top level. */
static char *
with (const char *fragment)
{
  return rh_xasprintf ("{\"runsc\": {\"path\": \"/usr/bin/runsc\"}, \"protected_paths\": [\"/srv/x\"],"
                       " \"hook_path\": \"/usr/libexec/runsc-host/runsc-host-hook\"%s%s}",
                       fragment[0] ? ", " : "", fragment);
}

static void
expect_error (const char *text, const char *want)
{
  struct rh_policy *p = NULL;
  rh_error err = { 0 };
  if (rh_policy_parse (text, strlen (text), "/etc/runsc-host/config.json", &p, &err) == 0)
    {
      rh_policy_free (p);
      fail_msg ("policy parsed, wanted error \"%s\": %s", want, text);
    }
  assert_null (p);
  if (strstr (err.msg, want) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\"", err.msg, want);
  /* The file is named too. */
  assert_non_null (strstr (err.msg, "/etc/runsc-host/config.json"));
}

static void
expect_error_with (const char *fragment, const char *want)
{
  _cleanup_free_ char *t = with (fragment);
  expect_error (t, want);
}

static struct rh_policy *
parse_ok (const char *text)
{
  struct rh_policy *p = NULL;
  rh_error err = { 0 };
  if (rh_policy_parse (text, strlen (text), NULL, &p, &err) < 0)
    fail_msg ("%s", err.msg);
  return p;
}

static void
test_embedded_default (void **state)
{
  struct rh_policy *p = parse_ok (rh_default_policy_json);
  char sha[65];

  assert_null (p->source_path);
  assert_true (rh_strv_contains (p->protected_paths, RH_TEE_DIR));
  assert_true (rh_strv_contains (p->protected_paths, "/tmp/container_launcher"));
  assert_true (rh_strv_contains (p->protected_paths, "/sys/kernel/security"));
  assert_true (rh_strv_contains (p->protected_devices, "/dev/tpm*"));
  assert_true (rh_strv_contains (p->protected_devices, "/dev/tpmrm*"));
  assert_true (rh_strv_contains (p->protected_devices, "/dev/sev*"));
  assert_true (rh_strv_contains (p->protected_devices, "/dev/kvm"));
  assert_int_equal (p->mount_action, RH_MOUNT_STRIP);
  assert_true (rh_strv_contains (p->strip_annotation_prefixes, "dev.gvisor."));
  assert_string_equal (p->state_dir, "/run/runsc-host");
  assert_non_null (p->hook_path);
  assert_int_equal (p->hook_path[0], '/');
  rh_sha256_hex (rh_default_policy_json, strlen (rh_default_policy_json), sha);
  assert_string_equal (p->sha256, sha);
  rh_policy_free (p);
}

static void
test_core_keys (void **state)
{
  _cleanup_free_ char *t = with ("\"protected_paths\": [\"/a//b/../c/\", \"/run/container_launcher/\"],"
                                 " \"protected_devices\": [\"/dev/foo*\"], \"protected_mount_action\": \"deny\","
                                 " \"strip_annotation_prefixes\": [\"x.\", \"y.\"], \"state_dir\": \"/var//rh/\","
                                 " \"comment\": \"hello\"");
  struct rh_policy *p;

  /* "with" already has protected_paths: a duplicate key is an error ... */
  expect_error (t, "duplicate object key");
  /* ... so build this one by hand. */
  p = parse_ok ("{\"runsc\": {\"path\": \"/usr/bin/runsc\"}, \"hook_path\": \"/h\","
                " \"protected_paths\": [\"/a//b/../c/\", \"/run/container_launcher/\"],"
                " \"protected_devices\": [\"/dev//./foo*\"], \"protected_mount_action\": \"deny\","
                " \"strip_annotation_prefixes\": [\"x.\", \"y.\"], \"state_dir\": \"/var//rh/\", \"comment\": \"c\"}");
  assert_int_equal (rh_strv_len (p->protected_paths), 3); /* TEE dir given (unclean): not added twice */
  assert_string_equal (p->protected_paths[0], "/a/c");
  assert_string_equal (p->protected_paths[1], RH_TEE_DIR);
  assert_string_equal (p->protected_paths[2], "/var/rh"); /* the state dir, always */
  assert_string_equal (p->protected_devices[0], "/dev/foo*");
  assert_int_equal (rh_strv_len (p->protected_devices), 1);
  assert_int_equal (p->mount_action, RH_MOUNT_DENY);
  assert_int_equal (rh_strv_len (p->strip_annotation_prefixes), 2);
  assert_false (rh_strv_contains (p->strip_annotation_prefixes, "dev.gvisor.")); /* lists replace defaults */
  assert_string_equal (p->state_dir, "/var/rh");
  assert_string_equal (p->hook_path, "/h");
  rh_policy_free (p);
}

static void
test_tee_dir_always_protected (void **state)
{
  struct rh_policy *p = parse_ok ("{\"runsc\": {\"path\": \"/usr/bin/runsc\"}, \"hook_path\": \"/h\","
                                  " \"protected_paths\": []}");
  assert_int_equal (rh_strv_len (p->protected_paths), 2);
  assert_string_equal (p->protected_paths[0], RH_TEE_DIR);
  assert_string_equal (p->protected_paths[1], "/run/runsc-host");
  /* The TPM by its numbers, by default. */
  assert_int_equal (p->n_protected_devnums, 1);
  assert_int_equal (p->protected_devnums[0].type, 'c');
  assert_int_equal (p->protected_devnums[0].major, 10);
  assert_int_equal (p->protected_devnums[0].minor, 224);
  /* Defaults for the optional keys. */
  assert_int_equal (p->mount_action, RH_MOUNT_STRIP);
  assert_int_equal (rh_strv_len (p->protected_devices), 0);
  assert_true (rh_strv_contains (p->strip_annotation_prefixes, "dev.gvisor."));
  rh_policy_free (p);
}

static void
test_errors_name_the_key (void **state)
{
  expect_error ("{", "invalid JSON");
  expect_error ("[]", "expected a JSON object");
  expect_error_with ("\"protected_mount_actoin\": \"deny\"", "policy key protected_mount_actoin: unknown key");
  expect_error_with ("\"protected_device_numbers\": [\"c 10\"]", "policy key protected_device_numbers[0]: expected");
  expect_error_with ("\"protected_device_numbers\": [\"x 1:2\"]", "policy key protected_device_numbers[0]: expected");
  expect_error_with ("\"protected_device_numbers\": [\"c 1:2 \"]", "policy key protected_device_numbers[0]: expected");
  expect_error_with ("\"protected_device_numbers\": \"c 1:2\"", "policy key protected_device_numbers: expected");
  expect_error_with ("\"protected_mount_action\": \"maybe\"", "policy key protected_mount_action: maybe is not");
  expect_error_with ("\"protected_mount_action\": true", "policy key protected_mount_action: expected a string");
  expect_error_with ("\"protected_devices\": \"/dev/tpm*\"", "policy key protected_devices: expected an array");
  expect_error_with ("\"protected_devices\": [\"dev/tpm*\"]", "policy key protected_devices[0]: pattern dev/tpm*");
  expect_error_with ("\"protected_devices\": [7]", "policy key protected_devices[0]: expected a string");
  expect_error_with ("\"strip_annotation_prefixes\": [\"\"]", "policy key strip_annotation_prefixes[0]: empty");
  expect_error_with ("\"state_dir\": \"run/rh\"", "policy key state_dir: path run/rh is not absolute");
  expect_error_with ("\"state_dir\": 5", "policy key state_dir: expected a string");
  expect_error_with ("\"comment\": 5", "policy key comment: expected a string");
  expect_error ("{\"runsc\": {\"path\": \"/usr/bin/runsc\"}, \"hook_path\": \"/h\","
                " \"protected_paths\": [\"/ok\", \"run/x\"]}",
                "policy key protected_paths[1]: path run/x is not absolute");
  expect_error ("{\"runsc\": {\"path\": \"/usr/bin/runsc\"}, \"hook_path\": \"/h\", \"protected_paths\": \"/x\"}",
                "policy key protected_paths: expected an array of strings");
  expect_error ("{\"runsc\": {\"path\": \"/usr/bin/runsc\"}, \"hook_path\": \"/h\"}",
                "policy key protected_paths: missing");
  expect_error ("{\"runsc\": {\"path\": \"/usr/bin/runsc\"}, \"protected_paths\": []}", "policy key hook_path: missing");
  expect_error ("{\"runsc\": {\"path\": \"/usr/bin/runsc\"}, \"protected_paths\": [], \"hook_path\": \"hook\"}",
                "policy key hook_path: path hook is not absolute");
  /* Section keys go through the same helpers. */
  expect_error ("{\"runsc\": {\"path\": \"/usr/bin/runsc\", \"flags\": [\"--host-uds=all\"]},"
                " \"protected_paths\": [], \"hook_path\": \"/h\"}",
                "policy key runsc.flags[0]");
  expect_error ("{\"runsc\": {\"path\": \"usr/bin/runsc\"}, \"protected_paths\": [], \"hook_path\": \"/h\"}",
                "policy key runsc.path");
  /* Overlay flags: only the root may be overlaid, never volumes, never into a protected dir. */
  expect_error ("{\"runsc\": {\"path\": \"/usr/bin/runsc\", \"flags\": [\"--overlay\"]},"
                " \"protected_paths\": [], \"hook_path\": \"/h\"}",
                "policy key runsc.flags[0]: --overlay overlays volumes too");
  expect_error ("{\"runsc\": {\"path\": \"/usr/bin/runsc\", \"flags\": [\"--overlay2=all:memory\"]},"
                " \"protected_paths\": [], \"hook_path\": \"/h\"}",
                "policy key runsc.flags[0]: --overlay2=all:memory: only root:memory");
  expect_error ("{\"runsc\": {\"path\": \"/usr/bin/runsc\", \"flags\": [\"--overlay2=root:/run//container_launcher/x\"]},"
                " \"protected_paths\": [], \"hook_path\": \"/h\"}",
                "overlay directory /run/container_launcher/x overlaps protected path /run/container_launcher");
  {
    const char *ok = "{\"runsc\": {\"path\": \"/usr/bin/runsc\", \"flags\": [\"--overlay2=root:memory\"]},"
                     " \"protected_paths\": [], \"hook_path\": \"/h\"}";
    struct rh_policy *p = NULL;
    rh_error e = { 0 };
    assert_int_equal (rh_policy_parse (ok, strlen (ok), NULL, &p, &e), 0);
    rh_policy_free (p);
  }
  expect_error ("{\"runsc\": {\"pth\": \"/usr/bin/runsc\"}, \"protected_paths\": [], \"hook_path\": \"/h\"}",
                "policy key runsc.pth: unknown key");
  expect_error ("{\"runsc\": [], \"protected_paths\": [], \"hook_path\": \"/h\"}", "policy key runsc");
}

static void
test_load_file_and_choice (void **state)
{
  struct rh_policy *p = NULL;
  rh_error err = { 0 };
  char sys_missing[] = "/nonexistent/runsc-host/config.json";

  /* An explicit file (RUNSC_HOST_CONFIG) must exist. */
  assert_int_equal (rh_policy_load (DATA "/does-not-exist.json", NULL, &p, &err), -1);
  assert_non_null (strstr (err.msg, DATA "/does-not-exist.json"));
  assert_int_equal (rh_policy_load ("relative.json", NULL, &p, &err), -1);
  assert_non_null (strstr (err.msg, "not an absolute path"));

  /* A typo in a file names both the file and the key. */
  assert_int_equal (rh_policy_load (DATA "/typo.json", NULL, &p, &err), -1);
  assert_non_null (strstr (err.msg, DATA "/typo.json"));
  assert_non_null (strstr (err.msg, "policy key protected_mount_actoin: unknown key"));
  assert_null (p);

  /* The explicit file wins over the system one. */
  assert_int_equal (rh_policy_load (DATA "/minimal.json", DATA "/typo.json", &p, &err), 0);
  assert_string_equal (p->source_path, DATA "/minimal.json");
  assert_true (rh_strv_contains (p->protected_paths, "/srv/secret"));
  rh_policy_free (p);
  p = NULL;

  /* The system file when it exists ... */
  assert_int_equal (rh_policy_load (NULL, DATA "/minimal.json", &p, &err), 0);
  assert_string_equal (p->source_path, DATA "/minimal.json");
  rh_policy_free (p);
  p = NULL;
  /* ... else the embedded default. An empty RUNSC_HOST_CONFIG counts as unset. */
  assert_int_equal (rh_policy_load ("", sys_missing, &p, &err), 0);
  assert_null (p->source_path);
  rh_policy_free (p);
  p = NULL;

  /* A directory, and an oversized file, are refused. */
  assert_int_equal (rh_policy_load_file (DATA, &p, &err), -1);
  assert_non_null (strstr (err.msg, "not a regular file"));
  {
    char path[] = "/tmp/rh-policy-big-XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    assert_int_equal (ftruncate (fd, RH_POLICY_MAX_BYTES + 1), 0);
    close (fd);
    assert_int_equal (rh_policy_load_file (path, &p, &err), -1);
    assert_non_null (strstr (err.msg, "larger than"));
    unlink (path);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_embedded_default),
    cmocka_unit_test (test_core_keys),
    cmocka_unit_test (test_tee_dir_always_protected),
    cmocka_unit_test (test_errors_name_the_key),
    cmocka_unit_test (test_load_file_and_choice),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
