/* Staging (lib/host/stage.c): each case runs in a forked child, which enters its own mount namespace
 * through rh_stage_spec; the host's mount table never changes (checked at the end). Needs root
 * (unshare of a mount namespace); skipped with the reason otherwise. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "paths.h"
#include "stage.h"
#include "util.h"

static char tmp[] = "/tmp/rh-stage-XXXXXX";

static char *
mountinfo (void)
{
  char *text = NULL;
  size_t len;
  rh_error err;
  if (rh_read_fd_capped (open ("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC), 1 << 22, &text, &len, &err) < 0)
    return NULL;
  return text;
}

/* Run fn in a child; returns its exit status (0 = all checks passed there). */
static int
in_child (int (*fn) (void))
{
  int status = 0;
  pid_t pid = fork ();
  if (pid == 0)
    _exit (fn ());
  if (pid < 0 || waitpid (pid, &status, 0) != pid || !WIFEXITED (status))
    return 99;
  return WEXITSTATUS (status);
}

static int
child_stages_root_and_binds (void)
{
  _cleanup_free_ char *stage = rh_xasprintf ("%s/state/stage", tmp);
  _cleanup_free_ char *vol = rh_xasprintf ("%s/vol", tmp);
  _cleanup_free_ char *root = rh_xasprintf ("%s/rootfs", tmp);
  _cleanup_free_ char *file = rh_xasprintf ("%s/vol/hello", tmp);
  _cleanup_free_ char *text = rh_xasprintf ("{\"root\": {\"path\": \"%s\"}, \"mounts\": ["
                                            "{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
                                            "{\"destination\": \"/v\", \"type\": \"bind\", \"source\": \"%s\"},"
                                            "{\"destination\": \"/h\", \"options\": [\"ro,rbind\"], \"source\": \"%s\"}]}",
                                            root, vol, file);
  _cleanup_json_ json_t *spec = json_loads (text, 0, NULL);
  struct rh_stage st = { .dir = stage };
  _cleanup_free_ char *got = NULL;
  json_t *mounts = json_object_get (spec, "mounts");
  const char *r, *m1, *m2;
  rh_error err = { 0 };
  size_t len;

  if (rh_stage_spec (spec, &st, &err) < 0)
    {
      fprintf (stderr, "stage: %s\n", err.msg);
      return 1;
    }
  r = json_string_value (json_object_get (json_object_get (spec, "root"), "path"));
  m1 = json_string_value (json_object_get (json_array_get (mounts, 1), "source"));
  m2 = json_string_value (json_object_get (json_array_get (mounts, 2), "source"));
  /* Staged binds, in the tmpfs; the root is checked but stays; proc's source is a name. */
  if (strcmp (r, root) != 0 || !rh_path_within (m1, stage) || !rh_path_within (m2, stage))
    return 2;
  if (strcmp (json_string_value (json_object_get (json_array_get (mounts, 0), "source")), "proc") != 0)
    return 3;
  /* The staged file is the checked one: same content. */
  if (rh_read_file_capped (m2, 100, &got, &len, &err) < 0 || strcmp (got, "hi\n") != 0)
    return 4;
  /* Re-pointing the original path now changes nothing for the staged copy. */
  if (rename (file, rh_xasprintf ("%s.old", file)) < 0 || symlink ("/etc/hostname", file) < 0)
    return 5;
  free (got);
  got = NULL;
  if (rh_read_file_capped (m2, 100, &got, &len, &err) < 0 || strcmp (got, "hi\n") != 0)
    return 6;
  return 0;
}

/* A root whose pinned path has a symlink on it now is refused too. */
static int
child_refuses_symlinked_root (void)
{
  _cleanup_free_ char *stage = rh_xasprintf ("%s/state/stage", tmp);
  _cleanup_free_ char *text = rh_xasprintf ("{\"root\": {\"path\": \"%s/link/sub\"}}", tmp);
  _cleanup_json_ json_t *spec = json_loads (text, 0, NULL);
  struct rh_stage st = { .dir = stage };
  rh_error err = { 0 };

  if (rh_stage_spec (spec, &st, &err) == 0)
    return 1;
  return strstr (err.msg, "root.path") && strstr (err.msg, "a symlink is now on its path") ? 0 : 2;
}

static int
child_refuses_symlink_on_path (void)
{
  _cleanup_free_ char *stage = rh_xasprintf ("%s/state/stage", tmp);
  _cleanup_free_ char *link = rh_xasprintf ("%s/link", tmp);
  /* A pinned path that has become a symlink after the check (here: one from the start). */
  _cleanup_free_ char *text = rh_xasprintf ("{\"mounts\": [{\"destination\": \"/v\", \"type\": \"bind\", "
                                            "\"source\": \"%s/x\"}]}", link);
  _cleanup_json_ json_t *spec = json_loads (text, 0, NULL);
  struct rh_stage st = { .dir = stage };
  rh_error err = { 0 };

  if (rh_stage_spec (spec, &st, &err) == 0)
    return 1;
  if (strstr (err.msg, "changed after the check: a symlink is now on its path") == NULL
      || strstr (err.msg, "mounts[0]") == NULL)
    {
      fprintf (stderr, "error: %s\n", err.msg);
      return 2;
    }
  return 0;
}

/* The test's own paths, freed at its end (the sanitizer build checks for leaks). */
static char *paths[16];
static size_t n_paths;
static char *
keep (char *s)
{
  paths[n_paths++] = s;
  return s;
}
#define P(...) keep (rh_xasprintf (__VA_ARGS__))

static void
test_stage (void **state)
{
  _cleanup_free_ char *before = NULL, *after = NULL;
  rh_error err;

  if (geteuid () != 0)
    skip (); /* unshare(CLONE_NEWNS) needs CAP_SYS_ADMIN */
  assert_non_null (mkdtemp (tmp));
  assert_int_equal (rh_mkdir_p (P ("%s/vol/sub", tmp), 0755, &err), 0);
  assert_int_equal (mkdir (P ("%s/rootfs", tmp), 0755), 0);
  assert_int_equal (rh_write_file_atomic (P ("%s/vol/hello", tmp), "hi\n", 3, 0644, &err), 0);
  assert_int_equal (symlink (P ("%s/vol", tmp), P ("%s/link", tmp)), 0);
  before = mountinfo ();

  assert_int_equal (in_child (child_stages_root_and_binds), 0);
  assert_int_equal (in_child (child_refuses_symlink_on_path), 0);
  assert_int_equal (in_child (child_refuses_symlinked_root), 0);

  /* The host's mount table holds nothing of ours: the staging lived in the children's
   * namespaces (other mounts may come and go meanwhile, so only ours are looked for). */
  after = mountinfo ();
  assert_non_null (before);
  assert_non_null (after);
  assert_null (strstr (after, tmp));
  assert_null (strstr (after, "runsc-host-stage"));
  assert_int_equal (system (P ("rm -rf '%s'", tmp)), 0);
  for (size_t i = 0; i < n_paths; i++)
    free (paths[i]);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_stage),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
