/* [runtime] `runsc-host check`: the pure part, exposed for tests/unit/test_check.c.
 *
 * containerd's config.toml is scanned, not fully parsed: enough TOML (tables, dotted and quoted
 * keys, basic/literal/multi-line strings, arrays, inline tables, comments) to find every
 * runtime declared under plugins.<cri>.containerd.runtimes.<name> and what it runs. A file
 * that does not scan is reported as such; containerd would refuse it too. */
#ifndef RH_CHECK_H
#define RH_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define RH_SHIM_RUNTIME_TYPE "io.containerd.runsc-host.v1"

struct rh_check_runtime
{
  char *name;        /* the CRI handler name (RuntimeClass handler) */
  char *type;        /* runtime_type, or NULL */
  char *binary;      /* options.BinaryName, or NULL */
  bool has_options;  /* any key under options */
};

struct rh_check_containerd
{
  struct rh_check_runtime *runtimes;
  size_t n_runtimes;
  bool cri_disabled;       /* disabled_plugins names the CRI plugin */
  char *default_runtime;   /* containerd.default_runtime_name, or NULL */
};

/* Scan config.toml text (NUL-terminated). On error *out is left empty and err names the line. */
int rh_check_scan_containerd_toml (const char *text, struct rh_check_containerd *out, rh_error *err);
void rh_check_containerd_free (struct rh_check_containerd *c);

#endif
