/* runsc-host spec: runc 1.1's starter spec (cmd_spec.c). */
#ifndef RH_CMD_SPEC_H
#define RH_CMD_SPEC_H

#include "error.h"

/* The template text, exactly as `runc spec` 1.1 writes it. */
const char *rh_spec_template (void);

/* Write it to BUNDLE/config.json (BUNDLE NULL or "": the current directory); never over an
 * existing file. */
int rh_spec_template_write (const char *bundle, rh_error *err);

#endif
