#ifndef RH_KILL_RELAY_H
#define RH_KILL_RELAY_H

/* Run `runsc kill ...` (argv) as a child, pass its stderr through, and add runc's
 * "container not running" when runsc failed because the sandbox is gone (kill_relay.c says
 * why). Returns 0 with *exit_code set to runsc's status; -1 when it could not start runsc
 * (nothing happened: the caller execs runsc itself). */
int rh_kill_relay (const char *runsc, char *const *argv, int *exit_code);

#endif
