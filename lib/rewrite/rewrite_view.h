/* Internal to lib/rewrite/: the protected set in the forms the root, mounts and devices
 * modifiers compare against (view.c), and the small spec readers those modifiers share. The
 * view is built once per rewrite (rh_view_get) because building it costs system calls: every
 * protected path resolved component by component, every device glob read from /dev. */
#ifndef RH_REWRITE_VIEW_H
#define RH_REWRITE_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "paths.h"
#include "policy.h"
#include "spec_rewrite.h"

struct devglob
{
  const char *pattern;      /* as in the policy */
  char *literal;            /* its fixed directory prefix ("/dev" for "/dev/tpm*"), or itself */
  struct rh_devnode *nodes; /* host nodes that match it */
  size_t n;
};

struct view
{
  const char **plex; /* protected paths as written (clean) */
  char **pres;       /* ... and resolved on the host */
  const char **pkey; /* the policy key that protects each */
  size_t np;
  struct devglob *dg;
  size_t ndg;
  char *root_lex, *root_res; /* the container's rootfs, when known */
  bool root_missing;         /* part of root_res does not exist on the host */
  struct rh_devnum *nums;    /* protected device numbers: host nodes of the patterns + the policy's */
  size_t nnums;
  char *bundle_lex, *bundle_res; /* the bundle directory, as given and resolved */
};

/* The view is the same for root, mounts and devices (none of them changes root.path):
 * rh_spec_rewrite builds it once, when the first of the three needs it; each public modifier
 * called on its own builds its own. */
struct view_once
{
  bool built;
  struct view v;
};

int rh_view_get (json_t *spec, const struct rh_rewrite_ctx *ctx, struct view_once *once, const struct view **out,
                 rh_error *err);
void rh_view_once_free (struct view_once *once);

/* What a host path touched: the policy key to name, and a description (caller frees). */
struct hit
{
  const char *key;
  char *detail;
};

/* Does a host mount source (clean form lex, resolved form res) touch the protected set? */
bool rh_view_check_source (const struct rh_rewrite_ctx *ctx, const struct view *v, const char *lex, const char *res,
                           struct hit *h);
/* "mount of SRC" or "mount of SRC (resolves to RES)"; caller frees. */
char *rh_view_describe_source (const char *written, const char *res);
/* Host /proc holds magic links that no lexical or readlink-based check can follow. */
bool rh_in_host_proc (const char *p);
/* The directory relative mount sources are read against (ctx->bundle, or "/"). */
const char *rh_rewrite_bundle_dir (const struct rh_rewrite_ctx *ctx);

/* Add a device number to a set (no duplicates). */
void rh_devnum_add (struct rh_devnum **set, size_t *n, char type, long major, long minor);

/* key of obj[idx] as a string: *out NULL when absent or null; an error naming where[idx].key when
 * it is anything but a string. */
int rh_spec_get_opt_string (json_t *obj, const char *key, const char *where, size_t idx, const char **out,
                            rh_error *err);

/* After a check of arr[*i] that returned verdict: -1 passes its error on, 1 removes the element
 * (the next one moves into *i), 0 moves *i on. */
int rh_spec_drop_or_next (json_t *arr, size_t *i, int verdict);

/* linux.namespaces of spec: *out is the array, or NULL when linux or the list is absent or null;
 * an error when either has the wrong type. */
int rh_spec_namespaces (json_t *spec, json_t **out, rh_error *err);

/* The three viewed modifiers, sharing one view (rh_spec_rewrite runs them in this order). */
int rh_rewrite_root_viewed (json_t *spec, const struct rh_rewrite_ctx *ctx, struct view_once *once, rh_error *err);
int rh_rewrite_mounts_viewed (json_t *spec, const struct rh_rewrite_ctx *ctx, struct view_once *once, rh_error *err);
int rh_rewrite_devices_viewed (json_t *spec, const struct rh_rewrite_ctx *ctx, struct view_once *once,
                               rh_error *err);

#endif
