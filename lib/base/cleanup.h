/* Scope-bound cleanup helpers (GCC/Clang cleanup attribute). Every fd is opened O_CLOEXEC:
 * cleanup handlers do not run across execv(). */
#ifndef RH_CLEANUP_H
#define RH_CLEANUP_H

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void
rh_freep (void *p)
{
  free (*(void **) p);
}

static inline void
rh_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

static inline void
rh_fclosep (FILE **f)
{
  if (*f)
    fclose (*f);
}

static inline void
rh_json_decrefp (json_t **j)
{
  if (*j)
    json_decref (*j);
}

static inline void
rh_strv_freep (char ***v)
{
  if (*v)
    {
      for (char **p = *v; *p; p++)
        free (*p);
      free (*v);
    }
}

#define _cleanup_free_ __attribute__ ((cleanup (rh_freep)))
#define _cleanup_close_ __attribute__ ((cleanup (rh_closep)))
#define _cleanup_fclose_ __attribute__ ((cleanup (rh_fclosep)))
#define _cleanup_json_ __attribute__ ((cleanup (rh_json_decrefp)))
#define _cleanup_strv_ __attribute__ ((cleanup (rh_strv_freep)))

/* Take ownership out of a cleanup-managed variable. */
static inline void *
rh_steal_pointer (void *pp)
{
  void **p = (void **) pp;
  void *ret = *p;
  *p = NULL;
  return ret;
}
#define steal_pointer(pp) rh_steal_pointer (pp)

static inline int
rh_steal_fd (int *fd)
{
  int ret = *fd;
  *fd = -1;
  return ret;
}

#endif
