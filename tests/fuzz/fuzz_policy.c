/* Fuzz the policy parser. A policy that parses must hold the invariants the rest of runsc-host
 * relies on: the TEE dir is protected, every protected path and device pattern is absolute and clean, hook_path and
 * runsc.path are absolute, the mark is a 64-digit hash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "policy.h"
#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct rh_policy *p = NULL;
  rh_error err;

  if (rh_policy_parse ((const char *) data, size, "/fuzz/policy.json", &p, &err) < 0)
    {
      /* Every refusal says something. */
      if (err.msg[0] == '\0')
        abort ();
      return 0;
    }
  if (!rh_strv_contains (p->protected_paths, RH_TEE_DIR))
    abort ();
  for (char **pp = p->protected_paths; *pp; pp++)
    {
      char *c = rh_path_clean (NULL, *pp);
      if ((*pp)[0] != '/' || strcmp (c, *pp) != 0)
        abort ();
      free (c);
    }
  for (char **pp = p->protected_devices; *pp; pp++)
    {
      char *c = rh_path_clean (NULL, *pp);
      if ((*pp)[0] != '/' || strcmp (c, *pp) != 0)
        abort ();
      free (c);
    }
  if (p->hook_path == NULL || p->hook_path[0] != '/' || p->runsc.path == NULL || p->runsc.path[0] != '/')
    abort ();
  if (strlen (p->sha256) != 64 || (p->mount_action != RH_MOUNT_STRIP && p->mount_action != RH_MOUNT_DENY))
    abort ();
  rh_policy_free (p);
  return 0;
}
