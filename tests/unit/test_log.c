/* runc-style log lines: json (level, msg, RFC3339 time) and logrus-like text; levels; stderr copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "log.h"
#include "util.h"

static void
assert_rfc3339 (const char *t)
{
  regex_t re;
  assert_int_equal (regcomp (&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$",
                             REG_EXTENDED | REG_NOSUB),
                    0);
  if (regexec (&re, t, 0, NULL, 0) != 0)
    fail_msg ("not RFC3339: %s", t);
  regfree (&re);
}

static void
test_json_line (void **state)
{
  _cleanup_free_ char *line = rh_log_format_line (true, RH_LOG_ERROR,
                                                   "mount of /run/container_launcher/teeserver.sock denied by "
                                                   "policy (protected_paths) \"q\"\n");
  _cleanup_json_ json_t *j = json_loads (line, JSON_REJECT_DUPLICATES, NULL);

  assert_non_null (j);
  assert_null (strchr (line, '\n')); /* one line */
  assert_int_equal (json_object_size (j), 3);
  assert_string_equal (json_string_value (json_object_get (j, "level")), "error");
  assert_string_equal (json_string_value (json_object_get (j, "msg")),
                       "mount of /run/container_launcher/teeserver.sock denied by policy (protected_paths) \"q\"\n");
  assert_rfc3339 (json_string_value (json_object_get (j, "time")));
  /* Key order as runc writes it. */
  assert_true (strncmp (line, "{\"level\":", 9) == 0);
}

static void
test_json_levels_and_bad_utf8 (void **state)
{
  const char *names[] = { "error", "warning", "info", "debug" };
  for (int l = RH_LOG_ERROR; l <= RH_LOG_DEBUG; l++)
    {
      _cleanup_free_ char *line = rh_log_format_line (true, l, "x");
      _cleanup_json_ json_t *j = json_loads (line, 0, NULL);
      assert_string_equal (json_string_value (json_object_get (j, "level")), names[l]);
    }
  {
    _cleanup_free_ char *line = rh_log_format_line (true, RH_LOG_ERROR, "mount of /bad\xff\xfe denied");
    _cleanup_json_ json_t *j = json_loads (line, 0, NULL);
    assert_non_null (j); /* still a valid JSON line, and the message is kept */
    assert_string_equal (json_string_value (json_object_get (j, "msg")), "mount of /bad?? denied");
  }
}

static void
test_text_line (void **state)
{
  _cleanup_free_ char *line = rh_log_format_line (false, RH_LOG_WARN, "a \"quoted\" \\ thing\nnext");
  char when[64];

  assert_null (strchr (line, '\n'));
  assert_int_equal (sscanf (line, "time=\"%63[^\"]\"", when), 1);
  assert_rfc3339 (when);
  /* Quotes and backslashes escaped; a newline or a terminal escape cannot forge a line. */
  assert_non_null (strstr (line, " level=warning msg=\"a \\\"quoted\\\" \\\\ thing\\nnext\""));
  {
    _cleanup_free_ char *l2 = rh_log_format_line (false, RH_LOG_INFO, "x\r\x1b[2Jy");
    assert_non_null (strstr (l2, "msg=\"x\\r\\x1b[2Jy\""));
  }
}

/* noinline: inlined at -O3, gcc 12 takes the text it returns for a pointer to its local `buf`
 * (a false -Wdangling-pointer in the caller). */
static char *__attribute__ ((noinline))
fd_text (int fd)
{
  char *buf = NULL;
  rh_error err;
  lseek (fd, 0, SEEK_SET);
  assert_int_equal (rh_read_fd_capped (fd, 1 << 20, &buf, NULL, &err), 0);
  return buf;
}

static void
test_logger_levels_and_stderr (void **state)
{
  struct rh_logger lg = RH_LOGGER_INIT;
  char path[] = "/tmp/rh-log-XXXXXX";
  int tmp = mkstemp (path);
  int errfd = memfd_create ("stderr", MFD_CLOEXEC);
  rh_error err;
  _cleanup_free_ char *text = NULL, *errtext = NULL;

  assert_true (tmp >= 0);
  close (tmp);
  assert_int_equal (rh_logger_open (&lg, path, true, false, &err), 0);
  lg.stderr_fd = errfd;
  rh_log_debug (&lg, "hidden %d", 1);
  rh_log_info (&lg, "info %d", 2);
  rh_log_warn (&lg, "careful");
  rh_log_error (&lg, "mount of %s denied by policy (%s)", "/x", "protected_paths");
  rh_log_error (&lg, "mount of %s denied", "/evil\nrunsc-host: fake line");
  rh_log_error (NULL, "nobody hears this");
  rh_logger_close (&lg);

  {
    _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
    text = fd_text (fd);
  }
  assert_null (strstr (text, "hidden"));
  assert_non_null (strstr (text, "\"msg\":\"info 2\""));
  /* containerd shows the last error line: each line is one whole JSON object. */
  {
    char *last = strstr (text, "{\"level\":\"error\"");
    _cleanup_json_ json_t *j = json_loads (last, JSON_DISABLE_EOF_CHECK, NULL);
    assert_non_null (j);
    assert_string_equal (json_string_value (json_object_get (j, "level")), "error");
    assert_string_equal (json_string_value (json_object_get (j, "msg")), "mount of /x denied by policy (protected_paths)");
  }
  errtext = fd_text (errfd);
  assert_string_equal (errtext, "runsc-host: warning: careful\nrunsc-host: mount of /x denied by policy (protected_paths)\n"
                                "runsc-host: mount of /evil\\nrunsc-host: fake line denied\n");
  close (errfd);

  /* --debug lets debug lines through; appending keeps earlier lines. */
  assert_int_equal (rh_logger_open (&lg, path, false, true, &err), 0);
  lg.stderr_fd = -1;
  rh_log_debug (&lg, "now visible");
  rh_logger_close (&lg);
  {
    _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
    _cleanup_free_ char *t2 = fd_text (fd);
    assert_non_null (strstr (t2, "info 2"));
    assert_non_null (strstr (t2, "level=debug msg=\"now visible\""));
  }
  unlink (path);

  /* An unopenable log file is an error naming it. */
  {
    struct rh_logger bad = RH_LOGGER_INIT;
    assert_int_equal (rh_logger_open (&bad, "/nonexistent-dir/log.json", true, false, &err), -1);
    assert_non_null (strstr (err.msg, "/nonexistent-dir/log.json"));
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_json_line),
    cmocka_unit_test (test_json_levels_and_bad_utf8),
    cmocka_unit_test (test_text_line),
    cmocka_unit_test (test_logger_levels_and_stderr),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
