/* [gokeys] The key-spelling check (see spec_keys.h and docs/rewrite.md, "Key spellings").
 *
 * The tables below give the shape of the OCI runtime-spec Go structs (specs-go/config.go),
 * the union of versions 1.0 to 1.3: a field named only in a newer version costs nothing (Go
 * ignores a key for a field its struct lacks, so refusing a twin of it only refuses a key that
 * no runtime-spec client writes). Field names are the json tags, exactly. */
#include "spec_keys.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- Go's key folding ---- */

/* The ASCII letter that the non-ASCII character at k (left bytes remain) folds to under Go's
 * encoding/json, stored in *out; returns its length in bytes, or 0 when it folds to no ASCII
 * letter. Before Go 1.21 the decoder used bytes.EqualFold-style simple folding, under which only
 * LONG S and KELVIN SIGN reach ASCII; since 1.21 it compares unicode.ToUpper(unicode.ToLower(r)),
 * which also sends both Turkish I's to 'I'. */
static size_t
fold_rune (const unsigned char *k, size_t left, char *out)
{
  if (left >= 2 && k[0] == 0xc5 && k[1] == 0xbf) /* U+017F LATIN SMALL LETTER LONG S */
    return *out = 's', 2;
  if (left >= 2 && k[0] == 0xc4 && (k[1] == 0xb0 || k[1] == 0xb1)) /* U+0130, U+0131 */
    return *out = 'i', 2;
  if (left >= 3 && k[0] == 0xe2 && k[1] == 0x84 && k[2] == 0xaa) /* U+212A KELVIN SIGN */
    return *out = 'k', 3;
  return 0;
}

static char
ascii_lower (char c)
{
  return c >= 'A' && c <= 'Z' ? (char) (c | 0x20) : c;
}

bool
rh_go_key_folds_to (const char *key, size_t key_len, const char *field)
{
  const unsigned char *k = (const unsigned char *) key;
  size_t i = 0;

  for (const char *f = field; *f; f++)
    {
      char got;
      if (i >= key_len)
        return false;
      if (k[i] < 0x80)
        got = ascii_lower ((char) k[i++]);
      else
        {
          size_t n = fold_rune (k + i, key_len - i, &got);
          if (n == 0)
            return false;
          i += n;
        }
      if (got != ascii_lower (*f))
        return false;
    }
  return i == key_len;
}

/* The first non-ASCII character of s (valid UTF-8: jansson checked it), or 0. */
static unsigned
first_non_ascii (const char *s, char *folds_to)
{
  const unsigned char *p = (const unsigned char *) s;

  *folds_to = 0;
  for (; *p; p++)
    {
      unsigned cp;
      if (*p < 0x80)
        continue;
      fold_rune (p, strlen ((const char *) p), folds_to);
      if ((*p & 0xe0) == 0xc0 && p[1])
        cp = ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu);
      else if ((*p & 0xf0) == 0xe0 && p[1] && p[2])
        cp = ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
      else if ((*p & 0xf8) == 0xf0 && p[1] && p[2] && p[3])
        cp = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) | ((p[2] & 0x3fu) << 6) | (p[3] & 0x3fu);
      else
        cp = 0xfffd;
      return cp;
    }
  return 0;
}

/* ---- the shape of the spec ---- */

enum shape
{
  LEAF,     /* a scalar, a list of scalars, a map of strings, or free-form: not looked into */
  STRUCT,   /* an object decoded into a struct */
  LIST,     /* a list of such objects */
  MAP,      /* an object with free-form keys whose values are such objects */
};

struct field
{
  const char *name;
  enum shape shape;
  const struct field *sub;
};

#define F(n) { n, LEAF, NULL }
#define S(n, t) { n, STRUCT, t }
#define L(n, t) { n, LIST, t }
#define M(n, t) { n, MAP, t }
#define END { NULL, LEAF, NULL }

static const struct field id_mapping[] = { F ("containerID"), F ("hostID"), F ("size"), END };
static const struct field box[] = { F ("height"), F ("width"), END };
static const struct field user[] = {
  F ("uid"), F ("gid"), F ("umask"), F ("additionalGids"), F ("username"), END,
};
static const struct field capabilities[] = {
  F ("bounding"), F ("effective"), F ("inheritable"), F ("permitted"), F ("ambient"), END,
};
static const struct field rlimit[] = { F ("type"), F ("hard"), F ("soft"), END };
static const struct field scheduler[] = {
  F ("policy"), F ("nice"), F ("priority"), F ("flags"), F ("runtime"), F ("deadline"), F ("period"), END,
};
static const struct field io_priority[] = { F ("class"), F ("priority"), END };
static const struct field cpu_affinity[] = { F ("initial"), F ("final"), END };
static const struct field process[] = {
  F ("terminal"), S ("consoleSize", box), S ("user", user), F ("args"), F ("commandLine"), F ("env"), F ("cwd"),
  S ("capabilities", capabilities), L ("rlimits", rlimit), F ("noNewPrivileges"), F ("apparmorProfile"),
  F ("oomScoreAdj"), S ("scheduler", scheduler), F ("selinuxLabel"), S ("ioPriority", io_priority),
  S ("execCPUAffinity", cpu_affinity), END,
};
static const struct field root[] = { F ("path"), F ("readonly"), END };
static const struct field mount_entry[] = {
  F ("destination"), F ("type"), F ("source"), F ("options"), L ("uidMappings", id_mapping),
  L ("gidMappings", id_mapping), END,
};
static const struct field hook[] = { F ("path"), F ("args"), F ("env"), F ("timeout"), END };
static const struct field hooks[] = {
  L ("prestart", hook), L ("createRuntime", hook), L ("createContainer", hook), L ("startContainer", hook),
  L ("poststart", hook), L ("poststop", hook), END,
};
static const struct field namespace[] = { F ("type"), F ("path"), END };
static const struct field device[] = {
  F ("path"), F ("type"), F ("major"), F ("minor"), F ("fileMode"), F ("uid"), F ("gid"), END,
};
static const struct field device_rule[] = { F ("allow"), F ("type"), F ("major"), F ("minor"), F ("access"), END };
static const struct field memory[] = {
  F ("limit"), F ("reservation"), F ("swap"), F ("kernel"), F ("kernelTCP"), F ("swappiness"),
  F ("disableOOMKiller"), F ("useHierarchy"), F ("checkBeforeUpdate"), END,
};
static const struct field cpu[] = {
  F ("shares"), F ("quota"), F ("burst"), F ("period"), F ("realtimeRuntime"), F ("realtimePeriod"), F ("cpus"),
  F ("mems"), F ("idle"), END,
};
static const struct field pids[] = { F ("limit"), END };
/* LinuxWeightDevice and LinuxThrottleDevice embed LinuxBlockIODevice: Go promotes its fields. */
static const struct field weight_device[] = { F ("major"), F ("minor"), F ("weight"), F ("leafWeight"), END };
static const struct field throttle_device[] = { F ("major"), F ("minor"), F ("rate"), END };
static const struct field block_io[] = {
  F ("weight"), F ("leafWeight"), L ("weightDevice", weight_device), L ("throttleReadBpsDevice", throttle_device),
  L ("throttleWriteBpsDevice", throttle_device), L ("throttleReadIOPSDevice", throttle_device),
  L ("throttleWriteIOPSDevice", throttle_device), END,
};
static const struct field hugepage[] = { F ("pageSize"), F ("limit"), END };
static const struct field if_priority[] = { F ("name"), F ("priority"), END };
static const struct field network[] = { F ("classID"), L ("priorities", if_priority), END };
static const struct field rdma[] = { F ("hcaHandles"), F ("hcaObjects"), END };
static const struct field resources[] = {
  L ("devices", device_rule), S ("memory", memory), S ("cpu", cpu), S ("pids", pids), S ("blockIO", block_io),
  L ("hugepageLimits", hugepage), S ("network", network), M ("rdma", rdma), F ("unified"), END,
};
static const struct field seccomp_arg[] = { F ("index"), F ("value"), F ("valueTwo"), F ("op"), END };
static const struct field syscall_rule[] = {
  F ("names"), F ("action"), F ("errnoRet"), L ("args", seccomp_arg), END,
};
static const struct field seccomp[] = {
  F ("defaultAction"), F ("defaultErrnoRet"), F ("architectures"), F ("flags"), F ("listenerPath"),
  F ("listenerMetadata"), L ("syscalls", syscall_rule), END,
};
static const struct field intel_rdt[] = {
  F ("closID"), F ("schemata"), F ("l3CacheSchema"), F ("memBwSchema"), F ("enableCMT"), F ("enableMBM"),
  F ("enableMonitoring"), END,
};
static const struct field personality[] = { F ("domain"), F ("flags"), END };
static const struct field time_offset[] = { F ("secs"), F ("nanosecs"), END };
static const struct field net_device[] = { F ("name"), END };
static const struct field memory_policy[] = { F ("mode"), F ("nodes"), F ("flags"), END };
static const struct field lnx[] = {
  L ("uidMappings", id_mapping), L ("gidMappings", id_mapping), F ("sysctl"), S ("resources", resources),
  F ("cgroupsPath"), L ("namespaces", namespace), L ("devices", device), S ("seccomp", seccomp),
  F ("rootfsPropagation"), F ("maskedPaths"), F ("readonlyPaths"), F ("mountLabel"), S ("intelRdt", intel_rdt),
  S ("personality", personality), M ("timeOffsets", time_offset), M ("netDevices", net_device),
  S ("memoryPolicy", memory_policy), END,
};

/* Sections runsc does not use. They are still checked: nothing is lost by it, and a runsc that
 * some day reads one of them finds it already clean. */
static const struct field solaris_anet[] = {
  F ("linkname"), F ("lowerLink"), F ("allowedAddress"), F ("configureAllowedAddress"), F ("defrouter"),
  F ("linkProtection"), F ("macAddress"), END,
};
static const struct field solaris_cpu[] = { F ("ncpus"), END };
static const struct field solaris_memory[] = { F ("physical"), F ("swap"), END };
static const struct field solaris[] = {
  F ("milestone"), F ("limitpriv"), F ("maxShmMemory"), L ("anet", solaris_anet), S ("cappedCPU", solaris_cpu),
  S ("cappedMemory", solaris_memory), END,
};
static const struct field win_device[] = { F ("id"), F ("idType"), END };
static const struct field win_memory[] = { F ("limit"), END };
static const struct field win_cpu[] = { F ("count"), F ("shares"), F ("maximum"), END };
static const struct field win_storage[] = { F ("iops"), F ("bps"), F ("sandboxSize"), END };
static const struct field win_resources[] = {
  S ("memory", win_memory), S ("cpu", win_cpu), S ("storage", win_storage), END,
};
static const struct field win_hyperv[] = { F ("utilityVMPath"), END };
static const struct field win_network[] = {
  F ("endpointList"), F ("allowUnqualifiedDNSQuery"), F ("DNSSearchList"), F ("networkSharedContainerName"),
  F ("networkNamespace"), END,
};
/* credentialSpec is an interface{}: free-form. */
static const struct field windows[] = {
  F ("layerFolders"), L ("devices", win_device), S ("resources", win_resources), F ("credentialSpec"),
  F ("servicing"), F ("ignoreFlushesDuringBoot"), S ("hyperv", win_hyperv), S ("network", win_network), END,
};
static const struct field vm_hypervisor[] = { F ("path"), F ("parameters"), END };
static const struct field vm_kernel[] = { F ("path"), F ("parameters"), F ("initrd"), END };
static const struct field vm_image[] = { F ("path"), F ("format"), END };
static const struct field vm[] = {
  S ("hypervisor", vm_hypervisor), S ("kernel", vm_kernel), S ("image", vm_image), END,
};
static const struct field zos[] = { L ("devices", device), END };

static const struct field spec[] = {
  F ("ociVersion"), S ("process", process), S ("root", root), F ("hostname"), F ("domainname"),
  L ("mounts", mount_entry), S ("hooks", hooks), F ("annotations"), S ("linux", lnx), S ("solaris", solaris),
  S ("windows", windows), S ("vm", vm), S ("zos", zos), END,
};

/* ---- where a key is, for the error ---- */

/* One step of the path from the root: a key (name) or a list index. Lives on the stack of the
 * walk; the path is only rendered when there is an error to report. */
struct step
{
  const struct step *up;
  const char *name; /* NULL for an index */
  size_t index;
};

struct text
{
  char buf[768];
  size_t len;
};

static void
text_add (struct text *t, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
text_add (struct text *t, const char *fmt, ...)
{
  va_list ap;
  int n;

  if (t->len >= sizeof t->buf - 1)
    return;
  va_start (ap, fmt);
  n = vsnprintf (t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
  va_end (ap);
  if (n > 0)
    t->len += (size_t) n < sizeof t->buf - t->len ? (size_t) n : sizeof t->buf - 1 - t->len;
}

/* A key as the user may read it: control characters escaped, at most 64 characters (a hostile
 * key can be megabytes long). Non-ASCII is kept: it is what the user has to find. */
static void
text_add_key (struct text *t, const char *key)
{
  size_t chars = 0;

  for (const unsigned char *p = (const unsigned char *) key; *p; p++)
    {
      if ((*p & 0xc0) != 0x80 && ++chars > 64)
        {
          text_add (t, "...");
          return;
        }
      if (*p < 0x20 || *p == 0x7f)
        text_add (t, "\\u%04x", *p);
      else
        text_add (t, "%c", *p);
    }
}

static void
text_add_path (struct text *t, const char *top, const struct step *s)
{
  if (s == NULL)
    {
      text_add (t, "%s", top);
      return;
    }
  text_add_path (t, top, s->up);
  if (s->name)
    {
      text_add (t, ".");
      text_add_key (t, s->name);
    }
  else
    text_add (t, "[%zu]", s->index);
}

/* key (found at path up) is refused: Go would read it as field (NULL: as no field, but it is
 * not ASCII). */
static int
refuse (const char *top, const struct step *up, const char *key, const char *field, rh_error *err)
{
  struct step here = { up, key, 0 };
  struct text t = { .len = 0 };
  char folds_to;
  unsigned cp = first_non_ascii (key, &folds_to);

  t.buf[0] = '\0';
  text_add_path (&t, top, &here);
  if (field == NULL)
    return rh_error_set (err, EINVAL, "%s: refused: the key has the non-ASCII character U+%04X; every OCI field "
                                      "name is ASCII, and runsc matches keys with Unicode case folding",
                         t.buf, cp);
  if (cp != 0 && folds_to != 0)
    return rh_error_set (err, EINVAL, "%s: refused: runsc would read this key as \"%s\" (it matches keys "
                                      "case-insensitively, and U+%04X as '%c'); spell it \"%s\"",
                         t.buf, field, cp, folds_to, field);
  return rh_error_set (err, EINVAL, "%s: refused: runsc would read this key as \"%s\" (it matches keys "
                                    "case-insensitively); spell it \"%s\"",
                       t.buf, field, field);
}

/* ---- the walk ---- */

static bool
is_ascii (const char *s)
{
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    if (*p >= 0x80)
      return false;
  return true;
}

/* Check obj, decoded by Go into a struct with fields, and what it holds. The depth is that of
 * the tables (at most 6), whatever the input's nesting. Values of the wrong JSON type are left
 * to the modifiers that read them (and to runsc, which refuses them). */
static int
check_struct (json_t *obj, const struct field *fields, const char *top, const struct step *at, rh_error *err)
{
  const char *key;
  json_t *val;

  json_object_foreach (obj, key, val)
    {
      const struct field *f;
      struct step here = { at, key, 0 };

      /* Exact spellings first: the usual case, and the only one a clean spec has. */
      for (f = fields; f->name; f++)
        if (strcmp (key, f->name) == 0)
          break;
      if (f->name == NULL)
        {
          size_t len = strlen (key); /* jansson refuses NUL in keys: this is the whole key */
          /* Not a field by its exact name. Go either reads it as one (refused: it is a twin or
           * a misspelling that our modifiers would not see) or ignores it. */
          for (f = fields; f->name; f++)
            if (rh_go_key_folds_to (key, len, f->name))
              return refuse (top, at, key, f->name, err);
          if (!is_ascii (key))
            return refuse (top, at, key, NULL, err);
          continue;
        }
      switch (f->shape)
        {
        case LEAF:
          break;
        case STRUCT:
          if (json_is_object (val) && check_struct (val, f->sub, top, &here, err) < 0)
            return -1;
          break;
        case LIST:
          for (size_t i = 0; json_is_array (val) && i < json_array_size (val); i++)
            {
              json_t *e = json_array_get (val, i);
              struct step idx = { &here, NULL, i };
              if (json_is_object (e) && check_struct (e, f->sub, top, &idx, err) < 0)
                return -1;
            }
          break;
        case MAP:
          if (json_is_object (val))
            {
              const char *mkey;
              json_t *mval;
              json_object_foreach (val, mkey, mval)
                {
                  struct step entry = { &here, mkey, 0 };
                  if (json_is_object (mval) && check_struct (mval, f->sub, top, &entry, err) < 0)
                    return -1;
                }
            }
          break;
        }
    }
  return 0;
}

int
rh_spec_check_keys (json_t *spec_obj, rh_error *err)
{
  if (!json_is_object (spec_obj))
    return rh_error_set (err, EINVAL, "spec: expected a JSON object");
  return check_struct (spec_obj, spec, "spec", NULL, err);
}

int
rh_spec_check_process_keys (json_t *process_obj, rh_error *err)
{
  if (!json_is_object (process_obj))
    return rh_error_set (err, EINVAL, "process: expected an object");
  return check_struct (process_obj, process, "process", NULL, err);
}

int
rh_json_check_go_keys (json_t *obj, const char *where, const char *const *fields, rh_error *err)
{
  const char *key;
  json_t *value;

  json_object_foreach (obj, key, value)
    {
      size_t len = strlen (key);
      for (const char *const *f = fields; *f; f++)
        if (strcmp (key, *f) != 0 && rh_go_key_folds_to (key, len, *f))
          {
            /* Same wording as the whole-spec check: rendered from where as a root. */
            return refuse (where, NULL, key, *f, err);
          }
    }
  return 0;
}
