#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void __attribute__ ((format (printf, 3, 0)))
vset (rh_error *err, int errnum, const char *fmt, va_list ap)
{
  err->code = errnum;
  vsnprintf (err->msg, sizeof err->msg, fmt, ap);
}

int
rh_error_set (rh_error *err, int errnum, const char *fmt, ...)
{
  va_list ap;

  if (err == NULL)
    return -1;
  va_start (ap, fmt);
  vset (err, errnum, fmt, ap);
  va_end (ap);
  return -1;
}

int
rh_error_sys (rh_error *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  size_t len;

  if (err == NULL)
    return -1;
  va_start (ap, fmt);
  vset (err, errnum, fmt, ap);
  va_end (ap);
  len = strlen (err->msg);
  if (len < sizeof err->msg)
    snprintf (err->msg + len, sizeof err->msg - len, ": %s", strerror (errnum));
  return -1;
}

int
rh_error_prefix (rh_error *err, const char *fmt, ...)
{
  char prefix[512];
  char old[RH_ERROR_MSG_MAX];
  va_list ap;

  if (err == NULL)
    return -1;
  va_start (ap, fmt);
  vsnprintf (prefix, sizeof prefix, fmt, ap);
  va_end (ap);
  size_t plen;

  memcpy (old, err->msg, sizeof old);
  plen = strlen (prefix);
  if (plen + 2 >= sizeof err->msg)
    plen = sizeof err->msg - 3;
  memcpy (err->msg, prefix, plen);
  memcpy (err->msg + plen, ": ", 2);
  /* Truncate the old message to what still fits. */
  memcpy (err->msg + plen + 2, old, sizeof err->msg - plen - 3);
  err->msg[sizeof err->msg - 1] = '\0';
  return -1;
}

void
rh_error_clear (rh_error *err)
{
  if (err == NULL)
    return;
  err->code = 0;
  err->msg[0] = '\0';
}
