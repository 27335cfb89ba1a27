/* Fuzz the containerd config.toml scanner of `runsc-host check` (runtime-wrapper/check_toml.c).
 * Invariants: it never reads past the NUL, never recurses without bound, and on success every
 * runtime it reports has a name and no two share one; on failure nothing is returned. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct rh_check_containerd c;
  rh_error err;
  char *text = malloc (size + 1);

  if (text == NULL)
    return 0;
  memcpy (text, data, size);
  text[size] = '\0';
  memset (&c, 0x5a, sizeof c);
  if (rh_check_scan_containerd_toml (text, &c, &err) == 0)
    {
      for (size_t i = 0; i < c.n_runtimes; i++)
        {
          if (c.runtimes[i].name == NULL)
            abort ();
          for (size_t j = 0; j < i; j++)
            if (strcmp (c.runtimes[i].name, c.runtimes[j].name) == 0)
              abort ();
        }
      rh_check_containerd_free (&c);
    }
  else if (err.msg[0] == '\0')
    abort ();
  free (text);
  return 0;
}
