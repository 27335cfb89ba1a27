#include "golden.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "fsutil.h"
#include "util.h"

#define GOLDEN_MAX_BYTES (4u << 20)

char *
golden_slurp (const char *path)
{
  char *text = NULL;
  rh_error err;
  if (rh_read_file_capped (path, GOLDEN_MAX_BYTES, &text, NULL, &err) < 0)
    return NULL;
  return text;
}

json_t *
golden_load_json (const char *path)
{
  json_error_t jerr;
  /* NUL bytes allowed: some cases check that the modifiers refuse them. */
  json_t *j = json_load_file (path, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
  if (j == NULL)
    fail_msg ("%s: %s (line %d)", path, jerr.text, jerr.line);
  return j;
}

char *
golden_read_log (int fd)
{
  char *buf = NULL;
  size_t len = 0;
  rh_error err;
  lseek (fd, 0, SEEK_SET);
  if (rh_read_fd_capped (fd, GOLDEN_MAX_BYTES, &buf, &len, &err) < 0)
    fail_msg ("%s", err.msg);
  return buf;
}

int
golden_check_log (const char *name, const char *logtext, const char *want_log_path)
{
  _cleanup_free_ char *wl = golden_slurp (want_log_path);
  char *save = NULL;
  int failed = 0;

  for (char *line = wl ? strtok_r (wl, "\n", &save) : NULL; line; line = strtok_r (NULL, "\n", &save))
    if (line[0] && strstr (logtext, line) == NULL)
      {
        print_error ("case %s: log lacks \"%s\"; log:\n%s\n", name, line, logtext);
        failed = 1;
      }
  return failed;
}

int
golden_cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

void
golden_run_all (const char *dir, int (*run_case) (const char *name), size_t min_cases)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  _cleanup_strv_ char **names = rh_xmalloc0 (sizeof (char *));
  int failed = 0;
  size_t n;

  assert_non_null (d);
  while ((de = readdir (d)))
    {
      struct stat st;
      _cleanup_free_ char *p = rh_xasprintf ("%s/%s", dir, de->d_name);
      if (de->d_name[0] != '.' && stat (p, &st) == 0 && S_ISDIR (st.st_mode))
        rh_strv_push (&names, de->d_name);
    }
  closedir (d);
  n = rh_strv_len (names);
  qsort (names, n, sizeof (char *), golden_cmp_str);
  for (size_t i = 0; i < n; i++)
    failed += run_case (names[i]);
  print_message ("%zu golden cases, %d failed\n", n, failed);
  assert_true (n >= min_cases);
  assert_int_equal (failed, 0);
}
