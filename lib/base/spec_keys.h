/* [gokeys] Refuse spec keys that runsc would read differently from us. See docs/rewrite.md
 * ("Key spellings").
 *
 * runsc parses config.json (and an exec's process.json) with Go's encoding/json. That decoder
 * matches an object key to a struct field case-insensitively when no field has exactly that
 * name, with Unicode folding on top ("mounſ", U+017F LONG S, is "mounts"; U+212A KELVIN SIGN is
 * "k"), and when several keys land on one field the last one wins. Our rewrite (jansson) looks
 * keys up exactly. A spec carrying a clean "mounts" for us and a "Mounts" twin for runsc would
 * therefore pass the policy and still bind whatever the twin names. The same holds at every
 * level: process.Capabilities, linux.Devices, hooks.Prestart, mounts[0].Source, ...
 *
 * The check walks the spec with the shape of the OCI runtime-spec Go structs (every field of
 * versions 1.0 to 1.3, which covers what any runsc vendors). In an object that Go decodes into
 * a struct, a key is refused when
 *   - it is not spelled exactly as a field but Go would match it to one, or
 *   - it holds a non-ASCII character (every field name is ASCII; such a key is only a folding
 *     trick, or a trick for a future Go with wider folding).
 * Other keys are ignored by Go and are left alone. Objects that Go decodes into maps
 * (annotations, linux.sysctl, linux.resources.unified, the keys of rdma/timeOffsets/netDevices,
 * windows.credentialSpec) have free-form keys and are not checked; struct values of such maps
 * are. Pure: no I/O, no allocation that outlives the call. */
#ifndef RH_SPEC_KEYS_H
#define RH_SPEC_KEYS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Check a whole spec (config.json). Errors name the key by its path from "spec":
 *   spec.Mounts: refused: runsc would read this key as "mounts" (...); spell it "mounts" */
int rh_spec_check_keys (json_t *spec, rh_error *err);

/* The same for one OCI process object (an exec's process.json); paths start at "process". */
int rh_spec_check_process_keys (json_t *process, rh_error *err);

/* Would Go's encoding/json match key (key_len bytes, UTF-8) to the struct field named field
 * (ASCII)? True for the exact spelling too. ASCII letters match in either case, other ASCII
 * bytes exactly; U+017F matches 's', U+212A 'k', and (Go 1.21 and later) U+0130 and U+0131
 * match 'i'. No other character folds onto ASCII. */
bool rh_go_key_folds_to (const char *key, size_t key_len, const char *field);

/* One level only: refuse a key of obj that Go would match to one of fields (NULL-terminated)
 * without being spelled exactly so. where names obj in the error ("linux.seccomp"). For
 * objects that are not part of a spec (a seccomp profile from the policy). */
int rh_json_check_go_keys (json_t *obj, const char *where, const char *const *fields, rh_error *err);

#endif
