/* The bump allocator (lib/base/arena.h) and its jansson hook: alignment, rollback of the most recent
 * block, the malloc fallback past the region's end and frees of fallback blocks, hostile sizes,
 * and rh_rewrite_bundle writing the same bytes with the hook installed as without it.
 *
 * Sanitizer builds refuse the hook by design (arena.h): there the hook tests check the refusal
 * and stop; the allocator itself is tested in every build (LeakSanitizer then checks that each
 * fallback block is freed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "cleanup.h"
#include "fsutil.h"
#include "paths.h"
#include "policy.h"
#include "spec_rewrite.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define PAGE 4096u

static bool
aligned (const void *p)
{
  return ((uintptr_t) p % RH_ARENA_ALIGN) == 0;
}

static void
test_alignment (void **state)
{
  struct rh_arena a;
  rh_error err;
  static const size_t sizes[] = { 1, 3, 15, 16, 17, 31, 100, 0, 7 };
  unsigned char *prev_end = NULL;

  assert_int_equal (rh_arena_init (&a, 4 * PAGE, &err), 0);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    {
      unsigned char *p = rh_arena_alloc (&a, sizes[i]);
      assert_non_null (p);
      assert_true (aligned (p));
      assert_true (rh_arena_owns (&a, p));
      /* Blocks do not overlap: each starts at or after the end of the one before. */
      if (prev_end)
        assert_true (p >= prev_end);
      memset (p, 0xa5, sizes[i] ? sizes[i] : 1);
      prev_end = p + (sizes[i] ? sizes[i] : 1);
    }
  assert_int_equal (a.fallback_allocs, 0);
  assert_true (a.top % RH_ARENA_ALIGN == 0);
  assert_false (rh_arena_owns (&a, &a));
  assert_false (rh_arena_owns (&a, a.base + a.cap));
  rh_arena_destroy (&a);
  assert_null (a.base);
}

static void
test_rollback (void **state)
{
  struct rh_arena a;
  rh_error err;
  void *x, *y, *z;
  size_t top;

  assert_int_equal (rh_arena_init (&a, PAGE, &err), 0);
  x = rh_arena_alloc (&a, 40);
  y = rh_arena_alloc (&a, 40);
  top = a.top;
  /* The most recent block is rolled back: the next allocation reuses it. */
  rh_arena_free (&a, y);
  assert_int_equal (a.top, top - 48);
  z = rh_arena_alloc (&a, 24);
  assert_ptr_equal (z, y);
  /* An older block stays where it is. */
  top = a.top;
  rh_arena_free (&a, x);
  assert_int_equal (a.top, top);
  assert_ptr_not_equal (rh_arena_alloc (&a, 40), x);
  /* Only one step back: freeing the rolled-back block again changes nothing. */
  y = rh_arena_alloc (&a, 16);
  rh_arena_free (&a, y);
  top = a.top;
  rh_arena_free (&a, y);
  rh_arena_free (&a, z);
  rh_arena_free (&a, NULL);
  assert_int_equal (a.top, top);
  assert_true (a.peak >= a.top);
  rh_arena_reset (&a);
  assert_int_equal (a.top, 0);
  assert_ptr_equal (rh_arena_alloc (&a, 8), a.base);
  rh_arena_destroy (&a);
}

static void
test_fallback (void **state)
{
  struct rh_arena a;
  rh_error err;
  void *blocks[PAGE / 64];
  void *big, *extra, *edge;
  size_t n = 0;

  assert_int_equal (rh_arena_init (&a, PAGE, &err), 0);
  assert_int_equal (a.cap, PAGE);
  /* Fill the region exactly. */
  while (a.top < a.cap)
    {
      blocks[n] = rh_arena_alloc (&a, 64);
      assert_true (rh_arena_owns (&a, blocks[n]));
      n++;
    }
  assert_int_equal (n, PAGE / 64);
  assert_int_equal (a.fallback_allocs, 0);
  /* Past the end: malloc, still aligned, and told apart by address. */
  extra = rh_arena_alloc (&a, 64);
  assert_non_null (extra);
  assert_false (rh_arena_owns (&a, extra));
  assert_true (aligned (extra));
  assert_int_equal (a.fallback_allocs, 1);
  memset (extra, 1, 64);
  rh_arena_free (&a, extra);
  /* Larger than the whole region: malloc even when the region is empty again. */
  rh_arena_reset (&a);
  big = rh_arena_alloc (&a, PAGE + 1);
  assert_non_null (big);
  assert_false (rh_arena_owns (&a, big));
  assert_int_equal (a.top, 0);
  memset (big, 2, PAGE + 1);
  /* A block that ends exactly at the region's end is still the region's. */
  edge = rh_arena_alloc (&a, PAGE - 16);
  assert_true (rh_arena_owns (&a, edge));
  assert_true (rh_arena_owns (&a, rh_arena_alloc (&a, 16)));
  extra = rh_arena_alloc (&a, 1);
  assert_non_null (extra);
  assert_false (rh_arena_owns (&a, extra));
  /* Fallback blocks are really freed (LeakSanitizer checks this in sanitizer builds), and the
   * region survives the frees. */
  rh_arena_free (&a, big);
  rh_arena_free (&a, extra);
  assert_int_equal (a.top, a.cap);
  assert_int_equal (a.fallback_allocs, 3);
  rh_arena_destroy (&a);
  /* A block from malloc before the region existed is freed the same way. */
  big = malloc (32);
  rh_arena_free (&a, big);
}

static void
test_hostile_sizes (void **state)
{
  struct rh_arena a;
  rh_error err;
  size_t top;

  assert_int_equal (rh_arena_init (&a, PAGE, &err), 0);
  rh_arena_alloc (&a, 100);
  top = a.top;
  /* Sizes that would wrap when rounded up to the alignment: refused, the region untouched. */
  for (size_t d = 0; d < 32; d++)
    {
      void *p = rh_arena_alloc (&a, SIZE_MAX - d);
      assert_null (p);
      assert_int_equal (a.top, top);
    }
  assert_null (rh_arena_alloc (&a, SIZE_MAX / 2 + 1));
  assert_int_equal (a.top, top);
  assert_int_equal (errno, ENOMEM);
  assert_int_equal (a.fallback_allocs, 0);
  /* One byte more than what is left: fallback, the region untouched. */
  {
    void *p = rh_arena_alloc (&a, a.cap - a.top + 1);
    assert_non_null (p);
    assert_false (rh_arena_owns (&a, p));
    assert_int_equal (a.top, top);
    rh_arena_free (&a, p);
  }
  rh_arena_destroy (&a);
  /* Sizes the region itself cannot have. */
  assert_int_equal (rh_arena_init (&a, 0, &err), -1);
  assert_int_equal (err.code, EINVAL);
  assert_int_equal (rh_arena_init (&a, SIZE_MAX, &err), -1);
  assert_int_equal (err.code, EINVAL);
  assert_null (a.base);
  /* A region that is never set up only ever uses malloc. */
  {
    void *p = rh_arena_alloc (&a, 10);
    assert_non_null (p);
    assert_false (rh_arena_owns (&a, p));
    rh_arena_free (&a, p);
  }
}

/* ---- the jansson hook ---- */

/* true when the hook may be tested in this build (false: the refusal was checked). */
static bool
install_or_refused (size_t cap)
{
  rh_error err = { 0 };
  int r = rh_arena_json_install (cap, &err);

  if (SANITIZED)
    {
      assert_int_equal (r, -1);
      assert_int_equal (err.code, ENOTSUP);
      assert_false (rh_arena_json_installed ());
      assert_false (rh_arena_json_bump (true));
      assert_null (rh_arena_json ());
      print_message ("sanitizer build: the hook refuses to install (lib/base/arena.h); nothing more to test here\n");
      return false;
    }
  if (r < 0)
    fail_msg ("%s", err.msg);
  return true;
}

static void
test_json_hook (void **state)
{
  static const char text[] = "{\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0}]}";
  const struct rh_arena *a;
  json_t *early = json_string ("made before the install");
  json_t *tree, *later, *copy;
  rh_error err = { 0 };
  char *dump;
  bool was;

  if (!install_or_refused (64 * PAGE))
    {
      json_decref (early);
      return;
    }
  a = rh_arena_json ();
  assert_non_null (a);
  assert_int_equal (rh_arena_json_install (64 * PAGE, &err), -1);
  assert_int_equal (err.code, EBUSY);

  /* Bump mode off: jansson still uses malloc. */
  later = json_array ();
  assert_false (rh_arena_owns (a, later));
  /* On: the parsed tree is in the region. */
  was = rh_arena_json_bump (true);
  assert_false (was);
  tree = json_loads (text, JSON_REJECT_DUPLICATES, NULL);
  assert_true (rh_arena_json_bump (was));
  assert_non_null (tree);
  assert_true (rh_arena_owns (a, tree));
  assert_true (rh_arena_owns (a, json_object_get (tree, "names")));
  assert_true (a->peak > 0);
  /* Mixing: malloc'd nodes in a region tree, region nodes in a malloc'd one. */
  json_array_append_new (json_object_get (tree, "names"), json_string ("close"));
  json_array_append (later, json_object_get (tree, "action"));
  json_array_append (later, early);
  copy = json_deep_copy (tree);
  assert_false (rh_arena_owns (a, copy));
  assert_true (json_equal (copy, tree));
  /* What json_dumps returns in malloc mode may go to free(), as lib/base/log.c does. */
  dump = json_dumps (copy, JSON_COMPACT);
  assert_false (rh_arena_owns (a, dump));
  assert_non_null (strstr (dump, "\"close\""));
  free (dump);
  /* Freed in any order and mode: region blocks stay, malloc blocks go back to malloc. */
  json_decref (tree);
  json_decref (copy);
  json_decref (early);
  assert_int_equal (json_array_size (later), 2);
  assert_string_equal (json_string_value (json_array_get (later, 0)), "SCMP_ACT_ALLOW");
  json_decref (later);
  rh_arena_json_uninstall ();
  assert_false (rh_arena_json_installed ());
  assert_null (rh_arena_json ());
}

/* A spec far larger than the region (a hostile multi-MiB config.json): the region fills up, the
 * rest comes from malloc, and the tree is whole. */
static void
test_json_hook_past_cap (void **state)
{
  const size_t n = 40000;
  size_t len = 0, cap = n * 48 + 16;
  _cleanup_free_ char *text = rh_xmalloc0 (cap);
  json_t *plain, *bumped;
  const struct rh_arena *a;
  bool was;

  text[len++] = '[';
  for (size_t i = 0; i < n; i++)
    len += (size_t) snprintf (text + len, cap - len, "%s{\"k\": \"value number %zu\"}", i ? "," : "", i);
  text[len++] = ']';
  plain = json_loadb (text, len, 0, NULL);
  assert_non_null (plain);
  if (!install_or_refused (16 * PAGE))
    {
      json_decref (plain);
      return;
    }
  a = rh_arena_json ();
  was = rh_arena_json_bump (true);
  bumped = json_loadb (text, len, 0, NULL);
  rh_arena_json_bump (was);
  assert_non_null (bumped);
  assert_true (a->peak <= a->cap);
  assert_true (a->cap - a->peak < 4096); /* the region was used up... */
  assert_true (a->fallback_allocs > n);  /* ...and the rest came from malloc */
  assert_true (json_equal (plain, bumped));
  json_decref (bumped);
  json_decref (plain);
  rh_arena_json_uninstall ();
}

/* ---- rh_rewrite_bundle: the same bytes with the hook as without ---- */

static char *
make_spec (const char *dir)
{
  json_t *spec, *sys = json_array ();
  char *text;

  /* Flat rules of one name, some with argument tests, one the policy's own, one ERRNO/ENOSYS
   * (written as TRACE), one KILL_THREAD (written as KILL): the merge's paths. */
  for (int i = 0; i < 60; i++)
    {
      char name[32];
      json_t *r;
      snprintf (name, sizeof name, "call%d", i);
      r = json_pack ("{s:[s], s:s}", "names", i == 7 ? "pselect6" : name, "action", "SCMP_ACT_ALLOW");
      if (i % 10 == 9)
        json_object_set_new (r, "args", json_pack ("[{s:i, s:i, s:i, s:s}]", "index", 0, "value", i, "valueTwo",
                                                   0, "op", "SCMP_CMP_NE"));
      json_array_append_new (sys, r);
    }
  json_array_append_new (sys, json_pack ("{s:[s, s], s:s, s:i}", "names", "clone3", "call3", "action",
                                         "SCMP_ACT_ERRNO", "errnoRet", 38));
  json_array_append_new (sys, json_pack ("{s:[s], s:s}", "names", "call4", "action", "SCMP_ACT_KILL_THREAD"));
  spec = json_pack ("{s:s, s:{s:[s], s:s}, s:{s:s}, s:[{s:s, s:s, s:s, s:[s]}, {s:s, s:s, s:s}],"
                    " s:{s:{s:s, s:o}}, s:{s:s}}",
                    "ociVersion", "1.0.2", "process", "args", "/bin/true", "cwd", "/", "root", "path", "rootfs",
                    "mounts", "destination", "/data", "type", "bind", "source", dir, "options", "rbind",
                    "destination", "/proc", "type", "proc", "source", "proc", "linux", "seccomp",
                    "defaultAction", "SCMP_ACT_ERRNO", "syscalls", sys, "annotations", "a", "b");
  text = json_dumps (spec, JSON_COMPACT);
  json_decref (spec);
  return text;
}

static char *
rewrite_once (const char *dir, const char *text, const struct rh_rewrite_ctx *ctx, char **orig)
{
  _cleanup_free_ char *cfg = rh_xasprintf ("%s/config.json", dir);
  _cleanup_free_ char *orig_path = rh_xasprintf ("%s/config.json.orig", dir);
  char *out = NULL;
  size_t len;
  rh_error err = { 0 };

  unlink (orig_path);
  if (rh_write_file_atomic (cfg, text, strlen (text), 0644, &err) < 0
      || rh_rewrite_bundle (dir, ctx, &err) < 0 || rh_read_file_capped (cfg, 1u << 24, &out, &len, &err) < 0
      || rh_read_file_capped (orig_path, 1u << 24, orig, &len, &err) < 0)
    fail_msg ("%s", err.msg);
  unlink (orig_path);
  unlink (cfg);
  return out;
}

static void
test_bundle_same_bytes (void **state)
{
  char dir[64] = "/tmp/rh-test-arena-XXXXXX";
  _cleanup_free_ char *rootfs = NULL;
  _cleanup_free_ char *text = NULL;
  _cleanup_free_ char *want = NULL;
  _cleanup_free_ char *got = NULL;
  _cleanup_free_ char *orig1 = NULL;
  _cleanup_free_ char *orig2 = NULL;
  _cleanup_free_ char *cfg = NULL;
  _cleanup_free_ char *after = NULL;
  struct rh_policy *pol = NULL;
  struct rh_rewrite_ctx ctx;
  rh_error err = { 0 };
  size_t len;

  assert_non_null (mkdtemp (dir));
  rootfs = rh_xasprintf ("%s/rootfs", dir);
  cfg = rh_xasprintf ("%s/config.json", dir);
  assert_int_equal (mkdir (rootfs, 0755), 0);
  if (rh_policy_load_file (RH_TEST_DATA "/rewrite/policy.json", &pol, &err) < 0)
    fail_msg ("%s", err.msg);
  ctx = (struct rh_rewrite_ctx) { .policy = pol, .resolver = rh_host_resolver (), .bundle = dir,
                                  .container_id = "c1" };
  text = make_spec (dir);

  want = rewrite_once (dir, text, &ctx, &orig1);
  assert_string_equal (orig1, text);
  assert_non_null (strstr (want, "\"SCMP_ACT_TRACE\""));
  assert_non_null (strstr (want, "\"pselect\""));
  /* The format written is json_dumps (JSON_INDENT (2) | JSON_PRESERVE_ORDER) and a newline. */
  {
    json_t *j = json_loads (want, 0, NULL);
    _cleanup_free_ char *d = NULL;
    _cleanup_free_ char *line = NULL;
    assert_non_null (j);
    d = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
    line = rh_xasprintf ("%s\n", d);
    assert_string_equal (want, line);
    json_decref (j);
  }
  if (install_or_refused (RH_ARENA_JSON_CAP))
    {
      got = rewrite_once (dir, text, &ctx, &orig2);
      assert_string_equal (orig2, text);
      assert_string_equal (got, want);
      assert_true (rh_arena_json ()->peak > 0);
      assert_false (rh_arena_json_bump (false)); /* left off */
      /* Refusals and parse errors come out the same with the hook, and leave config.json. */
      assert_int_equal (rh_write_file_atomic (cfg, "{\"mounts\": [", 12, 0644, &err), 0);
      assert_int_equal (rh_rewrite_bundle (dir, &ctx, &err), -1);
      assert_non_null (strstr (err.msg, "invalid JSON"));
      assert_int_equal (rh_write_file_atomic (cfg, "{\"Mounts\": []}", 14, 0644, &err), 0);
      assert_int_equal (rh_rewrite_bundle (dir, &ctx, &err), -1);
      assert_non_null (strstr (err.msg, "spec.Mounts: refused"));
      assert_int_equal (rh_read_file_capped (cfg, 1024, &after, &len, &err), 0);
      assert_string_equal (after, "{\"Mounts\": []}");
      unlink (cfg);
      /* rh_rewrite_bundle left its trees in place (the process would exec next). */
      rh_arena_json_uninstall ();
    }
  rmdir (rootfs);
  assert_int_equal (rmdir (dir), 0);
  rh_policy_free (pol);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_alignment),
    cmocka_unit_test (test_rollback),
    cmocka_unit_test (test_fallback),
    cmocka_unit_test (test_hostile_sizes),
    cmocka_unit_test (test_json_hook),
    cmocka_unit_test (test_json_hook_past_cap),
    cmocka_unit_test (test_bundle_same_bytes),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
