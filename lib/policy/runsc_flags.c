#include "runsc_flags.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "paths.h"
#include "policy.h"
#include "util.h"

/* Flags the policy may not pass through runsc.flags: runsc-host sets them itself (network,
 * platform, seccomp, logging, root), or they would open the sandbox (host-uds, host-fifo,
 * fsgofer-host-uds, net-raw, allow-flag-override, TESTONLY-*). */
static const char *const forbidden_flags[] = {
  "network", "platform", "oci-seccomp", "root", "log", "log-format", "log-fd", "rootless",
  "host-uds", "host-fifo", "fsgofer-host-uds", "net-raw", "allow-flag-override",
  "TESTONLY-unsafe-nonroot", "TESTONLY-allow-packet-endpoint-write", "TESTONLY-test-name-env",
  "EXPERIMENTAL-afxdp", "pod-init-config", "platform_device_path", NULL,
};

static const char *const platforms[] = { "auto", "ptrace", "kvm", "systrap", NULL };

static int
check_flag (const char *flag, size_t idx, rh_error *err)
{
  const char *name;
  size_t n;

  if (strncmp (flag, "--", 2) != 0 || flag[2] == '\0' || flag[2] == '-')
    return rh_error_set (err, EINVAL, "policy key runsc.flags[%zu]: %s is not of the form --name[=value]", idx,
                         flag);
  name = flag + 2;
  n = strcspn (name, "=");
  for (const char *p = name; p < name + n; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'
          || *p == '_'))
      return rh_error_set (err, EINVAL, "policy key runsc.flags[%zu]: bad flag name in %s", idx, flag);
  for (const char *const *f = forbidden_flags; *f; f++)
    if (strlen (*f) == n && strncmp (*f, name, n) == 0)
      return rh_error_set (err, EPERM, "policy key runsc.flags[%zu]: %s may not be set by policy (runsc-host "
                                       "controls it)", idx, flag);
  return 0;
}

/* --overlay (and --overlay2=all:...) put every mount, volumes included, under an in-memory
 * overlay: writes to a named volume would silently vanish with the container. Only the root
 * file system may be overlaid, in memory or in a host directory that is not protected (runsc
 * writes its filestore there). */
static int
check_overlay_flag (const char *flag, size_t idx, char *const *protected_paths, rh_error *err)
{
  const char *value;

  if (strcmp (flag, "--overlay") == 0 || strncmp (flag, "--overlay=", 10) == 0)
    return rh_error_set (err, EPERM, "policy key runsc.flags[%zu]: %s overlays volumes too (their writes would be "
                                     "lost); use --overlay2=root:memory", idx, flag);
  if (strncmp (flag, "--overlay2", 10) != 0)
    return 0;
  if (flag[10] != '=')
    return rh_error_set (err, EINVAL, "policy key runsc.flags[%zu]: %s needs a value (root:memory, root:/dir or none)",
                         idx, flag);
  value = flag + 11;
  if (strcmp (value, "none") == 0 || strcmp (value, "root:memory") == 0)
    return 0;
  if (strncmp (value, "root:/", 6) == 0)
    {
      _cleanup_free_ char *dir = rh_path_clean (NULL, value + 5);
      for (size_t i = 0; protected_paths && protected_paths[i]; i++)
        if (rh_path_overlaps (dir, protected_paths[i]))
          return rh_error_set (err, EPERM, "policy key runsc.flags[%zu]: overlay directory %s overlaps protected path "
                                           "%s (protected_paths)", idx, dir, protected_paths[i]);
      return 0;
    }
  return rh_error_set (err, EINVAL, "policy key runsc.flags[%zu]: %s: only root:memory, root:/dir or none are "
                                    "allowed (an overlay of all mounts would lose volume writes)", idx, flag);
}

int
rh_runsc_policy_parse (json_t *section, struct rh_policy *p, rh_error *err)
{
  static const char *const keys[] = { "path", "platform", "flags", "probe_timeout_ms", NULL };
  struct rh_runsc_policy *r = &p->runsc;
  int64_t timeout = 3000;
  bool ok = false;

  r->platform = rh_xstrdup ("ptrace");
  r->flags = rh_xmalloc0 (sizeof (char *));
  r->probe_timeout_ms = 3000;
  if (section == NULL)
    return rh_error_set (err, EINVAL, "policy key runsc: missing (it must give runsc.path)");
  if (rh_policy_expect_object (section, "runsc", err) < 0 || rh_policy_check_keys (section, "runsc", keys, err) < 0)
    return -1;
  if (rh_policy_get_abs_path (section, "runsc", "path", &r->path, err) < 0)
    return -1;
  if (r->path == NULL)
    return rh_error_set (err, EINVAL, "policy key runsc.path: missing");
  if (rh_policy_get_string (section, "runsc", "platform", &r->platform, err) < 0)
    return -1;
  for (const char *const *pl = platforms; *pl; pl++)
    if (strcmp (*pl, r->platform) == 0)
      ok = true;
  if (!ok)
    return rh_error_set (err, EINVAL, "policy key runsc.platform: %s is not one of auto, ptrace, kvm, systrap",
                         r->platform);
  if (rh_policy_get_strv (section, "runsc", "flags", &r->flags, err) < 0)
    return -1;
  for (size_t i = 0; r->flags[i]; i++)
    if (check_flag (r->flags[i], i, err) < 0)
      return -1;
  if (rh_policy_get_int (section, "runsc", "probe_timeout_ms", 100, 60000, &timeout, err) < 0)
    return -1;
  r->probe_timeout_ms = (int) timeout;
  return 0;
}

int
rh_runsc_policy_check (const struct rh_policy *p, rh_error *err)
{
  for (size_t i = 0; p->runsc.flags && p->runsc.flags[i]; i++)
    if (check_overlay_flag (p->runsc.flags[i], i, p->protected_paths, err) < 0)
      return -1;
  return 0;
}

void
rh_runsc_policy_free (struct rh_runsc_policy *r)
{
  free (r->path);
  free (r->platform);
  rh_strv_free (r->flags);
  memset (r, 0, sizeof *r);
}

void
rh_runsc_global_flags (const struct rh_policy *p, const char *platform, char ***argv)
{
  _cleanup_free_ char *pl = rh_xasprintf ("--platform=%s", platform);

  rh_strv_push (argv, pl);
  /* No network namespace: the sandbox shares the (sandboxer's) host network. runsc refuses to
   * run without a netns unless told so. */
  rh_strv_push (argv, "--network=host");
  /* Without this runsc ignores linux.seccomp entirely. */
  rh_strv_push (argv, "--oci-seccomp");
  /* The gate socket is the one host socket the sandbox may connect to; see gate_policy.h. */
  if (p->gate.enabled)
    rh_strv_push (argv, "--host-uds=open");
  for (size_t i = 0; p->runsc.flags && p->runsc.flags[i]; i++)
    rh_strv_push (argv, p->runsc.flags[i]);
}
