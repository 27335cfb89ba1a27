/* The container-id rule (container_id.h). */
#include "container_id.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool
id_char_ok (char c, bool first)
{
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return c == '_' || c == '+' || c == '-' || (!first && c == '.');
}

int
rh_container_id_check (const char *id, rh_error *err)
{
  size_t len;

  if (id == NULL || *id == '\0')
    return rh_error_set (err, EINVAL, "container id is empty");
  len = strnlen (id, RH_CONTAINER_ID_MAX + 1);
  if (len > RH_CONTAINER_ID_MAX)
    return rh_error_set (err, EINVAL, "container id %.40s... is longer than %d characters", id, RH_CONTAINER_ID_MAX);
  for (size_t i = 0; i < len; i++)
    if (!id_char_ok (id[i], i == 0))
      return rh_error_set (err, EINVAL,
                           "invalid container id \"%.*s\": only letters, digits, '_', '+', '-' and '.' are allowed, "
                           "not starting with '.'",
                           (int) len, id);
  return 0;
}
