/* Path cleaning, overlap checks, and the resolvers (fake and real host). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "paths.h"
#include "util.h"

static void
check_clean (const char *base, const char *in, const char *want)
{
  _cleanup_free_ char *got = rh_path_clean (base, in);
  if (strcmp (got, want) != 0)
    fail_msg ("clean(%s, %s) = %s, want %s", base ? base : "NULL", in, got, want);
}

static void
test_clean (void **state)
{
  check_clean (NULL, "/", "/");
  check_clean (NULL, "", "/");
  check_clean (NULL, "//", "/");
  check_clean (NULL, "/run/container_launcher/", "/run/container_launcher");
  check_clean (NULL, "//run/./container_launcher/..//container_launcher", "/run/container_launcher");
  check_clean (NULL, "/run/../run/container_launcher", "/run/container_launcher");
  check_clean (NULL, "/run/container_launcher/teeserver.sock/.", "/run/container_launcher/teeserver.sock");
  check_clean (NULL, "/../../..", "/");
  check_clean (NULL, "/a/b/../../../c", "/c");
  check_clean (NULL, "/a/./b/./", "/a/b");
  check_clean (NULL, "/...", "/...");
  check_clean (NULL, "/a/..b/.c", "/a/..b/.c");
  check_clean (NULL, "relative/x", "/relative/x");
  check_clean ("/bundle", "rootfs", "/bundle/rootfs");
  check_clean ("/bundle/", "./rootfs/", "/bundle/rootfs");
  check_clean ("/b/c", "../../../../run/container_launcher", "/run/container_launcher");
  check_clean ("/b", "/abs", "/abs");
  check_clean ("/b", ".", "/b");
  check_clean ("/b", "..", "/");
}

static void
test_overlaps (void **state)
{
  assert_true (rh_path_within ("/run/container_launcher", "/run/container_launcher"));
  assert_true (rh_path_within ("/run/container_launcher/teeserver.sock", "/run/container_launcher"));
  assert_false (rh_path_within ("/run/container_launcherX", "/run/container_launcher"));
  assert_false (rh_path_within ("/run", "/run/container_launcher"));
  assert_true (rh_path_within ("/anything", "/"));
  assert_true (rh_path_within ("/", "/"));
  assert_false (rh_path_within ("/", "/run"));

  assert_true (rh_path_overlaps ("/", "/run/container_launcher"));
  assert_true (rh_path_overlaps ("/run", "/run/container_launcher"));
  assert_true (rh_path_overlaps ("/run/container_launcher", "/run/container_launcher"));
  assert_true (rh_path_overlaps ("/run/container_launcher/x/y", "/run/container_launcher"));
  assert_false (rh_path_overlaps ("/run/containerd", "/run/container_launcher"));
  assert_false (rh_path_overlaps ("/run/container_launcher2", "/run/container_launcher"));
  assert_false (rh_path_overlaps ("/srv", "/run"));
}

static struct rh_resolver *
fake (const char *desc)
{
  json_error_t jerr;
  _cleanup_json_ json_t *j = json_loads (desc, 0, &jerr);
  rh_error err;
  struct rh_resolver *r;
  assert_non_null (j);
  r = rh_fake_resolver_new (j, &err);
  if (r == NULL)
    fail_msg ("%s", err.msg);
  return r;
}

static void
check_resolve (const struct rh_resolver *r, const char *in, const char *want)
{
  _cleanup_free_ char *got = r->resolve (r->data, in, NULL);
  if (want == NULL)
    {
      if (got != NULL)
        fail_msg ("resolve(%s) = %s, want failure", in, got);
      return;
    }
  if (got == NULL || strcmp (got, want) != 0)
    fail_msg ("resolve(%s) = %s, want %s", in, got ? got : "NULL", want);
}

static void
test_fake_resolver (void **state)
{
  struct rh_resolver *r = fake ("{\"symlinks\": {\"/var/run\": \"../run\", \"/srv/a\": \"b\", \"/srv/b\": "
                                "\"/run/container_launcher\", \"/l1\": \"/l2\", \"/l2\": \"l1\", \"/srv/deep\": "
                                "\"/x/y/z\", \"/p\": \"socket:[123]\"},"
                                "\"devices\": [{\"path\": \"/dev/tpm0\", \"type\": \"c\", \"major\": 10, \"minor\": 224},"
                                "{\"path\": \"/dev/sda\", \"type\": \"b\", \"major\": 8, \"minor\": 0}]}");
  struct rh_devnode *nodes = NULL;
  size_t n = 0;

  check_resolve (r, "/var/run/container_launcher", "/run/container_launcher");
  check_resolve (r, "/srv/a/teeserver.sock", "/run/container_launcher/teeserver.sock");
  check_resolve (r, "/srv/a", "/run/container_launcher");
  check_resolve (r, "/srv/deep/../q", "/x/y/q"); /* ".." after a link is physical */
  check_resolve (r, "/plain/path/", "/plain/path");
  check_resolve (r, "/", "/");
  check_resolve (r, "/l1/x", NULL); /* loop */
  check_resolve (r, "/p", NULL);    /* kernel pseudo file: fail closed */
  check_resolve (r, "relative", NULL);
  errno = 0;
  {
    char *x = r->resolve (r->data, "/l1", NULL);
    assert_null (x);
    assert_int_equal (errno, ELOOP);
  }

  assert_int_equal (r->glob_devices (r->data, "/dev/tpm*", &nodes, &n), 0);
  assert_int_equal (n, 1);
  assert_string_equal (nodes[0].path, "/dev/tpm0");
  assert_int_equal (nodes[0].type, 'c');
  assert_int_equal (nodes[0].major, 10);
  assert_int_equal (nodes[0].minor, 224);
  rh_devnodes_free (nodes, n);
  rh_fake_resolver_free (r);

  /* Bad descriptions are refused with a reason. */
  {
    json_t *bad = json_loads ("{\"symlinks\": {\"rel\": \"/x\"}}", 0, NULL);
    rh_error err;
    assert_null (rh_fake_resolver_new (bad, &err));
    assert_non_null (strstr (err.msg, "symlink rel"));
    json_decref (bad);
  }
}

/* A symlink loop of exactly 40 links resolves; one more fails with ELOOP. */
static void
test_fake_link_limit (void **state)
{
  _cleanup_json_ json_t *desc = json_object ();
  json_t *sl = json_object ();
  struct rh_resolver *r;
  _cleanup_free_ char *ok = NULL;

  json_object_set_new (desc, "symlinks", sl);
  for (int i = 0; i < 41; i++)
    {
      char from[32], to[32];
      snprintf (from, sizeof from, "/c%d", i);
      snprintf (to, sizeof to, "c%d", i + 1);
      json_object_set_new (sl, from, json_string (to));
    }
  r = rh_fake_resolver_new (desc, NULL);
  ok = r->resolve (r->data, "/c1", NULL); /* c1 -> ... -> c41: 40 links */
  assert_non_null (ok);
  assert_string_equal (ok, "/c41");
  errno = 0;
  assert_null (r->resolve (r->data, "/c0", NULL)); /* 41 links */
  assert_int_equal (errno, ELOOP);
  rh_fake_resolver_free (r);
}

/* The real resolver on a temp tree. */
static void
test_host_resolver (void **state)
{
  char dir[] = "/tmp/rh-paths-XXXXXX";
  const struct rh_resolver *r = rh_host_resolver ();
  char buf[512];

  assert_non_null (mkdtemp (dir));
#define P(s) (snprintf (buf, sizeof buf, "%s%s", dir, s), buf)
  assert_int_equal (mkdir (P ("/real"), 0700), 0);
  assert_int_equal (mkdir (P ("/real/sub"), 0700), 0);
  assert_int_equal (symlink ("real", P ("/rel")), 0);
  {
    _cleanup_free_ char *abs_target = rh_xasprintf ("%s/real/sub", dir);
    assert_int_equal (symlink (abs_target, P ("/abs")), 0);
  }
  assert_int_equal (symlink ("loop2", P ("/loop1")), 0);
  assert_int_equal (symlink ("loop1", P ("/loop2")), 0);
  assert_int_equal (symlink ("../real/sub/../sub", P ("/real/back")), 0);

  {
    _cleanup_free_ char *want = rh_xasprintf ("%s/real/sub/missing/x", dir);
    _cleanup_free_ char *in = rh_xasprintf ("%s/rel/sub/missing/./x", dir);
    _cleanup_free_ char *got = r->resolve (r->data, in, NULL);
    assert_non_null (got);
    assert_string_equal (got, want);
  }
  {
    _cleanup_free_ char *want = rh_xasprintf ("%s/real", dir);
    _cleanup_free_ char *in = rh_xasprintf ("%s/abs/..", dir);
    _cleanup_free_ char *got = r->resolve (r->data, in, NULL);
    assert_non_null (got);
    assert_string_equal (got, want);
  }
  {
    _cleanup_free_ char *want = rh_xasprintf ("%s/real/sub", dir);
    _cleanup_free_ char *in = rh_xasprintf ("%s/real/back", dir);
    _cleanup_free_ char *got = r->resolve (r->data, in, NULL);
    assert_non_null (got);
    assert_string_equal (got, want);
  }
  {
    _cleanup_free_ char *in = rh_xasprintf ("%s/loop1/x", dir);
    errno = 0;
    assert_null (r->resolve (r->data, in, NULL));
    assert_int_equal (errno, ELOOP);
  }
  /* /proc/self/root is a magic link reading "/"; /proc/self/fd/N of a pipe reads "pipe:[..]". */
  {
    int fds[2];
    char in[64];
    assert_int_equal (pipe (fds), 0);
    snprintf (in, sizeof in, "/proc/self/fd/%d", fds[0]);
    errno = 0;
    assert_null (r->resolve (r->data, in, NULL));
    assert_int_equal (errno, EXDEV);
    close (fds[0]);
    close (fds[1]);
  }

  /* Device globbing finds character devices and skips everything else. */
  {
    struct rh_devnode *nodes = NULL;
    size_t n = 0;
    assert_int_equal (r->glob_devices (r->data, "/dev/nul[l]", &nodes, &n), 0);
    assert_int_equal (n, 1);
    assert_string_equal (nodes[0].path, "/dev/null");
    assert_int_equal (nodes[0].type, 'c');
    assert_int_equal (nodes[0].major, 1);
    assert_int_equal (nodes[0].minor, 3);
    rh_devnodes_free (nodes, n);
    assert_int_equal (r->glob_devices (r->data, P ("/*"), &nodes, &n), 0);
    assert_int_equal (n, 0); /* dirs and symlinks only */
    rh_devnodes_free (nodes, n);
    assert_int_equal (r->glob_devices (r->data, "/dev/does-not-exist*", &nodes, &n), 0);
    assert_int_equal (n, 0);
    rh_devnodes_free (nodes, n);
  }

  unlink (P ("/real/back"));
  unlink (P ("/loop1"));
  unlink (P ("/loop2"));
  unlink (P ("/abs"));
  unlink (P ("/rel"));
  rmdir (P ("/real/sub"));
  rmdir (P ("/real"));
  rmdir (dir);
#undef P
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_clean),
    cmocka_unit_test (test_overlaps),
    cmocka_unit_test (test_fake_resolver),
    cmocka_unit_test (test_fake_link_limit),
    cmocka_unit_test (test_host_resolver),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
