/* Rule text for one container, and reading back what iptables-save shows of ours. Pure: no
 * process is started and no file is read here (netrules_apply.c does that). */
#include "netrules.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "container_id.h"
#include "fsutil.h"
#include "util.h"

void
rh_netrules_chain_names (const char *id, char in[RH_NET_CHAIN_NAME_MAX], char out[RH_NET_CHAIN_NAME_MAX])
{
  char hex[65];
  rh_sha256_hex (id, strlen (id), hex);
  snprintf (in, RH_NET_CHAIN_NAME_MAX, RH_NET_CHAIN_PREFIX_IN "%.16s", hex);
  snprintf (out, RH_NET_CHAIN_NAME_MAX, RH_NET_CHAIN_PREFIX_OUT "%.16s", hex);
}

/* ---- a small text builder (allocation failure aborts, as everywhere in lib/) ---- */

struct buf
{
  char *s;
  size_t len, cap;
};

static void __attribute__ ((format (printf, 2, 3)))
bprintf (struct buf *b, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (NULL, 0, fmt, ap);
  va_end (ap);
  if (n < 0)
    abort ();
  if (b->len + (size_t) n + 1 > b->cap)
    {
      b->cap = (b->len + (size_t) n + 1) * 2;
      b->s = rh_xrealloc (b->s, b->cap);
    }
  va_start (ap, fmt);
  vsnprintf (b->s + b->len, b->cap - b->len, fmt, ap);
  va_end (ap);
  b->len += (size_t) n;
}

/* ---- adding and removing one container ---- */

char *
rh_netrules_add_text (const struct rh_netrules_spec *s, int family)
{
  char in[RH_NET_CHAIN_NAME_MAX], out[RH_NET_CHAIN_NAME_MAX];
  bool egress = s->deny != NULL && s->deny[0] != NULL && s->cgroup_path != NULL;
  bool ingress = s->n_ports > 0;
  struct buf b = { 0 };

  if (!ingress && !egress)
    return NULL;
  rh_netrules_chain_names (s->id, in, out);
  bprintf (&b, "*filter\n");
  /* In a --noflush batch, declaring a chain creates it or, when it exists, empties it: applying
   * twice gives the same chain contents. */
  if (ingress)
    {
      bprintf (&b, ":%s - [0:0]\n", in);
      for (size_t i = 0; i < s->n_ports; i++)
        {
          const char *proto = rh_proto_name (s->ports[i].proto);
          bprintf (&b, "-A %s -p %s -m %s --dport %u -m comment --comment \"" RH_NET_COMMENT_PREFIX "%s\" -j ACCEPT\n",
                   in, proto, proto, s->ports[i].port, s->id);
        }
    }
  if (egress)
    {
      bprintf (&b, ":%s - [0:0]\n", out);
      for (size_t i = 0; s->deny[i]; i++)
        bprintf (&b, "-A %s -d %s -m comment --comment \"" RH_NET_COMMENT_PREFIX "%s\" -j REJECT\n", out, s->deny[i],
                 s->id);
    }
  /* The jumps come last: the chains are complete before anything reaches them (and the whole
   * batch is one transaction anyway). */
  if (ingress)
    bprintf (&b, "-A " RH_NET_CHAIN_IN " -m comment --comment \"" RH_NET_COMMENT_PREFIX "%s\" -j %s\n", s->id, in);
  if (egress)
    bprintf (&b,
             "-A " RH_NET_CHAIN_OUT " -m cgroup --path %s -m comment --comment \"" RH_NET_COMMENT_PREFIX
             "%s\" -j %s\n",
             s->cgroup_path, s->id, out);
  bprintf (&b, "COMMIT\n");
  (void) family; /* the same text serves both families: REJECT picks the right ICMP type */
  return b.s;
}

char *
rh_netrules_del_text (const char *id, bool ingress, bool egress, const char *cgroup_path)
{
  char in[RH_NET_CHAIN_NAME_MAX], out[RH_NET_CHAIN_NAME_MAX];
  struct buf b = { 0 };

  if (egress && cgroup_path == NULL)
    egress = false;
  if (!ingress && !egress)
    return NULL;
  rh_netrules_chain_names (id, in, out);
  bprintf (&b, "*filter\n");
  if (ingress)
    bprintf (&b, "-D " RH_NET_CHAIN_IN " -m comment --comment \"" RH_NET_COMMENT_PREFIX "%s\" -j %s\n", id, in);
  if (egress)
    bprintf (&b,
             "-D " RH_NET_CHAIN_OUT " -m cgroup --path %s -m comment --comment \"" RH_NET_COMMENT_PREFIX
             "%s\" -j %s\n",
             cgroup_path, id, out);
  if (ingress)
    bprintf (&b, "-F %s\n-X %s\n", in, in);
  if (egress)
    bprintf (&b, "-F %s\n-X %s\n", out, out);
  bprintf (&b, "COMMIT\n");
  return b.s;
}

/* ---- reading iptables-save ---- */

/* Split an iptables-save rule line into words; "..." is one word (with \" and \\ unescaped).
 * Returns a NULL-terminated vector, or NULL for a line we cannot read (then it is not ours). */
static char **
split_words (const char *line)
{
  _cleanup_strv_ char **v = rh_xmalloc0 (sizeof (char *));
  const char *p = line;

  while (*p)
    {
      _cleanup_free_ char *w = NULL;
      size_t n = 0;
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p == '\0')
        break;
      w = rh_xmalloc0 (strlen (p) + 1);
      if (*p == '"')
        {
          p++;
          while (*p && *p != '"')
            {
              if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                p++;
              w[n++] = *p++;
            }
          if (*p != '"')
            return NULL;
          p++;
        }
      else
        while (*p && *p != ' ' && *p != '\t')
          w[n++] = *p++;
      w[n] = '\0';
      rh_strv_push (&v, w);
    }
  return steal_pointer (&v);
}

static bool
is_our_chain (const char *name)
{
  return rh_str_has_prefix (name, RH_NET_CHAIN_PREFIX_IN) || rh_str_has_prefix (name, RH_NET_CHAIN_PREFIX_OUT);
}

static void
parse_rule (struct rh_netrules_table *t, const char *line)
{
  _cleanup_strv_ char **w = split_words (line);
  const char *comment = NULL, *target = NULL;
  size_t n;
  rh_error ignored;

  /* iptables-save prints "-A CHAIN ..." with single spaces; anything else is not its output. A
   * line we cannot read in a shared chain is still somebody's rule there. */
  if (strncmp (line, "-A ", 3) != 0 || w == NULL || (n = rh_strv_len (w)) < 2)
    {
      if (rh_str_has_prefix (line, "-A " RH_NET_CHAIN_IN " ") || rh_str_has_prefix (line, "-A " RH_NET_CHAIN_OUT " "))
        t->foreign++;
      return;
    }
  for (size_t i = 2; i + 1 < n; i++)
    {
      if (strcmp (w[i], "--comment") == 0)
        comment = w[i + 1];
      else if (strcmp (w[i], "-j") == 0 || strcmp (w[i], "--jump") == 0)
        target = w[i + 1];
    }
  if (target == NULL)
    {
      /* A rule without a target in a shared chain is still somebody's rule. */
      if (strcmp (w[1], RH_NET_CHAIN_IN) == 0 || strcmp (w[1], RH_NET_CHAIN_OUT) == 0)
        t->foreign++;
      return;
    }
  if (strcmp (w[1], "INPUT") == 0 && strcmp (target, RH_NET_CHAIN_IN) == 0)
    {
      t->jump_in = true;
      rh_strv_push (&t->base_jumps, line);
    }
  else if (strcmp (w[1], "OUTPUT") == 0 && strcmp (target, RH_NET_CHAIN_OUT) == 0)
    {
      t->jump_out = true;
      rh_strv_push (&t->base_jumps, line);
    }
  else if ((strcmp (w[1], RH_NET_CHAIN_IN) == 0 || strcmp (w[1], RH_NET_CHAIN_OUT) == 0) && comment
           && rh_str_has_prefix (comment, RH_NET_COMMENT_PREFIX)
           && rh_container_id_check (comment + strlen (RH_NET_COMMENT_PREFIX), &ignored) == 0)
    {
      struct rh_netrules_jump *j;
      t->jumps = rh_xrealloc (t->jumps, (t->n_jumps + 1) * sizeof *t->jumps);
      j = &t->jumps[t->n_jumps++];
      j->id = rh_xstrdup (comment + strlen (RH_NET_COMMENT_PREFIX));
      j->target = rh_xstrdup (target);
      j->line = rh_xstrdup (line);
    }
  else if (strcmp (w[1], RH_NET_CHAIN_IN) == 0 || strcmp (w[1], RH_NET_CHAIN_OUT) == 0)
    t->foreign++;
}

int
rh_netrules_parse_save (const char *text, struct rh_netrules_table *t, rh_error *err)
{
  const char *p = text;
  bool in_filter = false;

  memset (t, 0, sizeof *t);
  t->chains = rh_xmalloc0 (sizeof (char *));
  t->base_jumps = rh_xmalloc0 (sizeof (char *));
  while (*p)
    {
      const char *nl = strchr (p, '\n');
      size_t len = nl ? (size_t) (nl - p) : strlen (p);
      _cleanup_free_ char *line = strndup (p, len);

      if (line == NULL)
        abort ();
      if (line[0] == '*')
        in_filter = strcmp (line, "*filter") == 0;
      else if (in_filter && line[0] == ':')
        {
          char name[64];
          size_t nlen = strcspn (line + 1, " ");
          if (nlen > 0 && nlen < sizeof name)
            {
              memcpy (name, line + 1, nlen);
              name[nlen] = '\0';
              if (strcmp (name, RH_NET_CHAIN_IN) == 0)
                t->chain_in = true;
              else if (strcmp (name, RH_NET_CHAIN_OUT) == 0)
                t->chain_out = true;
              else if (is_our_chain (name))
                rh_strv_push (&t->chains, name);
            }
        }
      else if (in_filter && line[0] == '-')
        parse_rule (t, line);
      else if (strcmp (line, "COMMIT") == 0)
        in_filter = false;
      p += len;
      if (*p == '\n')
        p++;
    }
  (void) err;
  return 0;
}

void
rh_netrules_table_free (struct rh_netrules_table *t)
{
  for (size_t i = 0; i < t->n_jumps; i++)
    {
      free (t->jumps[i].id);
      free (t->jumps[i].target);
      free (t->jumps[i].line);
    }
  free (t->jumps);
  rh_strv_free (t->chains);
  rh_strv_free (t->base_jumps);
  memset (t, 0, sizeof *t);
}

char *
rh_netrules_bootstrap_text (const struct rh_netrules_table *t)
{
  struct buf b = { 0 };

  if (t->chain_in && t->chain_out && t->jump_in && t->jump_out)
    return NULL;
  bprintf (&b, "*filter\n");
  /* Only chains that do not exist are declared: declaring an existing chain in a --noflush
   * batch would empty it, and with it every other container's jump. */
  if (!t->chain_in)
    bprintf (&b, ":" RH_NET_CHAIN_IN " - [0:0]\n");
  if (!t->chain_out)
    bprintf (&b, ":" RH_NET_CHAIN_OUT " - [0:0]\n");
  /* First in INPUT/OUTPUT: after a host's own final DROP rule an appended jump would never be
   * reached. Our chains only ACCEPT the exposed ports and REJECT the denied destinations of the
   * sandbox; everything else returns to the host's rules. */
  if (!t->jump_in)
    bprintf (&b, "-I INPUT 1 -j " RH_NET_CHAIN_IN "\n");
  if (!t->jump_out)
    bprintf (&b, "-I OUTPUT 1 -j " RH_NET_CHAIN_OUT "\n");
  bprintf (&b, "COMMIT\n");
  return b.s;
}

static bool
table_has_chain (const struct rh_netrules_table *t, const char *name)
{
  return rh_strv_contains (t->chains, name);
}

/* Append -D for each jump of id, then -F/-X for its chains that exist. */
static void
del_id (struct buf *b, const struct rh_netrules_table *t, const char *id, char ***deleted_chains)
{
  char in[RH_NET_CHAIN_NAME_MAX], out[RH_NET_CHAIN_NAME_MAX];

  rh_netrules_chain_names (id, in, out);
  for (size_t i = 0; i < t->n_jumps; i++)
    if (strcmp (t->jumps[i].id, id) == 0)
      bprintf (b, "-D%s\n", t->jumps[i].line + 2);
  for (int k = 0; k < 2; k++)
    {
      const char *c = k == 0 ? in : out;
      if (table_has_chain (t, c) && !rh_strv_contains (*deleted_chains, c))
        {
          bprintf (b, "-F %s\n-X %s\n", c, c);
          rh_strv_push (deleted_chains, c);
        }
    }
}

char *
rh_netrules_del_text_from_table (const struct rh_netrules_table *t, const char *id)
{
  struct buf b = { 0 };
  _cleanup_strv_ char **deleted = rh_xmalloc0 (sizeof (char *));

  bprintf (&b, "*filter\n");
  del_id (&b, t, id, &deleted);
  if (b.len == strlen ("*filter\n"))
    {
      free (b.s);
      return NULL;
    }
  bprintf (&b, "COMMIT\n");
  return b.s;
}

char *
rh_netrules_gc_text (const struct rh_netrules_table *t, bool (*alive) (const char *id, void *data), void *data,
                     char ***removed, bool *shared_removed)
{
  struct buf b = { 0 };
  _cleanup_strv_ char **dead = rh_xmalloc0 (sizeof (char *));
  _cleanup_strv_ char **deleted = rh_xmalloc0 (sizeof (char *));
  _cleanup_strv_ char **live_targets = rh_xmalloc0 (sizeof (char *));

  bprintf (&b, "*filter\n");
  for (size_t i = 0; i < t->n_jumps; i++)
    {
      const char *id = t->jumps[i].id;
      if (rh_strv_contains (dead, id))
        continue;
      if (alive (id, data))
        rh_strv_push (&live_targets, t->jumps[i].target);
      else
        rh_strv_push (&dead, id);
    }
  for (size_t i = 0; dead[i]; i++)
    {
      del_id (&b, t, dead[i], &deleted);
      if (removed)
        rh_strv_push (removed, dead[i]);
    }
  /* Chains nothing jumps to any more (a crash cannot leave these: chain and jump come and go in
   * one transaction; but an administrator's hand can). */
  for (size_t i = 0; t->chains[i]; i++)
    {
      const char *c = t->chains[i];
      bool referenced = rh_strv_contains (live_targets, c);
      for (size_t j = 0; j < t->n_jumps && !referenced; j++)
        if (strcmp (t->jumps[j].target, c) == 0 && !rh_strv_contains (dead, t->jumps[j].id))
          referenced = true;
      if (!referenced && !rh_strv_contains (deleted, c))
        {
          bprintf (&b, "-F %s\n-X %s\n", c, c);
          rh_strv_push (&deleted, c);
        }
    }
  /* No container left, and nothing but ours ever in the shared chains: they and their jumps go,
   * and the table is as it was before the first container (the next one creates them again). */
  if (shared_removed)
    *shared_removed = false;
  if (rh_strv_len (live_targets) == 0 && t->foreign == 0 && (t->chain_in || t->chain_out || t->base_jumps[0]))
    {
      for (size_t i = 0; t->base_jumps[i]; i++)
        bprintf (&b, "-D%s\n", t->base_jumps[i] + 2);
      if (t->chain_in)
        bprintf (&b, "-F " RH_NET_CHAIN_IN "\n-X " RH_NET_CHAIN_IN "\n");
      if (t->chain_out)
        bprintf (&b, "-F " RH_NET_CHAIN_OUT "\n-X " RH_NET_CHAIN_OUT "\n");
      if (shared_removed)
        *shared_removed = true;
    }
  if (b.len == strlen ("*filter\n"))
    {
      free (b.s);
      return NULL;
    }
  bprintf (&b, "COMMIT\n");
  return b.s;
}
