/* Host path handling: lexical cleaning, overlap tests and the symlink resolvers.
 *
 * The resolvers share one walk (resolve_walk) that follows symlinks component by component the
 * way the kernel does for a bind mount source, so that a check made on the resolved form sees
 * the same file the mount will see. The host resolver asks lstat/readlink; the fake resolver
 * asks a JSON description of a file system (unit tests and fuzzing). */
#include "paths.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

/* Same limit as Linux (MAXSYMLINKS). */
#define RH_MAX_SYMLINKS 40

char *
rh_path_clean (const char *base, const char *path)
{
  _cleanup_free_ char *joined = NULL;
  char *out, *o;
  const char *p;

  if (path == NULL)
    path = "";
  if (path[0] != '/')
    joined = rh_xasprintf ("%s/%s", base ? base : "", path);
  else
    joined = rh_xstrdup (path);

  out = rh_xmalloc0 (strlen (joined) + 2);
  o = out;
  *o++ = '/';
  p = joined;
  while (*p)
    {
      const char *start, *end;
      size_t n;

      while (*p == '/')
        p++;
      start = p;
      while (*p && *p != '/')
        p++;
      end = p;
      n = (size_t) (end - start);
      if (n == 0 || (n == 1 && start[0] == '.'))
        continue;
      if (n == 2 && start[0] == '.' && start[1] == '.')
        {
          /* Back up to the previous '/', never above the root. */
          if (o > out + 1)
            {
              o--;
              while (o > out + 1 && o[-1] != '/')
                o--;
              if (o > out + 1)
                o--; /* drop the separator too */
            }
          continue;
        }
      if (o > out + 1)
        *o++ = '/';
      memcpy (o, start, n);
      o += n;
    }
  *o = '\0';
  return out;
}

bool
rh_path_within (const char *a, const char *b)
{
  size_t n = strlen (b);

  if (strcmp (b, "/") == 0)
    return a[0] == '/';
  if (strncmp (a, b, n) != 0)
    return false;
  return a[n] == '\0' || a[n] == '/';
}

char *
rh_path_runsc (const char *bundle, const char *written)
{
  if (written[0] == '/')
    return rh_xstrdup (written);
  return rh_path_clean (bundle ? bundle : "/", written);
}

char *
rh_resolve (const struct rh_resolver *r, const char *path, bool *missing)
{
  if (missing)
    *missing = false;
  if (r == NULL || r->resolve == NULL)
    return rh_path_clean (NULL, path);
  return r->resolve (r->data, path, missing);
}

bool
rh_path_overlaps (const char *a, const char *b)
{
  return rh_path_within (a, b) || rh_path_within (b, a);
}

void
rh_devnodes_free (struct rh_devnode *v, size_t n)
{
  if (v == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free (v[i].path);
  free (v);
}

/* ---- the shared walk ---- */

/* Look up one absolute clean path. Returns 1 and sets *target (malloc'd) when it is a symlink,
 * 0 when it exists and is not a symlink, -2 when it does not exist (or a parent is not a
 * directory: the rest is then kept lexically), -1 with errno on any other failure. */
typedef int (*lookup_fn) (void *data, const char *path, char **target);

/* Append component comp (length n) to the absolute path in *cur. */
static void
push_component (char **cur, const char *comp, size_t n)
{
  size_t len = strlen (*cur);
  bool root = len == 1;
  char *next = rh_xmalloc0 (len + n + 2);

  memcpy (next, *cur, len);
  if (!root)
    next[len++] = '/';
  memcpy (next + len, comp, n);
  next[len + n] = '\0';
  free (*cur);
  *cur = next;
}

static void
pop_component (char *cur)
{
  char *slash = strrchr (cur, '/');
  if (slash == cur)
    cur[1] = '\0';
  else if (slash)
    *slash = '\0';
}

static char *
resolve_walk (lookup_fn lookup, void *data, const char *path, bool *missing)
{
  _cleanup_free_ char *cur = rh_xstrdup ("/");
  _cleanup_free_ char *rest = NULL;
  int links = 0;

  if (path == NULL || path[0] != '/')
    {
      errno = EINVAL;
      return NULL;
    }
  if (missing)
    *missing = false;
  rest = rh_xstrdup (path);
  for (;;)
    {
      char *p = rest;
      const char *comp;
      size_t n;
      _cleanup_free_ char *cand = NULL;
      _cleanup_free_ char *target = NULL;
      int r;

      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      comp = p;
      while (*p && *p != '/')
        p++;
      n = (size_t) (p - comp);

      if (n == 1 && comp[0] == '.')
        {
          memmove (rest, p, strlen (p) + 1);
          continue;
        }
      if (n == 2 && comp[0] == '.' && comp[1] == '.')
        {
          pop_component (cur);
          memmove (rest, p, strlen (p) + 1);
          continue;
        }
      cand = rh_xstrdup (cur);
      push_component (&cand, comp, n);
      r = lookup (data, cand, &target);
      if (r < 0 && r != -2)
        return NULL;
      if (r == -2)
        {
          /* Nonexistent: nothing more to follow; keep the tail lexically. */
          _cleanup_free_ char *tail = rh_xasprintf ("%s/%s", cur, rest);
          if (missing)
            *missing = true;
          return rh_path_clean (NULL, tail);
        }
      memmove (rest, p, strlen (p) + 1);
      if (r == 0)
        {
          free (cur);
          cur = steal_pointer (&cand);
          continue;
        }
      /* A symlink: its target replaces the component, relative to the link's directory or
       * from the root when absolute. */
      if (++links > RH_MAX_SYMLINKS)
        {
          errno = ELOOP;
          return NULL;
        }
      if (target[0] == '/')
        {
          free (cur);
          cur = rh_xstrdup ("/");
        }
      {
        char *next = rh_xasprintf ("%s/%s", target, rest);
        free (rest);
        rest = next;
      }
    }
  return steal_pointer (&cur);
}

/* ---- host resolver ---- */

/* Kernel pseudo-file link texts ("socket:[123]", "pipe:[4]", "anon_inode:[eventfd]") name no
 * path: a /proc magic link showing one cannot be checked, so resolution fails closed. */
static bool
is_pseudo_target (const char *t)
{
  if (t[0] == '/')
    return false;
  return strstr (t, ":[") != NULL || rh_str_has_prefix (t, "anon_inode:");
}

static int
host_lookup (void *data, const char *path, char **target)
{
  struct stat st;
  char buf[PATH_MAX + 1];
  ssize_t n;

  if (lstat (path, &st) < 0)
    {
      if (errno == ENOENT || errno == ENOTDIR)
        return -2;
      return -1;
    }
  if (!S_ISLNK (st.st_mode))
    return 0;
  n = readlink (path, buf, sizeof buf - 1);
  if (n < 0)
    return -1;
  if (n == 0 || (size_t) n >= sizeof buf - 1)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  buf[n] = '\0';
  if (is_pseudo_target (buf))
    {
      errno = EXDEV;
      return -1;
    }
  *target = rh_xstrdup (buf);
  return 1;
}

static char *
host_resolve (void *data, const char *path, bool *missing)
{
  return resolve_walk (host_lookup, data, path, missing);
}

/* The names in one directory, read once per process: the default policy has a score of device
 * patterns, nearly all in /dev, and reading /dev once instead of once per pattern keeps the
 * rewrite's cost flat as the list grows. */
struct dir_cache
{
  char *dir;
  char **names;
  size_t n;
};

static struct dir_cache dev_cache;

static int
dir_names (const char *dir, char ***names, size_t *n)
{
  DIR *d;
  struct dirent *de;

  if (dev_cache.dir && strcmp (dev_cache.dir, dir) == 0)
    {
      *names = dev_cache.names;
      *n = dev_cache.n;
      return 0;
    }
  d = opendir (dir);
  if (d == NULL)
    {
      *names = NULL;
      *n = 0;
      return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
    }
  for (size_t i = 0; i < dev_cache.n; i++)
    free (dev_cache.names[i]);
  free (dev_cache.names);
  free (dev_cache.dir);
  memset (&dev_cache, 0, sizeof dev_cache);
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      dev_cache.names = rh_xrealloc (dev_cache.names, (dev_cache.n + 1) * sizeof *dev_cache.names);
      dev_cache.names[dev_cache.n++] = rh_xstrdup (de->d_name);
    }
  closedir (d);
  dev_cache.dir = rh_xstrdup (dir);
  *names = dev_cache.names;
  *n = dev_cache.n;
  return 0;
}

static void
devnode_push (struct rh_devnode **v, size_t *count, const char *path)
{
  struct stat st;

  if (stat (path, &st) < 0 || (!S_ISCHR (st.st_mode) && !S_ISBLK (st.st_mode)))
    return;
  *v = rh_xrealloc (*v, (*count + 1) * sizeof **v);
  (*v)[*count].path = rh_path_clean (NULL, path);
  (*v)[*count].type = S_ISCHR (st.st_mode) ? 'c' : 'b';
  (*v)[*count].major = (long) major (st.st_rdev);
  (*v)[*count].minor = (long) minor (st.st_rdev);
  (*count)++;
}

static int
host_glob_devices (void *data, const char *pattern, struct rh_devnode **out, size_t *n)
{
  struct rh_devnode *v = NULL;
  size_t count = 0;
  const char *slash = strrchr (pattern, '/');
  size_t meta = strcspn (pattern, "*?[\\");

  *out = NULL;
  *n = 0;
  if (pattern[meta] == '\0')
    {
      /* A plain path (no metacharacter). */
      devnode_push (&v, &count, pattern);
    }
  else if (slash && (size_t) (slash - pattern) < meta)
    {
      /* Metacharacters only in the last component: one directory, read once. */
      _cleanup_free_ char *dir = slash == pattern ? rh_xstrdup ("/") : rh_xasprintf ("%.*s", (int) (slash - pattern), pattern);
      char **names;
      size_t nn;
      if (dir_names (dir, &names, &nn) < 0)
        return -1;
      for (size_t i = 0; i < nn; i++)
        if (fnmatch (slash + 1, names[i], FNM_PERIOD) == 0)
          {
            _cleanup_free_ char *path = rh_xasprintf ("%s/%s", strcmp (dir, "/") == 0 ? "" : dir, names[i]);
            devnode_push (&v, &count, path);
          }
    }
  else
    {
      glob_t g;
      int r;
      memset (&g, 0, sizeof g);
      r = glob (pattern, GLOB_NOSORT, NULL, &g);
      if (r != 0 && r != GLOB_NOMATCH)
        {
          globfree (&g);
          errno = r == GLOB_NOSPACE ? ENOMEM : EIO;
          return -1;
        }
      for (size_t i = 0; r == 0 && i < g.gl_pathc; i++)
        devnode_push (&v, &count, g.gl_pathv[i]);
      globfree (&g);
    }
  *out = v;
  *n = count;
  return 0;
}

static int
host_stat_device (void *data, const char *path, char *type, long *major, long *minor)
{
  struct stat st;

  if (lstat (path, &st) < 0 || (!S_ISCHR (st.st_mode) && !S_ISBLK (st.st_mode)))
    return 0;
  *type = S_ISCHR (st.st_mode) ? 'c' : 'b';
  *major = (long) major (st.st_rdev);
  *minor = (long) minor (st.st_rdev);
  return 1;
}

static const struct rh_resolver host_resolver = {
  .resolve = host_resolve,
  .glob_devices = host_glob_devices,
  .stat_device = host_stat_device,
  .data = NULL,
};

const struct rh_resolver *
rh_host_resolver (void)
{
  return &host_resolver;
}

/* ---- fake resolver ---- */

struct fake_fs
{
  json_t *symlinks; /* {"from": "to"}, keys cleaned */
  json_t *missing;  /* ["/path"], cleaned: these and everything inside them do not exist */
  json_t *devices;  /* [{"path","type","major","minor"}] */
};

static int
fake_lookup (void *data, const char *path, char **target)
{
  struct fake_fs *fs = data;
  json_t *t = json_object_get (fs->symlinks, path);
  json_t *m;
  size_t i;

  json_array_foreach (fs->missing, i, m)
    if (rh_path_within (path, json_string_value (m)))
      return -2;
  if (t == NULL)
    return 0;
  if (is_pseudo_target (json_string_value (t)))
    {
      errno = EXDEV;
      return -1;
    }
  *target = rh_xstrdup (json_string_value (t));
  return 1;
}

static char *
fake_resolve (void *data, const char *path, bool *missing)
{
  return resolve_walk (fake_lookup, data, path, missing);
}

static int
fake_glob_devices (void *data, const char *pattern, struct rh_devnode **out, size_t *n)
{
  struct fake_fs *fs = data;
  size_t i, count = 0;
  json_t *d;
  struct rh_devnode *v = rh_xmalloc0 ((json_array_size (fs->devices) + 1) * sizeof *v);

  json_array_foreach (fs->devices, i, d)
    {
      const char *p = json_string_value (json_object_get (d, "path"));
      if (fnmatch (pattern, p, FNM_PATHNAME) != 0)
        continue;
      v[count].path = rh_xstrdup (p);
      v[count].type = json_string_value (json_object_get (d, "type"))[0];
      v[count].major = (long) json_integer_value (json_object_get (d, "major"));
      v[count].minor = (long) json_integer_value (json_object_get (d, "minor"));
      count++;
    }
  *out = v;
  *n = count;
  return 0;
}

static int
fake_stat_device (void *data, const char *path, char *type, long *major, long *minor)
{
  struct fake_fs *fs = data;
  size_t i;
  json_t *d;

  json_array_foreach (fs->devices, i, d)
    if (strcmp (json_string_value (json_object_get (d, "path")), path) == 0)
      {
        *type = json_string_value (json_object_get (d, "type"))[0];
        *major = (long) json_integer_value (json_object_get (d, "major"));
        *minor = (long) json_integer_value (json_object_get (d, "minor"));
        return 1;
      }
  return 0;
}

struct rh_resolver *
rh_fake_resolver_new (json_t *desc, rh_error *err)
{
  _cleanup_json_ json_t *symlinks = json_object ();
  _cleanup_json_ json_t *devices = json_array ();
  _cleanup_json_ json_t *missing = json_array ();
  json_t *ms = desc ? json_object_get (desc, "missing") : NULL;
  json_t *sl = desc ? json_object_get (desc, "symlinks") : NULL;
  json_t *dv = desc ? json_object_get (desc, "devices") : NULL;
  const char *key;
  json_t *val;
  size_t i;
  struct fake_fs *fs;
  struct rh_resolver *r;

  if (desc != NULL && !json_is_object (desc))
    return rh_error_set (err, EINVAL, "fake fs: expected an object"), NULL;
  if (sl != NULL && !json_is_object (sl))
    return rh_error_set (err, EINVAL, "fake fs: symlinks: expected an object"), NULL;
  if (dv != NULL && !json_is_array (dv))
    return rh_error_set (err, EINVAL, "fake fs: devices: expected an array"), NULL;
  if (ms != NULL && !json_is_array (ms))
    return rh_error_set (err, EINVAL, "fake fs: missing: expected an array"), NULL;
  json_array_foreach (ms, i, val)
    {
      if (!json_is_string (val) || json_string_value (val)[0] != '/')
        return rh_error_set (err, EINVAL, "fake fs: missing[%zu]: expected an absolute path", i), NULL;
      _cleanup_free_ char *clean = rh_path_clean (NULL, json_string_value (val));
      json_array_append_new (missing, json_string (clean));
    }
  json_object_foreach (sl, key, val)
    {
      _cleanup_free_ char *from = NULL;
      if (key[0] != '/' || !json_is_string (val) || json_string_value (val)[0] == '\0')
        return rh_error_set (err, EINVAL, "fake fs: symlink %s: expected absolute path -> non-empty target",
                             key),
               NULL;
      from = rh_path_clean (NULL, key);
      json_object_set (symlinks, from, val);
    }
  json_array_foreach (dv, i, val)
    {
      json_t *p = json_object_get (val, "path");
      json_t *t = json_object_get (val, "type");
      if (!json_is_string (p) || json_string_value (p)[0] != '/' || !json_is_string (t)
          || (strcmp (json_string_value (t), "c") != 0 && strcmp (json_string_value (t), "b") != 0)
          || !json_is_integer (json_object_get (val, "major"))
          || !json_is_integer (json_object_get (val, "minor")))
        return rh_error_set (err, EINVAL, "fake fs: devices[%zu]: expected {path, type c|b, major, minor}", i),
               NULL;
      json_array_append (devices, val);
    }
  fs = rh_xmalloc0 (sizeof *fs);
  fs->symlinks = steal_pointer (&symlinks);
  fs->devices = steal_pointer (&devices);
  fs->missing = steal_pointer (&missing);
  r = rh_xmalloc0 (sizeof *r);
  r->resolve = fake_resolve;
  r->glob_devices = fake_glob_devices;
  r->stat_device = fake_stat_device;
  r->data = fs;
  return r;
}

void
rh_fake_resolver_free (struct rh_resolver *r)
{
  struct fake_fs *fs;

  if (r == NULL)
    return;
  fs = r->data;
  if (fs)
    {
      json_decref (fs->symlinks);
      json_decref (fs->devices);
      json_decref (fs->missing);
      free (fs);
    }
  free (r);
}
