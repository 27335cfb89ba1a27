/* runsc-host-hook's input: the OCI state runsc writes to the hook's stdin, and the annotations
 * the ports come from. Pure functions (fuzzed by tests/fuzz/fuzz_hookstate.c). */
#ifndef RH_HOOK_RULES_H
#define RH_HOOK_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Largest state accepted on stdin. runc puts the spec's annotations in it; runsc does not. */
#define RH_HOOK_STATE_MAX (1u << 20)
/* The kernel's PID_MAX_LIMIT. */
#define RH_PID_MAX 4194304

struct rh_hook_state
{
  char *id;            /* checked with rh_container_id_check */
  pid_t pid;           /* 0 when absent (poststop) */
  char *status;        /* "creating", "created", "running", "stopped", "paused" */
  char *bundle;        /* absolute, lexically clean */
  json_t *annotations; /* object of strings, or NULL when the state has none */
};

/* Parse and validate the state: a JSON object with string "id" (a valid container id), integer
 * "pid" (0 to RH_PID_MAX; may be absent or negative only when status is "stopped", then 0),
 * string "status" (one of the five), absolute string "bundle", optional "annotations" (an object
 * of strings) and optional string "ociVersion". Anything else is an error naming the field. */
int rh_hook_state_parse (const char *text, size_t len, struct rh_hook_state *st, rh_error *err);
void rh_hook_state_clear (struct rh_hook_state *st);

/* The annotations the ports come from: the state's when it carries them, else those of
 * <bundle>/config.json (read size-capped). *out gets a new reference or NULL (none). */
int rh_hook_annotations (const struct rh_hook_state *st, json_t **out, rh_error *err);

/* Pure part of the above: the annotations of a spec text. */
int rh_hook_spec_annotations (const char *text, size_t len, json_t **out, rh_error *err);

/* The hook trusts only the policy the spec was rewritten under. ann: the container's
 * annotations (may be NULL); loaded_sha: hex SHA-256 of the policy the hook loaded; where: its
 * file, or NULL for the embedded default. Refuses (EPERM) when the annotation
 * RH_ANNOTATION_POLICY is missing, is not 64 lower-case hex digits, or differs; the error names
 * both hashes and the annotation. Used before anything is applied (createRuntime/prestart);
 * poststop takes back what the record of the create says and needs no policy trust. */
int rh_hook_check_policy (json_t *ann, const char *loaded_sha, const char *where, rh_error *err);

#endif
