/* Foreground `run` of a terminal spec without --console-socket: a terminal of runsc-host's own,
 * copied to and from its stdio, as runc does (tty_proxy.c). */
#ifndef RH_TTY_PROXY_H
#define RH_TTY_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Does BUNDLE/config.json ask for a terminal? */
bool rh_tty_proxy_wanted (const char *bundle);

/* Run runsc's ARGV (runsc at path RUNSC) as a child with "--console-socket=<own socket>"
 * inserted after ARGV[INSERT_AT], proxy the terminal, and set *exit_code to runsc's status. */
int rh_tty_proxy_run (const char *runsc, char *const *argv, size_t insert_at, int *exit_code, rh_error *err);

#endif
