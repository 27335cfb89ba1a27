/* The runsc-host policy: a JSON file loaded with jansson from /etc/runsc-host/config.json, or the
 * file named by RUNSC_HOST_CONFIG, or (when neither exists) the default compiled into the binary.
 *
 * Every key is checked: unknown keys, wrong types and relative paths are errors that name the key
 * ("policy key ports.max_count: expected an integer"). A typo in a security policy must never be
 * ignored silently.
 *
 * Top-level keys handled here: runsc, state_dir, protected_paths, protected_devices,
 * protected_mount_action, strip_annotation_prefixes, hook_path. Each remaining section is parsed
 * by its own module (see the section table in policy.c):
 *   ports, egress        -> ports.h / netrules.h   (hooks)
 *   seccomp              -> seccomp.h
 *   capabilities, no_new_privileges -> caps.h
 *   gate                 -> gate_policy.h
 *   hooks (client hooks) -> client_hooks.h
 *   allow_sandbox_join   -> joins.h
 *   cgroups              -> cgroups_path.h
 */
#ifndef RH_POLICY_H
#define RH_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Section structs, one header per module. */
#include "caps.h"
#include "cgroups_path.h"
#include "client_hooks.h"
#include "gate_policy.h"
#include "ports.h"
#include "runsc_flags.h"
#include "seccomp.h"

/* The one path that is always protected, whatever the policy lists. */
#define RH_TEE_DIR "/run/container_launcher"
#define RH_TEE_SOCKET RH_TEE_DIR "/teeserver.sock"

/* Caps on hostile input sizes. */
#define RH_POLICY_MAX_BYTES (1u << 20)
#define RH_SPEC_MAX_BYTES (16u << 20)

/* Annotation that records which policy a container ran under. */
#define RH_ANNOTATION_POLICY "run.runsc-host.policy-sha256"
/* Our own annotation namespace: clients may not pre-set anything in it. */
#define RH_ANNOTATION_PREFIX "run.runsc-host."

enum rh_mount_action
{
  RH_MOUNT_STRIP = 0, /* drop the mount and log it */
  RH_MOUNT_DENY,      /* fail the create */
};

/* A device by its numbers ("protected_device_numbers"). */
struct rh_devnum
{
  char type; /* 'c' or 'b' */
  long major, minor;
};

struct rh_policy
{
  char *source_path;   /* file it came from; NULL for the embedded default */
  char sha256[65];     /* hex SHA-256 of the exact policy bytes */

  struct rh_runsc_policy runsc;

  char *state_dir;                  /* "state_dir", default /run/runsc-host */
  char **protected_paths;           /* absolute, lexically clean; always holds RH_TEE_DIR */
  char **protected_devices;         /* absolute glob patterns (fnmatch) */
  struct rh_devnum *protected_devnums; /* "protected_device_numbers" (default: the TPM, c 10:224) */
  size_t n_protected_devnums;
  enum rh_mount_action mount_action;
  char **strip_annotation_prefixes;
  char *hook_path;                  /* absolute path of runsc-host-hook */

  struct rh_ports_policy ports;
  struct rh_egress_policy egress;
  struct rh_seccomp_policy seccomp;
  struct rh_caps_policy caps;
  struct rh_gate_policy gate;
  struct rh_client_hooks_policy client_hooks; /* "hooks" */
  bool allow_sandbox_join;
  struct rh_cgroups_policy cgroups;
};

/* Parse policy text. source_path is recorded (may be NULL). On error *out is untouched. */
int rh_policy_parse (const char *text, size_t len, const char *source_path, struct rh_policy **out,
                     rh_error *err);

/* Load from a file (size-capped). */
int rh_policy_load_file (const char *path, struct rh_policy **out, rh_error *err);

/* Which policy to use: env_path (RUNSC_HOST_CONFIG, may be NULL) must exist when given; else
 * sys_path if it exists; else the embedded default. *used_path is set to the file used or NULL. */
int rh_policy_load (const char *env_path, const char *sys_path, struct rh_policy **out, rh_error *err);

void rh_policy_free (struct rh_policy *p);

/* ---- passing the policy to the hook and the gate ----
 * runsc-host hands the policy it ran under to the processes it starts (the injected hook, the
 * gate daemon) as `--config FILE`, or `--embedded-policy` for the compiled-in default: runsc
 * gives hooks no environment, so RUNSC_HOST_CONFIG cannot carry it. */

/* The arguments that name p: out[] gets "--config", FILE or "--embedded-policy", then NULL.
 * Returns how many it wrote (1 or 2); the strings belong to p or are static. */
size_t rh_policy_child_args (const struct rh_policy *p, const char *out[3]);

/* The receiving side: config (--config, must be absolute) or embedded (--embedded-policy), which
 * exclude each other; neither: rh_policy_load (env_path, sys_path). */
int rh_policy_load_for (const char *config, bool embedded, const char *env_path, const char *sys_path,
                        struct rh_policy **out, rh_error *err);

/* The embedded default policy text (generated from config/runsc-host.json.in). */
extern const char rh_default_policy_json[];

/* ---- helpers for section parsers: each names the full key in its error ---- */

/* Reject any key of obj that is not in allowed (NULL-terminated). section is the dotted prefix
 * ("ports"), or "" at top level. obj must be an object. */
int rh_policy_check_keys (json_t *obj, const char *section, const char *const *allowed, rh_error *err);
/* Each getter leaves *out untouched when the key is absent. */
int rh_policy_get_string (json_t *obj, const char *section, const char *key, char **out, rh_error *err);
int rh_policy_get_abs_path (json_t *obj, const char *section, const char *key, char **out, rh_error *err);
int rh_policy_get_bool (json_t *obj, const char *section, const char *key, bool *out, rh_error *err);
int rh_policy_get_int (json_t *obj, const char *section, const char *key, int64_t min, int64_t max,
                       int64_t *out, rh_error *err);
int rh_policy_get_number (json_t *obj, const char *section, const char *key, double min, double max,
                          double *out, rh_error *err);
/* Array of strings; replaces *out (freeing the old vector) when present. */
int rh_policy_get_strv (json_t *obj, const char *section, const char *key, char ***out, rh_error *err);
/* Require obj to be an object (or NULL, meaning absent). */
int rh_policy_expect_object (json_t *obj, const char *key, rh_error *err);

#endif
