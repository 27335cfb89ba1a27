/* [execcaps] The capability policy for processes started with `exec`. See docs/cli.md
 * ("Exec-time policy").
 *
 * `create` trims the container's process under the policy (caps.h), but an exec'd process is
 * described afresh: containerd builds it from the client's original spec (`ctr task exec`,
 * `docker exec --privileged` puts every capability in it), and runsc gives it exactly the
 * capabilities its process.json lists, whatever the container has. So the same drop-list and
 * noNewPrivileges rule are applied to that process.json before runsc reads it.
 *
 * runsc (Go's encoding/json) matches object keys case-insensitively, with Unicode simple
 * folding: "Capabilities", "CAPABILITIES" and "capabilitieſ" (U+017F) all fill the
 * capabilities field, and the last spelling in the object wins. A filter that only looks at the
 * canonical key would leave such a twin untouched, so any non-canonical spelling of a field the
 * policy governs is refused. */
#ifndef RH_CAPS_EXEC_H
#define RH_CAPS_EXEC_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"
#include "log.h"
#include "spec_keys.h" /* rh_json_check_go_keys, the key-spelling guard */

struct rh_policy;

/* The largest process.json `exec --process` reads: a process is part of a spec. */
#define RH_EXEC_PROCESS_MAX_BYTES (16u << 20)

/* Apply the capability drop-list (p->caps.drop) to all five sets of an OCI process object and
 * force noNewPrivileges when p->caps.no_new_privileges; log at info what changed. Hostile input:
 * a wrong type, or a key that runsc would read as an OCI field under another spelling, is an
 * error naming the key ("process.capabilities.Bounding: refused: ..."). Idempotent. */
int rh_caps_filter_process (json_t *process, const struct rh_policy *p, const struct rh_logger *log, rh_error *err);

/* The same on process.json text (len bytes, need not be NUL-terminated): parse (duplicate keys
 * are an error), filter, and serialise. *out is compact JSON text; the caller frees it. */
int rh_caps_filter_process_text (const char *text, size_t len, const struct rh_policy *p,
                                 const struct rh_logger *log, char **out, rh_error *err);

/* Inline `exec --cap CAP` flags (NULL-terminated, may be NULL): refuse the first one the policy
 * drops, in any spelling libcap reads. */
int rh_caps_check_exec_caps (char *const *caps, const struct rh_policy *p, rh_error *err);

#endif
