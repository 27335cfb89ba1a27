/* The one container-id rule. Every binary checks ids with it before an id becomes a path
 * component (state and gate directories), a netfilter comment or a chain-name hash: runc's
 * grammar (letters, digits, '_', '+', '-', '.'), not starting with '.' (so never ".", ".." or a
 * hidden file), at most RH_CONTAINER_ID_MAX characters. Ids never reach a tool's argv. */
#ifndef RH_CONTAINER_ID_H
#define RH_CONTAINER_ID_H

#include "error.h"

#define RH_CONTAINER_ID_MAX 128

/* 0 when id is acceptable; else -1 and err says which rule it breaks (err may be NULL). */
int rh_container_id_check (const char *id, rh_error *err);

#endif
