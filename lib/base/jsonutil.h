/* The one way hostile JSON text becomes a tree: duplicate keys refused (Go keeps the last one,
 * so a reader that kept the first would check a different document from the one runsc reads),
 * and one error message, "WHAT: invalid JSON at line L column C: TEXT". */
#ifndef RH_JSONUTIL_H
#define RH_JSONUTIL_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"

/* Parse text[0..len) with JSON_REJECT_DUPLICATES | extra_flags. what names the document in the
 * error (NULL: no prefix). On error *out is NULL. */
int rh_json_parse (const char *what, const char *text, size_t len, size_t extra_flags, json_t **out, rh_error *err);

/* Read path (at most max bytes) and parse it; the error names path. */
int rh_json_load_file (const char *path, size_t max, json_t **out, rh_error *err);

#endif
