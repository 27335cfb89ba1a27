/* [hooks] Exposed-port and egress policy sections, and port parsing.
 *
 *   "ports":  { "static": ["8080/tcp"], "allow": ["1-65535"], "deny": ["22"],
 *               "protocols": ["tcp","udp"], "max_count": 64 }
 *   "egress": { "deny": ["169.254.169.254/32"] }
 *
 * Owned by the hooks work; this is the initial stub. */
#ifndef RH_PORTS_H
#define RH_PORTS_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

struct rh_policy;

struct rh_ports_policy
{
  char **static_ports; /* "8080/tcp" */
  char **allow;        /* "1-65535", "8080" */
  char **deny;         /* "22" */
  char **protocols;    /* "tcp", "udp" */
  int max_count;
};

struct rh_egress_policy
{
  char **deny; /* CIDRs */
};

int rh_ports_policy_parse (json_t *section, struct rh_policy *p, rh_error *err);
int rh_egress_policy_parse (json_t *section, struct rh_policy *p, rh_error *err);
void rh_ports_policy_free (struct rh_ports_policy *pp);
void rh_egress_policy_free (struct rh_egress_policy *e);

#endif
