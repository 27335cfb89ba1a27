/* Parsing hostile JSON (jsonutil.h). */
#include "jsonutil.h"

#include <errno.h>
#include <stdlib.h>

#include "cleanup.h"
#include "fsutil.h"

int
rh_json_parse (const char *what, const char *text, size_t len, size_t extra_flags, json_t **out, rh_error *err)
{
  json_error_t jerr;

  *out = json_loadb (text, len, JSON_REJECT_DUPLICATES | extra_flags, &jerr);
  if (*out != NULL)
    return 0;
  if (what == NULL)
    return rh_error_set (err, EINVAL, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
  return rh_error_set (err, EINVAL, "%s: invalid JSON at line %d column %d: %s", what, jerr.line, jerr.column,
                       jerr.text);
}

int
rh_json_load_file (const char *path, size_t max, json_t **out, rh_error *err)
{
  _cleanup_free_ char *text = NULL;
  size_t len = 0;

  *out = NULL;
  if (rh_read_file_capped (path, max, &text, &len, err) < 0)
    return -1;
  return rh_json_parse (path, text, len, 0, out, err);
}
