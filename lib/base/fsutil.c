#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
/* SHA256_Init/Update/Final are "deprecated" in OpenSSL 3 in favour of EVP, but EVP's first
 * call sets up providers and name tables: ~0.8 ms of CPU and 2.3 MiB of RSS on every runsc-host
 * and hook start (bench/ measured it), to hash a few KiB. The low-level API costs ~15 us. */
#define OPENSSL_API_COMPAT 0x10100000L
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

int
rh_read_fd_capped (int fd, size_t max, char **out, size_t *len, rh_error *err)
{
  size_t cap = 4096, used = 0;
  _cleanup_free_ char *buf = rh_xmalloc0 (cap + 1);

  for (;;)
    {
      ssize_t r;
      if (used == cap)
        {
          if (cap > max)
            break;
          cap *= 2;
          buf = rh_xrealloc (buf, cap + 1);
        }
      r = read (fd, buf + used, cap - used);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return rh_error_sys (err, errno, "read");
      if (r == 0)
        break;
      used += (size_t) r;
      if (used > max)
        return rh_error_set (err, EFBIG, "input larger than %zu bytes", max);
    }
  if (used > max)
    return rh_error_set (err, EFBIG, "input larger than %zu bytes", max);
  buf[used] = '\0';
  if (len)
    *len = used;
  *out = steal_pointer (&buf);
  return 0;
}

int
rh_read_file_capped (const char *path, size_t max, char **out, size_t *len, rh_error *err)
{
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  struct stat st;

  if (fd < 0)
    return rh_error_sys (err, errno, "open %s", path);
  if (fstat (fd, &st) < 0)
    return rh_error_sys (err, errno, "stat %s", path);
  if (!S_ISREG (st.st_mode))
    return rh_error_set (err, EINVAL, "%s is not a regular file", path);
  if ((size_t) st.st_size > max)
    return rh_error_set (err, EFBIG, "%s is larger than %zu bytes", path, max);
  if (rh_read_fd_capped (fd, max, out, len, err) < 0)
    return rh_error_prefix (err, "%s", path);
  return 0;
}

int
rh_write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0)
    {
      ssize_t w = write (fd, p, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return -1;
      if (w == 0)
        {
          errno = EIO;
          return -1;
        }
      p += w;
      len -= (size_t) w;
    }
  return 0;
}

int
rh_write_file_atomic (const char *path, const void *data, size_t len, mode_t mode, rh_error *err)
{
  _cleanup_free_ char *dircopy = rh_xstrdup (path);
  _cleanup_free_ char *tmpl = rh_xasprintf ("%s.rh-XXXXXX", path);
  _cleanup_close_ int fd = -1;
  _cleanup_close_ int dfd = -1;
  const char *p = data;
  size_t left = len;
  const char *dir = dirname (dircopy);

  fd = mkostemp (tmpl, O_CLOEXEC);
  if (fd < 0)
    return rh_error_sys (err, errno, "create temporary file beside %s", path);
  if (rh_write_all (fd, p, left) < 0)
    goto fail;
  if (fchmod (fd, mode) < 0 || fsync (fd) < 0)
    goto fail;
  if (rename (tmpl, path) < 0)
    goto fail;
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    fsync (dfd); /* best effort: the rename itself already happened */
  return 0;

fail:
  {
    int saved = errno;
    unlink (tmpl);
    return rh_error_sys (err, saved, "write %s", path);
  }
}

int
rh_write_file_atomic_at (int dirfd, const char *name, const void *data, size_t len, mode_t mode, rh_error *err)
{
  _cleanup_close_ int fd = -1;
  _cleanup_free_ char *tmp = NULL;

  for (int tries = 0; fd < 0; tries++)
    {
      unsigned char rnd[6];
      if (getentropy (rnd, sizeof rnd) < 0)
        return rh_error_sys (err, errno, "getentropy");
      free (tmp);
      tmp = rh_xasprintf (".%s.rh-%02x%02x%02x%02x%02x%02x", name, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
      fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
      if (fd < 0 && (errno != EEXIST || tries > 16))
        return rh_error_sys (err, errno, "create temporary file beside %s", name);
    }
  /* The mode is ours, not the umask's nor the original's. */
  if (rh_write_all (fd, data, len) < 0 || fchmod (fd, mode) < 0 || fsync (fd) < 0
      || renameat (dirfd, tmp, dirfd, name) < 0)
    {
      int saved = errno;
      unlinkat (dirfd, tmp, 0);
      return rh_error_sys (err, saved, "write %s", name);
    }
  fsync (dirfd); /* best effort: the rename itself already happened */
  return 0;
}

void
rh_sweep_atomic_temps_at (int dirfd, const char *name)
{
  _cleanup_free_ char *prefix = rh_xasprintf (".%s.rh-", name);
  size_t plen = strlen (prefix);
  int fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *de;

  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return;
    }
  while ((de = readdir (d)) != NULL)
    /* Exactly our temp names (12 hex digits after the prefix), regular files only. */
    if (strncmp (de->d_name, prefix, plen) == 0 && strlen (de->d_name + plen) == 12
        && strspn (de->d_name + plen, "0123456789abcdef") == 12 && (de->d_type == DT_REG || de->d_type == DT_UNKNOWN))
      unlinkat (dirfd, de->d_name, 0);
  closedir (d);
}

int
rh_read_file_at_capped (int dirfd, const char *name, size_t max, char **out, size_t *len, struct stat *st,
                        rh_error *err)
{
  _cleanup_close_ int fd = openat (dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  struct stat local;

  if (st == NULL)
    st = &local;
  if (fd < 0 && errno == ELOOP)
    return rh_error_set (err, ELOOP, "%s: not a regular file (a symlink)", name);
  if (fd < 0)
    return rh_error_sys (err, errno, "open %s", name);
  if (fstat (fd, st) < 0)
    return rh_error_sys (err, errno, "stat %s", name);
  if (!S_ISREG (st->st_mode))
    return rh_error_set (err, EINVAL, "%s: not a regular file", name);
  if ((size_t) st->st_size > max)
    return rh_error_set (err, EFBIG, "%s is larger than %zu bytes", name, max);
  if (rh_read_fd_capped (fd, max, out, len, err) < 0)
    return rh_error_prefix (err, "%s", name);
  return 0;
}

void
rh_sha256_hex (const void *data, size_t len, char out[65])
{
  unsigned char md[SHA256_DIGEST_LENGTH];
  static const char hex[] = "0123456789abcdef";
  SHA256_CTX c;

  if (SHA256_Init (&c) != 1 || SHA256_Update (&c, data, len) != 1 || SHA256_Final (md, &c) != 1)
    abort ();
  for (unsigned i = 0; i < SHA256_DIGEST_LENGTH; i++)
    {
      out[2 * i] = hex[md[i] >> 4];
      out[2 * i + 1] = hex[md[i] & 0xf];
    }
  out[64] = '\0';
}

int
rh_mkdir_p (const char *path, mode_t mode, rh_error *err)
{
  _cleanup_free_ char *copy = rh_xstrdup (path);

  for (char *p = copy + 1; *p; p++)
    {
      if (*p != '/')
        continue;
      *p = '\0';
      if (mkdir (copy, mode) < 0 && errno != EEXIST)
        return rh_error_sys (err, errno, "mkdir %s", copy);
      *p = '/';
    }
  if (mkdir (copy, mode) < 0 && errno != EEXIST)
    return rh_error_sys (err, errno, "mkdir %s", copy);
  return 0;
}
