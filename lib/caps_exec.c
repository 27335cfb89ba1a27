/* [execcaps] The capability policy for exec'd processes. See caps_exec.h and docs/cli.md. The
 * drop-list and noNewPrivileges logic itself is caps.c's (rh_caps_rewrite_process): this file
 * adds what an exec's process.json needs on top, the key-spelling guard, parsing and
 * serialising, and the check of inline --cap flags. */
#include "caps_exec.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "caps.h"
#include "cleanup.h"
#include "policy.h"

static const char *const process_fields[] = { "capabilities", "noNewPrivileges", NULL };
static const char *const cap_set_fields[] = { "bounding", "effective", "inheritable", "permitted", "ambient", NULL };

/* Does key name field (ASCII) under the folding of Go's encoding/json? ASCII letters match in
 * either case; so do the three non-ASCII letters that some Go version folds onto an ASCII one:
 * U+017F LATIN SMALL LETTER LONG S (s), U+212A KELVIN SIGN (k) and U+0131 LATIN SMALL LETTER
 * DOTLESS I (i, through unicode.ToUpper since Go 1.21). Anything else must match exactly. */
static bool
go_fold_equal (const char *key, size_t key_len, const char *field)
{
  size_t i = 0;
  const unsigned char *k = (const unsigned char *) key;

  for (const char *f = field; *f; f++)
    {
      char want = (char) (*f | 0x20); /* field names are ASCII letters */
      char got;

      if (i >= key_len)
        return false;
      if (k[i] < 0x80)
        {
          got = (char) ((k[i] >= 'A' && k[i] <= 'Z') ? k[i] | 0x20 : k[i]);
          i++;
        }
      else if (i + 1 < key_len && k[i] == 0xc5 && k[i + 1] == 0xbf)
        got = 's', i += 2;
      else if (i + 1 < key_len && k[i] == 0xc4 && k[i + 1] == 0xb1)
        got = 'i', i += 2;
      else if (i + 2 < key_len && k[i] == 0xe2 && k[i + 1] == 0x84 && k[i + 2] == 0xaa)
        got = 'k', i += 3;
      else
        return false;
      if (got != want)
        return false;
    }
  return i == key_len;
}

int
rh_json_check_go_keys (json_t *obj, const char *where, const char *const *fields, rh_error *err)
{
  const char *key;
  json_t *value;

  json_object_foreach (obj, key, value)
    {
      size_t len = strlen (key);
      for (const char *const *f = fields; *f; f++)
        if (strcmp (key, *f) != 0 && go_fold_equal (key, len, *f))
          return rh_error_set (err, EINVAL, "%s.%s: refused: runsc would read this key as \"%s\" (it matches keys "
                                            "case-insensitively); spell it \"%s\"", where, key, *f, *f);
    }
  return 0;
}

int
rh_caps_filter_process (json_t *process, const struct rh_policy *p, const struct rh_logger *log, rh_error *err)
{
  json_t *caps;

  if (!json_is_object (process))
    return rh_error_set (err, EINVAL, "process: expected an object");
  if (rh_json_check_go_keys (process, "process", process_fields, err) < 0)
    return -1;
  caps = json_object_get (process, "capabilities");
  if (json_is_object (caps) && rh_json_check_go_keys (caps, "process.capabilities", cap_set_fields, err) < 0)
    return -1;
  /* Types, the drop-list on the five sets, noNewPrivileges and the info log: the same code as
   * the container's own process at create, so the two can never disagree. */
  return rh_caps_rewrite_process (process, p, log, "process", err);
}

int
rh_caps_filter_process_text (const char *text, size_t len, const struct rh_policy *p,
                             const struct rh_logger *log, char **out, rh_error *err)
{
  _cleanup_json_ json_t *process = NULL;
  json_error_t jerr;
  char *dumped;

  /* Duplicate keys are refused: Go keeps the last one, and a reader that kept the first would
   * check a different process from the one runsc runs. */
  process = json_loadb (text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (process == NULL)
    return rh_error_set (err, EINVAL, "process.json: invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                         jerr.text);
  if (rh_caps_filter_process (process, p, log, err) < 0)
    return -1;
  dumped = json_dumps (process, JSON_COMPACT);
  if (dumped == NULL)
    return rh_error_set (err, ENOMEM, "process.json: cannot serialise the filtered process");
  *out = dumped;
  return 0;
}

int
rh_caps_check_exec_caps (char *const *caps, const struct rh_policy *p, rh_error *err)
{
  for (char *const *c = caps; c && *c; c++)
    if (rh_caps_is_dropped (p, *c))
      return rh_error_set (err, EPERM, "exec --cap %s refused: the capability is dropped by policy (policy key "
                                       "capabilities.drop)", *c);
  return 0;
}
