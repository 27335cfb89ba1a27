#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "util.h"

static const char *const level_names[] = { "error", "warning", "info", "debug" };

int
rh_logger_open (struct rh_logger *lg, const char *path, bool json, bool debug, rh_error *err)
{
  lg->json = json;
  lg->level = debug ? RH_LOG_DEBUG : RH_LOG_INFO;
  if (path == NULL || *path == '\0')
    return 0;
  lg->fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
  if (lg->fd < 0)
    return rh_error_sys (err, errno, "open log file %s", path);
  return 0;
}

void
rh_logger_close (struct rh_logger *lg)
{
  if (lg->fd >= 0)
    close (lg->fd);
  lg->fd = -1;
}

static void
format_time (char *buf, size_t size)
{
  struct timeval tv;
  struct tm tm;
  char base[32];

  gettimeofday (&tv, NULL);
  gmtime_r (&tv.tv_sec, &tm);
  strftime (base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf, size, "%s.%06ldZ", base, (long) tv.tv_usec);
}

/* Messages carry client-controlled text (mount sources, annotation keys). Control characters
 * could forge extra lines or drive a terminal, so the text forms show them as escapes; invalid
 * UTF-8 bytes become '?' so the json form can always be written. */
static void
put_escaped (char **o, unsigned char c)
{
  switch (c)
    {
    case '\n':
      *(*o)++ = '\\', *(*o)++ = 'n';
      break;
    case '\r':
      *(*o)++ = '\\', *(*o)++ = 'r';
      break;
    case '\t':
      *(*o)++ = '\\', *(*o)++ = 't';
      break;
    default:
      *o += sprintf (*o, "\\x%02x", c);
    }
}

/* Escape control characters (and, when quote, '"' and '\\'). */
static char *
escape_text (const char *msg, bool quote)
{
  size_t n = strlen (msg);
  char *out = rh_xmalloc0 (n * 4 + 3);
  char *o = out;

  if (quote)
    *o++ = '"';
  for (const unsigned char *p = (const unsigned char *) msg; *p; p++)
    {
      if (*p < 0x20 || *p == 0x7f)
        put_escaped (&o, *p);
      else
        {
          if (quote && (*p == '"' || *p == '\\'))
            *o++ = '\\';
          *o++ = (char) *p;
        }
    }
  if (quote)
    *o++ = '"';
  *o = '\0';
  return out;
}

static char *
quote_text (const char *msg)
{
  return escape_text (msg, true);
}

char *
rh_log_format_line (bool json, enum rh_log_level level, const char *msg)
{
  char when[64];

  format_time (when, sizeof when);
  if (json)
    {
      json_t *o = json_object ();
      char *line;

      json_object_set_new (o, "level", json_string (level_names[level]));
      /* json_string refuses invalid UTF-8: keep the message, with non-ASCII bytes as '?'. */
      json_t *m = json_string (msg);
      if (m == NULL)
        {
          char *ascii = rh_xstrdup (msg);
          for (char *c = ascii; *c; c++)
            if ((unsigned char) *c >= 0x80)
              *c = '?';
          m = json_string (ascii);
          free (ascii);
        }
      json_object_set_new (o, "msg", m);
      json_object_set_new (o, "time", json_string (when));
      line = json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER);
      json_decref (o);
      if (line == NULL)
        abort ();
      return line;
    }
  else
    {
      char *q = quote_text (msg);
      char *line = rh_xasprintf ("time=\"%s\" level=%s msg=%s", when, level_names[level], q);
      free (q);
      return line;
    }
}

void
rh_vlog (const struct rh_logger *lg, enum rh_log_level level, const char *fmt, va_list ap)
{
  char msg[4096];
  int saved = errno;

  if (lg == NULL)
    return;
  vsnprintf (msg, sizeof msg, fmt, ap);

  if (lg->fd >= 0 && level <= lg->level)
    {
      char *line = rh_log_format_line (lg->json, level, msg);
      size_t len = strlen (line);
      /* One write() of line+newline so concurrent writers to an O_APPEND file do not interleave. */
      line = rh_xrealloc (line, len + 2);
      line[len] = '\n';
      line[len + 1] = '\0';
      (void) rh_write_all (lg->fd, line, len + 1); /* logging is best effort */
      free (line);
    }
  if (lg->stderr_fd >= 0 && level <= RH_LOG_WARN)
    {
      char *safe = escape_text (msg, false);
      char *line = rh_xasprintf ("runsc-host: %s%s\n", level == RH_LOG_WARN ? "warning: " : "", safe);
      free (safe);
      (void) rh_write_all (lg->stderr_fd, line, strlen (line));
      free (line);
    }
  errno = saved;
}

void
rh_log (const struct rh_logger *lg, enum rh_log_level level, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  rh_vlog (lg, level, fmt, ap);
  va_end (ap);
}
