/* [gokeys] The key-spelling check (lib/base/spec_keys.c): keys that runsc (Go's encoding/json, which
 * matches object keys to struct fields case-insensitively, with Unicode folding, the last
 * spelling winning) would read as an OCI field without being spelled so are refused at every
 * level; free-form maps and harmless unknown keys are kept; real specs pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "paths.h"
#include "policy.h"
#include "spec_keys.h"
#include "spec_rewrite.h"
#include "util.h"

#define LONG_S "\xc5\xbf"        /* U+017F LATIN SMALL LETTER LONG S: Go folds it to 's' */
#define KELVIN "\xe2\x84\xaa"    /* U+212A KELVIN SIGN: 'k' */
#define DOTLESS_I "\xc4\xb1"     /* U+0131: 'i' since Go 1.21 */
#define DOTTED_CAP_I "\xc4\xb0"  /* U+0130: 'i' since Go 1.21 */

static json_t *
parse (const char *text)
{
  json_error_t jerr;
  json_t *j = json_loads (text, JSON_REJECT_DUPLICATES, &jerr);
  if (j == NULL)
    fail_msg ("test JSON: %s: %s", jerr.text, text);
  return j;
}

static json_t *
load (const char *path)
{
  json_error_t jerr;
  json_t *j = json_load_file (path, JSON_REJECT_DUPLICATES, &jerr);
  if (j == NULL)
    fail_msg ("%s: %s", path, jerr.text);
  return j;
}

/* ---- Go's folding ---- */

static void
test_fold (void **state)
{
  static const struct
  {
    const char *key, *field;
    bool folds;
  } cases[] = {
    { "mounts", "mounts", true },
    { "Mounts", "mounts", true },
    { "MOUNTS", "mounts", true },
    { "mounTS", "mounts", true },
    { "mount" LONG_S, "mounts", true },
    { "moun" LONG_S, "mounts", false }, /* "mouns": one letter short */
    { LONG_S LONG_S, "ss", true },
    { "hoo" KELVIN "s", "hooks", true },
    { "l" DOTLESS_I "nux", "linux", true },
    { DOTTED_CAP_I "ntelRdt", "intelRdt", true },
    { "L3CACHESCHEMA", "l3CacheSchema", true },
    { "noNewPrivileges", "noNewPrivileges", true },
    { "NONEWPRIVILEGES", "noNewPrivileges", true },
    /* Not folds. */
    { "mount", "mounts", false },
    { "mountss", "mounts", false },
    { "mounts ", "mounts", false },
    { " mounts", "mounts", false },
    { "mounts\x7f", "mounts", false },
    { "l#CacheSchema", "l3CacheSchema", false }, /* '#' | 0x20 would be '3' */
    { "m\xc3\xb6unts", "mounts", false },          /* U+00F6 folds to no ASCII letter */
    { "moun\xc5", "mounts", false },               /* a truncated sequence */
    { "moun\xef\xac\x86", "mounts", false },       /* U+FB06 LIGATURE ST: full folding only */
    { "Kmounts", "mounts", false },
    { "", "mounts", false },
    { "m@unts", "mounts", false },
  };

  (void) state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (rh_go_key_folds_to (cases[i].key, strlen (cases[i].key), cases[i].field) != cases[i].folds)
      fail_msg ("\"%s\" vs \"%s\": expected %s", cases[i].key, cases[i].field, cases[i].folds ? "a fold" : "no fold");
}

/* ---- refused ---- */

struct bad
{
  const char *json;
  const char *want; /* the whole error message, or its start when it ends in "..." */
};

static const struct bad bad_specs[] = {
  /* Top-level twins, in every form the hole was found in. */
  { "{\"Mounts\": []}",
    "spec.Mounts: refused: runsc would read this key as \"mounts\" (it matches keys case-insensitively); spell it "
    "\"mounts\"" },
  { "{\"mounts\": [], \"MOUNTS\": [{\"destination\": \"/x\", \"source\": \"/run/container_launcher\"}]}",
    "spec.MOUNTS: refused: runsc would read this key as \"mounts\"..." },
  { "{\"mount" LONG_S "\": []}",
    "spec.mount" LONG_S ": refused: runsc would read this key as \"mounts\" (it matches keys case-insensitively, and "
    "U+017F as 's'); spell it \"mounts\"" },
  /* "mounſ" folds to "mouns", no field: refused all the same, as a non-ASCII key. */
  { "{\"moun" LONG_S "\": []}", "spec.moun" LONG_S ": refused: the key has the non-ASCII character U+017F..." },
  { "{\"proce" LONG_S "s\": {}}", "spec.proce" LONG_S "s: refused: runsc would read this key as \"process\"..." },
  { "{\"Process\": {\"capabilities\": {\"bounding\": [\"CAP_SYS_ADMIN\"]}}}",
    "spec.Process: refused: runsc would read this key as \"process\"..." },
  { "{\"hoo" KELVIN "s\": {}}",
    "spec.hoo" KELVIN "s: refused: runsc would read this key as \"hooks\" (it matches keys case-insensitively, and "
    "U+212A as 'k'); spell it \"hooks\"" },
  { "{\"l" DOTLESS_I "nux\": {}}", "spec.l" DOTLESS_I "nux: refused: runsc would read this key as \"linux\"..." },
  { "{\"Annotations\": {}}", "spec.Annotations: refused: runsc would read this key as \"annotations\"..." },
  { "{\"OCIVERSION\": \"1.0.2\"}", "spec.OCIVERSION: refused..." },
  /* Nested: every level the modifiers read, and the levels they do not. */
  { "{\"process\": {\"Capabilities\": {}}}", "spec.process.Capabilities: refused: runsc would read this key as "
                                             "\"capabilities\"..." },
  { "{\"process\": {\"capabilities\": {\"bounding\": [], \"Bounding\": [\"CAP_SYS_ADMIN\"]}}}",
    "spec.process.capabilities.Bounding: refused: runsc would read this key as \"bounding\"..." },
  { "{\"process\": {\"NoNewPrivileges\": false}}", "spec.process.NoNewPrivileges: refused..." },
  { "{\"process\": {\"user\": {\"UID\": 0}}}", "spec.process.user.UID: refused..." },
  { "{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\"}, {\"Hard\": 1}]}}",
    "spec.process.rlimits[1].Hard: refused..." },
  { "{\"process\": {\"args\": [\"sh\"], \"ARGS\": [\"id\"]}}", "spec.process.ARGS: refused..." },
  { "{\"linux\": {\"Devices\": [{\"path\": \"/dev/tpm0\"}]}}",
    "spec.linux.Devices: refused: runsc would read this key as \"devices\"..." },
  { "{\"linux\": {\"devices\": [{\"path\": \"/dev/null\", \"Path\": \"/dev/tpm0\"}]}}",
    "spec.linux.devices[0].Path: refused..." },
  { "{\"linux\": {\"namespaces\": [{\"type\": \"pid\", \"Type\": \"network\"}]}}",
    "spec.linux.namespaces[0].Type: refused: runsc would read this key as \"type\"..." },
  { "{\"linux\": {\"Namespaces\": []}}", "spec.linux.Namespaces: refused..." },
  { "{\"linux\": {\"resources\": {\"devices\": [{\"allow\": false, \"Allow\": true, \"access\": \"rwm\"}]}}}",
    "spec.linux.resources.devices[0].Allow: refused..." },
  { "{\"linux\": {\"Resources\": {}}}", "spec.linux.Resources: refused..." },
  { "{\"linux\": {\"seccomp\": {\"syscalls\": [{\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ERRNO\", "
    "\"Action\": \"SCMP_ACT_ALLOW\"}]}}}",
    "spec.linux.seccomp.syscalls[0].Action: refused..." },
  { "{\"linux\": {\"seccomp\": {\"syscalls\": [{\"args\": [{\"index\": 0, \"VALUE\": 1}]}]}}}",
    "spec.linux.seccomp.syscalls[0].args[0].VALUE: refused..." },
  { "{\"linux\": {\"SECCOMP\": {}}}", "spec.linux.SECCOMP: refused..." },
  { "{\"linux\": {\"Sysctl\": {}}}", "spec.linux.Sysctl: refused..." },
  { "{\"linux\": {\"uidMappings\": [{\"HostID\": 0}]}}", "spec.linux.uidMappings[0].HostID: refused..." },
  { "{\"linux\": {\"resources\": {\"rdma\": {\"mlx5_0\": {\"HcaHandles\": 1}}}}}",
    "spec.linux.resources.rdma.mlx5_0.HcaHandles: refused..." },
  { "{\"linux\": {\"resources\": {\"blockIO\": {\"weightDevice\": [{\"Major\": 8}]}}}}",
    "spec.linux.resources.blockIO.weightDevice[0].Major: refused..." },
  { "{\"linux\": {\"timeOffsets\": {\"monotonic\": {\"Secs\": 1}}}}",
    "spec.linux.timeOffsets.monotonic.Secs: refused..." },
  { "{\"root\": {\"path\": \"rootfs\", \"Path\": \"/\"}}",
    "spec.root.Path: refused: runsc would read this key as \"path\"..." },
  { "{\"hooks\": {\"Prestart\": [{\"path\": \"/bin/sh\"}]}}",
    "spec.hooks.Prestart: refused: runsc would read this key as \"prestart\"..." },
  { "{\"hooks\": {\"createRuntime\": [{\"path\": \"/bin/true\", \"PATH\": \"/bin/sh\"}]}}",
    "spec.hooks.createRuntime[0].PATH: refused..." },
  { "{\"mounts\": [{\"destination\": \"/etc/hosts\", \"source\": \"/srv/hosts\", \"Source\": "
    "\"/run/container_launcher\"}]}",
    "spec.mounts[0].Source: refused: runsc would read this key as \"source\"..." },
  { "{\"mounts\": [{\"destination\": \"/a\"}, {\"destination\": \"/b\", \"Type\": \"bind\"}]}",
    "spec.mounts[1].Type: refused..." },
  { "{\"mounts\": [{\"destination\": \"/a\", \"uidMappings\": [{\"Size\": 1}]}]}",
    "spec.mounts[0].uidMappings[0].Size: refused..." },
  /* Sections runsc ignores are checked all the same. */
  { "{\"windows\": {\"Devices\": []}}", "spec.windows.Devices: refused..." },
  { "{\"windows\": {\"network\": {\"dnsSearchList\": []}}}", "spec.windows.network.dnsSearchList: refused..." },
  { "{\"vm\": {\"hypervisor\": {\"PATH\": \"/x\"}}}", "spec.vm.hypervisor.PATH: refused..." },
  /* Non-ASCII keys in an OCI object, even when they fold to nothing today. */
  { "{\"caf\xc3\xa9\": 1}",
    "spec.caf\xc3\xa9: refused: the key has the non-ASCII character U+00E9; every OCI field name is ASCII, and runsc "
    "matches keys with Unicode case folding" },
  { "{\"process\": {\"\xe2\x80\x8b\x61rgs\": []}}", "spec.process.\xe2\x80\x8b\x61rgs: refused: the key has the "
                                                    "non-ASCII character U+200B..." },
  { "{\"linux\": {\"namespaces\": [{\"\xf0\x9f\x98\x80\": 1}]}}",
    "spec.linux.namespaces[0].\xf0\x9f\x98\x80: refused: the key has the non-ASCII character U+1F600..." },
};

static void
expect_error (const char *what, const char *msg, const char *want)
{
  size_t n = strlen (want);
  if (n > 3 && strcmp (want + n - 3, "...") == 0)
    {
      if (strncmp (msg, want, n - 3) != 0)
        fail_msg ("%s: error \"%s\" does not start with \"%.*s\"", what, msg, (int) (n - 3), want);
    }
  else if (strcmp (msg, want) != 0)
    fail_msg ("%s: error \"%s\", wanted \"%s\"", what, msg, want);
}

static void
test_refused (void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof bad_specs / sizeof bad_specs[0]; i++)
    {
      _cleanup_json_ json_t *spec = parse (bad_specs[i].json);
      rh_error err;
      rh_error_clear (&err);
      if (rh_spec_check_keys (spec, &err) == 0)
        fail_msg ("accepted: %s", bad_specs[i].json);
      assert_int_equal (err.code, EINVAL);
      expect_error (bad_specs[i].json, err.msg, bad_specs[i].want);
    }
}

/* A twin is refused wherever it sits in the object, before or after the exact key. */
static void
test_twin_order (void **state)
{
  _cleanup_json_ json_t *before = parse ("{\"Mounts\": [], \"mounts\": []}");
  _cleanup_json_ json_t *after = parse ("{\"mounts\": [], \"Mounts\": []}");
  rh_error err;

  (void) state;
  assert_int_equal (rh_spec_check_keys (before, &err), -1);
  assert_int_equal (rh_spec_check_keys (after, &err), -1);
}

/* ---- kept ---- */

static void
test_kept (void **state)
{
  static const char *const good[] = {
    "{}",
    /* Maps: any keys, including ones that look like fields or fold tricks. */
    "{\"annotations\": {\"Mounts\": \"x\", \"" LONG_S "\": \"y\", \"process\": \"z\", \"hoo" KELVIN "s\": \"w\"}}",
    "{\"linux\": {\"sysctl\": {\"Net.Core.Somaxconn\": \"1\", \"kernel." LONG_S "hm\": \"2\"}}}",
    "{\"linux\": {\"resources\": {\"unified\": {\"Memory.Max\": \"max\", \"Devices\": \"x\"}}}}",
    "{\"linux\": {\"resources\": {\"rdma\": {\"Mlx5_0\": {\"hcaHandles\": 1}, \"d\xc3\xa9v\": {}}}}}",
    "{\"linux\": {\"timeOffsets\": {\"Monotonic\": {\"secs\": 1}}, \"netDevices\": {\"ETH0\": {\"name\": \"e\"}}}}",
    "{\"windows\": {\"credentialSpec\": {\"Mounts\": [], \"caf\xc3\xa9\": 1}}}",
    /* Unknown ASCII keys Go ignores, and whatever they hold. */
    "{\"x-custom\": {\"Mounts\": [{\"source\": \"/run/container_launcher\"}]}, \"mount\": 1, \"mountss\": 2}",
    "{\"process\": {\"capabilities\": {\"boundingset\": []}, \"argv\": []}}",
    "{\"linux\": {\"namespaces\": [{\"type\": \"pid\", \"types\": 1}]}}",
    /* Values of an unexpected type are not looked into here (the modifiers and runsc refuse
     * them): no crash, no false refusal. */
    "{\"process\": \"x\", \"mounts\": {\"Source\": 1}, \"linux\": [], \"hooks\": {\"prestart\": {\"Path\": 1}}}",
    "{\"mounts\": [1, \"x\", null, [{\"Source\": 1}]]}",
    "{\"linux\": {\"resources\": {\"rdma\": {\"mlx5_0\": 3}}}}",
  };

  (void) state;
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    {
      _cleanup_json_ json_t *spec = parse (good[i]);
      _cleanup_json_ json_t *copy = json_deep_copy (spec);
      rh_error err;
      if (rh_spec_check_keys (spec, &err) < 0)
        fail_msg ("refused %s: %s", good[i], err.msg);
      assert_true (json_equal (spec, copy)); /* pure: nothing changed */
    }
}

/* Real specs: containerd's default (as `ctr oci spec` prints it), a docker-style spec using
 * most Linux fields, and every input of the rewrite goldens except the key-spelling cases. */
static void
test_real_specs_pass (void **state)
{
  static const char *const files[] = { "spec_keys/ctr-1.6-default.json", "spec_keys/docker-20.10-style.json" };
  DIR *d;
  struct dirent *de;
  size_t n = 0;

  (void) state;
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    {
      _cleanup_free_ char *path = rh_xasprintf ("%s/%s", RH_TEST_DATA, files[i]);
      _cleanup_json_ json_t *spec = load (path);
      rh_error err;
      if (rh_spec_check_keys (spec, &err) < 0)
        fail_msg ("%s: %s", path, err.msg);
      if (rh_spec_check_process_keys (json_object_get (spec, "process"), &err) < 0)
        fail_msg ("%s: process: %s", path, err.msg);
    }
  d = opendir (RH_TEST_DATA "/rewrite");
  assert_non_null (d);
  while ((de = readdir (d)))
    {
      _cleanup_free_ char *in = rh_xasprintf ("%s/rewrite/%s/in.json", RH_TEST_DATA, de->d_name);
      _cleanup_json_ json_t *spec = NULL;
      rh_error err;
      int r;
      if (de->d_name[0] == '.' || access (in, F_OK) != 0)
        continue;
      spec = load (in);
      r = rh_spec_check_keys (spec, &err);
      if (strncmp (de->d_name, "keys-", 5) == 0 && strstr (de->d_name, "kept") == NULL)
        {
          if (r == 0)
            fail_msg ("%s: accepted", in);
        }
      else if (r < 0)
        fail_msg ("%s: %s", in, err.msg);
      n++;
    }
  closedir (d);
  assert_true (n >= 50);
}

/* ---- the process alone (exec's process.json) ---- */

static void
test_process (void **state)
{
  _cleanup_json_ json_t *ok = parse ("{\"args\": [\"sh\"], \"user\": {\"uid\": 0}, \"capabilities\": {\"bounding\": []},"
                                     " \"x\": {\"Args\": 1}}");
  _cleanup_json_ json_t *bad = parse ("{\"args\": [\"true\"], \"Args\": [\"sh\"]}");
  _cleanup_json_ json_t *deep = parse ("{\"capabilities\": {\"AMBIENT\": [\"CAP_SYS_ADMIN\"]}}");
  _cleanup_json_ json_t *not_obj = parse ("[1]");
  rh_error err;

  (void) state;
  assert_int_equal (rh_spec_check_process_keys (ok, &err), 0);
  assert_int_equal (rh_spec_check_process_keys (bad, &err), -1);
  expect_error ("process", err.msg, "process.Args: refused: runsc would read this key as \"args\"...");
  assert_int_equal (rh_spec_check_process_keys (deep, &err), -1);
  expect_error ("process", err.msg, "process.capabilities.AMBIENT: refused...");
  assert_int_equal (rh_spec_check_process_keys (not_obj, &err), -1);
  expect_error ("process", err.msg, "process: expected an object");
  assert_int_equal (rh_spec_check_keys (not_obj, &err), -1);
  expect_error ("spec", err.msg, "spec: expected a JSON object");
}

/* ---- the one-level form used for seccomp profiles ---- */

static void
test_one_level (void **state)
{
  static const char *const fields[] = { "defaultAction", "syscalls", NULL };
  _cleanup_json_ json_t *ok = parse ("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"other\": 1, \"caf\xc3\xa9\": 2}");
  _cleanup_json_ json_t *bad = parse ("{\"syscall" LONG_S "\": []}");
  rh_error err;

  (void) state;
  assert_int_equal (rh_json_check_go_keys (ok, "linux.seccomp", fields, &err), 0);
  assert_int_equal (rh_json_check_go_keys (bad, "linux.seccomp", fields, &err), -1);
  expect_error ("one level", err.msg, "linux.seccomp.syscall" LONG_S ": refused: runsc would read this key as "
                                      "\"syscalls\" (it matches keys case-insensitively, and U+017F as 's'); "
                                      "spell it \"syscalls\"");
}

/* ---- the error text stays readable whatever the key ---- */

static void
test_error_text (void **state)
{
  _cleanup_json_ json_t *ctrl = parse ("{\"linux\": {\"resources\": {\"rdma\": {\"a\\u0001\\nb\": {\"HcaObjects\": 1}}}}}");
  _cleanup_free_ char *long_key = rh_xmalloc0 (4096);
  _cleanup_json_ json_t *huge = NULL;
  rh_error err;

  (void) state;
  assert_int_equal (rh_spec_check_keys (ctrl, &err), -1);
  expect_error ("control characters", err.msg, "spec.linux.resources.rdma.a\\u0001\\u000ab.HcaObjects: refused...");

  /* A long hostile key is cut in the message, on a character boundary. */
  for (size_t i = 0; i + 2 < 4000; i += 2)
    memcpy (long_key + i, "\xc3\xa9", 2);
  huge = json_object ();
  json_object_set_new (huge, long_key, json_true ());
  assert_int_equal (rh_spec_check_keys (huge, &err), -1);
  assert_true (strlen (err.msg) < 400);
  assert_non_null (strstr (err.msg, "\xc3\xa9..."));
  assert_non_null (strstr (err.msg, "U+00E9"));
}

/* ---- wired into the whole rewrite: refused before any modifier runs ---- */

static void
test_rewrite_refuses (void **state)
{
  struct rh_policy *pol = NULL;
  struct rh_resolver *res = rh_fake_resolver_new (NULL, NULL);
  _cleanup_free_ char *in = rh_xasprintf ("%s/rewrite/keys-mounts-twin/in.json", RH_TEST_DATA);
  _cleanup_json_ json_t *spec = load (in);
  _cleanup_json_ json_t *copy = json_deep_copy (spec);
  struct rh_rewrite_ctx ctx = { .resolver = res, .bundle = "/run/containerd/x/c1", .container_id = "c1" };
  rh_error err;

  (void) state;
  if (rh_policy_load_file (RH_TEST_DATA "/rewrite/policy.json", &pol, &err) < 0)
    fail_msg ("%s", err.msg);
  ctx.policy = pol;
  assert_int_equal (rh_spec_rewrite (spec, &ctx, &err), -1);
  expect_error ("rewrite", err.msg, "spec.Mounts: refused: runsc would read this key as \"mounts\"...");
  /* Nothing was modified: the check ran first (no mark, the clean mounts untouched). */
  assert_true (json_equal (spec, copy));
  rh_fake_resolver_free (res);
  rh_policy_free (pol);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_fold),          cmocka_unit_test (test_refused),     cmocka_unit_test (test_twin_order),
    cmocka_unit_test (test_kept),          cmocka_unit_test (test_real_specs_pass), cmocka_unit_test (test_process),
    cmocka_unit_test (test_one_level),     cmocka_unit_test (test_error_text),  cmocka_unit_test (test_rewrite_refuses),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
