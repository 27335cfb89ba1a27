/* [hooks] Exposed ports: the "ports" and "egress" policy sections, and port parsing.
 *
 *   "ports":  { "static": ["8080/tcp"],         ports every container gets
 *               "allow": ["1-65535"],           ports or ranges that may be opened
 *               "deny": ["22"],                 ports or ranges that may never be opened
 *               "protocols": ["tcp", "udp"],    protocols that may be opened
 *               "max_count": 64,                most distinct port/protocol pairs per container
 *               "ipv6": true,                   open them with ip6tables too
 *               "iptables_restore": "/usr/sbin/iptables-restore",   absolute tool paths: the
 *               "iptables_save": "/usr/sbin/iptables-save",         backend (nft or legacy)
 *               "ip6tables_restore": "/usr/sbin/ip6tables-restore", is whichever these are
 *               "ip6tables_save": "/usr/sbin/ip6tables-save" }
 *   "egress": { "deny": ["169.254.169.254/32"], destinations the sandbox may not reach
 *               "cgroup_mode": "auto",          "auto" | "own" | "sandbox" (docs/hooks.md)
 *               "cgroup_parent": "runsc-host" } cgroup v2 directory for "own" groups
 *
 * A port is written PORT[/PROTO]: PORT is 1-65535 in decimal without sign or leading zero, PROTO
 * is tcp, udp or sctp (lower case); a bare PORT means tcp, as in the OCI image-spec. Allow and
 * deny entries are PORT or LO-HI, optionally /PROTO (without it the entry covers every
 * protocol).
 *
 * Where a container's ports come from (rh_ports_compute):
 *   annotation org.opencontainers.image.exposedPorts  "80/tcp,53/udp" (image-spec conversion)
 *   annotation nerdctl/exposed-ports                  {"8080/tcp":{}} (a JSON PortSet)
 *   ports.static
 * Every port must pass protocols, allow and deny; the union must not exceed max_count. Any
 * violation is an error that names the port, where it came from and the policy key. */
#ifndef RH_PORTS_H
#define RH_PORTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct rh_policy;

#define RH_ANNOTATION_EXPOSED_PORTS "org.opencontainers.image.exposedPorts"
#define RH_ANNOTATION_NERDCTL_PORTS "nerdctl/exposed-ports"

/* Caps on hostile input: an annotation longer than this is refused outright, and no container
 * may ask for more ports than this whatever max_count says. */
#define RH_PORTS_ANNOTATION_MAX 65536
#define RH_PORTS_HARD_MAX 1024

enum rh_proto
{
  RH_PROTO_TCP = 1,
  RH_PROTO_UDP = 2,
  RH_PROTO_SCTP = 4,
};
#define RH_PROTO_ALL (RH_PROTO_TCP | RH_PROTO_UDP | RH_PROTO_SCTP)

struct rh_port
{
  uint16_t port;
  uint8_t proto; /* one enum rh_proto value */
};

struct rh_port_range
{
  uint16_t lo, hi;
  uint8_t protos; /* mask of enum rh_proto */
};

struct rh_ports_policy
{
  struct rh_port *static_ports;
  size_t n_static;
  struct rh_port_range *allow;
  size_t n_allow;
  struct rh_port_range *deny;
  size_t n_deny;
  unsigned protocols; /* mask of enum rh_proto */
  int max_count;
  bool ipv6;
  char *iptables_restore;
  char *iptables_save;
  char *ip6tables_restore;
  char *ip6tables_save;
};

enum rh_cgroup_mode
{
  RH_CGROUP_AUTO = 0, /* the sandbox's own cgroup v2 group if it has one, else an own group */
  RH_CGROUP_OWN,      /* always move the sandbox into <cgroup2>/<cgroup_parent>/<id> */
  RH_CGROUP_SANDBOX,  /* always use the sandbox's cgroup v2 group; refuse when it is shared */
};

struct rh_egress_policy
{
  char **deny4; /* canonical IPv4 CIDRs ("169.254.169.254/32") */
  char **deny6; /* canonical IPv6 CIDRs */
  enum rh_cgroup_mode cgroup_mode;
  char *cgroup_parent; /* relative, one or more clean components */
};

int rh_ports_policy_parse (json_t *section, struct rh_policy *p, rh_error *err);
int rh_egress_policy_parse (json_t *section, struct rh_policy *p, rh_error *err);
void rh_ports_policy_free (struct rh_ports_policy *pp);
void rh_egress_policy_free (struct rh_egress_policy *e);

/* "tcp", "udp", "sctp"; "?" for anything else. */
const char *rh_proto_name (unsigned proto);

/* Parse exactly len bytes of s as PORT[/PROTO]. The error names the text. */
int rh_port_parse (const char *s, size_t len, struct rh_port *out, rh_error *err);
/* Parse PORT or LO-HI, optionally /PROTO. */
int rh_port_range_parse (const char *s, struct rh_port_range *out, rh_error *err);
/* Parse a CIDR or bare address; writes the canonical "addr/len" (network address, masked) to
 * out (at least 64 bytes) and the family (4 or 6). */
int rh_cidr_parse (const char *s, char out[64], int *family, rh_error *err);

/* Check one port against ports.protocols, ports.allow and ports.deny. what names its source
 * ("annotation org.opencontainers.image.exposedPorts") for the error. */
int rh_port_check (const struct rh_ports_policy *pp, const struct rh_port *port, const char *what,
                   rh_error *err);

/* The ports a container gets: its annotations (a JSON object of strings, or NULL) and
 * ports.static, each checked, merged, sorted (by port, then protocol) and deduplicated; at most
 * max_count. *out is malloc'd (NULL when *n == 0). */
int rh_ports_compute (json_t *annotations, const struct rh_ports_policy *pp, struct rh_port **out, size_t *n,
                      rh_error *err);

/* "80/tcp,53/udp" for logs (malloc'd; "" for none). */
char *rh_ports_format (const struct rh_port *ports, size_t n);

#endif
