/* `runsc-host gate ...`: the attestation gate from the command line (see docs/gate.md).
 *
 *   runsc-host gate stats [ID] [--format text|json]
 *       Counters per sandbox (requests, cache hits, limited, denied, upstream calls, bad
 *       requests, upstream errors) read from the daemon over gate.control_socket.
 *   runsc-host gate run [--debug]
 *       Run the daemon in the foreground under this policy (for a service manager, or to start
 *       it before containerd instead of letting the first `create` start it).
 *
 * Exit status: 0 on success, 1 on error (gate disabled, daemon not running, unknown ID), 2 on a
 * usage error. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "gate_policy.h"
#include "util.h"

static const char usage_text[] = "usage: runsc-host gate stats [ID] [--format text|json]\n"
                                 "       runsc-host gate run [--debug]\n";

static const char *const counter_names[] = {
  "requests", "cache_hits", "limited", "denied", "upstream_calls", "bad_requests", "upstream_errors", NULL,
};

static void
print_row (const char *name, json_t *o)
{
  printf ("%-24s", name);
  for (const char *const *c = counter_names; *c; c++)
    printf (" %15lld", (long long) json_integer_value (json_object_get (o, *c)));
  printf ("\n");
}

static void
print_text (json_t *resp, bool one)
{
  json_t *list = json_object_get (resp, "sandboxes");
  size_t i;
  json_t *sb;

  printf ("%-24s", "SANDBOX");
  for (const char *const *c = counter_names; *c; c++)
    {
      char up[32];
      size_t n;
      for (n = 0; (*c)[n] && n + 1 < sizeof up; n++)
        up[n] = (char) ((*c)[n] >= 'a' && (*c)[n] <= 'z' ? (*c)[n] - 32 : (*c)[n]);
      up[n] = '\0';
      printf (" %15s", up);
    }
  printf ("\n");
  json_array_foreach (list, i, sb)
    print_row (json_string_value (json_object_get (sb, "id")), sb);
  if (!one)
    print_row ("TOTAL", json_object_get (resp, "total"));
}

static int
cmd_stats (const struct rh_cmd_env *env, int argc, char **argv)
{
  const char *id = NULL;
  bool json = false;
  _cleanup_json_ json_t *req = NULL;
  _cleanup_json_ json_t *resp = NULL;
  rh_error err = { 0 };

  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *fmt = NULL;
      if (strcmp (a, "--format") == 0 && i + 1 < argc)
        fmt = argv[++i];
      else if (strncmp (a, "--format=", 9) == 0)
        fmt = a + 9;
      else if (a[0] != '-' && id == NULL)
        id = a;
      else
        {
          fprintf (stderr, "runsc-host gate stats: unexpected argument %s\n%s", a, usage_text);
          return 2;
        }
      if (fmt && strcmp (fmt, "json") == 0)
        json = true;
      else if (fmt && strcmp (fmt, "text") != 0)
        {
          fprintf (stderr, "runsc-host gate stats: --format must be text or json\n");
          return 2;
        }
    }
  if (!env->policy->gate.enabled)
    {
      fprintf (stderr, "runsc-host gate stats: the gate is disabled by policy (gate.enabled)\n");
      return 1;
    }
  req = id ? json_pack ("{s:s, s:s}", "op", "stats", "id", id) : json_pack ("{s:s}", "op", "stats");
  if (rh_gate_control_call (&env->policy->gate, req, &resp, &err) < 0)
    {
      if (err.code == ENOENT || err.code == ECONNREFUSED)
        fprintf (stderr, "runsc-host gate stats: the gate daemon is not running (%s)\n", err.msg);
      else
        fprintf (stderr, "runsc-host gate stats: %s\n", err.msg);
      return 1;
    }
  if (json)
    {
      json_object_del (resp, "ok");
      if (json_dumpf (resp, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER) < 0)
        return 1;
      printf ("\n");
    }
  else
    print_text (resp, id != NULL);
  return 0;
}

static int
cmd_run (const struct rh_cmd_env *env, int argc, char **argv)
{
  const struct rh_policy *p = env->policy;
  _cleanup_strv_ char **args = rh_xmalloc0 (sizeof (char *));

  rh_strv_push (&args, p->gate.binary);
  {
    const char *pol[3];
    rh_policy_child_args (p, pol);
    for (const char **a = pol; *a; a++)
      rh_strv_push (&args, *a);
  }
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--debug") != 0)
        {
          fprintf (stderr, "runsc-host gate run: unexpected argument %s\n%s", argv[i], usage_text);
          return 2;
        }
      rh_strv_push (&args, "--debug");
    }
  fflush (NULL);
  /* The daemon takes over this process: its exit status is ours. */
  execv (p->gate.binary, args);
  fprintf (stderr, "runsc-host gate run: exec %s (gate.binary): %s\n", p->gate.binary, strerror (errno));
  return 1;
}

int
rh_cmd_gate (const struct rh_cmd_env *env, int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      fputs (usage_text, argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (env->policy == NULL)
    {
      fprintf (stderr, "runsc-host gate: no usable policy: %s\n", env->policy_error ? env->policy_error : "unknown");
      return 1;
    }
  if (strcmp (argv[1], "stats") == 0)
    return cmd_stats (env, argc - 1, argv + 1);
  if (strcmp (argv[1], "run") == 0)
    return cmd_run (env, argc - 1, argv + 1);
  fprintf (stderr, "runsc-host gate: unknown subcommand %s\n%s", argv[1], usage_text);
  return 2;
}
