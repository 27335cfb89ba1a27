/* [seccomp] The merge of the policy's rules into a profile (rh_seccomp_merge; the model is in
 * seccomp.h, the choices in docs/seccomp.md). */
#include "seccomp.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cleanup.h"
#include "seccomp_int.h"
#include "util.h"

static const char *
rule_action (json_t *rule)
{
  return json_string_value (json_object_get (rule, "action"));
}

static bool
rule_unconditional (json_t *rule)
{
  json_t *args = json_object_get (rule, "args");
  return rh_seccomp_is_absent (args) || json_array_size (args) == 0;
}

/* What a rule does apart from its names: two rules of the same shape treat a name they share
 * the same way. errnoRet only counts for the actions that carry it (EPERM when absent, as
 * every runtime defaults); an argument test is its index, operator, value and valueTwo (0 when
 * absent). Compared field by field, with a hash computed once per rule: the merge runs on every
 * create, and profiles of several hundred rules are common. */
struct shape
{
  const char *action;
  long long ret;
  json_t *args; /* borrowed from the rule; NULL or an array */
  uint64_t hash;
};

#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

static uint64_t
fnv (uint64_t h, const void *p, size_t n)
{
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ c[i]) * FNV_PRIME;
  return h;
}

static uint64_t
fnv_str (uint64_t h, const char *s)
{
  /* The terminating NUL is hashed too, so "ab"+"c" and "a"+"bc" differ. */
  return fnv (h, s ? s : "", s ? strlen (s) + 1 : 0);
}

static long long
arg_int (json_t *a, const char *key)
{
  return (long long) json_integer_value (json_object_get (a, key));
}

/* The shape of a rule whose fields (rh_seccomp_get_fields with rh_seccomp_rule_fields) are f. seed: see
 * rh_seccomp_merge */
static void
shape_from (json_t *const *f, uint64_t seed, struct shape *s)
{
  json_t *er = f[R_ERRNORET];
  json_t *a;
  size_t j;

  s->action = json_string_value (f[R_ACTION]);
  s->ret = -1;
  if (s->action && (strcmp (s->action, "SCMP_ACT_ERRNO") == 0 || strcmp (s->action, "SCMP_ACT_TRACE") == 0))
    s->ret = json_is_integer (er) ? (long long) json_integer_value (er) : EPERM;
  s->args = f[R_ARGS];
  if (!json_is_array (s->args))
    s->args = NULL;
  s->hash = fnv (fnv_str (FNV_OFFSET ^ seed, s->action), &s->ret, sizeof s->ret);
  json_array_foreach (s->args, j, a)
    {
      json_t *af[A_NFIELDS];
      rh_seccomp_get_fields (a, rh_seccomp_arg_fields, af);
      long long v[3] = { (long long) json_integer_value (af[A_INDEX]), (long long) json_integer_value (af[A_VALUE]),
                         (long long) json_integer_value (af[A_VALUETWO]) };
      s->hash = fnv_str (fnv (s->hash, v, sizeof v), json_string_value (af[A_OP]));
    }
}

static void
shape_of (json_t *rule, uint64_t seed, struct shape *s)
{
  json_t *f[R_NFIELDS];
  rh_seccomp_get_fields (rule, rh_seccomp_rule_fields, f);
  shape_from (f, seed, s);
}

static bool
str_eq (const char *a, const char *b)
{
  return a == b || (a && b && strcmp (a, b) == 0);
}

static bool
shape_eq (const struct shape *x, const struct shape *y)
{
  size_t n = json_array_size (x->args);

  if (x->hash != y->hash || x->ret != y->ret || !str_eq (x->action, y->action) || n != json_array_size (y->args))
    return false;
  for (size_t j = 0; j < n; j++)
    {
      json_t *a = json_array_get (x->args, j), *b = json_array_get (y->args, j);
      if (arg_int (a, "index") != arg_int (b, "index") || arg_int (a, "value") != arg_int (b, "value")
          || arg_int (a, "valueTwo") != arg_int (b, "valueTwo")
          || !str_eq (json_string_value (json_object_get (a, "op")), json_string_value (json_object_get (b, "op"))))
        return false;
    }
  return true;
}

/* A set of (name, shape) pairs with flags: open addressing, linear probing. The names and
 * shapes are borrowed from rules that outlive the set. */
enum
{
  NS_OURS = 1,    /* a policy rule of this shape names it */
  NS_PRESENT = 2, /* ... and a client rule of the same shape did too */
  NS_SEEN = 4,    /* a kept rule of this shape already carries it */
};

struct name_ent
{
  const char *name; /* NULL: free slot */
  const struct shape *shape;
  uint64_t hash;
  unsigned flags;
};

struct name_set
{
  struct name_ent *v;
  size_t cap, n; /* cap is a power of two */
};

/* Make room for want entries at most half full (cap: a power of two, at least 64). */
static void
name_set_grow (struct name_set *s, size_t want)
{
  struct name_ent *old = s->v;
  size_t oldcap = s->cap;

  if (s->cap == 0)
    s->cap = 64;
  while (want > s->cap / 2 && s->cap <= SIZE_MAX / (4 * sizeof *s->v))
    s->cap *= 2;
  if (s->cap == oldcap)
    return;
  s->v = rh_xmalloc0 (s->cap * sizeof *s->v);
  for (size_t i = 0; i < oldcap; i++)
    if (old[i].name)
      {
        size_t k = old[i].hash & (s->cap - 1);
        while (s->v[k].name)
          k = (k + 1) & (s->cap - 1);
        s->v[k] = old[i];
      }
  free (old);
}

/* The entry for (name, shape); created with no flags when insert, else NULL when absent. */
static struct name_ent *
name_set_get (struct name_set *s, const char *name, const struct shape *shape, bool insert)
{
  uint64_t h;
  size_t k;

  if (name == NULL) /* not a string: only in an unchecked profile; keyed as it used to print */
    name = "(null)";
  h = fnv_str (shape->hash, name);

  if (insert && (s->n + 1) * 2 > s->cap)
    name_set_grow (s, s->n + 1);
  if (s->cap == 0)
    return NULL;
  for (k = h & (s->cap - 1); s->v[k].name; k = (k + 1) & (s->cap - 1))
    if (s->v[k].hash == h && strcmp (s->v[k].name, name) == 0 && shape_eq (s->v[k].shape, shape))
      return &s->v[k];
  if (!insert)
    return NULL;
  s->v[k] = (struct name_ent) { name, shape, h, 0 };
  s->n++;
  return &s->v[k];
}

static void
name_set_free (struct name_set *s)
{
  free (s->v);
}

/* A shallow copy of rule with another names array (the client's other keys are kept). */
static json_t *
with_names (json_t *rule, json_t *names)
{
  json_t *c = json_copy (rule);
  json_object_set (c, "names", names);
  return c;
}

static char *
join_names (json_t *names)
{
  size_t len = 1, off = 0;
  char *s;
  json_t *n;
  size_t i;

  json_array_foreach (names, i, n)
    len += strlen (json_string_value (n)) + 1;
  s = rh_xmalloc0 (len);
  json_array_foreach (names, i, n)
    {
      const char *v = json_string_value (n);
      size_t l = strlen (v);
      if (i)
        s[off++] = ',';
      memcpy (s + off, v, l);
      off += l;
    }
  s[off] = '\0';
  return s;
}

struct item
{
  json_t *rule; /* owned reference */
  int rank;
  size_t seq;   /* position before sorting: ours first, then the client's in order */
  ssize_t client_idx; /* index in the client's syscalls, -1 for ours */
  struct shape shape; /* of rule (the set points at it once items[] is sorted) */
  json_t *names;      /* rule's, borrowed */
  bool unconditional; /* rule has no argument tests */
};

/* Fill in what items[].rule is looked up for: its rank, names and whether it tests arguments. */
static void
item_fields (struct item *it, json_t *const *f)
{
  it->rank = rh_seccomp_action_rank (json_string_value (f[R_ACTION]));
  it->names = f[R_NAMES];
  it->unconditional = rh_seccomp_is_absent (f[R_ARGS]) || json_array_size (f[R_ARGS]) == 0;
}

static int
item_cmp (const void *a, const void *b)
{
  const struct item *x = a, *y = b;
  if (x->rank != y->rank)
    return x->rank < y->rank ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Client rule -> the rule runsc should get (a new reference), or NULL when nothing of it is
 * left once the names our policy already carries identically are taken out. f: its fields. */
static json_t *
adapt_client_rule (json_t *rule, json_t *const *f, size_t idx, struct name_set *set,
                   const struct rh_seccomp_policy *sp, const struct rh_logger *log, uint64_t seed,
                   struct shape *out_shape)
{
  struct shape shape;
  _cleanup_json_ json_t *names = NULL;
  json_t *out, *n;
  json_t *orig = f[R_NAMES];
  const char *action = json_string_value (f[R_ACTION]);
  bool as_trace = sp->enosys_as_trace && strcmp (action, "SCMP_ACT_ERRNO") == 0
                  && json_integer_value (f[R_ERRNORET]) == RH_ERRNO_ENOSYS;
  bool kill_thread = strcmp (action, "SCMP_ACT_KILL_THREAD") == 0;
  size_t j, dropped = 0;

  shape_from (f, seed, &shape);
  json_array_foreach (orig, j, n)
    {
      struct name_ent *e = name_set_get (set, json_string_value (n), &shape, false);
      if (e && (e->flags & NS_OURS))
        {
          e->flags |= NS_PRESENT;
          dropped++;
        }
    }
  if (dropped == json_array_size (orig))
    return NULL;
  *out_shape = shape; /* the same but for the action changes below */
  /* Nothing to change (the usual case): the rule itself goes on. */
  if (dropped == 0 && !as_trace && !kill_thread && !rh_seccomp_needs_runsc_aliases (orig))
    return json_incref (rule);
  names = json_array ();
  json_array_foreach (orig, j, n)
    {
      struct name_ent *e = name_set_get (set, json_string_value (n), &shape, false);
      if (!(e && (e->flags & NS_OURS)))
        json_array_append (names, n);
    }
  rh_seccomp_add_runsc_aliases (names);
  out = with_names (rule, names);
  if (as_trace)
    {
      _cleanup_free_ char *list = join_names (names);
      json_object_set_new (out, "action", json_string ("SCMP_ACT_TRACE"));
      json_object_del (out, "errnoRet");
      rh_log_info (log, "seccomp: linux.seccomp.syscalls[%zu] (%s) asks for SCMP_ACT_ERRNO with ENOSYS, which runsc "
                        "would return as EPERM; written as SCMP_ACT_TRACE, which returns ENOSYS (policy key "
                        "seccomp.enosys_as_trace)", idx, list);
      shape_of (out, seed, out_shape);
    }
  else if (kill_thread)
    {
      json_object_set_new (out, "action", json_string ("SCMP_ACT_KILL"));
      shape_of (out, seed, out_shape);
    }
  return out;
}

int
rh_seccomp_merge (json_t *profile, const struct rh_seccomp_policy *sp, const struct rh_logger *log, rh_error *err)
{
  struct shape no_shape = { NULL, -1, NULL, FNV_OFFSET };
  uint64_t seed = 0;
  json_t *sys = json_object_get (profile, "syscalls");
  __attribute__ ((cleanup (name_set_free))) struct name_set set = { NULL, 0, 0 };
  __attribute__ ((cleanup (name_set_free))) struct name_set uncond = { NULL, 0, 0 }; /* shape: no_shape */
  _cleanup_json_ json_t *out = json_array ();
  _cleanup_free_ struct item *items = NULL;
  _cleanup_free_ struct shape *ours = NULL;
  size_t n = 0, cap, i, j;
  json_t *rule, *name;

  if (!json_is_object (profile))
    return rh_error_set (err, EINVAL, "linux.seccomp: expected an object");
  if (!rh_seccomp_is_absent (sys) && !json_is_array (sys))
    return rh_error_set (err, EINVAL, "linux.seccomp.syscalls: expected an array");
  /* The names come from the client: a per-call random seed keeps crafted names from piling
   * into one probe chain (the sets are only asked about membership, so the output does not
   * depend on it). Without randomness, the seed is a heap address. */
  cap = json_array_size (sp->deny) + json_array_size (sys) + 1;
  items = rh_xmalloc0 (cap * sizeof *items);
  if (getrandom (&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t) sizeof seed)
    seed = (uint64_t) (uintptr_t) items;
  no_shape.hash ^= seed;
  ours = rh_xmalloc0 ((json_array_size (sp->deny) + 1) * sizeof *ours);

  json_array_foreach (sp->deny, i, rule)
    {
      json_t *f[R_NFIELDS];
      shape_of (rule, seed, &ours[i]);
      json_array_foreach (json_object_get (rule, "names"), j, name)
        name_set_get (&set, json_string_value (name), &ours[i], true)->flags |= NS_OURS;
      /* A copy: the spec must not share objects with the policy. */
      items[n] = (struct item) { .rule = json_deep_copy (rule), .seq = n, .client_idx = -1, .shape = ours[i] };
      rh_seccomp_get_fields (items[n].rule, rh_seccomp_rule_fields, f);
      item_fields (&items[n], f);
      n++;
    }
  json_array_foreach (sys, i, rule)
    {
      struct shape shape;
      json_t *f[R_NFIELDS];
      json_t *c;

      rh_seccomp_get_fields (rule, rh_seccomp_rule_fields, f);
      c = adapt_client_rule (rule, f, i, &set, sp, log, seed, &shape);
      if (c == NULL)
        continue;
      items[n] = (struct item) { .rule = c, .seq = n, .client_idx = (ssize_t) i, .shape = shape };
      if (c != rule)
        rh_seccomp_get_fields (c, rh_seccomp_rule_fields, f);
      item_fields (&items[n], f);
      n++;
    }

  /* Strictest first: runsc takes the first rule that matches. */
  qsort (items, n, sizeof *items, item_cmp);

  /* Each name of each rule goes into set at most once, and into uncond at most once: one
   * allocation each instead of a doubling per power of two. */
  {
    size_t total = set.n;
    for (i = 0; i < n; i++)
      total += json_array_size (items[i].names);
    name_set_grow (&set, total);
    name_set_grow (&uncond, total - set.n);
  }

  for (i = 0; i < n; i++)
    {
      /* keep: the names that stay, made only once one does not (the usual rule keeps all). */
      _cleanup_json_ json_t *keep = NULL;
      _cleanup_json_ json_t *gone = NULL;
      json_t *names = items[i].names;

      json_array_foreach (names, j, name)
        {
          const char *s = json_string_value (name);
          struct name_ent *e;
          bool dead;
          /* Decided by an earlier rule for every argument value: this one is never reached. */
          dead = name_set_get (&uncond, s, &no_shape, false) != NULL;
          if (!dead)
            {
              e = name_set_get (&set, s, &items[i].shape, true);
              if (!(e->flags & NS_SEEN))
                {
                  e->flags |= NS_SEEN;
                  if (items[i].unconditional)
                    name_set_get (&uncond, s, &no_shape, true);
                  if (keep)
                    json_array_append (keep, name);
                  continue;
                }
            }
          if (keep == NULL)
            {
              keep = json_array ();
              for (size_t k = 0; k < j; k++)
                json_array_append (keep, json_array_get (names, k));
            }
          if (dead)
            {
              if (gone == NULL)
                gone = json_array ();
              json_array_append (gone, name);
            }
        }
      if (gone != NULL)
        {
          _cleanup_free_ char *list = join_names (gone);
          if (items[i].client_idx >= 0)
            rh_log_info (log, "seccomp: linux.seccomp.syscalls[%zd] (%s) no longer applies to %s: an earlier rule, "
                              "at least as strict, decides it for every argument",
                         items[i].client_idx, rule_action (items[i].rule), list);
          else
            rh_log_debug (log, "seccomp: policy rule for %s is covered by a stricter client rule", list);
        }
      if (keep == NULL)
        json_array_append (out, items[i].rule);
      else if (json_array_size (keep) > 0)
        json_array_append_new (out, with_names (items[i].rule, keep));
    }

  json_array_foreach (sp->deny, i, rule)
    {
      _cleanup_free_ char *list = join_names (json_object_get (rule, "names"));
      bool all = true;
      json_array_foreach (json_object_get (rule, "names"), j, name)
        {
          struct name_ent *e = name_set_get (&set, json_string_value (name), &ours[i], false);
          all = all && e != NULL && (e->flags & NS_PRESENT);
        }
      if (all)
        rh_log_debug (log, "seccomp: policy rule seccomp.deny[%zu] (%s) already present", i, list);
      else
        rh_log_info (log, "seccomp: added policy rule seccomp.deny[%zu]: %s %s%s", i, list, rule_action (rule),
                     rule_unconditional (rule) ? "" : " (when its argument tests match)");
    }

  for (i = 0; i < n; i++)
    json_decref (items[i].rule);
  if (!rh_seccomp_is_absent (sys) || json_array_size (out) > 0)
    json_object_set (profile, "syscalls", out);
  return 0;
}

