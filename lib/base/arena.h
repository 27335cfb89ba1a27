/* [arena] A bump allocator for jansson in runsc-host's short-lived create path.
 *
 * `runsc-host create` parses config.json into some thousands of small jansson nodes, rewrites
 * it, serialises it and then execs runsc: execve drops the whole heap at once. malloc/free per
 * node, and freeing the tree node by node, is work nobody needs there (docs/performance.md has
 * the figures). The arena gives jansson one reserved region instead:
 *   - allocation bumps a pointer, 16-byte aligned (what malloc guarantees on x86_64/aarch64);
 *   - free is a no-op, except that the most recent allocation is rolled back (jansson's
 *     dumper takes and releases its loop-check entries in stack order, so they reuse space);
 *   - past the region's end (a hostile multi-MiB spec) it falls back to malloc, and free tells
 *     the two apart by address: RSS grows by at most the region's size over what malloc alone
 *     would use.
 *
 * The jansson hook (rh_arena_json_*) is process-wide, as json_set_alloc_funcs is: it is the one
 * piece of global state in lib/, installed by runtime-wrapper/main.c at the start of
 * create/run and by nothing else (never by the gate daemon, the hook, the shim or
 * tests of other modules). It is single-threaded, as runsc-host is.
 *
 * Installing it does not yet change where anything is allocated: jansson nodes still come from
 * malloc until a caller turns bump mode on (rh_arena_json_bump) around a stretch of work that
 * hands no jansson memory to anything but jansson. Memory jansson returns to its caller (the
 * string of json_dumps) must be released with jansson's free, and lib/base/log.c, among others,
 * releases its json_dumps lines with free(): so bump mode covers only json_loadb and
 * json_dump_callback in rh_rewrite_bundle, and never a stretch that may log. Nodes made in bump
 * mode may be kept and freed at any later time: the region stays mapped until exec or exit.
 *
 * Sanitizer builds (ASan, also used by the fuzzers) refuse the install: the arena would hide
 * use-after-free of spec nodes from ASan, and rh_rewrite_bundle keeps its tree (does not free
 * it) only when the arena is installed, which LeakSanitizer would report on exit. */
#ifndef RH_ARENA_H
#define RH_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* The region the jansson hook reserves: a 300-rule spec (20 KiB) takes 0.3 MiB of it, so specs
 * up to ~150 KiB fit. Only touched pages count towards RSS. */
#define RH_ARENA_JSON_CAP (2u << 20)
#define RH_ARENA_ALIGN 16u

struct rh_arena
{
  unsigned char *base; /* the region (mmap), NULL when not set up */
  size_t cap;          /* its size in bytes */
  size_t top;          /* bytes handed out, a multiple of RH_ARENA_ALIGN */
  size_t last;         /* offset of the most recent allocation; cap when there is none */
  size_t peak;         /* highest top seen */
  size_t fallback_allocs; /* allocations served by malloc because the region was full */
  size_t fallback_bytes;
};

/* Reserve cap bytes (rounded up to whole pages; no memory is touched yet). */
int rh_arena_init (struct rh_arena *a, size_t cap, rh_error *err);
/* Unmap the region. Every block from it is gone; blocks from the fallback are not touched. */
void rh_arena_destroy (struct rh_arena *a);

/* size bytes, RH_ARENA_ALIGN-aligned: from the region, or from malloc when it does not fit
 * (then NULL when malloc fails). size 0 is served as 1; above PTRDIFF_MAX, NULL. */
void *rh_arena_alloc (struct rh_arena *a, size_t size);
/* Release p (NULL is ignored): a region block is rolled back when it is the most recent
 * allocation, else left in place; anything else is passed to free(). */
void rh_arena_free (struct rh_arena *a, void *p);
bool rh_arena_owns (const struct rh_arena *a, const void *p);
/* Forget every region block (they must all be dead). Fallback blocks are not touched. */
void rh_arena_reset (struct rh_arena *a);

/* ---- the process-wide jansson hook ---- */

/* Reserve a region of cap bytes and make it jansson's allocator (bump mode off). Returns -1
 * (err set, nothing changed) in sanitizer builds, when already installed, or when the region
 * cannot be mapped. */
int rh_arena_json_install (size_t cap, rh_error *err);
bool rh_arena_json_installed (void);
/* Serve jansson allocations from the region (on) or from malloc (off); returns the previous
 * setting, to be passed back. Does nothing and returns false when not installed. */
bool rh_arena_json_bump (bool on);
/* The installed arena, for figures (NULL when not installed). */
const struct rh_arena *rh_arena_json (void);

/* For tests and benchmarks only. Reset: every block ever served from the region is dead (a
 * benchmark simulating a fresh process per iteration). Uninstall: the same, then give jansson
 * back malloc and free and unmap the region. */
void rh_arena_json_reset (void);
void rh_arena_json_uninstall (void);

#endif
