/* Port grammar, the "ports" and "egress" policy sections, and the port list of a container: what
 * is accepted, what is refused, and that every refusal names the port, where it came from and
 * the policy key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "policy.h"
#include "ports.h"
#include "util.h"

#define assert_contains(hay, needle)                                                                         \
  do                                                                                                         \
    {                                                                                                        \
      if (strstr ((hay), (needle)) == NULL)                                                                  \
        fail_msg ("expected \"%s\" in \"%s\"", (needle), (hay));                                             \
    }                                                                                                        \
  while (0)

/* A policy with the given "ports"/"egress" members (JSON text, may be empty). */
static struct rh_policy *
policy_with (const char *extra, rh_error *err)
{
  struct rh_policy *p = NULL;
  _cleanup_free_ char *text
      = rh_xasprintf ("{\"protected_paths\":[\"/run/container_launcher\"],\"hook_path\":\"/usr/libexec/h\","
                      "\"runsc\":{\"path\":\"/usr/bin/runsc\"}%s%s}",
                      *extra ? "," : "", extra);
  if (rh_policy_parse (text, strlen (text), NULL, &p, err) < 0)
    return NULL;
  return p;
}

static void
test_port_parse_valid (void **state)
{
  static const struct
  {
    const char *in;
    unsigned port, proto;
  } ok[] = {
    { "80", 80, RH_PROTO_TCP },       { "80/tcp", 80, RH_PROTO_TCP }, { "53/udp", 53, RH_PROTO_UDP },
    { "65535/sctp", 65535, RH_PROTO_SCTP }, { "1", 1, RH_PROTO_TCP },
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    {
      struct rh_port p;
      rh_error err;
      assert_int_equal (rh_port_parse (ok[i].in, strlen (ok[i].in), &p, &err), 0);
      assert_int_equal (p.port, ok[i].port);
      assert_int_equal (p.proto, ok[i].proto);
    }
}

static void
test_port_parse_invalid (void **state)
{
  static const char *const bad[] = { "80x", "0",      "70000", "80/icmp", "80;reboot", "",       "/tcp", "080",
                                     "+80", "80/",    "80/TCP", " 80",    "-1",        "65536",  "8 0",  "80/tcp/udp",
                                     "1e3", "0x50",   "80\n",  "99999999999999999999" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      struct rh_port p;
      rh_error err;
      if (rh_port_parse (bad[i], strlen (bad[i]), &p, &err) == 0)
        fail_msg ("port \"%s\" was accepted", bad[i]);
      assert_contains (err.msg, "invalid port");
    }
}

static void
test_port_parse_names_the_text (void **state)
{
  struct rh_port p;
  rh_error err;
  assert_int_equal (rh_port_parse ("80;reboot", 9, &p, &err), -1);
  assert_contains (err.msg, "\"80;reboot\"");
  assert_int_equal (rh_port_parse ("80/icmp", 7, &p, &err), -1);
  assert_contains (err.msg, "\"80/icmp\"");
  assert_contains (err.msg, "protocol");
  /* Control bytes are escaped, not copied into a log line. */
  assert_int_equal (rh_port_parse ("8\n0", 3, &p, &err), -1);
  assert_contains (err.msg, "\"8\\x0a0\"");
  /* Only the given length is read (the csv parser passes slices). */
  assert_int_equal (rh_port_parse ("8080,9", 4, &p, &err), 0);
  assert_int_equal (p.port, 8080);
}

static void
test_range_parse (void **state)
{
  struct rh_port_range r;
  rh_error err;

  assert_int_equal (rh_port_range_parse ("22", &r, &err), 0);
  assert_int_equal (r.lo, 22);
  assert_int_equal (r.hi, 22);
  assert_int_equal (r.protos, RH_PROTO_ALL);
  assert_int_equal (rh_port_range_parse ("1-65535", &r, &err), 0);
  assert_int_equal (r.lo, 1);
  assert_int_equal (r.hi, 65535);
  assert_int_equal (rh_port_range_parse ("1000-2000/udp", &r, &err), 0);
  assert_int_equal (r.protos, RH_PROTO_UDP);
  static const char *const bad[] = { "5-3", "0-10", "1-70000", "a-b", "1-", "-1", "1--2", "10/icmp", "", "1-2-3" };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (rh_port_range_parse (bad[i], &r, &err) == 0)
      fail_msg ("range \"%s\" was accepted", bad[i]);
}

static void
test_cidr_parse (void **state)
{
  static const struct
  {
    const char *in, *want;
    int fam;
  } ok[] = {
    { "169.254.169.254/32", "169.254.169.254/32", 4 },
    { "169.254.169.254", "169.254.169.254/32", 4 },
    { "10.1.2.3/8", "10.0.0.0/8", 4 },
    { "0.0.0.0/0", "0.0.0.0/0", 4 },
    { "fd00::1/64", "fd00::/64", 6 },
    { "fd00::1", "fd00::1/128", 6 },
    { "FD00:0:0::1/128", "fd00::1/128", 6 },
    { "fd20:ce::254", "fd20:ce::254/128", 6 },
    { "fd20:ce:0::254/128", "fd20:ce::254/128", 6 },
  };
  static const char *const bad[] = { "300.1.1.1", "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/08", "1.2.3.4/-1",
                                     "host.example", "", "/8", "fd00::/129", "1.2.3.4/8 ", "1.2.3.4;x" };
  char out[64];
  int fam;
  rh_error err;

  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    {
      assert_int_equal (rh_cidr_parse (ok[i].in, out, &fam, &err), 0);
      assert_string_equal (out, ok[i].want);
      assert_int_equal (fam, ok[i].fam);
    }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (rh_cidr_parse (bad[i], out, &fam, &err) == 0)
      fail_msg ("address \"%s\" was accepted", bad[i]);
}

static void
test_policy_defaults (void **state)
{
  rh_error err;
  struct rh_policy *p = policy_with ("", &err);

  assert_non_null (p);
  assert_int_equal (p->ports.protocols, RH_PROTO_TCP | RH_PROTO_UDP);
  assert_int_equal (p->ports.max_count, 64);
  assert_true (p->ports.ipv6);
  assert_int_equal (p->ports.n_deny, 1);
  assert_int_equal (p->ports.deny[0].lo, 22);
  assert_int_equal (p->ports.n_allow, 1);
  assert_int_equal (p->ports.allow[0].hi, 65535);
  assert_string_equal (p->ports.iptables_restore, "/usr/sbin/iptables-restore");
  assert_string_equal (p->ports.ip6tables_save, "/usr/sbin/ip6tables-save");
  assert_int_equal (rh_strv_len (p->egress.deny4), 1);
  assert_string_equal (p->egress.deny4[0], "169.254.169.254/32");
  assert_int_equal (rh_strv_len (p->egress.deny6), 1);
  assert_string_equal (p->egress.deny6[0], "fd20:ce::254/128");
  assert_int_equal (p->egress.cgroup_mode, RH_CGROUP_AUTO);
  assert_string_equal (p->egress.cgroup_parent, "runsc-host");
  rh_policy_free (p);

  /* The shipped policy has empty sections: the same defaults. */
  p = NULL;
  assert_int_equal (rh_policy_parse (rh_default_policy_json, strlen (rh_default_policy_json), NULL, &p, &err), 0);
  assert_int_equal (p->ports.deny[0].lo, 22);
  assert_string_equal (p->egress.deny4[0], "169.254.169.254/32");
  assert_int_equal (rh_strv_len (p->egress.deny6), 1);
  assert_string_equal (p->egress.deny6[0], "fd20:ce::254/128");
  rh_policy_free (p);
}

static void
test_policy_sections (void **state)
{
  rh_error err;
  struct rh_policy *p
      = policy_with ("\"ports\":{\"static\":[\"8080\",\"53/udp\"],\"allow\":[\"53\",\"8000-9000/tcp\"],"
                     "\"deny\":[\"8022\"],\"protocols\":[\"tcp\",\"udp\",\"sctp\"],\"max_count\":3,\"ipv6\":false,"
                     "\"iptables_restore\":\"/usr/sbin/iptables-legacy-restore\"},"
                     "\"egress\":{\"deny\":[\"10.9.8.7/8\",\"fd00::1\",\"10.0.0.0/8\"],\"cgroup_mode\":\"own\","
                     "\"cgroup_parent\":\"a/b-c\"}",
                     &err);
  if (p == NULL)
    fail_msg ("%s", err.msg);
  assert_int_equal (p->ports.n_static, 2);
  assert_int_equal (p->ports.static_ports[0].port, 8080);
  assert_int_equal (p->ports.static_ports[1].proto, RH_PROTO_UDP);
  assert_int_equal (p->ports.protocols, RH_PROTO_ALL);
  assert_int_equal (p->ports.max_count, 3);
  assert_false (p->ports.ipv6);
  assert_string_equal (p->ports.iptables_restore, "/usr/sbin/iptables-legacy-restore");
  assert_string_equal (p->ports.iptables_save, "/usr/sbin/iptables-save");
  /* Canonical and deduplicated. */
  assert_int_equal (rh_strv_len (p->egress.deny4), 1);
  assert_string_equal (p->egress.deny4[0], "10.0.0.0/8");
  assert_string_equal (p->egress.deny6[0], "fd00::1/128");
  assert_int_equal (p->egress.cgroup_mode, RH_CGROUP_OWN);
  rh_policy_free (p);

  p = policy_with ("\"egress\":{\"deny\":[]}", &err);
  assert_non_null (p);
  assert_int_equal (rh_strv_len (p->egress.deny4), 0);
  rh_policy_free (p);
}

static void
test_policy_errors (void **state)
{
  static const struct
  {
    const char *extra, *want;
  } cases[] = {
    { "\"ports\":{\"bogus\":1}", "policy key ports.bogus: unknown key" },
    { "\"ports\":[]", "policy key ports: expected an object" },
    { "\"ports\":{\"static\":[\"80x\"]}", "policy key ports.static[0]" },
    { "\"ports\":{\"static\":[\"22\"]}", "ports.deny" },
    { "\"ports\":{\"static\":[\"80/sctp\"]}", "ports.protocols" },
    { "\"ports\":{\"static\":[\"80\",\"81\"],\"max_count\":1}", "ports.max_count" },
    { "\"ports\":{\"allow\":[\"1-2-3\"]}", "policy key ports.allow[0]" },
    { "\"ports\":{\"deny\":[\"22\",\"x\"]}", "policy key ports.deny[1]" },
    { "\"ports\":{\"protocols\":[\"icmp\"]}", "policy key ports.protocols[0]: icmp" },
    { "\"ports\":{\"max_count\":-1}", "policy key ports.max_count" },
    { "\"ports\":{\"max_count\":100000}", "policy key ports.max_count" },
    { "\"ports\":{\"ipv6\":\"yes\"}", "policy key ports.ipv6" },
    { "\"ports\":{\"iptables_restore\":\"iptables-restore\"}", "policy key ports.iptables_restore" },
    { "\"egress\":{\"deny\":[\"169.254.169.254/32\",\"nope\"]}", "policy key egress.deny[1]" },
    { "\"egress\":{\"deny\":\"169.254.169.254/32\"}", "policy key egress.deny" },
    { "\"egress\":{\"cgroup_mode\":\"v1\"}", "policy key egress.cgroup_mode" },
    { "\"egress\":{\"cgroup_parent\":\"../x\"}", "policy key egress.cgroup_parent" },
    { "\"egress\":{\"cgroup_parent\":\"/abs\"}", "policy key egress.cgroup_parent" },
    { "\"egress\":{\"cgroup_parent\":\"a//b\"}", "policy key egress.cgroup_parent" },
    { "\"egress\":{\"cgroup_parent\":\"a b\"}", "policy key egress.cgroup_parent" },
    { "\"egress\":{\"other\":1}", "policy key egress.other: unknown key" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      rh_error err;
      struct rh_policy *p = policy_with (cases[i].extra, &err);
      if (p != NULL)
        fail_msg ("policy %s was accepted", cases[i].extra);
      assert_contains (err.msg, cases[i].want);
    }
}

/* ---- the ports of one container ---- */

static json_t *
ann (const char *exposed, const char *nerdctl)
{
  json_t *a = json_object ();
  if (exposed)
    json_object_set_new (a, RH_ANNOTATION_EXPOSED_PORTS, json_string (exposed));
  if (nerdctl)
    json_object_set_new (a, RH_ANNOTATION_NERDCTL_PORTS, json_string (nerdctl));
  return a;
}

static void
test_compute_merge (void **state)
{
  rh_error err;
  struct rh_policy *p = policy_with ("\"ports\":{\"static\":[\"9090/tcp\",\"53/udp\"]}", &err);
  _cleanup_json_ json_t *a = ann ("8080/tcp, 53/udp,443", "{\"8080/tcp\":{},\"5353/udp\":{}}");
  struct rh_port *ports = NULL;
  size_t n = 0;
  _cleanup_free_ char *s = NULL;

  assert_non_null (p);
  assert_int_equal (rh_ports_compute (a, &p->ports, &ports, &n, &err), 0);
  s = rh_ports_format (ports, n);
  assert_string_equal (s, "53/udp,443/tcp,5353/udp,8080/tcp,9090/tcp");
  free (ports);

  /* No annotations at all: only the static ports. */
  ports = NULL;
  assert_int_equal (rh_ports_compute (NULL, &p->ports, &ports, &n, &err), 0);
  assert_int_equal (n, 2);
  free (ports);
  rh_policy_free (p);
}

static void
test_compute_empty (void **state)
{
  rh_error err;
  struct rh_policy *p = policy_with ("", &err);
  _cleanup_json_ json_t *a = ann ("", "{}");
  struct rh_port *ports = NULL;
  size_t n = 7;

  assert_non_null (p);
  assert_int_equal (rh_ports_compute (a, &p->ports, &ports, &n, &err), 0);
  assert_int_equal (n, 0);
  assert_null (ports);
  rh_policy_free (p);
}

static void
test_compute_errors (void **state)
{
  static const struct
  {
    const char *exposed, *nerdctl, *policy;
    const char *want1, *want2;
  } cases[] = {
    { "80x", NULL, "", "annotation org.opencontainers.image.exposedPorts", "\"80x\"" },
    { "0", NULL, "", "annotation org.opencontainers.image.exposedPorts", "\"0\"" },
    { "70000", NULL, "", "exposedPorts", "\"70000\"" },
    { "80/icmp", NULL, "", "exposedPorts", "\"80/icmp\"" },
    { "80;reboot", NULL, "", "exposedPorts", "\"80;reboot\"" },
    { "80,,81", NULL, "", "exposedPorts", "empty entry" },
    { "80,", NULL, "", "exposedPorts", "empty entry" },
    { "22/tcp", NULL, "", "port 22/tcp", "ports.deny" },
    { "80/sctp", NULL, "", "port 80/sctp", "ports.protocols" },
    { "80", NULL, "\"ports\":{\"allow\":[\"8000-9000\"]}", "port 80/tcp", "ports.allow" },
    { "80,81,82", NULL, "\"ports\":{\"max_count\":2}", "ports.max_count", "82/tcp" },
    { "53/udp", NULL, "\"ports\":{\"deny\":[\"50-60/udp\"]}", "port 53/udp", "ports.deny" },
    { NULL, "{\"80x/tcp\":{}}", "", "annotation nerdctl/exposed-ports", "\"80x/tcp\"" },
    { NULL, "[\"80/tcp\"]", "", "nerdctl/exposed-ports", "expected a JSON object" },
    { NULL, "{\"80/tcp\":1}", "", "nerdctl/exposed-ports", "must be an object" },
    { NULL, "{\"80/tcp\":{}", "", "nerdctl/exposed-ports", "invalid JSON" },
    { NULL, "{\"80/tcp\":{},\"80/tcp\":{}}", "", "nerdctl/exposed-ports", "invalid JSON" },
    { NULL, "{\"22/tcp\":{}}", "", "nerdctl/exposed-ports", "ports.deny" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      rh_error err;
      struct rh_policy *p = policy_with (cases[i].policy, &err);
      _cleanup_json_ json_t *a = ann (cases[i].exposed, cases[i].nerdctl);
      struct rh_port *ports = NULL;
      size_t n = 0;
      assert_non_null (p);
      if (rh_ports_compute (a, &p->ports, &ports, &n, &err) == 0)
        fail_msg ("case %zu (%s / %s) was accepted", i, cases[i].exposed ? cases[i].exposed : "-",
                  cases[i].nerdctl ? cases[i].nerdctl : "-");
      assert_contains (err.msg, cases[i].want1);
      assert_contains (err.msg, cases[i].want2);
      rh_policy_free (p);
    }
}

static void
test_compute_hostile_sizes (void **state)
{
  rh_error err;
  struct rh_policy *p = policy_with ("", &err);
  _cleanup_free_ char *huge = rh_xmalloc0 (RH_PORTS_ANNOTATION_MAX + 2);
  struct rh_port *ports = NULL;
  size_t n = 0;

  assert_non_null (p);
  memset (huge, '1', RH_PORTS_ANNOTATION_MAX + 1);
  {
    _cleanup_json_ json_t *a = ann (huge, NULL);
    assert_int_equal (rh_ports_compute (a, &p->ports, &ports, &n, &err), -1);
    assert_contains (err.msg, "longer than");
  }
  /* Many distinct ports: refused at max_count, without building the whole list. */
  {
    struct buf
    {
      char s[8 * 1000];
    } b;
    size_t used = 0;
    for (int i = 1000; i < 1900; i++)
      used += (size_t) snprintf (b.s + used, sizeof b.s - used, "%s%d", used ? "," : "", i);
    _cleanup_json_ json_t *a = ann (b.s, NULL);
    assert_int_equal (rh_ports_compute (a, &p->ports, &ports, &n, &err), -1);
    assert_contains (err.msg, "ports.max_count");
  }
  /* The same port many times is one port. */
  {
    _cleanup_json_ json_t *a = ann ("80,80/tcp,80", "{\"80/tcp\":{},\"80\":{}}");
    assert_int_equal (rh_ports_compute (a, &p->ports, &ports, &n, &err), 0);
    assert_int_equal (n, 1);
    free (ports);
  }
  /* A non-string annotation value. */
  {
    _cleanup_json_ json_t *a = json_pack ("{s:i}", RH_ANNOTATION_EXPOSED_PORTS, 80);
    ports = NULL;
    assert_int_equal (rh_ports_compute (a, &p->ports, &ports, &n, &err), -1);
    assert_contains (err.msg, "expected a string");
  }
  rh_policy_free (p);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_port_parse_valid),
    cmocka_unit_test (test_port_parse_invalid),
    cmocka_unit_test (test_port_parse_names_the_text),
    cmocka_unit_test (test_range_parse),
    cmocka_unit_test (test_cidr_parse),
    cmocka_unit_test (test_policy_defaults),
    cmocka_unit_test (test_policy_sections),
    cmocka_unit_test (test_policy_errors),
    cmocka_unit_test (test_compute_merge),
    cmocka_unit_test (test_compute_empty),
    cmocka_unit_test (test_compute_errors),
    cmocka_unit_test (test_compute_hostile_sizes),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
