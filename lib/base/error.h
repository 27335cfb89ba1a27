/* runsc-host: the one error idiom.
 *
 * A function that can fail returns < 0 and fills a caller-owned rh_error. Each layer may add
 * context with rh_error_prefix() on the way up; only main() turns it into a log line and an exit
 * code. Messages name the offending item and the policy key that refused it. */
#ifndef RH_ERROR_H
#define RH_ERROR_H

#include <stddef.h>

#define RH_ERROR_MSG_MAX 2048

typedef struct rh_error
{
  int code;                  /* errno-style code, 0 when unknown */
  char msg[RH_ERROR_MSG_MAX]; /* human message, always NUL-terminated */
} rh_error;

/* Set the error (overwriting it) and return -1. errnum may be 0. */
int rh_error_set (rh_error *err, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Like rh_error_set, then append ": strerror(errnum)". */
int rh_error_sys (rh_error *err, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Prepend "<context>: " to the message and return -1. */
int rh_error_prefix (rh_error *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

void rh_error_clear (rh_error *err);

#endif
