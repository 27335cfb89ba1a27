/* `runsc-host check`: the containerd config.toml scanner (runtime-wrapper/check_toml.c). It must
 * find our registration however the TOML spells it (headers, dotted keys, quotes, inline tables,
 * version 1 or 2), ignore everything else, and refuse what containerd would refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "check.h"

static struct rh_check_containerd
scan_ok (const char *text)
{
  struct rh_check_containerd c;
  rh_error err = { 0 };

  if (rh_check_scan_containerd_toml (text, &c, &err) < 0)
    fail_msg ("scan failed: %s", err.msg);
  return c;
}

static const struct rh_check_runtime *
rt (const struct rh_check_containerd *c, const char *name)
{
  for (size_t i = 0; i < c->n_runtimes; i++)
    if (strcmp (c->runtimes[i].name, name) == 0)
      return &c->runtimes[i];
  return NULL;
}

/* The fragment we ship (config/containerd/config.toml), inlined. */
static void
test_shipped_fragment (void **state)
{
  struct rh_check_containerd c = scan_ok (
      "version = 2\n"
      "# runsc-host\n"
      "[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
      "  default_runtime_name = \"runc\"\n"
      "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runsc-host]\n"
      "  runtime_type = \"io.containerd.runc.v2\"   # the runc shim\n"
      "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runsc-host.options]\n"
      "  BinaryName = \"/usr/bin/runsc-host\"\n"
      "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runsc-host-shim]\n"
      "  runtime_type = \"io.containerd.runsc-host.v1\"\n"
      "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
      "  runtime_type = \"io.containerd.runc.v2\"\n");
  const struct rh_check_runtime *a = rt (&c, "runsc-host");
  const struct rh_check_runtime *b = rt (&c, "runsc-host-shim");
  const struct rh_check_runtime *r = rt (&c, "runc");

  (void) state;
  assert_int_equal (c.n_runtimes, 3);
  assert_non_null (a);
  assert_string_equal (a->type, "io.containerd.runc.v2");
  assert_string_equal (a->binary, "/usr/bin/runsc-host");
  assert_true (a->has_options);
  assert_non_null (b);
  assert_string_equal (b->type, RH_SHIM_RUNTIME_TYPE);
  assert_null (b->binary);
  assert_false (b->has_options);
  assert_non_null (r);
  assert_null (r->binary);
  assert_string_equal (c.default_runtime, "runc");
  assert_false (c.cri_disabled);
  rh_check_containerd_free (&c);
}

/* Dotted keys, literal strings, quoted bare names, and a version 1 "cri" plugin name. */
static void
test_dotted_and_v1 (void **state)
{
  struct rh_check_containerd c = scan_ok (
      "[plugins.cri.containerd]\n"
      "runtimes.'gvisor'.runtime_type = 'io.containerd.runc.v1'\n"
      "runtimes.\"gvisor\" . options . BinaryName = '/opt/x/runsc-host'\n"
      "[plugins]\n"
      "  \"io.containerd.grpc.v1.cri\".containerd.runtimes.other.runtime_type = \"io.containerd.kata.v2\"\n");
  const struct rh_check_runtime *g = rt (&c, "gvisor");

  (void) state;
  assert_non_null (g);
  assert_string_equal (g->type, "io.containerd.runc.v1");
  assert_string_equal (g->binary, "/opt/x/runsc-host");
  assert_non_null (rt (&c, "other"));
  assert_string_equal (rt (&c, "other")->type, "io.containerd.kata.v2");
  rh_check_containerd_free (&c);
}

/* Inline tables, multi-line strings, arrays spanning lines with comments, other value types. */
static void
test_inline_and_arrays (void **state)
{
  struct rh_check_containerd c = scan_ok (
      "oom_score = -999\n"
      "imports = [\n"
      "  \"/etc/a.toml\", # first\n"
      "  '/etc/b.toml',\n"
      "]\n"
      "[grpc]\n  max_recv_message_size = 16777216\n  tcp_tls_cert = \"\"\"\nmulti\nline\"\"\"\n"
      "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes]\n"
      "  rh = { runtime_type = \"io.containerd.runc.v2\", options = { BinaryName = \"/usr/local/bin/runsc-host\", "
      "SystemdCgroup = false } }\n"
      "[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n"
      "  endpoint = [\"https://x\"]\n"
      "[[plugins.\"io.containerd.grpc.v1.cri\".registry.configs]]\n"
      "  when = 1979-05-27T07:32:00Z\n");
  const struct rh_check_runtime *r = rt (&c, "rh");

  (void) state;
  assert_int_equal (c.n_runtimes, 1);
  assert_non_null (r);
  assert_string_equal (r->type, "io.containerd.runc.v2");
  assert_string_equal (r->binary, "/usr/local/bin/runsc-host");
  rh_check_containerd_free (&c);
}

static void
test_cri_disabled (void **state)
{
  struct rh_check_containerd c = scan_ok ("version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n");
  struct rh_check_containerd d = scan_ok ("disabled_plugins = [\n 'cri' ,\n]\n");
  struct rh_check_containerd e = scan_ok ("disabled_plugins = [\"io.containerd.snapshotter.v1.btrfs\"]\n"
                                          "[x]\ndisabled_plugins = [\"cri\"]\n");

  (void) state;
  assert_true (c.cri_disabled);
  assert_true (d.cri_disabled);
  assert_false (e.cri_disabled); /* only the top-level key counts */
  rh_check_containerd_free (&c);
  rh_check_containerd_free (&d);
  rh_check_containerd_free (&e);
}

/* Things that look like a registration but are not: comments, another plugin, a string that
 * merely contains the key text. */
static void
test_lookalikes (void **state)
{
  struct rh_check_containerd c = scan_ok (
      "# [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runsc-host.options]\n"
      "# BinaryName = \"/usr/bin/runsc-host\"\n"
      "[plugins.\"io.containerd.runtime.v1.linux\"]\n"
      "  runtime = \"runsc-host\"\n"
      "[plugins.\"io.containerd.grpc.v1.cri\"]\n"
      "  sandbox_image = \"runtimes.runsc-host.options.BinaryName = '/usr/bin/runsc-host'\"\n"
      "[plugins.\"io.containerd.grpc.v1.cri\".cni]\n"
      "  bin_dir = \"/usr/lib/cni\"\n");

  (void) state;
  assert_int_equal (c.n_runtimes, 0);
  assert_null (c.default_runtime);
  rh_check_containerd_free (&c);
}

static void
test_escapes (void **state)
{
  struct rh_check_containerd c = scan_ok (
      "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.\"a\\\"b\".options]\n"
      "BinaryName = \"/usr/bin/runsc\\u002dhost\\t\"\n");

  (void) state;
  assert_int_equal (c.n_runtimes, 1);
  assert_string_equal (c.runtimes[0].name, "a\"b");
  assert_string_equal (c.runtimes[0].binary, "/usr/bin/runsc?host\t");
  rh_check_containerd_free (&c);
}

static void
test_errors (void **state)
{
  static const struct
  {
    const char *text;
    const char *msg;
  } cases[] = {
    { "[plugins\n", "line 1: expected ']' after table name" },
    { "a = \"open\n", "line 1: newline in string" },
    { "\n\nkey\n", "line 3: expected '=' after key" },
    { "a = 1 2\n", "line 1: unexpected text after value" },
    { "a = [1, 2\n", "line 2: expected ',' or ']' in array" },
    { "a = { b = 1\n", "line 1: expected ',' or '}' in inline table" },
    { "= 3\n", "line 1: expected a key" },
    { "a = \"\\q\"\n", "line 1: bad escape in string" },
    { "a = '''never closed\n", "line 2: unterminated string" },
  };
  (void) state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      struct rh_check_containerd c = { 0 };
      rh_error err = { 0 };
      assert_int_equal (rh_check_scan_containerd_toml (cases[i].text, &c, &err), -1);
      assert_string_equal (err.msg, cases[i].msg);
      assert_int_equal (c.n_runtimes, 0);
    }
}

/* Deep nesting is refused, not recursed into without bound. */
static void
test_depth (void **state)
{
  char text[4096];
  size_t n = 0;
  struct rh_check_containerd c = { 0 };
  rh_error err = { 0 };

  (void) state;
  n += (size_t) snprintf (text + n, sizeof text - n, "a = ");
  for (int i = 0; i < 200; i++)
    text[n++] = '[';
  text[n] = '\0';
  assert_int_equal (rh_check_scan_containerd_toml (text, &c, &err), -1);
  assert_string_equal (err.msg, "line 1: values nested too deeply");

  n = 0;
  for (int i = 0; i < 40; i++)
    n += (size_t) snprintf (text + n, sizeof text - n, "k%d.", i);
  snprintf (text + n, sizeof text - n, "z = 1\n");
  assert_int_equal (rh_check_scan_containerd_toml (text, &c, &err), -1);
  assert_string_equal (err.msg, "line 1: keys nested too deeply");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_shipped_fragment), cmocka_unit_test (test_dotted_and_v1),
    cmocka_unit_test (test_inline_and_arrays), cmocka_unit_test (test_cri_disabled),
    cmocka_unit_test (test_lookalikes),       cmocka_unit_test (test_escapes),
    cmocka_unit_test (test_errors),           cmocka_unit_test (test_depth),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
