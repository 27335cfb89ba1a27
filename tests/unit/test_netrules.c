/* Rule text: a pure function from (id, ports, denied destinations, cgroup) to an
 * iptables-restore batch, and back from iptables-save output to exact removal batches. The
 * golden texts here are what the integration tests then feed to real iptables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "netrules.h"
#include "util.h"

#define assert_contains(hay, needle)                                                                         \
  do                                                                                                         \
    {                                                                                                        \
      if (strstr ((hay), (needle)) == NULL)                                                                  \
        fail_msg ("expected \"%s\" in \"%s\"", (needle), (hay));                                             \
    }                                                                                                        \
  while (0)

static void
test_check_id (void **state)
{
  static const char *const ok[] = { "a", "rh-hooks-123-t1", "0123456789abcdef", "A.b_c+d-e", "-x", "_x",
                                    "3f1c2b5e9d8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e" };
  static const char *const bad[] = { "", ".x", "a/b", "a b", "a\"b", "a\nb", "..", "a;b", "a\\b",
                                     "a$(x)", "é" };
  char long_id[RH_NET_ID_MAX + 2];
  rh_error err;

  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (rh_container_id_check (ok[i], &err) < 0)
      fail_msg ("id %s refused: %s", ok[i], err.msg);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (rh_container_id_check (bad[i], &err) == 0)
      fail_msg ("id \"%s\" accepted", bad[i]);
  assert_int_equal (rh_container_id_check (NULL, &err), -1);
  memset (long_id, 'a', RH_NET_ID_MAX);
  long_id[RH_NET_ID_MAX] = '\0';
  assert_int_equal (rh_container_id_check (long_id, &err), 0);
  long_id[RH_NET_ID_MAX] = 'a';
  long_id[RH_NET_ID_MAX + 1] = '\0';
  assert_int_equal (rh_container_id_check (long_id, &err), -1);
  assert_contains (err.msg, "longer than 128");
}

static void
test_chain_names (void **state)
{
  char in[RH_NET_CHAIN_NAME_MAX], out[RH_NET_CHAIN_NAME_MAX], in2[RH_NET_CHAIN_NAME_MAX], out2[RH_NET_CHAIN_NAME_MAX];

  rh_netrules_chain_names ("hk-1", in, out);
  /* sha256("hk-1") starts 72d012155c21d5e9. */
  assert_string_equal (in, "RH-I-72d012155c21d5e9");
  assert_string_equal (out, "RH-E-72d012155c21d5e9");
  /* iptables limits chain names to 28 characters. */
  assert_true (strlen (in) <= 28);
  rh_netrules_chain_names ("hk-2", in2, out2);
  assert_string_not_equal (in, in2);
}

static const struct rh_port two_ports[] = { { 53, RH_PROTO_UDP }, { 8080, RH_PROTO_TCP } };

static void
test_add_text_golden (void **state)
{
  char *deny[] = { "169.254.169.254/32", "127.0.0.77/32", NULL };
  struct rh_netrules_spec s = {
    .id = "hk-1", .ports = two_ports, .n_ports = 2, .deny = deny, .cgroup_path = "/runsc-host/hk-1"
  };
  _cleanup_free_ char *t = rh_netrules_add_text (&s, 4);

  assert_string_equal (
      t, "*filter\n"
         ":RH-I-72d012155c21d5e9 - [0:0]\n"
         "-A RH-I-72d012155c21d5e9 -p udp -m udp --dport 53 -m comment --comment \"runsc-host:hk-1\" -j ACCEPT\n"
         "-A RH-I-72d012155c21d5e9 -p tcp -m tcp --dport 8080 -m comment --comment \"runsc-host:hk-1\" -j ACCEPT\n"
         ":RH-E-72d012155c21d5e9 - [0:0]\n"
         "-A RH-E-72d012155c21d5e9 -d 169.254.169.254/32 -m comment --comment \"runsc-host:hk-1\" -j REJECT\n"
         "-A RH-E-72d012155c21d5e9 -d 127.0.0.77/32 -m comment --comment \"runsc-host:hk-1\" -j REJECT\n"
         "-A RUNSC-HOST-INPUT -m comment --comment \"runsc-host:hk-1\" -j RH-I-72d012155c21d5e9\n"
         "-A RUNSC-HOST-OUTPUT -m cgroup --path /runsc-host/hk-1 -m comment --comment \"runsc-host:hk-1\" -j "
         "RH-E-72d012155c21d5e9\n"
         "COMMIT\n");
}

static void
test_add_text_parts (void **state)
{
  char *deny[] = { "fd00::/64", NULL };
  char *none[] = { NULL };
  struct rh_netrules_spec only_in = { .id = "c", .ports = two_ports, .n_ports = 1 };
  struct rh_netrules_spec only_out = { .id = "c", .deny = deny, .cgroup_path = "/g" };
  struct rh_netrules_spec nothing = { .id = "c", .deny = none, .cgroup_path = "/g" };
  struct rh_netrules_spec no_cgroup = { .id = "c", .deny = deny };
  _cleanup_free_ char *a = rh_netrules_add_text (&only_in, 4);
  _cleanup_free_ char *b = rh_netrules_add_text (&only_out, 6);

  assert_non_null (a);
  assert_null (strstr (a, "RUNSC-HOST-OUTPUT"));
  assert_null (strstr (a, "RH-E-"));
  assert_contains (a, "--dport 53");
  assert_null (strstr (a, "--dport 8080"));
  assert_non_null (b);
  assert_null (strstr (b, "RUNSC-HOST-INPUT"));
  assert_contains (b, "-d fd00::/64");
  assert_null (rh_netrules_add_text (&nothing, 4));
  /* Without a cgroup there is nothing to match the sandbox by: no egress rule at all (never a
   * rule that would hit every process). */
  assert_null (rh_netrules_add_text (&no_cgroup, 4));
}

static void
test_del_text_golden (void **state)
{
  _cleanup_free_ char *t = rh_netrules_del_text ("hk-1", true, true, "/runsc-host/hk-1");
  _cleanup_free_ char *in = rh_netrules_del_text ("hk-1", true, false, NULL);

  assert_string_equal (t, "*filter\n"
                          "-D RUNSC-HOST-INPUT -m comment --comment \"runsc-host:hk-1\" -j RH-I-72d012155c21d5e9\n"
                          "-D RUNSC-HOST-OUTPUT -m cgroup --path /runsc-host/hk-1 -m comment --comment "
                          "\"runsc-host:hk-1\" -j RH-E-72d012155c21d5e9\n"
                          "-F RH-I-72d012155c21d5e9\n-X RH-I-72d012155c21d5e9\n"
                          "-F RH-E-72d012155c21d5e9\n-X RH-E-72d012155c21d5e9\n"
                          "COMMIT\n");
  assert_null (strstr (in, "RH-E-"));
  assert_null (rh_netrules_del_text ("hk-1", false, false, NULL));
  assert_null (rh_netrules_del_text ("hk-1", false, true, NULL));
}

/* What iptables-save (nft backend) printed here for two containers, plus noise: another table,
 * a host rule with a comment, a comment that looks like ours but carries a bad id, and an
 * orphan chain. */
static const char saved[]
    = "# Generated by iptables-save v1.8.9 (nf_tables) on Sat Nov 28 16:49:28 2026\n"
      "*nat\n"
      ":PREROUTING ACCEPT [0:0]\n"
      "-A PREROUTING -m comment --comment \"runsc-host:natrule\" -j RETURN\n"
      "COMMIT\n"
      "*filter\n"
      ":INPUT DROP [0:0]\n"
      ":FORWARD ACCEPT [0:0]\n"
      ":OUTPUT ACCEPT [0:0]\n"
      ":RH-E-72d012155c21d5e9 - [0:0]\n"
      ":RH-I-72d012155c21d5e9 - [0:0]\n"
      ":RH-I-baaeacf2a498abe1 - [0:0]\n"
      ":RH-I-0000000000000000 - [0:0]\n"
      ":RUNSC-HOST-INPUT - [0:0]\n"
      ":RUNSC-HOST-OUTPUT - [0:0]\n"
      "-A INPUT -j RUNSC-HOST-INPUT\n"
      "-A INPUT -i lo -j ACCEPT\n"
      "-A INPUT -p tcp -m tcp --dport 2222 -m comment --comment \"host ssh\" -j ACCEPT\n"
      "-A OUTPUT -j RUNSC-HOST-OUTPUT\n"
      "-A RH-E-72d012155c21d5e9 -d 169.254.169.254/32 -m comment --comment \"runsc-host:hk-1\" -j REJECT "
      "--reject-with icmp-port-unreachable\n"
      "-A RH-I-72d012155c21d5e9 -p tcp -m tcp --dport 80 -m comment --comment \"runsc-host:hk-1\" -j ACCEPT\n"
      "-A RH-I-baaeacf2a498abe1 -p tcp -m tcp --dport 81 -m comment --comment \"runsc-host:hk-2\" -j ACCEPT\n"
      "-A RUNSC-HOST-INPUT -m comment --comment \"runsc-host:hk-1\" -j RH-I-72d012155c21d5e9\n"
      "-A RUNSC-HOST-INPUT -m comment --comment \"runsc-host:hk-2\" -j RH-I-baaeacf2a498abe1\n"
      "-A RUNSC-HOST-INPUT -m comment --comment \"runsc-host:bad id\" -j ACCEPT\n"
      "-A RUNSC-HOST-OUTPUT -m cgroup --path \"/runsc-host/hk-1\" -m comment --comment \"runsc-host:hk-1\" -j "
      "RH-E-72d012155c21d5e9\n"
      "COMMIT\n"
      "# Completed on Sat Nov 28 16:49:28 2026\n";

static void
test_parse_save (void **state)
{
  struct rh_netrules_table t;
  rh_error err;

  assert_int_equal (rh_netrules_parse_save (saved, &t, &err), 0);
  assert_true (t.chain_in && t.chain_out && t.jump_in && t.jump_out);
  assert_int_equal (t.n_jumps, 3);
  assert_string_equal (t.jumps[0].id, "hk-1");
  assert_string_equal (t.jumps[0].target, "RH-I-72d012155c21d5e9");
  assert_string_equal (t.jumps[2].id, "hk-1");
  assert_string_equal (t.jumps[2].line, "-A RUNSC-HOST-OUTPUT -m cgroup --path \"/runsc-host/hk-1\" -m comment "
                                        "--comment \"runsc-host:hk-1\" -j RH-E-72d012155c21d5e9");
  assert_int_equal (rh_strv_len (t.chains), 4);
  assert_null (rh_netrules_bootstrap_text (&t));
  rh_netrules_table_free (&t);
}

static void
test_bootstrap (void **state)
{
  struct rh_netrules_table t;
  rh_error err;
  _cleanup_free_ char *all = NULL, *jump_only = NULL;

  assert_int_equal (rh_netrules_parse_save ("*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n", &t, &err),
                    0);
  all = rh_netrules_bootstrap_text (&t);
  assert_string_equal (all, "*filter\n"
                            ":RUNSC-HOST-INPUT - [0:0]\n"
                            ":RUNSC-HOST-OUTPUT - [0:0]\n"
                            "-I INPUT 1 -j RUNSC-HOST-INPUT\n"
                            "-I OUTPUT 1 -j RUNSC-HOST-OUTPUT\n"
                            "COMMIT\n");
  rh_netrules_table_free (&t);

  /* Chains exist (with rules in them) but an administrator removed the INPUT jump: the chains
   * are NOT declared again (that would empty them), only the jump comes back. */
  assert_int_equal (rh_netrules_parse_save ("*filter\n:INPUT ACCEPT [0:0]\n:RUNSC-HOST-INPUT - [0:0]\n"
                                            ":RUNSC-HOST-OUTPUT - [0:0]\n-A OUTPUT -j RUNSC-HOST-OUTPUT\n"
                                            "-A RUNSC-HOST-INPUT -m comment --comment \"runsc-host:x\" -j RH-I-1\n"
                                            "COMMIT\n",
                                            &t, &err),
                    0);
  jump_only = rh_netrules_bootstrap_text (&t);
  assert_string_equal (jump_only, "*filter\n-I INPUT 1 -j RUNSC-HOST-INPUT\nCOMMIT\n");
  rh_netrules_table_free (&t);

  /* A jump in another table is not ours. */
  assert_int_equal (rh_netrules_parse_save ("*nat\n-A INPUT -j RUNSC-HOST-INPUT\nCOMMIT\n", &t, &err), 0);
  assert_false (t.jump_in);
  rh_netrules_table_free (&t);
}

static void
test_del_from_table (void **state)
{
  struct rh_netrules_table t;
  rh_error err;
  _cleanup_free_ char *one = NULL, *two = NULL;

  assert_int_equal (rh_netrules_parse_save (saved, &t, &err), 0);
  one = rh_netrules_del_text_from_table (&t, "hk-1");
  assert_string_equal (one, "*filter\n"
                            "-D RUNSC-HOST-INPUT -m comment --comment \"runsc-host:hk-1\" -j RH-I-72d012155c21d5e9\n"
                            "-D RUNSC-HOST-OUTPUT -m cgroup --path \"/runsc-host/hk-1\" -m comment --comment "
                            "\"runsc-host:hk-1\" -j RH-E-72d012155c21d5e9\n"
                            "-F RH-I-72d012155c21d5e9\n-X RH-I-72d012155c21d5e9\n"
                            "-F RH-E-72d012155c21d5e9\n-X RH-E-72d012155c21d5e9\n"
                            "COMMIT\n");
  two = rh_netrules_del_text_from_table (&t, "hk-2");
  assert_string_equal (two, "*filter\n"
                            "-D RUNSC-HOST-INPUT -m comment --comment \"runsc-host:hk-2\" -j RH-I-baaeacf2a498abe1\n"
                            "-F RH-I-baaeacf2a498abe1\n-X RH-I-baaeacf2a498abe1\n"
                            "COMMIT\n");
  assert_null (strstr (two, "hk-1"));
  assert_null (strstr (two, "72d012155c21d5e9"));
  assert_null (rh_netrules_del_text_from_table (&t, "absent"));
  rh_netrules_table_free (&t);
}

static bool
alive_hk2 (const char *id, void *data)
{
  (*(int *) data)++;
  return strcmp (id, "hk-2") == 0;
}

static bool
alive_none (const char *id, void *data)
{
  return false;
}

static bool
alive_all (const char *id, void *data)
{
  return true;
}

static void
test_gc_text (void **state)
{
  struct rh_netrules_table t;
  rh_error err;
  bool shared = true;
  int calls = 0;
  _cleanup_strv_ char **removed = rh_xmalloc0 (sizeof (char *));
  _cleanup_free_ char *g = NULL, *all = NULL;

  assert_int_equal (rh_netrules_parse_save (saved, &t, &err), 0);
  g = rh_netrules_gc_text (&t, alive_hk2, &calls, &removed, &shared);
  /* hk-1 is gone: both its jumps and chains; the orphan chain too; hk-2 stays. */
  assert_contains (g, "-D RUNSC-HOST-INPUT -m comment --comment \"runsc-host:hk-1\"");
  assert_contains (g, "-D RUNSC-HOST-OUTPUT -m cgroup --path \"/runsc-host/hk-1\"");
  assert_contains (g, "-X RH-I-72d012155c21d5e9\n");
  assert_contains (g, "-X RH-E-72d012155c21d5e9\n");
  assert_contains (g, "-X RH-I-0000000000000000\n");
  assert_null (strstr (g, "hk-2"));
  assert_null (strstr (g, "baaeacf2a498abe1"));
  /* Each chain deleted once. */
  assert_ptr_equal (strstr (g, "-X RH-I-72d012155c21d5e9"), strstr (g, "-X RH-I-72d"));
  assert_int_equal (rh_strv_len (removed), 1);
  assert_string_equal (removed[0], "hk-1");
  assert_int_equal (calls, 2); /* once per distinct id */
  assert_false (shared);
  all = rh_netrules_gc_text (&t, alive_none, NULL, NULL, &shared);
  assert_contains (all, "hk-2");
  /* "runsc-host:bad id" is not a container's jump: the shared chains stay. */
  assert_false (shared);
  assert_null (strstr (all, "-D INPUT"));
  rh_netrules_table_free (&t);

  /* Nothing of ours: nothing to do. */
  assert_int_equal (rh_netrules_parse_save ("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n", &t, &err), 0);
  assert_null (rh_netrules_gc_text (&t, alive_none, NULL, NULL, NULL));
  rh_netrules_table_free (&t);
}

/* With no container left, gc also takes the shared chains and their jumps out, unless anything
 * else sits in those chains. */
static void
test_gc_text_shared (void **state)
{
  static const char base[]
      = "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
        ":RH-I-72d012155c21d5e9 - [0:0]\n:RUNSC-HOST-INPUT - [0:0]\n:RUNSC-HOST-OUTPUT - [0:0]\n"
        "-A INPUT -j RUNSC-HOST-INPUT\n-A INPUT -i lo -j ACCEPT\n-A OUTPUT -j RUNSC-HOST-OUTPUT\n"
        "-A RH-I-72d012155c21d5e9 -p tcp -m tcp --dport 80 -m comment --comment \"runsc-host:hk-1\" -j ACCEPT\n"
        "-A RUNSC-HOST-INPUT -m comment --comment \"runsc-host:hk-1\" -j RH-I-72d012155c21d5e9\n";
  struct rh_netrules_table t;
  rh_error err;
  bool shared = true;
  _cleanup_free_ char *text = NULL, *g = NULL;

  /* hk-1 is gone: its rules, then the jumps from INPUT and OUTPUT, then the shared chains. */
  text = rh_xasprintf ("%sCOMMIT\n", base);
  assert_int_equal (rh_netrules_parse_save (text, &t, &err), 0);
  g = rh_netrules_gc_text (&t, alive_none, NULL, NULL, &shared);
  assert_true (shared);
  assert_string_equal (g, "*filter\n"
                          "-D RUNSC-HOST-INPUT -m comment --comment \"runsc-host:hk-1\" -j RH-I-72d012155c21d5e9\n"
                          "-F RH-I-72d012155c21d5e9\n-X RH-I-72d012155c21d5e9\n"
                          "-D INPUT -j RUNSC-HOST-INPUT\n-D OUTPUT -j RUNSC-HOST-OUTPUT\n"
                          "-F RUNSC-HOST-INPUT\n-X RUNSC-HOST-INPUT\n-F RUNSC-HOST-OUTPUT\n-X RUNSC-HOST-OUTPUT\n"
                          "COMMIT\n");
  free (g);
  /* hk-1 alive: nothing at all to do. */
  g = rh_netrules_gc_text (&t, alive_all, NULL, NULL, &shared);
  assert_null (g);
  assert_false (shared);
  rh_netrules_table_free (&t);
  free (text);

  /* Somebody else's rule in a shared chain (readable or not): the chains stay. */
  static const char *const foreign[] = { "-A RUNSC-HOST-OUTPUT -d 10.0.0.1/32 -j DROP\n",
                                         "-A RUNSC-HOST-INPUT -m comment --comment \"unterminated\n" };
  for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++)
    {
      text = rh_xasprintf ("%s%sCOMMIT\n", base, foreign[i]);
      assert_int_equal (rh_netrules_parse_save (text, &t, &err), 0);
      g = rh_netrules_gc_text (&t, alive_none, NULL, NULL, &shared);
      assert_false (shared);
      assert_null (strstr (g, "RUNSC-HOST-INPUT\n-X"));
      assert_null (strstr (g, "-D INPUT"));
      assert_non_null (strstr (g, "-X RH-I-72d012155c21d5e9"));
      free (g);
      free (text);
      rh_netrules_table_free (&t);
    }
  text = NULL;
  g = NULL;
}

/* Hostile save text never crashes the reader and never yields an id we would not generate. */
static void
test_parse_hostile (void **state)
{
  static const char *const texts[] = {
    "",
    "*filter",
    "*filter\n-A",
    "*filter\n-A RUNSC-HOST-INPUT -m comment --comment \"runsc-host:x",
    "*filter\n-A RUNSC-HOST-INPUT -m comment --comment \"runsc-host:a\\\"b\" -j X\nCOMMIT\n",
    "*filter\n-A RUNSC-HOST-INPUT -m comment --comment runsc-host:ok -j\nCOMMIT\n",
    "*filter\n:RH-I-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa - [0:0]\nCOMMIT\n",
  };
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    {
      struct rh_netrules_table t;
      rh_error err;
      assert_int_equal (rh_netrules_parse_save (texts[i], &t, &err), 0);
      assert_int_equal (t.n_jumps, 0);
      rh_netrules_table_free (&t);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_check_id),       cmocka_unit_test (test_chain_names),
    cmocka_unit_test (test_add_text_golden), cmocka_unit_test (test_add_text_parts),
    cmocka_unit_test (test_del_text_golden), cmocka_unit_test (test_parse_save),
    cmocka_unit_test (test_bootstrap),      cmocka_unit_test (test_del_from_table),
    cmocka_unit_test (test_gc_text),        cmocka_unit_test (test_gc_text_shared),
    cmocka_unit_test (test_parse_hostile),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
