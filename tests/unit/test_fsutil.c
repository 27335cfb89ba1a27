/* Capped reads, atomic writes, hashing, mkdir -p. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
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
#include "util.h"

struct fx
{
  char dir[64];
};

static int
setup (void **state)
{
  struct fx *f = rh_xmalloc0 (sizeof *f);
  snprintf (f->dir, sizeof f->dir, "/tmp/rh-fsutil-XXXXXX");
  if (mkdtemp (f->dir) == NULL)
    return -1;
  *state = f;
  return 0;
}

static void
rm_rf (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  while (d && (de = readdir (d)))
    {
      _cleanup_free_ char *p = NULL;
      struct stat st;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      p = rh_xasprintf ("%s/%s", dir, de->d_name);
      if (lstat (p, &st) == 0 && S_ISDIR (st.st_mode))
        rm_rf (p);
      else
        unlink (p);
    }
  if (d)
    closedir (d);
  rmdir (dir);
}

static int
teardown (void **state)
{
  struct fx *f = *state;
  chmod (f->dir, 0700);
  rm_rf (f->dir);
  free (f);
  return 0;
}

static int
count_entries (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  int n = 0;
  while (d && (de = readdir (d)))
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      n++;
  if (d)
    closedir (d);
  return n;
}

static void
test_read_capped (void **state)
{
  struct fx *f = *state;
  _cleanup_free_ char *p = rh_xasprintf ("%s/f", f->dir);
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  rh_error err = { 0 };

  assert_int_equal (rh_write_file_atomic (p, "hello", 5, 0600, &err), 0);
  assert_int_equal (rh_read_file_capped (p, 5, &buf, &len, &err), 0);
  assert_int_equal (len, 5);
  assert_string_equal (buf, "hello");
  free (buf);
  buf = NULL;

  /* One byte over the cap. */
  assert_int_equal (rh_read_file_capped (p, 4, &buf, &len, &err), -1);
  assert_null (buf);
  assert_int_equal (err.code, EFBIG);
  assert_non_null (strstr (err.msg, p));

  /* Not a regular file: a directory, a FIFO (which would block), a character device. */
  assert_int_equal (rh_read_file_capped (f->dir, 100, &buf, &len, &err), -1);
  assert_non_null (strstr (err.msg, "not a regular file"));
  {
    _cleanup_free_ char *fifo = rh_xasprintf ("%s/fifo", f->dir);
    assert_int_equal (mkfifo (fifo, 0600), 0);
    assert_int_equal (rh_read_file_capped (fifo, 100, &buf, &len, &err), -1);
    assert_non_null (strstr (err.msg, "not a regular file"));
  }
  assert_int_equal (rh_read_file_capped ("/dev/zero", 100, &buf, &len, &err), -1);
  assert_int_equal (rh_read_file_capped ("/nonexistent/x", 100, &buf, &len, &err), -1);
  assert_non_null (strstr (err.msg, "/nonexistent/x"));
  assert_int_equal (err.code, ENOENT);
}

/* A stream longer than the cap (no size known in advance) is refused too. */
static void
test_read_fd_capped (void **state)
{
  int fds[2];
  pid_t pid;
  char *buf = NULL;
  rh_error err = { 0 };

  assert_int_equal (pipe (fds), 0);
  pid = fork ();
  if (pid == 0)
    {
      char block[1000];
      memset (block, 'a', sizeof block);
      close (fds[0]);
      for (int i = 0; i < 20; i++)
        if (write (fds[1], block, sizeof block) < 0)
          break;
      _exit (0);
    }
  close (fds[1]);
  assert_int_equal (rh_read_fd_capped (fds[0], 10000, &buf, NULL, &err), -1);
  assert_int_equal (err.code, EFBIG);
  assert_null (buf);
  close (fds[0]);
  waitpid (pid, NULL, 0);

  /* Exactly at the cap is fine. */
  assert_int_equal (pipe (fds), 0);
  assert_int_equal (write (fds[1], "0123456789", 10), 10);
  close (fds[1]);
  assert_int_equal (rh_read_fd_capped (fds[0], 10, &buf, NULL, &err), 0);
  assert_string_equal (buf, "0123456789");
  free (buf);
  close (fds[0]);
}

static void
test_atomic_write (void **state)
{
  struct fx *f = *state;
  _cleanup_free_ char *p = rh_xasprintf ("%s/config.json", f->dir);
  _cleanup_free_ char *buf = NULL;
  struct stat st;
  rh_error err = { 0 };

  assert_int_equal (rh_write_file_atomic (p, "old", 3, 0640, &err), 0);
  assert_int_equal (stat (p, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0640);
  assert_int_equal (rh_write_file_atomic (p, "new!", 4, 0600, &err), 0);
  assert_int_equal (rh_read_file_capped (p, 100, &buf, NULL, &err), 0);
  assert_string_equal (buf, "new!");
  assert_int_equal (stat (p, &st), 0);
  assert_int_equal (st.st_mode & 07777, 0600);
  assert_int_equal (count_entries (f->dir), 1); /* no temp files left */
}

/* The temp file cannot be created: the target keeps its content, nothing is left behind. As root
 * (directory permissions do not bind root) the write runs in a child that drops to nobody. */
static void
test_atomic_write_failure_keeps_original (void **state)
{
  struct fx *f = *state;
  _cleanup_free_ char *p = rh_xasprintf ("%s/config.json", f->dir);
  _cleanup_free_ char *buf = NULL;
  rh_error err = { 0 };

  assert_int_equal (rh_write_file_atomic (p, "original", 8, 0644, &err), 0);
  if (geteuid () == 0)
    {
      int status = 0;
      pid_t pid;
      assert_int_equal (chmod (f->dir, 0755), 0);
      pid = fork ();
      if (pid == 0)
        {
          if (setgid (65534) < 0 || setuid (65534) < 0)
            _exit (2);
          _exit (rh_write_file_atomic (p, "clobbered", 9, 0644, &err) == -1 && strstr (err.msg, p) ? 0 : 1);
        }
      assert_int_equal (waitpid (pid, &status, 0), pid);
      assert_true (WIFEXITED (status));
      assert_int_equal (WEXITSTATUS (status), 0);
    }
  else
    {
      assert_int_equal (chmod (f->dir, 0500), 0);
      assert_int_equal (rh_write_file_atomic (p, "clobbered", 9, 0644, &err), -1);
      assert_non_null (strstr (err.msg, p));
      chmod (f->dir, 0700);
    }
  assert_int_equal (rh_read_file_capped (p, 100, &buf, NULL, &err), 0);
  assert_string_equal (buf, "original");
  assert_int_equal (count_entries (f->dir), 1);

  /* Renaming over a directory fails after the temp file was written: it is removed again. */
  {
    _cleanup_free_ char *d = rh_xasprintf ("%s/adir", f->dir);
    _cleanup_free_ char *inner = rh_xasprintf ("%s/adir/x", f->dir);
    assert_int_equal (mkdir (d, 0700), 0);
    assert_int_equal (rh_write_file_atomic (inner, "x", 1, 0600, &err), 0);
    assert_int_equal (rh_write_file_atomic (d, "data", 4, 0600, &err), -1);
    assert_int_equal (count_entries (f->dir), 2); /* config.json and adir only */
  }
}

static void
test_sha256_and_mkdir (void **state)
{
  struct fx *f = *state;
  char hex[65];
  rh_error err = { 0 };
  _cleanup_free_ char *deep = rh_xasprintf ("%s/a/b/c", f->dir);
  struct stat st;

  rh_sha256_hex ("abc", 3, hex);
  assert_string_equal (hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  rh_sha256_hex ("", 0, hex);
  assert_string_equal (hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  assert_int_equal (rh_mkdir_p (deep, 0700, &err), 0);
  assert_int_equal (rh_mkdir_p (deep, 0700, &err), 0); /* existing is fine */
  assert_int_equal (stat (deep, &st), 0);
  assert_true (S_ISDIR (st.st_mode));
  {
    _cleanup_free_ char *file = rh_xasprintf ("%s/file", f->dir);
    _cleanup_free_ char *under = rh_xasprintf ("%s/file/sub", f->dir);
    assert_int_equal (rh_write_file_atomic (file, "x", 1, 0600, &err), 0);
    assert_int_equal (rh_mkdir_p (under, 0700, &err), -1);
    assert_non_null (strstr (err.msg, under));
  }
}

/* The temp files a killed writer leaves (exactly rh_write_file_atomic_at's names) are swept;
 * anything else in the directory stays. */
static void
test_sweep_temps (void **state)
{
  struct fx *f = *state;
  static const char *const ours[] = { ".config.json.rh-0123456789ab", ".config.json.rh-ffffffffffff", NULL };
  static const char *const others[] = { "config.json", ".config.json.rh-short", ".config.json.rh-0123456789abc",
                                        ".other.rh-0123456789ab", ".config.json.rh-0123456789AB", NULL };
  _cleanup_close_ int dfd = open (f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  assert_true (dfd >= 0);
  for (const char *const *n = ours; *n; n++)
    close (openat (dfd, *n, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  for (const char *const *n = others; *n; n++)
    close (openat (dfd, *n, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  rh_sweep_atomic_temps_at (dfd, "config.json");
  for (const char *const *n = ours; *n; n++)
    assert_int_equal (faccessat (dfd, *n, F_OK, 0), -1);
  for (const char *const *n = others; *n; n++)
    assert_int_equal (faccessat (dfd, *n, F_OK, 0), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_read_capped, setup, teardown),
    cmocka_unit_test (test_read_fd_capped),
    cmocka_unit_test_setup_teardown (test_atomic_write, setup, teardown),
    cmocka_unit_test_setup_teardown (test_atomic_write_failure_keeps_original, setup, teardown),
    cmocka_unit_test_setup_teardown (test_sha256_and_mkdir, setup, teardown),
    cmocka_unit_test_setup_teardown (test_sweep_temps, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
