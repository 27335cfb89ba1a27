/* Fuzz the port grammar, the CIDR parser and the iptables-save reader. The first byte picks the
 * target, the rest is the input:
 *   'e' exposedPorts annotation   'n' nerdctl/exposed-ports annotation   'r' allow/deny range
 *   'c' egress CIDR               's' iptables-save text
 * Invariants: accepted ports are in range, allowed by the default policy, sorted, unique and at
 * most max_count; the rule text built from them is one rule per line with nothing of the input
 * in it but digits; a canonical CIDR parses to itself; every id read back from iptables-save is
 * a valid container id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "netrules.h"
#include "policy.h"
#include "ports.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static struct rh_policy *
default_policy (void)
{
  static struct rh_policy *p;
  rh_error err;
  if (p == NULL && rh_policy_parse (rh_default_policy_json, strlen (rh_default_policy_json), NULL, &p, &err) < 0)
    abort ();
  return p;
}

static void
check_ports (const struct rh_policy *p, const struct rh_port *v, size_t n)
{
  char *deny[] = { "169.254.169.254/32", NULL };
  struct rh_netrules_spec spec = { .id = "fuzz", .ports = v, .n_ports = n, .deny = deny, .cgroup_path = "/g" };
  char *text;

  if (n > (size_t) p->ports.max_count)
    abort ();
  for (size_t i = 0; i < n; i++)
    {
      if (v[i].port == 0 || v[i].port == 22 || (v[i].proto != RH_PROTO_TCP && v[i].proto != RH_PROTO_UDP))
        abort ();
      if (i > 0 && (v[i - 1].port > v[i].port || (v[i - 1].port == v[i].port && v[i - 1].proto >= v[i].proto)))
        abort ();
    }
  text = rh_netrules_add_text (&spec, 4);
  for (char *line = text; line && *line;)
    {
      char *nl = strchr (line, '\n');
      if (nl == NULL)
        abort ();
      if (!(line[0] == '-' || line[0] == ':' || line[0] == '*' || strncmp (line, "COMMIT", 6) == 0))
        abort ();
      line = nl + 1;
    }
  free (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct rh_policy *p = default_policy ();
  _cleanup_free_ char *s = NULL;
  rh_error err;

  if (size < 1 || size > (1u << 20))
    return 0;
  s = rh_xmalloc0 (size);
  memcpy (s, data + 1, size - 1);

  switch (data[0])
    {
    case 'e':
    case 'n':
      {
        _cleanup_json_ json_t *ann = json_object ();
        struct rh_port *v = NULL;
        size_t n = 0;
        /* jansson wants UTF-8; the hook gets annotations from JSON anyway. */
        json_t *str = json_stringn (s, size - 1);
        if (str == NULL)
          return 0;
        json_object_set_new (ann, data[0] == 'e' ? RH_ANNOTATION_EXPOSED_PORTS : RH_ANNOTATION_NERDCTL_PORTS, str);
        if (rh_ports_compute (ann, &p->ports, &v, &n, &err) < 0)
          {
            if (err.msg[0] == '\0')
              abort ();
            return 0;
          }
        check_ports (p, v, n);
        /* Formatting and parsing again gives the same list. */
        {
          char *f = rh_ports_format (v, n);
          _cleanup_json_ json_t *again = json_pack ("{s:s}", RH_ANNOTATION_EXPOSED_PORTS, f);
          struct rh_port *w = NULL;
          size_t m = 0;
          if (rh_ports_compute (again, &p->ports, &w, &m, &err) < 0 || m != n)
            abort ();
          for (size_t i = 0; i < n; i++)
            if (v[i].port != w[i].port || v[i].proto != w[i].proto)
              abort ();
          free (w);
          free (f);
        }
        free (v);
        break;
      }
    case 'r':
      {
        struct rh_port_range r;
        if (rh_port_range_parse (s, &r, &err) == 0 && (r.lo == 0 || r.lo > r.hi || r.protos == 0))
          abort ();
        break;
      }
    case 'c':
      {
        char out[64], again[64];
        int fam, fam2;
        if (rh_cidr_parse (s, out, &fam, &err) == 0)
          {
            if (rh_cidr_parse (out, again, &fam2, &err) < 0 || strcmp (out, again) != 0 || fam != fam2)
              abort ();
          }
        break;
      }
    case 's':
      {
        struct rh_netrules_table t;
        if (rh_netrules_parse_save (s, &t, &err) < 0)
          abort ();
        for (size_t i = 0; i < t.n_jumps; i++)
          {
            char *d;
            if (rh_container_id_check (t.jumps[i].id, &err) < 0 || strncmp (t.jumps[i].line, "-A ", 3) != 0)
              abort ();
            d = rh_netrules_del_text_from_table (&t, t.jumps[i].id);
            if (d == NULL)
              abort ();
            free (d);
          }
        free (rh_netrules_bootstrap_text (&t));
        rh_netrules_table_free (&t);
        break;
      }
    default:
      break;
    }
  return 0;
}
