/* Fuzz the hook's input: the OCI state on stdin, and the spec whose annotations give the ports.
 * Invariants: an accepted state has a valid id, a pid in range (and 0 only when stopped), a
 * clean absolute bundle, a known status, and annotations that are an object of strings; the
 * policy mark is accepted only when it is exactly the loaded policy's hash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netrules.h"
#include "paths.h"
#include "policy.h"
#include "rules.h"

static const char sha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct rh_hook_state st;
  json_t *ann = NULL;
  rh_error err;

  if (rh_hook_state_parse ((const char *) data, size, &st, &err) == 0)
    {
      char *clean = rh_path_clean (NULL, st.bundle);
      const char *k;
      json_t *v;
      if (rh_container_id_check (st.id, &err) < 0 || st.pid < 0 || st.pid > RH_PID_MAX || st.bundle[0] != '/'
          || strcmp (clean, st.bundle) != 0)
        abort ();
      if (st.pid == 0 && strcmp (st.status, "stopped") != 0)
        abort ();
      if (st.annotations)
        json_object_foreach (st.annotations, k, v) if (!json_is_string (v)) abort ();
      free (clean);
      rh_hook_state_clear (&st);
    }
  else if (err.msg[0] == '\0')
    abort ();

  /* The same bytes as a bundle spec. */
  if (rh_hook_spec_annotations ((const char *) data, size, &ann, &err) == 0 && ann)
    {
      if (!json_is_object (ann))
        abort ();
      if (rh_hook_check_policy (ann, sha, "/p", &err) == 0
          && strcmp (json_string_value (json_object_get (ann, RH_ANNOTATION_POLICY)), sha) != 0)
        abort ();
      json_decref (ann);
    }
  return 0;
}
