/* `runsc-host check`: the self-check a user runs after installing.
 *
 * One line per item, "[ ok ]", "[FAIL]", "[warn]", "[skip]" or "[info]", and under every
 * failure or warning the command that fixes it. Exit status 1 when anything failed, 0
 * otherwise, 2 on a usage error. Items:
 *   policy      the policy in use parses (every key is checked by the loader)
 *   runsc       runsc.path exists, is not runsc-host itself, and `runsc --version` answers
 *   platform    kvm needs /dev/kvm
 *   hook        hook_path is an executable file
 *   seccomp     the default seccomp profile reads and passes the checks a create applies to it
 *   iptables    iptables and iptables-restore are installed and answer --version
 *   shim        containerd-shim-runsc-host-v1 is where containerd looks, runs THIS runsc-host,
 *               and reaches containerd's runc v2 shim          (when containerd is installed)
 *   containerd  config.toml registers a CRI runtime for runsc-host (when containerd is installed)
 *   dockerd     daemon.json registers runsc-host in "runtimes"  (when dockerd is installed)
 *   alias       whether "runc" found in PATH is runsc-host ("runc" alias mode), for information
 *
 * Every program it runs is an absolute path, run with fork+execve, a fixed environment, stdin
 * from /dev/null, its output capped, and killed after a timeout: a broken runsc must not hang
 * the check. Nothing it finds is trusted further than "print it". */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "check_report.h"
#include "cleanup.h"
#include "spawnutil.h"
#include "commands.h"
#include "fsutil.h"
#include "seccomp.h"
#include "util.h"

#ifndef RH_SYSCONF_POLICY
#define RH_SYSCONF_POLICY "/etc/runsc-host/config.json"
#endif

/* ---- the items --------------------------------------------------------------------------- */

static const char *
policy_file (const struct rh_cmd_env *env)
{
  if (env->policy != NULL && env->policy->source_path != NULL)
    return env->policy->source_path;
  return RH_SYSCONF_POLICY;
}

static void
check_policy (struct report *r, const struct rh_cmd_env *env)
{
  if (env->policy == NULL)
    {
      rh_check_report (r, CHECK_FAIL, "policy", "correct the key named above in the policy file (the file named by "
                       "RUNSC_HOST_CONFIG, else " RH_SYSCONF_POLICY "); see docs/policy.md",
                       "%s", env->policy_error ? env->policy_error : "no policy loaded");
      return;
    }
  rh_check_report (r, CHECK_OK, "policy", NULL, "%s parses (sha256 %.16s...)",
                   env->policy->source_path ? env->policy->source_path : "built-in default policy (no "
                                                                          RH_SYSCONF_POLICY ")",
                   env->policy->sha256);
}

static void
check_runsc (struct report *r, const struct rh_cmd_env *env)
{
  const char *path = env->policy->runsc.path;
  _cleanup_free_ char *fix = NULL;
  _cleanup_free_ char *out = NULL;
  _cleanup_free_ char *line = NULL;
  rh_error err = { 0 };

  fix = rh_xasprintf ("install gVisor (apt-get install runsc) or set runsc.path in %s to its absolute path",
                      policy_file (env));
  if (path == NULL)
    {
      rh_check_report (r, CHECK_FAIL, "runsc", fix, "runsc.path is not set");
      return;
    }
  if (!rh_check_is_exec_file (path))
    {
      rh_check_report (r, CHECK_FAIL, "runsc", fix, "%s: %s", path,
                       access (path, F_OK) == 0 ? "not an executable file" : strerror (errno));
      return;
    }
  /* runsc.path naming runsc-host itself (directly, as a "runc" alias, through a symlink) would
   * make every create exec itself forever. */
  if (rh_check_same_file (path, env->self_exe))
    {
      rh_check_report (r, CHECK_FAIL, "runsc", fix, "%s is runsc-host itself (%s), not gVisor's runsc", path,
                       env->self_exe);
      return;
    }
  if (rh_check_run_ok (path, "--version", &out, &err) < 0)
    {
      rh_check_report (r, CHECK_FAIL, "runsc", fix, "%s", err.msg);
      return;
    }
  line = rh_check_first_line (out);
  if (!rh_str_has_prefix (line, "runsc version"))
    {
      rh_check_report (r, CHECK_FAIL, "runsc", fix, "%s does not look like gVisor's runsc (`--version` says \"%s\")",
                       path, line);
      return;
    }
  rh_check_report (r, CHECK_OK, "runsc", NULL, "%s: %s", path, line);
}

static void
check_platform (struct report *r, const struct rh_cmd_env *env)
{
  const char *platform = env->policy->runsc.platform ? env->policy->runsc.platform : "(unset)";
  _cleanup_free_ char *fix = NULL;

  if (strcmp (platform, "kvm") == 0 && access ("/dev/kvm", R_OK | W_OK) < 0)
    {
      fix = rh_xasprintf ("give the VM nested virtualisation, or set runsc.platform to \"ptrace\" in %s",
                          policy_file (env));
      rh_check_report (r, CHECK_FAIL, "platform", fix, "kvm: /dev/kvm: %s", strerror (errno));
      return;
    }
  rh_check_report (r, CHECK_OK, "platform", NULL, "%s", platform);
}

/* The default profile is read only when a create needs it; this is where a broken one shows
 * before that. Missing is a warning (a spec with its own profile still works), refused a failure. */
static void
check_seccomp (struct report *r, const struct rh_cmd_env *env)
{
  const json_t *prof = NULL;
  const char *source = NULL;
  rh_error err;

  if (rh_seccomp_default_profile (&env->policy->seccomp, &prof, &source, &err) < 0)
    {
      _cleanup_free_ char *fix = rh_xasprintf ("install the profile (make install puts it at "
                                               RH_SECCOMP_DEFAULT_PROFILE "), or set seccomp.default_profile in %s",
                                               policy_file (env));
      rh_check_report (r, err.code == ENOENT ? CHECK_WARN : CHECK_FAIL, "seccomp", fix, "%s%s", err.msg,
                       err.code == ENOENT ? " (a create whose spec has no seccomp profile will fail)" : "");
      return;
    }
  rh_check_report (r, CHECK_OK, "seccomp", NULL, "default profile %s (%zu rules)", source,
                   json_array_size (json_object_get (prof, "syscalls")));
}

static void
check_hook (struct report *r, const struct rh_cmd_env *env)
{
  const char *path = env->policy->hook_path;
  _cleanup_free_ char *fix = NULL;

  fix = rh_xasprintf ("reinstall runsc-host (it ships runsc-host-hook), or set hook_path in %s",
                      policy_file (env));
  if (path == NULL)
    {
      rh_check_report (r, CHECK_FAIL, "hook", fix, "hook_path is not set");
      return;
    }
  if (!rh_check_is_exec_file (path))
    {
      rh_check_report (r, CHECK_FAIL, "hook", fix, "%s: %s", path,
                       access (path, F_OK) == 0 ? "not an executable file" : strerror (errno));
      return;
    }
  rh_check_report (r, CHECK_OK, "hook", NULL, "%s", path);
}

static void
check_iptables (struct report *r)
{
  static const char *const names[] = { "iptables", "iptables-restore", NULL };
  static const char fix[] = "apt-get install iptables (the hook opens ports and closes egress with it)";

  for (size_t i = 0; names[i]; i++)
    {
      _cleanup_free_ char *path = rh_check_find_std (names[i]);
      _cleanup_free_ char *out = NULL;
      _cleanup_free_ char *line = NULL;
      rh_error err = { 0 };

      if (path == NULL)
        {
          rh_check_report (r, CHECK_FAIL, names[i], fix, "not found in %s", CHILD_PATH);
          continue;
        }
      if (rh_check_run_ok (path, "--version", &out, &err) < 0)
        {
          rh_check_report (r, CHECK_FAIL, names[i], fix, "%s", err.msg);
          continue;
        }
      line = rh_check_first_line (out);
      rh_check_report (r, CHECK_OK, names[i], NULL, "%s: %s", path, line);
    }
}

/* Where containerd would find our shim: its PATH (rh_check_std_dirs), then beside the containerd
 * binary. --shim overrides, for a non-standard install. */
static char *
find_shim (const struct check_opts *o, const char *containerd)
{
  char *p;

  if (o->shim != NULL)
    return rh_xstrdup (o->shim);
  p = rh_check_find_std (SHIM_NAME);
  if (p == NULL && containerd != NULL)
    {
      _cleanup_free_ char *dir = rh_xstrdup (containerd);
      char *slash = strrchr (dir, '/');
      if (slash != NULL)
        {
          *slash = '\0';
          p = rh_xasprintf ("%s/%s", dir, SHIM_NAME);
          if (!rh_check_is_exec_file (p))
            {
              free (p);
              p = NULL;
            }
        }
    }
  return p;
}

static void
check_shim (struct report *r, const struct rh_cmd_env *env, const struct check_opts *o, const char *containerd)
{
  _cleanup_free_ char *shim = find_shim (o, containerd);
  _cleanup_free_ char *runtime_out = NULL;
  _cleanup_free_ char *runtime = NULL;
  _cleanup_free_ char *version = NULL;
  _cleanup_free_ char *fix = NULL;
  rh_error err = { 0 };

  if (shim == NULL)
    {
      rh_check_report (r, CHECK_FAIL, "shim",
                       "install " SHIM_NAME " beside runsc-host (cmake --install or the runsc-host package do), "
                       "in a directory on containerd's PATH",
                       SHIM_NAME " not found in %s nor beside %s: `--runtime " RH_SHIM_RUNTIME_TYPE "` fails",
                       CHILD_PATH, containerd ? containerd : "containerd");
      return;
    }
  fix = rh_xasprintf ("reinstall runsc-host: %s must come with its own runc -> runsc-host link", shim);
  if (!rh_check_is_exec_file (shim))
    {
      rh_check_report (r, CHECK_FAIL, "shim", fix, "%s: not an executable file", shim);
      return;
    }
  /* Which runsc-host will containers of this runtime type really run? */
  if (rh_check_run_ok (shim, "--runsc-host-runtime", &runtime_out, &err) < 0)
    {
      rh_check_report (r, CHECK_FAIL, "shim", fix, "%s", err.msg);
      return;
    }
  runtime = rh_check_first_line (runtime_out);
  if (!rh_check_same_file (runtime, env->self_exe))
    {
      rh_check_report (r, CHECK_FAIL, "shim", fix, "%s runs %s, not this runsc-host (%s)", shim, runtime, env->self_exe);
      return;
    }
  /* And does it reach containerd's runc v2 shim? `-v` goes all the way through. */
  if (rh_check_run_ok (shim, "-v", &version, &err) < 0)
    {
      rh_check_report (r, CHECK_FAIL, "shim", "install containerd (apt-get install containerd): the shim reuses "
                       "its containerd-shim-runc-v2", "%s", err.msg);
      return;
    }
  rh_check_report (r, CHECK_OK, "shim", NULL, "%s -> %s (" RH_SHIM_RUNTIME_TYPE ")", shim, runtime);
}

/* A path as dockerd or the runc shim would resolve it: absolute, or looked up in PATH. */
static char *
resolve_binary (const char *name)
{
  if (name == NULL || *name == '\0')
    return NULL;
  if (strchr (name, '/') != NULL)
    return rh_xstrdup (name);
  return rh_check_find_std (name);
}

static char *
containerd_fix (const struct rh_cmd_env *env, const char *file)
{
  return rh_xasprintf (
      "add to %s, then restart containerd (Kubernetes: RuntimeClass handler \"runsc-host\"):\n"
      "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runsc-host]\n"
      "  runtime_type = \"io.containerd.runc.v2\"\n"
      "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runsc-host.options]\n"
      "  BinaryName = \"%s\"",
      file, env->self_exe);
}

static void
check_containerd_config (struct report *r, const struct rh_cmd_env *env, const struct check_opts *o)
{
  const char *file = o->containerd_config ? o->containerd_config : CONTAINERD_CONFIG;
  _cleanup_free_ char *text = NULL;
  _cleanup_free_ char *fix = containerd_fix (env, file);
  struct rh_check_containerd c = { 0 };
  size_t len;
  int good = 0, bad = 0;
  rh_error err = { 0 };

  if (access (file, F_OK) < 0 && errno == ENOENT)
    {
      rh_check_report (r, CHECK_WARN, "containerd", fix,
                       "%s does not exist: `ctr`/`nerdctl --runtime " RH_SHIM_RUNTIME_TYPE "` work through the shim, "
                       "but Kubernetes (CRI) has no runsc-host handler", file);
      return;
    }
  if (rh_read_file_capped (file, CHECK_CONFIG_MAX, &text, &len, &err) < 0
      || rh_check_scan_containerd_toml (text, &c, &err) < 0)
    {
      rh_check_report (r, CHECK_FAIL, "containerd", "correct the TOML syntax (containerd refuses it too)", "%s: %s",
                       file, err.msg);
      return;
    }
  if (c.cri_disabled)
    {
      rh_check_report (r, CHECK_OK, "containerd", NULL, "%s: CRI plugin disabled; " RH_SHIM_RUNTIME_TYPE
                       " needs no registration", file);
      rh_check_containerd_free (&c);
      return;
    }
  for (size_t i = 0; i < c.n_runtimes; i++)
    {
      const struct rh_check_runtime *rt = &c.runtimes[i];
      bool shim_type = rt->type != NULL && strcmp (rt->type, RH_SHIM_RUNTIME_TYPE) == 0;
      bool runc_type = rt->type != NULL
                       && (strcmp (rt->type, "io.containerd.runc.v2") == 0
                           || strcmp (rt->type, "io.containerd.runc.v1") == 0);
      _cleanup_free_ char *bin = resolve_binary (rt->binary);
      bool ours = bin != NULL && rh_check_same_file (bin, env->self_exe);
      bool named_ours = rt->binary != NULL && strstr (rt->binary, "runsc-host") != NULL;

      if (shim_type && rt->has_options)
        {
          rh_check_report (r, CHECK_FAIL, "containerd", "remove the options table of this runtime (the runc shim cannot "
                           "read CRI's generic options); use io.containerd.runc.v2 with BinaryName for options",
                           "%s: runtime %s of type " RH_SHIM_RUNTIME_TYPE " has an options table", file, rt->name);
          bad++;
        }
      else if (shim_type)
        {
          rh_check_report (r, CHECK_OK, "containerd", NULL, "%s: CRI runtime \"%s\" = " RH_SHIM_RUNTIME_TYPE, file,
                           rt->name);
          good++;
        }
      else if (ours && !runc_type)
        {
          rh_check_report (r, CHECK_FAIL, "containerd", fix, "%s: runtime %s sets BinaryName to runsc-host but its "
                           "runtime_type is %s; only io.containerd.runc.v2 honours BinaryName", file, rt->name,
                           rt->type ? rt->type : "unset");
          bad++;
        }
      else if (ours)
        {
          rh_check_report (r, CHECK_OK, "containerd", NULL, "%s: CRI runtime \"%s\" runs %s", file, rt->name, rt->binary);
          good++;
        }
      else if (named_ours || strcmp (rt->name, "runsc-host") == 0)
        {
          /* Meant to be us, but runs something else: a stale path after a reinstall. */
          rh_check_report (r, CHECK_FAIL, "containerd", fix, "%s: runtime %s has BinaryName %s, which is not this "
                           "runsc-host (%s)", file, rt->name, rt->binary ? rt->binary : "(unset: plain runc)",
                           env->self_exe);
          bad++;
        }
    }
  if (good == 0 && bad == 0)
    rh_check_report (r, CHECK_FAIL, "containerd", fix, "%s registers no runtime that runs runsc-host", file);
  if (c.default_runtime != NULL)
    rh_check_report (r, CHECK_INFO, "containerd", NULL, "CRI default runtime: %s", c.default_runtime);
  rh_check_containerd_free (&c);
}

static void
check_docker (struct report *r, const struct rh_cmd_env *env, const struct check_opts *o, bool alias)
{
  const char *file = o->docker_config ? o->docker_config : DOCKER_CONFIG;
  enum check_status missing = alias ? CHECK_WARN : CHECK_FAIL;
  _cleanup_free_ char *text = NULL;
  _cleanup_free_ char *fix = NULL;
  _cleanup_json_ json_t *root = NULL;
  json_t *runtimes, *def;
  const char *name;
  json_t *rt;
  json_error_t jerr;
  size_t len;
  int good = 0, bad = 0;
  rh_error err = { 0 };

  fix = rh_xasprintf ("add \"runtimes\": {\"runsc-host\": {\"path\": \"%s\"}} to %s and restart dockerd "
                      "(or start it with --add-runtime runsc-host=%s)", env->self_exe, file, env->self_exe);
  if (access (file, F_OK) < 0 && errno == ENOENT)
    {
      rh_check_report (r, missing, "dockerd", fix, "%s does not exist: `docker run --runtime=runsc-host` fails%s", file,
                       alias ? " (alias mode: docker's default runtime runc is runsc-host)" : "");
      return;
    }
  if (rh_read_file_capped (file, CHECK_CONFIG_MAX, &text, &len, &err) < 0)
    {
      rh_check_report (r, CHECK_FAIL, "dockerd", fix, "%s", err.msg);
      return;
    }
  root = json_loadb (text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL || !json_is_object (root))
    {
      rh_check_report (r, CHECK_FAIL, "dockerd", "correct the JSON syntax (dockerd refuses it too)", "%s: line %d: %s",
                       file, root ? 1 : jerr.line, root ? "not a JSON object" : jerr.text);
      return;
    }
  runtimes = json_object_get (root, "runtimes");
  if (runtimes != NULL && !json_is_object (runtimes))
    {
      rh_check_report (r, CHECK_FAIL, "dockerd", fix, "%s: \"runtimes\" is not an object", file);
      return;
    }
  json_object_foreach (runtimes, name, rt)
    {
      const char *path = json_string_value (json_object_get (rt, "path"));
      _cleanup_free_ char *bin = resolve_binary (path);

      if (bin != NULL && rh_check_same_file (bin, env->self_exe))
        {
          rh_check_report (r, CHECK_OK, "dockerd", NULL, "%s: runtime \"%s\" runs %s", file, name, path);
          good++;
        }
      else if (strcmp (name, "runsc-host") == 0 || (path != NULL && strstr (path, "runsc-host") != NULL))
        {
          rh_check_report (r, CHECK_FAIL, "dockerd", fix, "%s: runtime \"%s\" has path %s, which is not this runsc-host (%s)",
                           file, name, path ? path : "(unset)", env->self_exe);
          bad++;
        }
    }
  if (good == 0 && bad == 0)
    rh_check_report (r, missing, "dockerd", fix, "%s registers no runtime that runs runsc-host%s", file,
                     alias ? " (alias mode: docker's default runtime runc is runsc-host)" : "");
  def = json_object_get (root, "default-runtime");
  if (json_is_string (def))
    rh_check_report (r, CHECK_INFO, "dockerd", NULL, "default runtime: %s", json_string_value (def));
}

/* Is "runc", as a daemon would find it, runsc-host? */
static bool
check_alias (struct report *r, const struct rh_cmd_env *env)
{
  _cleanup_free_ char *runc = rh_check_find_std ("runc");

  if (runc != NULL && rh_check_same_file (runc, env->self_exe))
    {
      rh_check_report (r, CHECK_INFO, "alias", NULL, "\"runc\" alias mode is on: %s is runsc-host, so clients that ask "
                       "for runc get gVisor", runc);
      return true;
    }
  rh_check_report (r, CHECK_INFO, "alias", NULL, "\"runc\" alias mode is off: %s; clients that ask for runc run "
                   "outside gVisor (docs/runtime.md: alias mode)", runc ? runc : "no runc installed");
  return false;
}

/* ---- the command ------------------------------------------------------------------------- */

static const char usage[]
    = "usage: runsc-host check [--containerd-config FILE] [--docker-config FILE] [--shim FILE]\n"
      "\n"
      "Verify the installation: runsc, the policy, the hook, iptables, and the registration with\n"
      "containerd (" CONTAINERD_CONFIG ") and dockerd (" DOCKER_CONFIG ") when they are installed.\n"
      "Each failed item is printed with its fix. Exit status 1 when anything failed.\n";

/* --name FILE or --name=FILE; returns 1 when argv[*i] was this option. */
static int
take_opt (int argc, char **argv, int *i, const char *name, const char **out)
{
  size_t n = strlen (name);

  if (strncmp (argv[*i], name, n) != 0)
    return 0;
  if (argv[*i][n] == '=')
    {
      *out = argv[*i] + n + 1;
      return 1;
    }
  if (argv[*i][n] != '\0')
    return 0;
  if (*i + 1 >= argc)
    return -1;
  *out = argv[++*i];
  return 1;
}

int
rh_cmd_check (const struct rh_cmd_env *env, int argc, char **argv)
{
  struct check_opts o = { 0 };
  struct report r = { .out = stdout };
  _cleanup_free_ char *containerd = NULL;
  _cleanup_free_ char *dockerd = NULL;
  bool alias;

  for (int i = 1; i < argc; i++)
    {
      int rc = 0;

      if (strcmp (argv[i], "-h") == 0 || strcmp (argv[i], "--help") == 0)
        {
          fputs (usage, stdout);
          return 0;
        }
      if ((rc = take_opt (argc, argv, &i, "--containerd-config", &o.containerd_config)) == 0
          && (rc = take_opt (argc, argv, &i, "--docker-config", &o.docker_config)) == 0)
        rc = take_opt (argc, argv, &i, "--shim", &o.shim);
      if (rc == 1)
        continue;
      fprintf (stderr, "runsc-host check: %s: %s\n%s", argv[i],
               rc < 0 ? "needs a value" : "unknown argument", usage);
      return 2;
    }

  check_policy (&r, env);
  if (env->policy != NULL)
    {
      check_runsc (&r, env);
      check_platform (&r, env);
      check_hook (&r, env);
      check_seccomp (&r, env);
    }
  else
    rh_check_report (&r, CHECK_SKIP, "runsc", NULL, "runsc, platform and hook need a policy that parses");
  check_iptables (&r);

  alias = check_alias (&r, env);

  containerd = rh_check_find_std ("containerd");
  if (containerd != NULL || o.containerd_config != NULL || o.shim != NULL)
    {
      check_shim (&r, env, &o, containerd);
      check_containerd_config (&r, env, &o);
    }
  else
    rh_check_report (&r, CHECK_SKIP, "containerd", NULL, "containerd is not installed");

  dockerd = rh_check_find_std ("dockerd");
  if (dockerd != NULL || o.docker_config != NULL)
    check_docker (&r, env, &o, alias);
  else
    rh_check_report (&r, CHECK_SKIP, "dockerd", NULL, "dockerd is not installed");

  if (r.failed > 0)
    fprintf (r.out, "runsc-host check: %d item%s failed, %d warning%s\n", r.failed, r.failed == 1 ? "" : "s",
             r.warned, r.warned == 1 ? "" : "s");
  else
    fprintf (r.out, "runsc-host check: all good%s\n", r.warned ? " (see the warnings)" : "");
  fflush (r.out);
  return r.failed > 0 ? 1 : 0;
}
