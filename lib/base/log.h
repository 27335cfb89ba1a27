/* runc-compatible logging: --log FILE and --log-format text|json.
 *
 * json: one object per line, {"level":"error","msg":"...","time":"RFC3339"}; containerd shows
 * the last "error" line of <bundle>/log.json to the user, so every refusal must end up there.
 * Errors are also copied to stderr. The logger is a value passed around: lib/ code never reads
 * a global logger. */
#ifndef RH_LOG_H
#define RH_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "error.h"

enum rh_log_level
{
  RH_LOG_ERROR = 0,
  RH_LOG_WARN,
  RH_LOG_INFO,
  RH_LOG_DEBUG,
};

struct rh_logger
{
  int fd;                   /* log file, -1 for none */
  bool json;                /* --log-format json */
  enum rh_log_level level;  /* highest level written to fd */
  int stderr_fd;            /* errors (and warnings) are copied here; -1 for none */
};

#define RH_LOGGER_INIT { .fd = -1, .json = false, .level = RH_LOG_INFO, .stderr_fd = 2 }

/* Open (append, create 0644, O_CLOEXEC) the log file. path may be NULL. */
int rh_logger_open (struct rh_logger *lg, const char *path, bool json, bool debug, rh_error *err);
void rh_logger_close (struct rh_logger *lg);

/* lg may be NULL: then nothing is logged. */
void rh_log (const struct rh_logger *lg, enum rh_log_level level, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
void rh_vlog (const struct rh_logger *lg, enum rh_log_level level, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 3, 0)));

#define rh_log_error(lg, ...) rh_log ((lg), RH_LOG_ERROR, __VA_ARGS__)
#define rh_log_warn(lg, ...) rh_log ((lg), RH_LOG_WARN, __VA_ARGS__)
#define rh_log_info(lg, ...) rh_log ((lg), RH_LOG_INFO, __VA_ARGS__)
#define rh_log_debug(lg, ...) rh_log ((lg), RH_LOG_DEBUG, __VA_ARGS__)

/* Format one line (without the trailing newline) as it would be written. Caller frees. Exposed
 * for tests. */
char *rh_log_format_line (bool json, enum rh_log_level level, const char *msg);

#endif
