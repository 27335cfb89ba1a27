/* Small string-vector and allocation helpers. Allocation failure aborts: a runtime that runs out
 * of memory mid-rewrite must not continue with a half-built spec. */
#ifndef RH_UTIL_H
#define RH_UTIL_H

#include <stdbool.h>
#include <stddef.h>

void *rh_xmalloc0 (size_t size);
void *rh_xrealloc (void *p, size_t size);
char *rh_xstrdup (const char *s);
char *rh_xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* NULL-terminated string vectors. */
size_t rh_strv_len (char *const *v);
void rh_strv_free (char **v);
char **rh_strv_dup (char *const *v);
/* Append a copy of s; *v may be NULL. */
void rh_strv_push (char ***v, const char *s);
bool rh_strv_contains (char *const *v, const char *s);

bool rh_str_has_prefix (const char *s, const char *prefix);

#endif
