/* runsc-host-sandboxer-check: the two facts the sandboxer's shell entrypoint needs from the
 * runsc-host policy, read by the same library that runsc-host uses (so the two never disagree):
 *
 *   runsc-host-sandboxer-check policy-hash
 *       the hex SHA-256 of the policy runsc-host will load (RUNSC_HOST_CONFIG, else
 *       /etc/runsc-host/config.json, else the embedded default): the value runsc-host records
 *       in each container's run.runsc-host.policy-sha256 annotation.
 *   runsc-host-sandboxer-check path SOURCE...
 *       exit 1, naming the policy key, when a bind source (resolved through symlinks, as the
 *       rewrite resolves it) is, holds or lies inside a protected path. This is an early, clear
 *       refusal of a compose file; runsc-host's own rewrite still enforces it at create.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "paths.h"
#include "policy.h"

static int
check_path (const struct rh_policy *p, const char *src)
{
  if (src[0] != '/')
    {
      fprintf (stderr, "%s: not an absolute path\n", src);
      return 1;
    }
  bool missing = false;
  _cleanup_free_ char *clean = rh_path_clean (NULL, src);
  _cleanup_free_ char *resolved = rh_resolve (rh_host_resolver (), src, &missing);
  if (clean == NULL || resolved == NULL)
    {
      fprintf (stderr, "%s: cannot resolve: %s\n", src, strerror (errno));
      return 1;
    }
  for (char **pp = p->protected_paths; pp && *pp; pp++)
    {
      /* Both spellings: what was written and where its symlinks lead. */
      if (rh_path_overlaps (clean, *pp) || rh_path_overlaps (resolved, *pp))
        {
          fprintf (stderr, "%s%s%s reaches %s, protected by policy (protected_paths)\n", src,
                   strcmp (src, resolved) ? " -> " : "", strcmp (src, resolved) ? resolved : "", *pp);
          return 1;
        }
    }
  if (missing)
    {
      fprintf (stderr, "%s: does not exist (a bind source must exist)\n", src);
      return 1;
    }
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc < 2 || (strcmp (argv[1], "policy-hash") && strcmp (argv[1], "path")))
    {
      fprintf (stderr, "usage: %s policy-hash | path SOURCE...\n", argv[0]);
      return 2;
    }
  struct rh_policy *p = NULL;
  rh_error err = { 0 };
  if (rh_policy_load (getenv ("RUNSC_HOST_CONFIG"), RH_SYSCONF_POLICY, &p, &err) < 0)
    {
      fprintf (stderr, "policy: %s\n", err.msg);
      return 2;
    }
  int rc = 0;
  if (strcmp (argv[1], "policy-hash") == 0)
    printf ("%s\n", p->sha256);
  else
    for (int i = 2; i < argc; i++)
      rc |= check_path (p, argv[i]);
  rh_policy_free (p);
  return rc;
}
