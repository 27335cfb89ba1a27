/* Staging of checked host paths (stage.h). This file is the one place in lib/ that changes the
 * mount table; it runs only in `runsc-host create`/`run`, right before the exec of runsc. */
#include "stage.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"
#include "gate_policy.h"
#include "spec_rewrite.h"
#include "util.h"

/* A mount namespace of our own, whose mounts do not propagate to the host (slave: the host's
 * later mounts still reach us), with a private tmpfs at st->dir. */
static int
stage_enter (struct rh_stage *st, rh_error *err)
{
  if (st->entered)
    return 0;
  if (rh_mkdir_p (st->dir, 0700, err) < 0)
    return rh_error_prefix (err, "staging dir");
  if (unshare (CLONE_NEWNS) < 0)
    return rh_error_sys (err, errno, "staging: unshare the mount namespace");
  if (mount (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    return rh_error_sys (err, errno, "staging: make the mount namespace a slave of the host's");
  if (mount ("runsc-host-stage", st->dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=64k") < 0)
    return rh_error_sys (err, errno, "staging: mount a tmpfs at %s", st->dir);
  st->entered = true;
  return 0;
}

/* Open pinned exactly: no symlink (and no /proc magic link) anywhere on the way. Returns the
 * O_PATH fd, -1 with err set, or -2 when the kernel has no openat2. */
static int
open_exact (const char *pinned, rh_error *err)
{
  struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
  char link[64], now[PATH_MAX + 1];
  ssize_t n;
  int fd = (int) syscall (SYS_openat2, AT_FDCWD, pinned, &how, sizeof how);

  if (fd < 0 && (errno == ENOSYS || errno == EPERM))
    return -2; /* old kernel, or a seccomp filter that refuses the call */
  if (fd < 0 && (errno == ELOOP || errno == EXDEV))
    return rh_error_set (err, EPERM, "%s changed after the check: a symlink is now on its path", pinned);
  if (fd < 0)
    return rh_error_sys (err, errno, "%s: open after the check", pinned);
  /* The descriptor must name the pinned path (a path with "..", or one that lost a race with a
   * rename of a directory on the way, would not). */
  snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  n = readlink (link, now, sizeof now - 1);
  if (n < 0 || (now[n] = '\0', strcmp (now, pinned) != 0))
    {
      close (fd);
      return rh_error_set (err, EPERM, "%s changed after the check: it is now %s", pinned, n < 0 ? "unreadable" : now);
    }
  return fd;
}

/* Bind pinned into the tmpfs as name; *out is the staged path. Returns 0, 1 when openat2 is
 * missing (nothing done), or -1. */
static int
stage_one (struct rh_stage *st, const char *pinned, const char *name, char **out, rh_error *err)
{
  _cleanup_close_ int fd = -1;
  _cleanup_free_ char *target = NULL;
  char from[64];
  struct stat sb;

  if (pinned[0] != '/')
    return rh_error_set (err, EINVAL, "staging: %s is not absolute", pinned);
  if (stage_enter (st, err) < 0)
    return -1;
  fd = open_exact (pinned, err);
  if (fd == -2)
    return 1;
  if (fd < 0)
    return -1;
  if (fstat (fd, &sb) < 0)
    return rh_error_sys (err, errno, "staging: stat %s", pinned);
  target = rh_xasprintf ("%s/%s", st->dir, name);
  /* A bind needs a mount point of the same kind: a directory for a directory, a file for
   * anything else (a regular file, a socket, a device node). */
  if (S_ISDIR (sb.st_mode) ? mkdir (target, 0700) < 0 : mknod (target, S_IFREG | 0600, 0) < 0)
    return rh_error_sys (err, errno, "staging: create %s", target);
  snprintf (from, sizeof from, "/proc/self/fd/%d", fd);
  if (mount (from, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return rh_error_sys (err, errno, "staging: bind %s", pinned);
  rh_log_debug (st->log, "staged %s at %s", pinned, target);
  *out = steal_pointer (&target);
  return 0;
}

int
rh_stage_spec (json_t *spec, struct rh_stage *st, rh_error *err)
{
  json_t *root = json_object_get (spec, "root");
  json_t *rp = json_object_get (root, "path");
  json_t *mounts = json_object_get (spec, "mounts");
  json_t *m;
  size_t i;

  /* The root is checked again here, exactly as pinned, but not moved: the current runsc keeps
   * its overlay's file store in the root directory and removes it at `delete`, from the host's
   * mount namespace, by root.path. (containerd, docker and nerdctl give a root that only root
   * can write anyway: <bundle>/rootfs, or their own snapshot directories.) */
  if (json_is_string (rp))
    {
      int fd = open_exact (json_string_value (rp), err);
      if (fd == -1)
        return rh_error_prefix (err, "root.path");
      if (fd == -2)
        {
          rh_log_warn (st->log, "this kernel has no openat2: root.path and bind sources are pinned but not staged");
          return 0;
        }
      close (fd);
    }
  json_array_foreach (mounts, i, m)
    {
      json_t *src = json_object_get (m, "source");
      const char *type = json_string_value (json_object_get (m, "type"));
      _cleanup_free_ char *out = NULL;
      _cleanup_free_ char *name = NULL;
      int r;

      /* Binds, and mounts with no type (judged as binds by the rewrite). */
      if (!json_is_string (src) || json_string_value (src)[0] != '/'
          || !(rh_mount_is_bind (m) || type == NULL || type[0] == '\0'))
        continue;
      /* The gate's per-sandbox directory is ours (root's, under the state dir) and is made after
       * the rewrite: nothing to stage. */
      if (st->policy && rh_gate_is_own_mount (st->policy, st->container_id, json_string_value (src),
                                              json_string_value (json_object_get (m, "destination"))))
        continue;
      name = rh_xasprintf ("m%zu", i);
      r = stage_one (st, json_string_value (src), name, &out, err);
      if (r < 0)
        return rh_error_prefix (err, "mounts[%zu]", i);
      if (r > 0)
        {
          rh_log_warn (st->log, "this kernel has no openat2: bind sources are pinned but not staged");
          return 0;
        }
      json_object_set_new (m, "source", json_string (out));
    }
  return 0;
}
