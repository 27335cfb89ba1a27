/* Port grammar, the "ports" and "egress" policy sections, and the per-container port list.
 * Everything here is pure: strings and JSON in, structs or an error out. */
#include "ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "policy.h"
#include "util.h"

const char *
rh_proto_name (unsigned proto)
{
  switch (proto)
    {
    case RH_PROTO_TCP:
      return "tcp";
    case RH_PROTO_UDP:
      return "udp";
    case RH_PROTO_SCTP:
      return "sctp";
    default:
      return "?";
    }
}

static unsigned
proto_from_name (const char *s, size_t len)
{
  if (len == 3 && memcmp (s, "tcp", 3) == 0)
    return RH_PROTO_TCP;
  if (len == 3 && memcmp (s, "udp", 3) == 0)
    return RH_PROTO_UDP;
  if (len == 4 && memcmp (s, "sctp", 4) == 0)
    return RH_PROTO_SCTP;
  return 0;
}

/* Print at most 64 bytes of hostile text safely (control bytes and quotes escaped) for an error
 * message. */
static void
quote_text (const char *s, size_t len, char out[300])
{
  size_t o = 0;
  out[o++] = '"';
  for (size_t i = 0; i < len && o < 290; i++)
    {
      unsigned char c = (unsigned char) s[i];
      if (i == 64)
        {
          memcpy (out + o, "...", 3);
          o += 3;
          break;
        }
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
        o += (size_t) snprintf (out + o, 300 - o, "\\x%02x", c);
      else
        out[o++] = (char) c;
    }
  out[o++] = '"';
  out[o] = '\0';
}

/* Strict decimal 1-65535: digits only, no sign, no leading zero. */
static bool
parse_port_number (const char *s, size_t len, uint16_t *out)
{
  unsigned long v = 0;
  if (len == 0 || len > 5 || s[0] == '0')
    return false;
  for (size_t i = 0; i < len; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return false;
      v = v * 10 + (unsigned long) (s[i] - '0');
    }
  if (v < 1 || v > 65535)
    return false;
  *out = (uint16_t) v;
  return true;
}

int
rh_port_parse (const char *s, size_t len, struct rh_port *out, rh_error *err)
{
  char q[300];
  const char *slash = memchr (s, '/', len);
  size_t numlen = slash ? (size_t) (slash - s) : len;
  uint16_t port;
  unsigned proto = RH_PROTO_TCP;

  quote_text (s, len, q);
  if (memchr (s, '\0', len) != NULL)
    return rh_error_set (err, EINVAL, "invalid port %s: contains a NUL byte", q);
  if (!parse_port_number (s, numlen, &port))
    return rh_error_set (err, EINVAL, "invalid port %s: expected PORT[/tcp|/udp|/sctp] with PORT from 1 to 65535",
                         q);
  if (slash)
    {
      proto = proto_from_name (slash + 1, len - numlen - 1);
      if (proto == 0)
        return rh_error_set (err, EINVAL, "invalid port %s: protocol must be tcp, udp or sctp", q);
    }
  out->port = port;
  out->proto = (uint8_t) proto;
  return 0;
}

int
rh_port_range_parse (const char *s, struct rh_port_range *out, rh_error *err)
{
  char q[300];
  size_t len = strlen (s);
  const char *slash = strchr (s, '/');
  size_t body = slash ? (size_t) (slash - s) : len;
  const char *dash = memchr (s, '-', body);
  uint16_t lo, hi;
  unsigned protos = RH_PROTO_ALL;

  quote_text (s, len, q);
  if (dash)
    {
      if (!parse_port_number (s, (size_t) (dash - s), &lo)
          || !parse_port_number (dash + 1, body - (size_t) (dash - s) - 1, &hi) || lo > hi)
        return rh_error_set (err, EINVAL, "invalid port range %s: expected LO-HI with 1 <= LO <= HI <= 65535", q);
    }
  else if (!parse_port_number (s, body, &lo))
    return rh_error_set (err, EINVAL, "invalid port %s: expected PORT or LO-HI, from 1 to 65535", q);
  else
    hi = lo;
  if (slash)
    {
      protos = proto_from_name (slash + 1, len - body - 1);
      if (protos == 0)
        return rh_error_set (err, EINVAL, "invalid port range %s: protocol must be tcp, udp or sctp", q);
    }
  out->lo = lo;
  out->hi = hi;
  out->protos = (uint8_t) protos;
  return 0;
}

int
rh_cidr_parse (const char *s, char out[64], int *family, rh_error *err)
{
  char addr[64];
  const char *slash = strchr (s, '/');
  size_t alen = slash ? (size_t) (slash - s) : strlen (s);
  unsigned char buf[16];
  int fam, maxlen;
  long plen;

  if (alen == 0 || alen >= sizeof addr)
    return rh_error_set (err, EINVAL, "invalid address %s", s);
  memcpy (addr, s, alen);
  addr[alen] = '\0';
  if (inet_pton (AF_INET, addr, buf) == 1)
    fam = AF_INET, maxlen = 32;
  else if (inet_pton (AF_INET6, addr, buf) == 1)
    fam = AF_INET6, maxlen = 128;
  else
    return rh_error_set (err, EINVAL, "invalid address %s: not an IPv4 or IPv6 address", s);

  plen = maxlen;
  if (slash)
    {
      const char *p = slash + 1;
      char *end = NULL;
      if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0'))
        return rh_error_set (err, EINVAL, "invalid prefix length in %s", s);
      errno = 0;
      plen = strtol (p, &end, 10);
      if (errno || *end != '\0' || plen < 0 || plen > maxlen)
        return rh_error_set (err, EINVAL, "invalid prefix length in %s: expected 0 to %d", s, maxlen);
    }
  /* Mask to the network address so that the text we generate is the text iptables-save prints. */
  for (int bit = (int) plen; bit < maxlen; bit++)
    buf[bit / 8] &= (unsigned char) ~(0x80u >> (bit % 8));
  {
    char txt[INET6_ADDRSTRLEN];
    if (inet_ntop (fam, buf, txt, sizeof txt) == NULL)
      return rh_error_sys (err, errno, "format address %s", s);
    snprintf (out, 64, "%s/%d", txt, (int) plen);
  }
  *family = fam == AF_INET ? 4 : 6;
  return 0;
}

int
rh_port_check (const struct rh_ports_policy *pp, const struct rh_port *port, const char *what, rh_error *err)
{
  bool allowed = false;

  if ((pp->protocols & port->proto) == 0)
    return rh_error_set (err, EPERM, "port %u/%s from %s: protocol %s is not allowed by policy (ports.protocols)",
                         port->port, rh_proto_name (port->proto), what, rh_proto_name (port->proto));
  for (size_t i = 0; i < pp->n_deny; i++)
    if ((pp->deny[i].protos & port->proto) && port->port >= pp->deny[i].lo && port->port <= pp->deny[i].hi)
      return rh_error_set (err, EPERM, "port %u/%s from %s is denied by policy (ports.deny)", port->port,
                           rh_proto_name (port->proto), what);
  for (size_t i = 0; i < pp->n_allow && !allowed; i++)
    if ((pp->allow[i].protos & port->proto) && port->port >= pp->allow[i].lo && port->port <= pp->allow[i].hi)
      allowed = true;
  if (!allowed)
    return rh_error_set (err, EPERM, "port %u/%s from %s is not allowed by policy (ports.allow)", port->port,
                         rh_proto_name (port->proto), what);
  return 0;
}

/* ---- the port set of one container ---- */

struct port_set
{
  struct rh_port *v;
  size_t n;
  size_t max; /* max_count */
};

static int
port_cmp (const void *a, const void *b)
{
  const struct rh_port *x = a, *y = b;
  if (x->port != y->port)
    return x->port < y->port ? -1 : 1;
  return (int) x->proto - (int) y->proto;
}

static int
set_add (struct port_set *set, const struct rh_ports_policy *pp, const struct rh_port *port, const char *what,
         rh_error *err)
{
  if (rh_port_check (pp, port, what, err) < 0)
    return -1;
  for (size_t i = 0; i < set->n; i++)
    if (set->v[i].port == port->port && set->v[i].proto == port->proto)
      return 0;
  /* Checked before growing: a hostile annotation cannot make us allocate without bound. */
  if (set->n >= set->max)
    return rh_error_set (err, E2BIG,
                         "too many exposed ports: more than %zu distinct ports (policy key ports.max_count); the "
                         "first one over the limit is %u/%s from %s",
                         set->max, port->port, rh_proto_name (port->proto), what);
  set->v = rh_xrealloc (set->v, (set->n + 1) * sizeof *set->v);
  set->v[set->n++] = *port;
  return 0;
}

static void
trim (const char **s, size_t *len)
{
  while (*len && (**s == ' ' || **s == '\t'))
    (*s)++, (*len)--;
  while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
    (*len)--;
}

/* "80/tcp,53/udp": the image-spec conversion of ExposedPorts. Empty means none. */
static int
add_exposed_ports_csv (struct port_set *set, const struct rh_ports_policy *pp, const char *value, size_t vlen,
                       rh_error *err)
{
  const char *what = "annotation " RH_ANNOTATION_EXPOSED_PORTS;
  const char *p = value, *end = value + vlen;
  const char *s = value;
  size_t len = vlen;

  trim (&s, &len);
  if (len == 0)
    return 0;
  while (p <= end)
    {
      const char *comma = memchr (p, ',', (size_t) (end - p));
      const char *item = p;
      size_t ilen = (comma ? comma : end) - p;
      struct rh_port port;

      trim (&item, &ilen);
      if (ilen == 0)
        {
          char q[300];
          quote_text (value, vlen, q);
          return rh_error_set (err, EINVAL, "%s: empty entry in %s", what, q);
        }
      if (rh_port_parse (item, ilen, &port, err) < 0 || set_add (set, pp, &port, what, err) < 0)
        return rh_error_prefix (err, "%s", what);
      if (comma == NULL)
        break;
      p = comma + 1;
    }
  return 0;
}

/* {"8080/tcp":{}}: nerdctl's JSON PortSet. */
static int
add_nerdctl_ports (struct port_set *set, const struct rh_ports_policy *pp, const char *value, size_t vlen,
                   rh_error *err)
{
  const char *what = "annotation " RH_ANNOTATION_NERDCTL_PORTS;
  _cleanup_json_ json_t *obj = NULL;
  json_error_t jerr;
  const char *key;
  json_t *v;

  obj = json_loadb (value, vlen, JSON_REJECT_DUPLICATES, &jerr);
  if (obj == NULL)
    return rh_error_set (err, EINVAL, "%s: invalid JSON: %s", what, jerr.text);
  if (!json_is_object (obj))
    return rh_error_set (err, EINVAL, "%s: expected a JSON object such as {\"8080/tcp\":{}}", what);
  json_object_foreach (obj, key, v)
    {
      struct rh_port port;
      if (!json_is_object (v))
        {
          char q[300];
          quote_text (key, strlen (key), q);
          return rh_error_set (err, EINVAL, "%s: the value of %s must be an object ({})", what, q);
        }
      if (rh_port_parse (key, strlen (key), &port, err) < 0 || set_add (set, pp, &port, what, err) < 0)
        return rh_error_prefix (err, "%s", what);
    }
  return 0;
}

static int
get_annotation (json_t *annotations, const char *name, const char **value, size_t *len, rh_error *err)
{
  json_t *v = annotations ? json_object_get (annotations, name) : NULL;

  *value = NULL;
  if (v == NULL)
    return 0;
  if (!json_is_string (v))
    return rh_error_set (err, EINVAL, "annotation %s: expected a string", name);
  *len = json_string_length (v);
  if (*len > RH_PORTS_ANNOTATION_MAX)
    return rh_error_set (err, EFBIG, "annotation %s: longer than %d bytes", name, RH_PORTS_ANNOTATION_MAX);
  *value = json_string_value (v);
  if (memchr (*value, '\0', *len) != NULL)
    return rh_error_set (err, EINVAL, "annotation %s: contains a NUL byte", name);
  return 0;
}

int
rh_ports_compute (json_t *annotations, const struct rh_ports_policy *pp, struct rh_port **out, size_t *n,
                  rh_error *err)
{
  struct port_set set = { .v = NULL, .n = 0 };
  const char *value;
  size_t vlen = 0;

  set.max = pp->max_count < 0 ? 0 : (size_t) pp->max_count;
  if (set.max > RH_PORTS_HARD_MAX)
    set.max = RH_PORTS_HARD_MAX;
  if (annotations != NULL && !json_is_object (annotations))
    return rh_error_set (err, EINVAL, "annotations: expected an object");

  if (get_annotation (annotations, RH_ANNOTATION_EXPOSED_PORTS, &value, &vlen, err) < 0)
    goto fail;
  if (value && add_exposed_ports_csv (&set, pp, value, vlen, err) < 0)
    goto fail;
  if (get_annotation (annotations, RH_ANNOTATION_NERDCTL_PORTS, &value, &vlen, err) < 0)
    goto fail;
  if (value && add_nerdctl_ports (&set, pp, value, vlen, err) < 0)
    goto fail;
  for (size_t i = 0; i < pp->n_static; i++)
    if (set_add (&set, pp, &pp->static_ports[i], "policy key ports.static", err) < 0)
      goto fail;

  if (set.n)
    qsort (set.v, set.n, sizeof *set.v, port_cmp);
  *out = set.v;
  *n = set.n;
  return 0;

fail:
  free (set.v);
  return -1;
}

char *
rh_ports_format (const struct rh_port *ports, size_t n)
{
  size_t cap = n * 12 + 1, used = 0;
  char *s = rh_xmalloc0 (cap);
  for (size_t i = 0; i < n; i++)
    used += (size_t) snprintf (s + used, cap - used, "%s%u/%s", i ? "," : "", ports[i].port,
                               rh_proto_name (ports[i].proto));
  return s;
}

/* ---- policy sections ---- */

static int
parse_range_list (json_t *section, const char *key, struct rh_port_range **out, size_t *n, rh_error *err)
{
  _cleanup_strv_ char **raw = NULL;
  struct rh_port_range *v;

  if (rh_policy_get_strv (section, "ports", key, &raw, err) < 0)
    return -1;
  if (raw == NULL)
    return 0;
  v = rh_xmalloc0 ((rh_strv_len (raw) + 1) * sizeof *v);
  for (size_t i = 0; raw[i]; i++)
    if (rh_port_range_parse (raw[i], &v[i], err) < 0)
      {
        free (v);
        return rh_error_prefix (err, "policy key ports.%s[%zu]", key, i);
      }
  free (*out);
  *out = v;
  *n = rh_strv_len (raw);
  return 0;
}

static void
set_default_tool (char **slot, const char *path)
{
  if (*slot == NULL)
    *slot = rh_xstrdup (path);
}

int
rh_ports_policy_parse (json_t *section, struct rh_policy *p, rh_error *err)
{
  static const char *const keys[] = { "static", "allow", "deny", "protocols", "max_count", "ipv6",
                                      "iptables_restore", "iptables_save", "ip6tables_restore", "ip6tables_save",
                                      "comment", NULL };
  struct rh_ports_policy *pp = &p->ports;
  _cleanup_strv_ char **statics = NULL;
  _cleanup_strv_ char **protocols = NULL;
  int64_t max_count = 64;

  /* Defaults, also when the section is absent. */
  pp->protocols = RH_PROTO_TCP | RH_PROTO_UDP;
  pp->ipv6 = true;
  pp->allow = rh_xmalloc0 (sizeof *pp->allow);
  pp->allow[0] = (struct rh_port_range) { .lo = 1, .hi = 65535, .protos = RH_PROTO_ALL };
  pp->n_allow = 1;
  pp->deny = rh_xmalloc0 (sizeof *pp->deny);
  pp->deny[0] = (struct rh_port_range) { .lo = 22, .hi = 22, .protos = RH_PROTO_ALL };
  pp->n_deny = 1;

  if (rh_policy_expect_object (section, "ports", err) < 0)
    return -1;
  if (section != NULL)
    {
      _cleanup_free_ char *comment = NULL;
      if (rh_policy_check_keys (section, "ports", keys, err) < 0
          || rh_policy_get_string (section, "ports", "comment", &comment, err) < 0
          || parse_range_list (section, "allow", &pp->allow, &pp->n_allow, err) < 0
          || parse_range_list (section, "deny", &pp->deny, &pp->n_deny, err) < 0
          || rh_policy_get_int (section, "ports", "max_count", 0, RH_PORTS_HARD_MAX, &max_count, err) < 0
          || rh_policy_get_bool (section, "ports", "ipv6", &pp->ipv6, err) < 0
          || rh_policy_get_abs_path (section, "ports", "iptables_restore", &pp->iptables_restore, err) < 0
          || rh_policy_get_abs_path (section, "ports", "iptables_save", &pp->iptables_save, err) < 0
          || rh_policy_get_abs_path (section, "ports", "ip6tables_restore", &pp->ip6tables_restore, err) < 0
          || rh_policy_get_abs_path (section, "ports", "ip6tables_save", &pp->ip6tables_save, err) < 0
          || rh_policy_get_strv (section, "ports", "protocols", &protocols, err) < 0
          || rh_policy_get_strv (section, "ports", "static", &statics, err) < 0)
        return -1;
    }
  pp->max_count = (int) max_count;
  set_default_tool (&pp->iptables_restore, "/usr/sbin/iptables-restore");
  set_default_tool (&pp->iptables_save, "/usr/sbin/iptables-save");
  set_default_tool (&pp->ip6tables_restore, "/usr/sbin/ip6tables-restore");
  set_default_tool (&pp->ip6tables_save, "/usr/sbin/ip6tables-save");

  if (protocols)
    {
      pp->protocols = 0;
      for (size_t i = 0; protocols[i]; i++)
        {
          unsigned pr = proto_from_name (protocols[i], strlen (protocols[i]));
          if (pr == 0)
            return rh_error_set (err, EINVAL, "policy key ports.protocols[%zu]: %s is not tcp, udp or sctp", i,
                                 protocols[i]);
          pp->protocols |= pr;
        }
    }

  /* Static ports are checked like any other: a policy that contradicts itself does not load. */
  if (statics)
    {
      size_t n = rh_strv_len (statics);
      pp->static_ports = rh_xmalloc0 ((n + 1) * sizeof *pp->static_ports);
      for (size_t i = 0; i < n; i++)
        {
          if (rh_port_parse (statics[i], strlen (statics[i]), &pp->static_ports[i], err) < 0
              || rh_port_check (pp, &pp->static_ports[i], "policy key ports.static", err) < 0)
            return rh_error_prefix (err, "policy key ports.static[%zu]", i);
        }
      pp->n_static = n;
      if (n > (size_t) pp->max_count)
        return rh_error_set (err, EINVAL, "policy key ports.static: %zu ports, more than ports.max_count (%d)", n,
                             pp->max_count);
    }
  return 0;
}

/* cgroup_parent: relative, clean, each component a plain name. */
static int
check_cgroup_parent (const char *s, rh_error *err)
{
  const char *p = s;
  if (*s == '\0' || *s == '/' || strlen (s) > 200)
    return rh_error_set (err, EINVAL, "policy key egress.cgroup_parent: %s must be a relative path of plain names",
                         s);
  while (*p)
    {
      const char *slash = strchr (p, '/');
      size_t len = slash ? (size_t) (slash - p) : strlen (p);
      if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
        return rh_error_set (err, EINVAL, "policy key egress.cgroup_parent: %s must be a relative path of plain names",
                             s);
      for (size_t i = 0; i < len; i++)
        {
          char c = p[i];
          if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                || c == '.'))
            return rh_error_set (err, EINVAL,
                                 "policy key egress.cgroup_parent: %s: only letters, digits, '-', '_' and '.'", s);
        }
      p += len;
      if (*p == '/')
        p++;
    }
  return 0;
}

int
rh_egress_policy_parse (json_t *section, struct rh_policy *p, rh_error *err)
{
  static const char *const keys[] = { "deny", "cgroup_mode", "cgroup_parent", "comment", NULL };
  struct rh_egress_policy *e = &p->egress;
  _cleanup_strv_ char **deny = NULL;
  _cleanup_free_ char *mode = NULL;

  e->deny4 = rh_xmalloc0 (sizeof (char *));
  e->deny6 = rh_xmalloc0 (sizeof (char *));
  e->cgroup_parent = rh_xstrdup ("runsc-host");
  e->cgroup_mode = RH_CGROUP_AUTO;

  if (rh_policy_expect_object (section, "egress", err) < 0)
    return -1;
  if (section != NULL)
    {
      _cleanup_free_ char *comment = NULL;
      if (rh_policy_check_keys (section, "egress", keys, err) < 0
          || rh_policy_get_string (section, "egress", "comment", &comment, err) < 0
          || rh_policy_get_strv (section, "egress", "deny", &deny, err) < 0
          || rh_policy_get_string (section, "egress", "cgroup_mode", &mode, err) < 0
          || rh_policy_get_string (section, "egress", "cgroup_parent", &e->cgroup_parent, err) < 0)
        return -1;
    }
  if (deny == NULL)
    {
      /* The metadata server, by both of its addresses (GCE also answers on the IPv6 ULA
       * fd20:ce::254): a second road to the attestation APIs. */
      deny = rh_xmalloc0 (sizeof (char *));
      rh_strv_push (&deny, "169.254.169.254/32");
      rh_strv_push (&deny, "fd20:ce::254/128");
    }
  for (size_t i = 0; deny[i]; i++)
    {
      char canon[64];
      int fam;
      if (rh_cidr_parse (deny[i], canon, &fam, err) < 0)
        return rh_error_prefix (err, "policy key egress.deny[%zu]", i);
      if (!rh_strv_contains (fam == 4 ? e->deny4 : e->deny6, canon))
        rh_strv_push (fam == 4 ? &e->deny4 : &e->deny6, canon);
    }
  if (mode == NULL || strcmp (mode, "auto") == 0)
    e->cgroup_mode = RH_CGROUP_AUTO;
  else if (strcmp (mode, "own") == 0)
    e->cgroup_mode = RH_CGROUP_OWN;
  else if (strcmp (mode, "sandbox") == 0)
    e->cgroup_mode = RH_CGROUP_SANDBOX;
  else
    return rh_error_set (err, EINVAL, "policy key egress.cgroup_mode: %s is not \"auto\", \"own\" or \"sandbox\"",
                         mode);
  return check_cgroup_parent (e->cgroup_parent, err);
}

void
rh_ports_policy_free (struct rh_ports_policy *pp)
{
  free (pp->static_ports);
  free (pp->allow);
  free (pp->deny);
  free (pp->iptables_restore);
  free (pp->iptables_save);
  free (pp->ip6tables_restore);
  free (pp->ip6tables_save);
  memset (pp, 0, sizeof *pp);
}

void
rh_egress_policy_free (struct rh_egress_policy *e)
{
  rh_strv_free (e->deny4);
  rh_strv_free (e->deny6);
  free (e->cgroup_parent);
  memset (e, 0, sizeof *e);
}
