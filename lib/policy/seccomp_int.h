/* [seccomp] Pieces shared by seccomp.c (policy, checks, modifier) and seccomp_merge.c. Private
 * to lib/. */
#ifndef RH_SECCOMP_INT_H
#define RH_SECCOMP_INT_H

#include <jansson.h>
#include <stdbool.h>

#define RH_ERRNO_ENOSYS 38 /* the same number on every architecture gVisor supports */

/* The fields runsc reads in a syscall rule and in an argument test, NULL-terminated, in the
 * order of the R_ and A_ indexes below. */
extern const char *const rh_seccomp_rule_fields[];
extern const char *const rh_seccomp_arg_fields[];

/* Indexes into the values rh_seccomp_get_fields gives for rh_seccomp_rule_fields and rh_seccomp_arg_fields. */
enum
{
  R_NAMES,
  R_ACTION,
  R_ERRNORET,
  R_ARGS,
  R_NFIELDS,
};
enum
{
  A_INDEX,
  A_VALUE,
  A_VALUETWO,
  A_OP,
  A_NFIELDS,
};

/* One pass over obj (NULL or not an object: nothing): vals[i] is the value of fields[i], NULL
 * when absent. Returns whether every key is spelled exactly as one of fields. */
bool rh_seccomp_get_fields (json_t *obj, const char *const *fields, json_t **vals);

bool rh_seccomp_names_contain (json_t *names, const char *name);
/* Would rh_seccomp_add_runsc_aliases change names? */
bool rh_seccomp_needs_runsc_aliases (json_t *names);
/* Append runsc's spelling of any name in names that has one (names is modified). */
void rh_seccomp_add_runsc_aliases (json_t *names);

static inline bool
rh_seccomp_is_absent (json_t *v)
{
  return v == NULL || json_is_null (v);
}

#endif
