/* [seccomp] Policy section and profile checks (the modifier: rewrite/seccomp.c; the merge:
 * rewrite/seccomp_merge.c). See seccomp.h for the evaluation model this follows (runsc's, not
 * libseccomp's) and docs/seccomp.md for the choices made. */
#include "seccomp.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "jsonutil.h"
#include "policy.h"
#include "seccomp_int.h"
#include "spec_keys.h"
#include "util.h"

/* libseccomp's own header is also called seccomp.h, and lib/ (which holds this module's
 * seccomp.h) comes first on the include path, so <seccomp.h> would find ours. The two
 * functions used are declared here as in libseccomp 2.x (stable since 2.3). */
uint32_t seccomp_arch_resolve_name (const char *arch_name);
int seccomp_syscall_resolve_name_arch (uint32_t arch_token, const char *name);

/* ---- OCI vocabulary ---- */

/* Every OCI action with its strictness, as the kernel orders the results of stacked filters
 * (0 = strictest). SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD. */
static const struct
{
  const char *name;
  int rank;
} actions[] = {
  { "SCMP_ACT_KILL_PROCESS", 0 }, { "SCMP_ACT_KILL", 1 }, { "SCMP_ACT_KILL_THREAD", 1 },
  { "SCMP_ACT_TRAP", 2 },         { "SCMP_ACT_ERRNO", 3 }, { "SCMP_ACT_NOTIFY", 4 },
  { "SCMP_ACT_TRACE", 5 },        { "SCMP_ACT_LOG", 6 },  { "SCMP_ACT_ALLOW", 7 },
};

/* The fields runsc reads at each level. Go's encoding/json also takes "Seccomp", "ACTION" or
 * "Names" for them (the last spelling wins), so a twin key could swap the action or the names
 * of a rule after the merge has judged it: any non-canonical spelling is refused. */
static const char *const profile_fields[] = { "defaultAction", "defaultErrnoRet", "architectures", "flags",
                                              "listenerPath", "listenerMetadata", "syscalls", NULL };
const char *const rh_seccomp_rule_fields[] = { "names", "action", "errnoRet", "args", NULL };
const char *const rh_seccomp_arg_fields[] = { "index", "value", "valueTwo", "op", NULL };

static const char *const operators[] = { "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
                                         "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL };

/* The deny actions a policy may use: the ones runsc (2022) implements. */
static const char *const deny_actions[] = { "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_TRAP", NULL };

/* x86_64 and aarch64 are the architectures gVisor runs on. */
static const char *const default_archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64", NULL };

/* Linux names that runsc's syscall table spells differently. runsc skips a name it does not
 * know, so a profile that allows pselect6 (glibc's select() on x86_64 and aarch64) would deny
 * it; runc and crun skip the alias in turn. Every rule that names one gets the other too. */
static const struct
{
  const char *linux_name, *runsc_name;
} runsc_aliases[] = { { "pselect6", "pselect" } };

bool
rh_seccomp_names_contain (json_t *names, const char *name)
{
  size_t i;
  json_t *n;
  json_array_foreach (names, i, n)
    if (strcmp (json_string_value (n), name) == 0)
      return true;
  return false;
}

/* names has the Linux spelling of alias a but not runsc's. */
static bool
alias_missing (json_t *names, size_t a)
{
  return rh_seccomp_names_contain (names, runsc_aliases[a].linux_name)
         && !rh_seccomp_names_contain (names, runsc_aliases[a].runsc_name);
}

bool
rh_seccomp_needs_runsc_aliases (json_t *names)
{
  for (size_t a = 0; a < sizeof runsc_aliases / sizeof runsc_aliases[0]; a++)
    if (alias_missing (names, a))
      return true;
  return false;
}

void
rh_seccomp_add_runsc_aliases (json_t *names)
{
  for (size_t a = 0; a < sizeof runsc_aliases / sizeof runsc_aliases[0]; a++)
    if (alias_missing (names, a))
      json_array_append_new (names, json_string (runsc_aliases[a].runsc_name));
}

int
rh_seccomp_action_rank (const char *action)
{
  /* Every name starts "SCMP_ACT_": compare only the names that share the next letter (this
   * runs for every rule, twice). */
  if (action == NULL || strncmp (action, "SCMP_ACT_", 9) != 0 || action[9] == '\0')
    return -1;
  for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
    if (actions[i].name[9] == action[9] && strcmp (actions[i].name + 9, action + 9) == 0)
      return actions[i].rank;
  return -1;
}

static bool
in_list (const char *const *list, const char *s)
{
  for (; *list; list++)
    if (strcmp (*list, s) == 0)
      return true;
  return false;
}

/* "EPERM" -> 1. strerrorname_np gives one name per number; the aliases are listed here. */
static int
errno_from_name (const char *name)
{
  static const struct
  {
    const char *name;
    int value;
  } aliases[] = { { "EWOULDBLOCK", EWOULDBLOCK }, { "ENOTSUP", ENOTSUP }, { "EDEADLOCK", EDEADLOCK } };

  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (strcmp (aliases[i].name, name) == 0)
      return aliases[i].value;
  for (int e = 1; e < 4096; e++)
    {
      const char *n = strerrorname_np (e);
      if (n && strcmp (n, name) == 0)
        return e;
    }
  return -1;
}

/* A JSON string without embedded NUL bytes (jansson allows them; C strings end there). */
static bool
is_plain_string (json_t *v)
{
  return json_is_string (v) && strlen (json_string_value (v)) == json_string_length (v);
}

/* ---- checking a profile (client's or our default) ---- */

/* One pass over obj (NULL or not an object: nothing): vals[i] is the value of fields[i], NULL
 * when absent. Returns whether every key is spelled exactly as one of fields, in which case
 * rh_json_check_go_keys would pass it (no two fields of a list differ only in case): the common
 * case, checked without building the name an error would carry. Profiles run to hundreds of
 * rules, and one walk costs less than a hash lookup per field. */
bool
rh_seccomp_get_fields (json_t *obj, const char *const *fields, json_t **vals)
{
  const char *key;
  json_t *v;
  bool canonical = true;
  size_t n = 0;

  for (; fields[n]; n++)
    vals[n] = NULL;
  json_object_foreach (obj, key, v)
    {
      size_t i = 0;
      while (i < n && strcmp (fields[i], key) != 0)
        i++;
      if (i < n)
        vals[i] = v;
      else
        canonical = false;
    }
  return canonical;
}

_Static_assert (sizeof rh_seccomp_rule_fields / sizeof rh_seccomp_rule_fields[0] == R_NFIELDS + 1,
                "rh_seccomp_rule_fields and R_* differ");
_Static_assert (sizeof rh_seccomp_arg_fields / sizeof rh_seccomp_arg_fields[0] == A_NFIELDS + 1,
                "rh_seccomp_arg_fields and A_* differ");

/* rh_json_check_go_keys on where + "." + the formatted sub-key (for an object whose keys are not
 * all canonical: see rh_seccomp_get_fields). */
static int __attribute__ ((format (printf, 5, 6)))
check_go_keys (json_t *obj, const char *where, const char *const *fields, rh_error *err, const char *fmt, ...)
{
  char sub[64];
  _cleanup_free_ char *w = NULL;
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (sub, sizeof sub, fmt, ap);
  va_end (ap);
  w = rh_xasprintf ("%s.%s", where, sub);
  return rh_json_check_go_keys (obj, w, fields, err);
}

static bool
uint_ok (json_t *v, bool required)
{
  if (rh_seccomp_is_absent (v) && !required)
    return true;
  return json_is_integer (v) && json_integer_value (v) >= 0;
}

static int
check_args (json_t *args, const char *where, size_t i, rh_error *err)
{
  size_t j;
  json_t *a;

  if (rh_seccomp_is_absent (args))
    return 0;
  if (!json_is_array (args))
    return rh_error_set (err, EINVAL, "%s.syscalls[%zu].args: expected an array", where, i);
  json_array_foreach (args, j, a)
    {
      json_t *f[A_NFIELDS];
      bool canonical = rh_seccomp_get_fields (a, rh_seccomp_arg_fields, f);
      json_t *idx = f[A_INDEX], *op = f[A_OP];

      if (!json_is_object (a))
        return rh_error_set (err, EINVAL, "%s.syscalls[%zu].args[%zu]: expected an object", where, i, j);
      if (!canonical && check_go_keys (a, where, rh_seccomp_arg_fields, err, "syscalls[%zu].args[%zu]", i, j) < 0)
        return -1;
      /* runsc accepts index 6 and fails later; the kernel passes six arguments (0-5). */
      if (!json_is_integer (idx) || json_integer_value (idx) < 0 || json_integer_value (idx) > 5)
        return rh_error_set (err, EINVAL, "%s.syscalls[%zu].args[%zu].index: expected an integer from 0 to 5",
                             where, i, j);
      if (!uint_ok (f[A_VALUE], true))
        return rh_error_set (err, EINVAL, "%s.syscalls[%zu].args[%zu].value: expected a non-negative integer",
                             where, i, j);
      if (!uint_ok (f[A_VALUETWO], false))
        return rh_error_set (err, EINVAL, "%s.syscalls[%zu].args[%zu].valueTwo: expected a non-negative integer",
                             where, i, j);
      if (!is_plain_string (op) || !in_list (operators, json_string_value (op)))
        return rh_error_set (err, EINVAL, "%s.syscalls[%zu].args[%zu].op: expected an OCI operator "
                                          "(SCMP_CMP_EQ, SCMP_CMP_MASKED_EQ, ...)", where, i, j);
    }
  return 0;
}

int
rh_seccomp_check_profile (json_t *profile, const char *where, rh_error *err)
{
  json_t *da, *sys, *rule, *v;
  size_t i, j;
  static const char *const str_arrays[] = { "architectures", "flags", NULL };

  if (!json_is_object (profile))
    return rh_error_set (err, EINVAL, "%s: expected an object", where);
  if (rh_json_check_go_keys (profile, where, profile_fields, err) < 0)
    return -1;
  da = json_object_get (profile, "defaultAction");
  if (!is_plain_string (da) || rh_seccomp_action_rank (json_string_value (da)) < 0)
    return rh_error_set (err, EINVAL, "%s.defaultAction: expected an OCI action (SCMP_ACT_ERRNO, ...)", where);
  v = json_object_get (profile, "defaultErrnoRet");
  if (!rh_seccomp_is_absent (v) && (!json_is_integer (v) || json_integer_value (v) < 0))
    return rh_error_set (err, EINVAL, "%s.defaultErrnoRet: expected a non-negative integer", where);
  for (const char *const *k = str_arrays; *k; k++)
    {
      v = json_object_get (profile, *k);
      if (rh_seccomp_is_absent (v))
        continue;
      if (!json_is_array (v))
        return rh_error_set (err, EINVAL, "%s.%s: expected an array of strings", where, *k);
      json_array_foreach (v, j, rule)
        if (!is_plain_string (rule))
          return rh_error_set (err, EINVAL, "%s.%s[%zu]: expected a string", where, *k, j);
    }
  sys = json_object_get (profile, "syscalls");
  if (rh_seccomp_is_absent (sys))
    return 0;
  if (!json_is_array (sys))
    return rh_error_set (err, EINVAL, "%s.syscalls: expected an array", where);
  json_array_foreach (sys, i, rule)
    {
      json_t *f[R_NFIELDS];
      bool canonical = rh_seccomp_get_fields (rule, rh_seccomp_rule_fields, f);
      json_t *names = f[R_NAMES], *action = f[R_ACTION];
      json_t *name;

      if (!json_is_object (rule))
        return rh_error_set (err, EINVAL, "%s.syscalls[%zu]: expected an object", where, i);
      if (!canonical && check_go_keys (rule, where, rh_seccomp_rule_fields, err, "syscalls[%zu]", i) < 0)
        return -1;
      if (!json_is_array (names))
        return rh_error_set (err, EINVAL, "%s.syscalls[%zu].names: expected an array of strings", where, i);
      json_array_foreach (names, j, name)
        if (!is_plain_string (name))
          return rh_error_set (err, EINVAL, "%s.syscalls[%zu].names[%zu]: expected a string", where, i, j);
      if (!is_plain_string (action) || rh_seccomp_action_rank (json_string_value (action)) < 0)
        return rh_error_set (err, EINVAL, "%s.syscalls[%zu].action: expected an OCI action (SCMP_ACT_ERRNO, ...)",
                             where, i);
      if (!uint_ok (f[R_ERRNORET], false))
        return rh_error_set (err, EINVAL, "%s.syscalls[%zu].errnoRet: expected a non-negative integer", where, i);
      if (check_args (f[R_ARGS], where, i, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- the policy section ---- */

static int
parse_archs (json_t *section, struct rh_seccomp_policy *s, rh_error *err)
{
  _cleanup_strv_ char **names = NULL;

  if (rh_policy_get_strv (section, "seccomp", "architectures", &names, err) < 0)
    return -1;
  if (names == NULL)
    names = rh_strv_dup ((char *const *) default_archs);
  if (names[0] == NULL)
    return rh_error_set (err, EINVAL, "policy key seccomp.architectures: empty list");
  for (size_t i = 0; names[i]; i++)
    {
      _cleanup_free_ char *lower = NULL;
      uint32_t token;
      bool dup = false;

      if (!rh_str_has_prefix (names[i], "SCMP_ARCH_") || names[i][10] == '\0')
        return rh_error_set (err, EINVAL, "policy key seccomp.architectures[%zu]: %s is not of the form "
                                          "SCMP_ARCH_<NAME>", i, names[i]);
      lower = rh_xstrdup (names[i] + 10);
      for (char *c = lower; *c; c++)
        *c = (char) tolower ((unsigned char) *c);
      token = seccomp_arch_resolve_name (lower);
      if (token == 0)
        return rh_error_set (err, EINVAL, "policy key seccomp.architectures[%zu]: unknown architecture %s", i,
                             names[i]);
      for (size_t k = 0; k < s->narchs; k++)
        dup = dup || s->archs[k] == token;
      if (dup)
        continue;
      if (s->narchs == RH_SECCOMP_MAX_ARCHS)
        return rh_error_set (err, EINVAL, "policy key seccomp.architectures: more than %d entries",
                             RH_SECCOMP_MAX_ARCHS);
      s->archs[s->narchs++] = token;
    }
  return 0;
}

static bool
syscall_known (const struct rh_seccomp_policy *s, const char *name)
{
  /* libseccomp returns a negative pseudo number for a name it knows on other architectures
   * only ("open" on aarch64), and -1 for a name it does not know at all. */
  for (size_t a = 0; a < s->narchs; a++)
    if (seccomp_syscall_resolve_name_arch (s->archs[a], name) >= 0)
      return true;
  return false;
}

static int
parse_deny_args (json_t *args, const char *key, json_t **out, rh_error *err)
{
  static const char *const arg_keys[] = { "index", "op", "value", "valueTwo", NULL };
  json_t *a;
  size_t j;
  bool seen[6] = { false };
  _cleanup_json_ json_t *res = json_array ();

  if (!json_is_array (args))
    return rh_error_set (err, EINVAL, "policy key %s.args: expected an array", key);
  json_array_foreach (args, j, a)
    {
      _cleanup_free_ char *k = rh_xasprintf ("%s.args[%zu]", key, j);
      int64_t index = -1, value = -1, value2 = 0;
      _cleanup_free_ char *op = NULL;

      if (rh_policy_expect_object (a, k, err) < 0 || rh_policy_check_keys (a, k, arg_keys, err) < 0
          || rh_policy_get_int (a, k, "index", 0, 5, &index, err) < 0
          || rh_policy_get_int (a, k, "value", 0, INT64_MAX, &value, err) < 0
          || rh_policy_get_int (a, k, "valueTwo", 0, INT64_MAX, &value2, err) < 0
          || rh_policy_get_string (a, k, "op", &op, err) < 0)
        return -1;
      if (index < 0 || value < 0 || op == NULL)
        return rh_error_set (err, EINVAL, "policy key %s: index, op and value are required", k);
      if (!in_list (operators, op))
        return rh_error_set (err, EINVAL, "policy key %s.op: %s is not an OCI operator (SCMP_CMP_EQ, "
                                          "SCMP_CMP_MASKED_EQ, ...)", k, op);
      /* Runtimes OR the tests of an argument that appears twice (a runc legacy that runsc keeps),
       * and then OR every test of the rule: a policy rule must say what it means. */
      if (seen[index])
        return rh_error_set (err, EINVAL, "policy key %s.index: argument %lld is tested twice in one rule "
                                          "(runtimes would OR the tests); write two rules", k, (long long) index);
      seen[index] = true;
      json_array_append_new (res, json_pack ("{s:I, s:I, s:I, s:s}", "index", (json_int_t) index, "value",
                                             (json_int_t) value, "valueTwo", (json_int_t) value2, "op", op));
    }
  *out = steal_pointer (&res);
  return 0;
}

static int
parse_deny_rule (json_t *r, size_t idx, const struct rh_seccomp_policy *s, json_t **out, rh_error *err)
{
  static const char *const rule_keys[] = { "names", "action", "errno", "args", "comment", NULL };
  _cleanup_free_ char *key = rh_xasprintf ("seccomp.deny[%zu]", idx);
  _cleanup_free_ char *action = NULL;
  _cleanup_json_ json_t *rule = json_object ();
  _cleanup_json_ json_t *names = json_array ();
  json_t *jnames, *jerrno, *jargs, *n;
  size_t j;

  if (rh_policy_expect_object (r, key, err) < 0 || rh_policy_check_keys (r, key, rule_keys, err) < 0)
    return -1;
  jnames = json_object_get (r, "names");
  if (!json_is_array (jnames) || json_array_size (jnames) == 0)
    return rh_error_set (err, EINVAL, "policy key %s.names: expected a non-empty array of system call names", key);
  json_array_foreach (jnames, j, n)
    {
      const char *name = json_string_value (n);
      if (!is_plain_string (n) || name[0] == '\0')
        return rh_error_set (err, EINVAL, "policy key %s.names[%zu]: expected a system call name", key, j);
      if (!syscall_known (s, name))
        return rh_error_set (err, EINVAL, "policy key %s.names[%zu]: unknown system call \"%s\" (libseccomp "
                                          "knows no such call on the architectures in seccomp.architectures)",
                             key, j, name);
      json_array_append (names, n);
    }
  rh_seccomp_add_runsc_aliases (names);
  json_object_set (rule, "names", names);

  action = rh_xstrdup ("SCMP_ACT_ERRNO");
  if (rh_policy_get_string (r, key, "action", &action, err) < 0)
    return -1;
  if (!in_list (deny_actions, action))
    return rh_error_set (err, EINVAL, "policy key %s.action: %s is not one of SCMP_ACT_ERRNO, SCMP_ACT_KILL, "
                                      "SCMP_ACT_TRAP (the deny actions runsc implements)", key, action);
  json_object_set_new (rule, "action", json_string (action));

  jerrno = json_object_get (r, "errno");
  if (jerrno != NULL && strcmp (action, "SCMP_ACT_ERRNO") != 0)
    return rh_error_set (err, EINVAL, "policy key %s.errno: only meaningful with SCMP_ACT_ERRNO", key);
  if (strcmp (action, "SCMP_ACT_ERRNO") == 0)
    {
      int e = EPERM;
      if (is_plain_string (jerrno))
        e = errno_from_name (json_string_value (jerrno));
      else if (json_is_integer (jerrno))
        e = json_integer_value (jerrno) >= 1 && json_integer_value (jerrno) < 4096 ? (int) json_integer_value (jerrno)
                                                                                  : -1;
      else if (jerrno != NULL)
        e = -1;
      if (e < 0)
        return rh_error_set (err, EINVAL, "policy key %s.errno: expected an errno name (\"EPERM\") or a number "
                                          "from 1 to 4095", key);
      json_object_set_new (rule, "errnoRet", json_integer (e));
    }

  jargs = json_object_get (r, "args");
  if (jargs != NULL)
    {
      json_t *args = NULL;
      if (parse_deny_args (jargs, key, &args, err) < 0)
        return -1;
      if (json_array_size (args) > 0)
        json_object_set_new (rule, "args", args);
      else
        json_decref (args);
    }
  *out = steal_pointer (&rule);
  return 0;
}

/* The copy in the source tree this library was built from (derived from __FILE__, which CMake
 * passes as an absolute path): it lets a build tree run before `cmake --install` has put the
 * profile in /etc. It is only tried when the configured file does not exist, and only used
 * when it is a regular file owned by root (or by us) that nobody else may write. */
static char *
build_tree_profile (void)
{
  _cleanup_free_ char *dir = rh_xstrdup (__FILE__);
  char *slash;

  if (dir[0] != '/')
    return NULL;
  for (int up = 0; up < 3; up++) /* lib/policy/seccomp_policy.c -> the source root */
    {
      slash = strrchr (dir, '/');
      if (slash == NULL || slash == dir)
        return NULL;
      *slash = '\0';
    }
  return rh_xasprintf ("%s/config/seccomp/default.json", dir);
}

static int
read_trusted (const char *path, char **text, size_t *len, rh_error *err)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  struct stat st;

  if (fd < 0)
    return rh_error_sys (err, errno, "open %s", path);
  if (fstat (fd, &st) < 0)
    return rh_error_sys (err, errno, "stat %s", path);
  if (!S_ISREG (st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid ()) || (st.st_mode & (S_IWGRP | S_IWOTH)))
    return rh_error_set (err, EPERM, "%s is not a regular file owned by root and writable only by it", path);
  if (rh_read_fd_capped (fd, RH_SECCOMP_PROFILE_MAX_BYTES, text, len, err) < 0)
    return rh_error_prefix (err, "%s", path);
  return 0;
}

/* Read and check the default profile into d. A missing file is remembered as d->error, to be
 * reported when a spec needs the profile; any other failure is an error of the policy key. */
static int
load_default_profile (const char *configured, struct rh_seccomp_default *d, rh_error *err)
{
  _cleanup_free_ char *text = NULL;
  _cleanup_free_ char *where = NULL;
  _cleanup_free_ char *fallback = NULL;
  _cleanup_json_ json_t *prof = NULL;
  const char *path = configured;
  size_t len = 0;
  rh_error rerr = { 0 };

  if (rh_read_file_capped (path, RH_SECCOMP_PROFILE_MAX_BYTES, &text, &len, &rerr) < 0)
    {
      rh_error ferr = { 0 };
      if (rerr.code != ENOENT)
        {
          *err = rerr;
          return rh_error_prefix (err, "policy key seccomp.default_profile");
        }
      /* Not there (a build tree, or an image before its install step): for the standard
       * path, try the source tree's copy. A path the administrator chose is never replaced. */
      if (strcmp (path, RH_SECCOMP_DEFAULT_PROFILE) == 0)
        fallback = build_tree_profile ();
      if (fallback == NULL || read_trusted (fallback, &text, &len, &ferr) < 0)
        {
          *err = rerr;
          return -1;
        }
      path = fallback;
    }
  {
    _cleanup_free_ char *what = rh_xasprintf ("policy key seccomp.default_profile: %s", path);
    if (rh_json_parse (what, text, len, 0, &prof, err) < 0)
      return -1;
  }
  where = rh_xasprintf ("policy key seccomp.default_profile: %s: profile", path);
  if (rh_seccomp_check_profile (prof, where, err) < 0)
    return -1;
  d->json = steal_pointer (&prof);
  d->source = rh_xstrdup (path);
  return 0;
}

int
rh_seccomp_default_profile (const struct rh_seccomp_policy *s, const json_t **profile, const char **source,
                            rh_error *err)
{
  struct rh_seccomp_default *d = s->loaded;

  if (d == NULL)
    return rh_error_set (err, EINVAL, "policy key seccomp.default_profile: no policy loaded");
  if (!d->tried)
    {
      d->tried = true;
      if (load_default_profile (s->default_profile, d, &d->error) < 0 && d->error.code == 0)
        d->error.code = EINVAL;
    }
  if (d->json == NULL)
    {
      *err = d->error;
      return -1;
    }
  *profile = d->json;
  if (source)
    *source = d->source;
  return 0;
}

int
rh_seccomp_policy_parse (json_t *section, struct rh_policy *p, rh_error *err)
{
  static const char *const keys[] = { "default_profile", "deny", "architectures", "enosys_as_trace", "comment", NULL };
  struct rh_seccomp_policy *s = &p->seccomp;
  json_t *deny, *r, *comment;
  size_t i;

  s->default_profile = rh_xstrdup (RH_SECCOMP_DEFAULT_PROFILE);
  s->deny = json_array ();
  s->enosys_as_trace = true;
  if (rh_policy_expect_object (section, "seccomp", err) < 0)
    return -1;
  if (section != NULL)
    {
      if (rh_policy_check_keys (section, "seccomp", keys, err) < 0
          || rh_policy_get_abs_path (section, "seccomp", "default_profile", &s->default_profile, err) < 0
          || rh_policy_get_bool (section, "seccomp", "enosys_as_trace", &s->enosys_as_trace, err) < 0)
        return -1;
      comment = json_object_get (section, "comment");
      if (comment != NULL && !json_is_string (comment))
        return rh_error_set (err, EINVAL, "policy key seccomp.comment: expected a string");
    }
  if (parse_archs (section, s, err) < 0)
    return -1;
  deny = json_object_get (section, "deny");
  if (deny != NULL && !json_is_array (deny))
    return rh_error_set (err, EINVAL, "policy key seccomp.deny: expected an array of rules");
  json_array_foreach (deny, i, r)
    {
      json_t *rule = NULL;
      if (parse_deny_rule (r, i, s, &rule, err) < 0)
        return -1;
      json_array_append_new (s->deny, rule);
    }
  s->loaded = rh_xmalloc0 (sizeof *s->loaded);
  return 0;
}

void
rh_seccomp_policy_free (struct rh_seccomp_policy *s)
{
  free (s->default_profile);
  if (s->loaded)
    {
      free (s->loaded->source);
      if (s->loaded->json)
        json_decref (s->loaded->json);
      free (s->loaded);
    }
  if (s->deny)
    json_decref (s->deny);
  memset (s, 0, sizeof *s);
}
