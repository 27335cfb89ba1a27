#include "policy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fsutil.h"
#include "joins.h"
#include "jsonutil.h"
#include "paths.h"
#include "util.h"

/* ---- key helpers ---- */

static char *
full_key (const char *section, const char *key)
{
  if (section == NULL || *section == '\0')
    return rh_xstrdup (key);
  return rh_xasprintf ("%s.%s", section, key);
}

int
rh_policy_expect_object (json_t *obj, const char *key, rh_error *err)
{
  if (obj != NULL && !json_is_object (obj))
    return rh_error_set (err, EINVAL, "policy key %s: expected an object", key);
  return 0;
}

int
rh_policy_check_keys (json_t *obj, const char *section, const char *const *allowed, rh_error *err)
{
  const char *key;
  json_t *val;

  json_object_foreach (obj, key, val)
    {
      bool ok = false;
      for (const char *const *a = allowed; *a; a++)
        if (strcmp (*a, key) == 0)
          ok = true;
      if (!ok)
        {
          _cleanup_free_ char *k = full_key (section, key);
          return rh_error_set (err, EINVAL, "policy key %s: unknown key", k);
        }
    }
  return 0;
}

int
rh_policy_get_string (json_t *obj, const char *section, const char *key, char **out, rh_error *err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_string (v))
    {
      _cleanup_free_ char *k = full_key (section, key);
      return rh_error_set (err, EINVAL, "policy key %s: expected a string", k);
    }
  free (*out);
  *out = rh_xstrdup (json_string_value (v));
  return 0;
}

int
rh_policy_get_abs_path (json_t *obj, const char *section, const char *key, char **out, rh_error *err)
{
  _cleanup_free_ char *s = NULL;
  if (rh_policy_get_string (obj, section, key, &s, err) < 0)
    return -1;
  if (s == NULL)
    return 0;
  if (s[0] != '/')
    {
      _cleanup_free_ char *k = full_key (section, key);
      return rh_error_set (err, EINVAL, "policy key %s: path %s is not absolute", k, s);
    }
  free (*out);
  *out = rh_path_clean (NULL, s);
  return 0;
}

int
rh_policy_get_bool (json_t *obj, const char *section, const char *key, bool *out, rh_error *err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_boolean (v))
    {
      _cleanup_free_ char *k = full_key (section, key);
      return rh_error_set (err, EINVAL, "policy key %s: expected true or false", k);
    }
  *out = json_is_true (v);
  return 0;
}

int
rh_policy_get_int (json_t *obj, const char *section, const char *key, int64_t min, int64_t max,
                   int64_t *out, rh_error *err)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_integer (v) || json_integer_value (v) < min || json_integer_value (v) > max)
    {
      _cleanup_free_ char *k = full_key (section, key);
      return rh_error_set (err, EINVAL, "policy key %s: expected an integer from %lld to %lld", k,
                           (long long) min, (long long) max);
    }
  *out = json_integer_value (v);
  return 0;
}

int
rh_policy_get_number (json_t *obj, const char *section, const char *key, double min, double max,
                      double *out, rh_error *err)
{
  json_t *v = json_object_get (obj, key);
  double d;
  if (v == NULL)
    return 0;
  d = json_number_value (v);
  if (!json_is_number (v) || !isfinite (d) || d < min || d > max)
    {
      _cleanup_free_ char *k = full_key (section, key);
      return rh_error_set (err, EINVAL, "policy key %s: expected a number from %g to %g", k, min, max);
    }
  *out = d;
  return 0;
}

int
rh_policy_get_strv (json_t *obj, const char *section, const char *key, char ***out, rh_error *err)
{
  json_t *v = json_object_get (obj, key);
  _cleanup_strv_ char **list = NULL;
  size_t i;
  json_t *item;

  if (v == NULL)
    return 0;
  if (!json_is_array (v))
    {
      _cleanup_free_ char *k = full_key (section, key);
      return rh_error_set (err, EINVAL, "policy key %s: expected an array of strings", k);
    }
  list = rh_xmalloc0 (sizeof (char *));
  json_array_foreach (v, i, item)
    {
      if (!json_is_string (item))
        {
          _cleanup_free_ char *k = full_key (section, key);
          return rh_error_set (err, EINVAL, "policy key %s[%zu]: expected a string", k, i);
        }
      rh_strv_push (&list, json_string_value (item));
    }
  rh_strv_free (*out);
  *out = steal_pointer (&list);
  return 0;
}

/* An array of absolute paths, each cleaned lexically. */
static int
get_abs_path_list (json_t *obj, const char *key, char ***out, rh_error *err)
{
  _cleanup_strv_ char **raw = NULL;
  _cleanup_strv_ char **clean = NULL;

  if (rh_policy_get_strv (obj, "", key, &raw, err) < 0)
    return -1;
  if (raw == NULL)
    return 0;
  clean = rh_xmalloc0 (sizeof (char *));
  for (size_t i = 0; raw[i]; i++)
    {
      if (raw[i][0] != '/')
        return rh_error_set (err, EINVAL, "policy key %s[%zu]: path %s is not absolute", key, i, raw[i]);
      char *c = rh_path_clean (NULL, raw[i]);
      rh_strv_push (&clean, c);
      free (c);
    }
  rh_strv_free (*out);
  *out = steal_pointer (&clean);
  return 0;
}

/* ---- the section table ---- */

static int parse_core_keys (json_t *root, struct rh_policy *p, rh_error *err);

typedef int (*section_parser) (json_t *section, struct rh_policy *p, rh_error *err);

static const struct
{
  const char *key;
  section_parser parse;
} sections[] = {
  { "runsc", rh_runsc_policy_parse },
  { "ports", rh_ports_policy_parse },
  { "egress", rh_egress_policy_parse },
  { "seccomp", rh_seccomp_policy_parse },
  { "capabilities", rh_caps_policy_parse },
  { "no_new_privileges", rh_nnp_policy_parse },
  { "gate", rh_gate_policy_parse },
  { "hooks", rh_client_hooks_policy_parse },
  { "allow_sandbox_join", rh_joins_policy_parse },
  { "cgroups", rh_cgroups_policy_parse },
};

/* Checks that read more than one section, run once every section is parsed (so that no section
 * parser depends on the order of the table above). */
static int (*const cross_checks[]) (const struct rh_policy *p, rh_error *err) = {
  rh_runsc_policy_check,
  rh_gate_policy_check,
};

static const char *const core_keys[] = {
  "state_dir", "protected_paths", "protected_devices", "protected_device_numbers", "protected_mount_action",
  "strip_annotation_prefixes", "hook_path", "comment",
  /* section keys */
  "runsc", "ports", "egress", "seccomp", "capabilities", "no_new_privileges", "gate", "hooks", "allow_sandbox_join", "cgroups", NULL,
};

/* "protected_device_numbers": ["c 10:224", "b 8:0"]: devices protected by their numbers, whatever
 * their node is called and whether or not the host has a node for them now. */
static int
parse_device_numbers (json_t *root, struct rh_policy *p, rh_error *err)
{
  json_t *list = json_object_get (root, "protected_device_numbers");
  json_t *v;
  size_t i;

  if (list == NULL)
    {
      /* The TPM (misc 224) is an attestation interface on every node. */
      p->protected_devnums = rh_xmalloc0 (sizeof *p->protected_devnums);
      p->protected_devnums[0] = (struct rh_devnum) { 'c', 10, 224 };
      p->n_protected_devnums = 1;
      return 0;
    }
  if (!json_is_array (list))
    return rh_error_set (err, EINVAL, "policy key protected_device_numbers: expected an array of strings");
  p->protected_devnums = rh_xmalloc0 ((json_array_size (list) + 1) * sizeof *p->protected_devnums);
  json_array_foreach (list, i, v)
    {
      const char *t = json_string_value (v);
      char type, tail;
      long major, minor;
      if (t == NULL || sscanf (t, "%c %ld:%ld%c", &type, &major, &minor, &tail) != 3 || (type != 'c' && type != 'b')
          || major < 0 || minor < 0 || major > 0xfff || minor > 0xfffff)
        return rh_error_set (err, EINVAL, "policy key protected_device_numbers[%zu]: expected \"c MAJOR:MINOR\" or "
                             "\"b MAJOR:MINOR\"", i);
      p->protected_devnums[p->n_protected_devnums++] = (struct rh_devnum) { type, major, minor };
    }
  return 0;
}

static int
parse_core_keys (json_t *root, struct rh_policy *p, rh_error *err)
{
  _cleanup_free_ char *action = NULL;
  json_t *comment = json_object_get (root, "comment");

  if (comment && !json_is_string (comment))
    return rh_error_set (err, EINVAL, "policy key comment: expected a string");

  p->state_dir = rh_xstrdup ("/run/runsc-host");
  if (rh_policy_get_abs_path (root, "", "state_dir", &p->state_dir, err) < 0)
    return -1;

  if (get_abs_path_list (root, "protected_paths", &p->protected_paths, err) < 0)
    return -1;
  if (p->protected_paths == NULL)
    return rh_error_set (err, EINVAL, "policy key protected_paths: missing (it must list the host paths "
                                      "a container may never mount)");
  /* The TEE server directory is protected whatever the list says. */
  if (!rh_strv_contains (p->protected_paths, RH_TEE_DIR))
    rh_strv_push (&p->protected_paths, RH_TEE_DIR);
  /* So is our own state: the hook and `delete` trust its records as root. */
  if (!rh_strv_contains (p->protected_paths, p->state_dir))
    rh_strv_push (&p->protected_paths, p->state_dir);

  if (rh_policy_get_strv (root, "", "protected_devices", &p->protected_devices, err) < 0)
    return -1;
  if (p->protected_devices == NULL)
    p->protected_devices = rh_xmalloc0 (sizeof (char *));
  for (size_t i = 0; p->protected_devices[i]; i++)
    {
      char *clean;
      if (p->protected_devices[i][0] != '/')
        return rh_error_set (err, EINVAL, "policy key protected_devices[%zu]: pattern %s is not absolute", i,
                             p->protected_devices[i]);
      /* Cleaned like the paths it is matched against ("/dev//tpm*" must still match). */
      clean = rh_path_clean (NULL, p->protected_devices[i]);
      free (p->protected_devices[i]);
      p->protected_devices[i] = clean;
    }

  if (parse_device_numbers (root, p, err) < 0)
    return -1;

  if (rh_policy_get_string (root, "", "protected_mount_action", &action, err) < 0)
    return -1;
  if (action == NULL || strcmp (action, "strip") == 0)
    p->mount_action = RH_MOUNT_STRIP;
  else if (strcmp (action, "deny") == 0)
    p->mount_action = RH_MOUNT_DENY;
  else
    return rh_error_set (err, EINVAL, "policy key protected_mount_action: %s is not \"strip\" or \"deny\"",
                         action);

  if (rh_policy_get_strv (root, "", "strip_annotation_prefixes", &p->strip_annotation_prefixes, err) < 0)
    return -1;
  if (p->strip_annotation_prefixes == NULL)
    {
      p->strip_annotation_prefixes = rh_xmalloc0 (sizeof (char *));
      rh_strv_push (&p->strip_annotation_prefixes, "dev.gvisor.");
    }
  for (size_t i = 0; p->strip_annotation_prefixes[i]; i++)
    if (p->strip_annotation_prefixes[i][0] == '\0')
      return rh_error_set (err, EINVAL, "policy key strip_annotation_prefixes[%zu]: empty prefix", i);

  if (rh_policy_get_abs_path (root, "", "hook_path", &p->hook_path, err) < 0)
    return -1;
  if (p->hook_path == NULL)
    return rh_error_set (err, EINVAL, "policy key hook_path: missing");
  return 0;
}

int
rh_policy_parse (const char *text, size_t len, const char *source_path, struct rh_policy **out, rh_error *err)
{
  _cleanup_json_ json_t *root = NULL;
  struct rh_policy *p;
  const char *where = source_path ? source_path : "embedded default policy";
  _cleanup_free_ char *what = rh_xasprintf ("policy %s", where);

  if (rh_json_parse (what, text, len, 0, &root, err) < 0)
    return -1;
  if (!json_is_object (root))
    return rh_error_set (err, EINVAL, "policy %s: expected a JSON object", where);

  p = rh_xmalloc0 (sizeof *p);
  p->source_path = rh_xstrdup (source_path);
  rh_sha256_hex (text, len, p->sha256);

  if (rh_policy_check_keys (root, "", core_keys, err) < 0 || parse_core_keys (root, p, err) < 0)
    goto fail;
  for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
    {
      json_t *sec = json_object_get (root, sections[i].key);
      if (sections[i].parse (sec, p, err) < 0)
        goto fail;
    }
  for (size_t i = 0; i < sizeof cross_checks / sizeof cross_checks[0]; i++)
    if (cross_checks[i] (p, err) < 0)
      goto fail;
  *out = p;
  return 0;

fail:
  rh_policy_free (p);
  return rh_error_prefix (err, "policy %s", where);
}

int
rh_policy_load_file (const char *path, struct rh_policy **out, rh_error *err)
{
  _cleanup_free_ char *text = NULL;
  size_t len = 0;

  if (rh_read_file_capped (path, RH_POLICY_MAX_BYTES, &text, &len, err) < 0)
    return rh_error_prefix (err, "load policy");
  return rh_policy_parse (text, len, path, out, err);
}

int
rh_policy_load (const char *env_path, const char *sys_path, struct rh_policy **out, rh_error *err)
{
  struct stat st;

  if (env_path && *env_path)
    {
      if (env_path[0] != '/')
        return rh_error_set (err, EINVAL, "RUNSC_HOST_CONFIG=%s is not an absolute path", env_path);
      return rh_policy_load_file (env_path, out, err);
    }
  if (sys_path && stat (sys_path, &st) == 0)
    return rh_policy_load_file (sys_path, out, err);
  if (sys_path && errno != ENOENT)
    return rh_error_sys (err, errno, "load policy %s", sys_path);
  return rh_policy_parse (rh_default_policy_json, strlen (rh_default_policy_json), NULL, out, err);
}

size_t
rh_policy_child_args (const struct rh_policy *p, const char *out[3])
{
  size_t n = 0;
  if (p->source_path)
    {
      out[n++] = "--config";
      out[n++] = p->source_path;
    }
  else
    out[n++] = "--embedded-policy";
  out[n] = NULL;
  return n;
}

int
rh_policy_load_for (const char *config, bool embedded, const char *env_path, const char *sys_path,
                    struct rh_policy **out, rh_error *err)
{
  if (config && embedded)
    return rh_error_set (err, EINVAL, "--config and --embedded-policy exclude each other");
  if (config)
    {
      if (config[0] != '/')
        return rh_error_set (err, EINVAL, "--config %s: not an absolute path", config);
      return rh_policy_load_file (config, out, err);
    }
  if (embedded)
    return rh_policy_parse (rh_default_policy_json, strlen (rh_default_policy_json), NULL, out, err);
  return rh_policy_load (env_path, sys_path, out, err);
}

void
rh_policy_free (struct rh_policy *p)
{
  if (p == NULL)
    return;
  free (p->source_path);
  rh_runsc_policy_free (&p->runsc);
  free (p->state_dir);
  free (p->protected_devnums);
  rh_strv_free (p->protected_paths);
  rh_strv_free (p->protected_devices);
  rh_strv_free (p->strip_annotation_prefixes);
  free (p->hook_path);
  rh_ports_policy_free (&p->ports);
  rh_egress_policy_free (&p->egress);
  rh_seccomp_policy_free (&p->seccomp);
  rh_caps_policy_free (&p->caps);
  rh_gate_policy_free (&p->gate);
  rh_client_hooks_policy_free (&p->client_hooks);
  rh_cgroups_policy_free (&p->cgroups);
  free (p);
}
