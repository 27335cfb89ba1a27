/* containerd-shim-runsc-host-v1: makes "io.containerd.runsc-host.v1" a containerd runtime type.
 *
 * containerd turns the runtime type io.containerd.runsc-host.v1 into the binary name
 * containerd-shim-runsc-host-v1, looked up in containerd's PATH (or beside the containerd
 * binary), and runs it in three modes: `start` (spawn or reuse a shim daemon, print its ttrpc
 * address), the daemon itself, and `delete` (clean up after a shim that died). We do not
 * reimplement any of that. We exec containerd's own runc v2 shim with the very same argv, after
 * arranging that its runtime binary resolves to runsc-host.
 *
 * How the runc v2 shim (containerd 1.6) picks its runtime binary, and why PATH is the lever:
 *   - Create: the runtime binary is `BinaryName` from the task's runc options (typeurl
 *     containerd.runc.v1.Options); the shim records it in <bundle>/options.json and
 *     <bundle>/runtime. With no options (ctr/nerdctl --runtime io.containerd.runsc-host.v1, a
 *     CRI runtime of this type without an options table) BinaryName is "".
 *   - delete mode: the shim has no task options; it reads <bundle>/runtime back, "" again.
 *   - go-runc runs `Command`, and an empty Command means "runc", through os/exec, i.e. a lookup
 *     of "runc" in the shim's own PATH. The shim's environment is ours: `start` respawns
 *     os.Executable() (the runc v2 shim) with os.Environ(), so the daemon inherits it too.
 * So we prepend to PATH a private directory whose only entry is `runc`, a symlink to
 * runsc-host. All three modes then run runsc-host, and runsc-host runs runsc by the absolute
 * path in its policy (it never looks runsc up in PATH, and refuses a runsc that is itself).
 *
 * Limits, written down on purpose:
 *   - A client that passes an explicit BinaryName (`ctr run --runc-binary X`) gets X: the runc
 *     shim obeys the task options. Forcing gVisor for every client is "runc" alias mode
 *     (docs/runtime.md), not this shim's job.
 *   - A CRI runtime of this type must not carry an `options` table: CRI then sends generic
 *     runtime options that the runc shim cannot decode. Use runtime_type io.containerd.runc.v2
 *     with BinaryName for CRI (config/containerd/config.toml shows both).
 *
 * Where the private directory is: RH_SHIM_ALIAS_REL, relative to the directory this binary
 * really lives in (/proc/self/exe, not argv[0]). Installed: <bindir>/../libexec/runsc-host/
 * shim-path/runc -> <bindir>/runsc-host. The build tree mirrors that layout, so the shim built
 * in <build>/shim works as it is. Relative to ourselves rather than an absolute compile-time
 * path, so that a relocated install (a package staging dir, a container image) still finds
 * its own runsc-host and never someone else's.
 *
 * `containerd-shim-runsc-host-v1 --runsc-host-runtime` prints the runsc-host it would run
 * (`runsc-host check` uses it); every other argv goes to the runc shim untouched. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef RH_RUNC_SHIM_PATH
#define RH_RUNC_SHIM_PATH "/usr/bin/containerd-shim-runc-v2"
#endif
#ifndef RH_SHIM_ALIAS_REL
#define RH_SHIM_ALIAS_REL "../libexec/runsc-host/shim-path"
#endif

/* PATH used when containerd gave us none: runsc-host needs nothing from it, but whatever the
 * runc shim runs besides runc should still be found. */
#define RH_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *prog = "containerd-shim-runsc-host-v1";

/* Print and exit. In `start` mode containerd shows our stderr in the client's error, so the
 * message says what is broken and how to fix it. */
static void __attribute__ ((noreturn, format (printf, 1, 2)))
die (const char *fmt, ...)
{
  va_list ap;

  fprintf (stderr, "%s: ", prog);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  exit (1);
}

/* The private directory holding `runc` -> runsc-host, as a canonical absolute path. It is
 * derived from where this binary really is, never from argv[0] or the environment: those are
 * the caller's to choose, the install layout is not. */
static void
find_alias_dir (char out[PATH_MAX], char target[PATH_MAX])
{
  char self[PATH_MAX], rel[PATH_MAX], runc[PATH_MAX];
  struct stat st;
  ssize_t n;
  char *slash;

  n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n < 0)
    die ("cannot resolve /proc/self/exe: %s", strerror (errno));
  self[n] = '\0';
  slash = strrchr (self, '/');
  if (slash == NULL)
    die ("unexpected executable path %s", self);
  *slash = '\0';

  if (snprintf (rel, sizeof rel, "%s/%s", self, RH_SHIM_ALIAS_REL) >= (int) sizeof rel)
    die ("path too long: %s/%s", self, RH_SHIM_ALIAS_REL);
  if (realpath (rel, out) == NULL)
    die ("runtime directory %s: %s (reinstall runsc-host: it provides %s/runc)", rel, strerror (errno),
         rel);
  /* It becomes a PATH entry: a ':' would split it into two, neither of them ours. */
  if (strchr (out, ':') != NULL)
    die ("runtime directory %s contains ':' and cannot be put in PATH; install elsewhere", out);

  /* Check the one thing the runc shim will run. Failing here, in `start`, gives the user a
   * clear error instead of a runc shim that silently falls back to a `runc` found later in
   * PATH, which would run the container outside gVisor. */
  if (snprintf (runc, sizeof runc, "%s/runc", out) >= (int) sizeof runc)
    die ("path too long: %s/runc", out);
  if (realpath (runc, target) == NULL)
    die ("%s: %s (it must be a symlink to runsc-host; reinstall runsc-host)", runc, strerror (errno));
  if (stat (target, &st) < 0 || !S_ISREG (st.st_mode) || access (target, X_OK) < 0)
    die ("%s -> %s is not an executable file (reinstall runsc-host)", runc, target);
}

int
main (int argc, char **argv)
{
  char alias_dir[PATH_MAX], runtime[PATH_MAX];
  const char *old_path;
  char *new_path;
  size_t len;

  if (argc < 1)
    die ("no argv[0]");
  find_alias_dir (alias_dir, runtime);

  /* Our one flag of our own, for `runsc-host check`: which runtime binary would the runc shim
   * run? containerd never passes it (its flags are single-dash Go flags). */
  if (argc == 2 && strcmp (argv[1], "--runsc-host-runtime") == 0)
    {
      printf ("%s\n", runtime);
      return fflush (stdout) == 0 ? 0 : 1;
    }

  /* Our directory goes first so that "runc" can only mean runsc-host. The rest of PATH is
   * kept: it is containerd's, and the runc shim may need it for other helpers. */
  old_path = getenv ("PATH");
  if (old_path == NULL || *old_path == '\0')
    old_path = RH_DEFAULT_PATH;
  len = strlen (alias_dir) + 1 + strlen (old_path) + 1;
  new_path = malloc (len);
  if (new_path == NULL)
    die ("out of memory");
  snprintf (new_path, len, "%s:%s", alias_dir, old_path);
  if (setenv ("PATH", new_path, 1) < 0)
    die ("setenv PATH: %s", strerror (errno));
  free (new_path);

  /* Same argv (flags, id, bundle, mode), only argv[0] names the binary we run. execv, not a
   * child: containerd talks to and waits on the runc shim exactly as if it had started it. */
  argv[0] = (char *) RH_RUNC_SHIM_PATH;
  execv (RH_RUNC_SHIM_PATH, argv);
  die ("cannot run %s: %s (install containerd's runc v2 shim)", RH_RUNC_SHIM_PATH, strerror (errno));
}
