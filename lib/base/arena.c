/* [arena] The bump allocator and its jansson hook (see arena.h for when it is used and why). */
#include "arena.h"

#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define RH_ARENA_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RH_ARENA_SANITIZED 1
#endif
#endif
#ifndef RH_ARENA_SANITIZED
#define RH_ARENA_SANITIZED 0
#endif

int
rh_arena_init (struct rh_arena *a, size_t cap, rh_error *err)
{
  long page = sysconf (_SC_PAGESIZE);
  size_t ps = page > 0 ? (size_t) page : 4096;
  void *p;

  *a = (struct rh_arena) { 0 };
  if (cap == 0 || cap > SIZE_MAX / 2)
    return rh_error_set (err, EINVAL, "arena: bad size %zu", cap);
  cap = (cap + ps - 1) / ps * ps;
  /* MAP_NORESERVE: only the pages the bump pointer reaches are ever backed. */
  p = mmap (NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return rh_error_sys (err, errno, "arena: mmap %zu bytes", cap);
  a->base = p;
  a->cap = cap;
  a->last = cap;
  return 0;
}

void
rh_arena_destroy (struct rh_arena *a)
{
  if (a->base)
    munmap (a->base, a->cap);
  *a = (struct rh_arena) { 0 };
}

bool
rh_arena_owns (const struct rh_arena *a, const void *p)
{
  /* Compared as integers: p may point into any other object. */
  uintptr_t u = (uintptr_t) p, b = (uintptr_t) a->base;
  return a->base != NULL && u >= b && u - b < a->cap;
}

void *
rh_arena_alloc (struct rh_arena *a, size_t size)
{
  size_t need;
  void *p;

  if (size == 0)
    size = 1;
  /* No object can be larger (malloc refuses these too): never a region block, never a wrap. */
  if (size > PTRDIFF_MAX)
    {
      errno = ENOMEM;
      return NULL;
    }
  /* Checked before rounding: a size near SIZE_MAX must not wrap into a small one. */
  if (a->base != NULL && size <= a->cap - a->top)
    {
      need = (size + RH_ARENA_ALIGN - 1) & ~(size_t) (RH_ARENA_ALIGN - 1);
      if (need <= a->cap - a->top)
        {
          p = a->base + a->top;
          a->last = a->top;
          a->top += need;
          if (a->top > a->peak)
            a->peak = a->top;
          return p;
        }
    }
  p = malloc (size);
  if (p)
    {
      a->fallback_allocs++;
      a->fallback_bytes += size;
    }
  return p;
}

void
rh_arena_free (struct rh_arena *a, void *p)
{
  if (p == NULL)
    return;
  if (!rh_arena_owns (a, p))
    {
      free (p);
      return;
    }
  if ((size_t) ((unsigned char *) p - a->base) == a->last)
    {
      a->top = a->last;
      a->last = a->cap;
    }
}

void
rh_arena_reset (struct rh_arena *a)
{
  a->top = 0;
  a->last = a->cap;
}

/* ---- the jansson hook ---- */

static struct
{
  bool installed;
  bool bump;
  struct rh_arena arena;
} hook;

static void *
json_alloc (size_t size)
{
  if (hook.bump)
    return rh_arena_alloc (&hook.arena, size);
  return malloc (size);
}

static void
json_release (void *p)
{
  /* Nodes made in bump mode are freed in either mode (a spec node may be deleted during the
   * rewrite, which runs with bump mode off): the address decides. */
  rh_arena_free (&hook.arena, p);
}

int
rh_arena_json_install (size_t cap, rh_error *err)
{
  if (RH_ARENA_SANITIZED)
    return rh_error_set (err, ENOTSUP, "arena: not used in sanitizer builds");
  if (hook.installed)
    return rh_error_set (err, EBUSY, "arena: already installed");
  if (rh_arena_init (&hook.arena, cap, err) < 0)
    return -1;
  hook.installed = true;
  hook.bump = false;
  json_set_alloc_funcs (json_alloc, json_release);
  return 0;
}

bool
rh_arena_json_installed (void)
{
  return hook.installed;
}

bool
rh_arena_json_bump (bool on)
{
  bool was = hook.bump;
  if (!hook.installed)
    return false;
  hook.bump = on;
  return was;
}

const struct rh_arena *
rh_arena_json (void)
{
  return hook.installed ? &hook.arena : NULL;
}

void
rh_arena_json_reset (void)
{
  if (hook.installed)
    rh_arena_reset (&hook.arena);
}

void
rh_arena_json_uninstall (void)
{
  if (!hook.installed)
    return;
  json_set_alloc_funcs (malloc, free);
  rh_arena_destroy (&hook.arena);
  hook.installed = false;
  hook.bump = false;
}
