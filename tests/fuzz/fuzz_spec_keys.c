/* [gokeys] Fuzz the key-spelling check (lib/base/spec_keys.c). Properties:
 *   - no crash, leak or sanitizer report, and the input tree is never modified;
 *   - an error always names where it is ("spec..." or "process...");
 *   - an accepted spec has an accepted process;
 *   - metamorphic: in an accepted spec, adding an upper-case twin of any top-level or process
 *     field present (what runsc would read in its place) makes the spec refused. */
#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec_keys.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *const top_fields[] = { "ociVersion", "process", "root", "hostname", "mounts", "hooks",
                                          "annotations", "linux", NULL };
static const char *const process_fields[] = { "args", "env", "cwd", "user", "capabilities", "noNewPrivileges",
                                              "rlimits", NULL };

static int
check (json_t *obj, bool process, rh_error *err)
{
  return process ? rh_spec_check_process_keys (obj, err) : rh_spec_check_keys (obj, err);
}

/* For each field of fields present in obj: a copy of root with obj[UPPER(field)] added must be
 * refused by the check. */
static void
twins_refused (json_t *root, json_t *obj, const char *const *fields, bool process)
{
  for (const char *const *f = fields; *f; f++)
    {
      char upper[64];
      size_t n = strlen (*f);
      json_t *val = json_object_get (obj, *f);
      rh_error err;

      if (val == NULL || n >= sizeof upper)
        continue;
      for (size_t i = 0; i <= n; i++)
        upper[i] = (char) toupper ((unsigned char) (*f)[i]);
      if (json_object_get (obj, upper))
        continue;
      json_object_set (obj, upper, val);
      if (check (root, process, &err) == 0)
        abort ();
      json_object_del (obj, upper);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  json_t *in = json_loadb ((const char *) data, size, JSON_REJECT_DUPLICATES, NULL);
  json_t *copy, *process;
  rh_error err;

  if (in == NULL)
    return 0;
  copy = json_deep_copy (in);
  process = json_object_get (in, "process");
  for (int as_process = 0; as_process < 2; as_process++)
    {
      int r = check (in, as_process, &err);
      if (!json_equal (in, copy))
        abort ();
      if (r < 0 && strncmp (err.msg, as_process ? "process" : "spec", as_process ? 7 : 4) != 0)
        abort ();
    }
  if (rh_spec_check_keys (in, &err) == 0)
    {
      if (json_is_object (process) && rh_spec_check_process_keys (process, &err) < 0)
        abort ();
      twins_refused (in, in, top_fields, false);
      if (json_is_object (process))
        {
          twins_refused (in, process, process_fields, false);
          twins_refused (process, process, process_fields, true);
        }
      if (!json_equal (in, copy))
        abort ();
    }
  json_decref (in);
  json_decref (copy);
  return 0;
}
