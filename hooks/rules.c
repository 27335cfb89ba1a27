/* The OCI state on the hook's stdin, validated field by field, and the annotations that carry
 * the container's exposed ports. */
#include "rules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "container_id.h"
#include "fsutil.h"
#include "jsonutil.h"
#include "netrules.h"
#include "paths.h"
#include "policy.h"
#include "util.h"

static const char *const statuses[] = { "creating", "created", "running", "stopped", "paused", NULL };

void
rh_hook_state_clear (struct rh_hook_state *st)
{
  free (st->id);
  free (st->status);
  free (st->bundle);
  if (st->annotations)
    json_decref (st->annotations);
  memset (st, 0, sizeof *st);
}

/* A JSON string without embedded NUL bytes (jansson accepts "\u0000"). */
static const char *
plain_string (json_t *v)
{
  if (!json_is_string (v) || json_string_length (v) != strlen (json_string_value (v)))
    return NULL;
  return json_string_value (v);
}

static int
check_annotations (json_t *ann, const char *where, rh_error *err)
{
  const char *key;
  json_t *val;

  if (!json_is_object (ann))
    return rh_error_set (err, EINVAL, "%s annotations: expected an object", where);
  json_object_foreach (ann, key, val)
    if (plain_string (val) == NULL)
      return rh_error_set (err, EINVAL, "%s annotation %.100s: expected a string", where, key);
  return 0;
}

int
rh_hook_state_parse (const char *text, size_t len, struct rh_hook_state *st, rh_error *err)
{
  _cleanup_json_ json_t *j = NULL;
  json_t *v;
  const char *s;

  memset (st, 0, sizeof *st);
  if (len > RH_HOOK_STATE_MAX)
    return rh_error_set (err, EFBIG, "state: larger than %u bytes", RH_HOOK_STATE_MAX);
  if (rh_json_parse ("state", text, len, 0, &j, err) < 0)
    return -1;
  if (!json_is_object (j))
    return rh_error_set (err, EINVAL, "state: expected a JSON object");
  /* Unknown fields are tolerated (later spec versions may add some) and not used. */
  v = json_object_get (j, "ociVersion");
  if (v && plain_string (v) == NULL)
    return rh_error_set (err, EINVAL, "state field ociVersion: expected a string");

  s = plain_string (json_object_get (j, "id"));
  if (s == NULL)
    return rh_error_set (err, EINVAL, "state field id: expected a string");
  if (rh_container_id_check (s, err) < 0)
    return rh_error_prefix (err, "state field id");

  s = plain_string (json_object_get (j, "status"));
  if (s == NULL)
    return rh_error_set (err, EINVAL, "state field status: expected a string");
  {
    bool ok = false;
    for (const char *const *k = statuses; *k; k++)
      ok = ok || strcmp (*k, s) == 0;
    if (!ok)
      return rh_error_set (err, EINVAL, "state field status: unknown status %.40s", s);
  }
  st->status = rh_xstrdup (s);

  v = json_object_get (j, "pid");
  if (v == NULL && strcmp (st->status, "stopped") != 0)
    goto bad_pid;
  if (v != NULL)
    {
      json_int_t pid;
      if (!json_is_integer (v))
        goto bad_pid;
      pid = json_integer_value (v);
      /* runsc reports a destroyed sandbox's pid as 0 or -1. */
      if (pid <= 0 && strcmp (st->status, "stopped") == 0)
        pid = 0;
      if (pid > RH_PID_MAX || (pid < 1 && strcmp (st->status, "stopped") != 0))
        goto bad_pid;
      st->pid = (pid_t) pid;
    }

  s = plain_string (json_object_get (j, "bundle"));
  if (s == NULL || s[0] != '/' || strlen (s) > 4096)
    {
      rh_hook_state_clear (st);
      return rh_error_set (err, EINVAL, "state field bundle: expected an absolute path");
    }
  st->bundle = rh_path_clean (NULL, s);

  v = json_object_get (j, "annotations");
  if (v && !json_is_null (v))
    {
      if (check_annotations (v, "state", err) < 0)
        {
          rh_hook_state_clear (st);
          return -1;
        }
      st->annotations = json_incref (v);
    }
  st->id = rh_xstrdup (json_string_value (json_object_get (j, "id")));
  return 0;

bad_pid:
  rh_hook_state_clear (st);
  return rh_error_set (err, EINVAL, "state field pid: expected a process id from 1 to %d", RH_PID_MAX);
}

int
rh_hook_spec_annotations (const char *text, size_t len, json_t **out, rh_error *err)
{
  _cleanup_json_ json_t *spec = NULL;
  json_t *ann;

  *out = NULL;
  if (rh_json_parse (NULL, text, len, 0, &spec, err) < 0)
    return -1;
  if (!json_is_object (spec))
    return rh_error_set (err, EINVAL, "expected a JSON object");
  ann = json_object_get (spec, "annotations");
  if (ann == NULL || json_is_null (ann))
    return 0;
  if (check_annotations (ann, "spec", err) < 0)
    return -1;
  *out = json_incref (ann);
  return 0;
}

int
rh_hook_annotations (const struct rh_hook_state *st, json_t **out, rh_error *err)
{
  _cleanup_free_ char *path = NULL;
  _cleanup_free_ char *text = NULL;
  size_t len = 0;

  *out = NULL;
  if (st->annotations)
    {
      *out = json_incref (st->annotations);
      return 0;
    }
  path = rh_xasprintf ("%s/config.json", st->bundle);
  if (rh_read_file_capped (path, RH_SPEC_MAX_BYTES, &text, &len, err) < 0)
    return rh_error_prefix (err, "bundle spec");
  if (rh_hook_spec_annotations (text, len, out, err) < 0)
    return rh_error_prefix (err, "bundle spec %s", path);
  return 0;
}

int
rh_hook_check_policy (json_t *ann, const char *loaded_sha, const char *where, rh_error *err)
{
  json_t *v = ann ? json_object_get (ann, RH_ANNOTATION_POLICY) : NULL;
  const char *rec = plain_string (v);
  const char *name = where ? where : "embedded default policy";
  bool hex = rec != NULL && strlen (rec) == 64;

  for (size_t i = 0; hex && rec[i]; i++)
    hex = (rec[i] >= '0' && rec[i] <= '9') || (rec[i] >= 'a' && rec[i] <= 'f');
  /* The rewrite always records it last (rh_rewrite_mark) and strips any client copy of our
   * annotation prefix first: a spec without it never went through runsc-host's rewrite. */
  if (v == NULL)
    return rh_error_set (err, EPERM,
                         "annotation %s is missing from the spec: it was not rewritten by runsc-host; refusing "
                         "to apply the rules of policy %s (sha256 %s)",
                         RH_ANNOTATION_POLICY, name, loaded_sha);
  if (!hex)
    return rh_error_set (err, EPERM, "annotation %s: expected 64 lower-case hex digits, got \"%.80s\"",
                         RH_ANNOTATION_POLICY, rec ? rec : "(not a string)");
  if (strcmp (rec, loaded_sha) != 0)
    return rh_error_set (err, EPERM,
                         "policy %s has sha256 %s, but the container was created under sha256 %s (annotation %s): "
                         "the policy changed after the rewrite; refusing to open ports or deny egress under a "
                         "policy the rewrite did not check",
                         name, loaded_sha, rec, RH_ANNOTATION_POLICY);
  return 0;
}
