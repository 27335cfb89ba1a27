/* `runsc-host spec`: runc 1.1's starter spec, byte for byte as `runc spec` writes it (tabs, no
 * trailing newline), so that runc's own test suite and every tutorial that starts with
 * `runc spec` get the bundle they expect: a terminal, /dev/pts, /dev/shm, masked and read-only
 * /proc paths, a network namespace (which the rewrite removes at create: host networking).
 * runsc's own `spec` prints a different starter (no terminal, no devpts), whose containers exit
 * at once under runc's tests.
 *
 * Like runc: config.json is written into the bundle (--bundle, else the current directory) and
 * never over an existing one ("File config.json exists. Remove it first"). --rootless is refused
 * by the flag table (cli.c): runsc-host runs sandboxes as root only. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cmd_spec.h"
#include "fsutil.h"
#include "util.h"

static const char spec_template[] =
  "{\n"
  "	\"ociVersion\": \"1.0.2-dev\",\n"
  "	\"process\": {\n"
  "		\"terminal\": true,\n"
  "		\"user\": {\n"
  "			\"uid\": 0,\n"
  "			\"gid\": 0\n"
  "		},\n"
  "		\"args\": [\n"
  "			\"sh\"\n"
  "		],\n"
  "		\"env\": [\n"
  "			\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
  "			\"TERM=xterm\"\n"
  "		],\n"
  "		\"cwd\": \"/\",\n"
  "		\"capabilities\": {\n"
  "			\"bounding\": [\n"
  "				\"CAP_AUDIT_WRITE\",\n"
  "				\"CAP_KILL\",\n"
  "				\"CAP_NET_BIND_SERVICE\"\n"
  "			],\n"
  "			\"effective\": [\n"
  "				\"CAP_AUDIT_WRITE\",\n"
  "				\"CAP_KILL\",\n"
  "				\"CAP_NET_BIND_SERVICE\"\n"
  "			],\n"
  "			\"permitted\": [\n"
  "				\"CAP_AUDIT_WRITE\",\n"
  "				\"CAP_KILL\",\n"
  "				\"CAP_NET_BIND_SERVICE\"\n"
  "			],\n"
  "			\"ambient\": [\n"
  "				\"CAP_AUDIT_WRITE\",\n"
  "				\"CAP_KILL\",\n"
  "				\"CAP_NET_BIND_SERVICE\"\n"
  "			]\n"
  "		},\n"
  "		\"rlimits\": [\n"
  "			{\n"
  "				\"type\": \"RLIMIT_NOFILE\",\n"
  "				\"hard\": 1024,\n"
  "				\"soft\": 1024\n"
  "			}\n"
  "		],\n"
  "		\"noNewPrivileges\": true\n"
  "	},\n"
  "	\"root\": {\n"
  "		\"path\": \"rootfs\",\n"
  "		\"readonly\": true\n"
  "	},\n"
  "	\"hostname\": \"runc\",\n"
  "	\"mounts\": [\n"
  "		{\n"
  "			\"destination\": \"/proc\",\n"
  "			\"type\": \"proc\",\n"
  "			\"source\": \"proc\"\n"
  "		},\n"
  "		{\n"
  "			\"destination\": \"/dev\",\n"
  "			\"type\": \"tmpfs\",\n"
  "			\"source\": \"tmpfs\",\n"
  "			\"options\": [\n"
  "				\"nosuid\",\n"
  "				\"strictatime\",\n"
  "				\"mode=755\",\n"
  "				\"size=65536k\"\n"
  "			]\n"
  "		},\n"
  "		{\n"
  "			\"destination\": \"/dev/pts\",\n"
  "			\"type\": \"devpts\",\n"
  "			\"source\": \"devpts\",\n"
  "			\"options\": [\n"
  "				\"nosuid\",\n"
  "				\"noexec\",\n"
  "				\"newinstance\",\n"
  "				\"ptmxmode=0666\",\n"
  "				\"mode=0620\",\n"
  "				\"gid=5\"\n"
  "			]\n"
  "		},\n"
  "		{\n"
  "			\"destination\": \"/dev/shm\",\n"
  "			\"type\": \"tmpfs\",\n"
  "			\"source\": \"shm\",\n"
  "			\"options\": [\n"
  "				\"nosuid\",\n"
  "				\"noexec\",\n"
  "				\"nodev\",\n"
  "				\"mode=1777\",\n"
  "				\"size=65536k\"\n"
  "			]\n"
  "		},\n"
  "		{\n"
  "			\"destination\": \"/dev/mqueue\",\n"
  "			\"type\": \"mqueue\",\n"
  "			\"source\": \"mqueue\",\n"
  "			\"options\": [\n"
  "				\"nosuid\",\n"
  "				\"noexec\",\n"
  "				\"nodev\"\n"
  "			]\n"
  "		},\n"
  "		{\n"
  "			\"destination\": \"/sys\",\n"
  "			\"type\": \"sysfs\",\n"
  "			\"source\": \"sysfs\",\n"
  "			\"options\": [\n"
  "				\"nosuid\",\n"
  "				\"noexec\",\n"
  "				\"nodev\",\n"
  "				\"ro\"\n"
  "			]\n"
  "		},\n"
  "		{\n"
  "			\"destination\": \"/sys/fs/cgroup\",\n"
  "			\"type\": \"cgroup\",\n"
  "			\"source\": \"cgroup\",\n"
  "			\"options\": [\n"
  "				\"nosuid\",\n"
  "				\"noexec\",\n"
  "				\"nodev\",\n"
  "				\"relatime\",\n"
  "				\"ro\"\n"
  "			]\n"
  "		}\n"
  "	],\n"
  "	\"linux\": {\n"
  "		\"resources\": {\n"
  "			\"devices\": [\n"
  "				{\n"
  "					\"allow\": false,\n"
  "					\"access\": \"rwm\"\n"
  "				}\n"
  "			]\n"
  "		},\n"
  "		\"namespaces\": [\n"
  "			{\n"
  "				\"type\": \"pid\"\n"
  "			},\n"
  "			{\n"
  "				\"type\": \"network\"\n"
  "			},\n"
  "			{\n"
  "				\"type\": \"ipc\"\n"
  "			},\n"
  "			{\n"
  "				\"type\": \"uts\"\n"
  "			},\n"
  "			{\n"
  "				\"type\": \"mount\"\n"
  "			}\n"
  "		],\n"
  "		\"maskedPaths\": [\n"
  "			\"/proc/acpi\",\n"
  "			\"/proc/asound\",\n"
  "			\"/proc/kcore\",\n"
  "			\"/proc/keys\",\n"
  "			\"/proc/latency_stats\",\n"
  "			\"/proc/timer_list\",\n"
  "			\"/proc/timer_stats\",\n"
  "			\"/proc/sched_debug\",\n"
  "			\"/sys/firmware\",\n"
  "			\"/proc/scsi\"\n"
  "		],\n"
  "		\"readonlyPaths\": [\n"
  "			\"/proc/bus\",\n"
  "			\"/proc/fs\",\n"
  "			\"/proc/irq\",\n"
  "			\"/proc/sys\",\n"
  "			\"/proc/sysrq-trigger\"\n"
  "		]\n"
  "	}\n"
  "}";

const char *
rh_spec_template (void)
{
  return spec_template;
}

int
rh_spec_template_write (const char *bundle, rh_error *err)
{
  _cleanup_free_ char *path = rh_xasprintf ("%s/config.json", bundle && *bundle ? bundle : ".");
  _cleanup_close_ int fd = -1;

  /* O_EXCL: never replace a bundle's spec, not even through a symlink planted there. */
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd < 0 && errno == EEXIST)
    return rh_error_set (err, EEXIST, "File %s exists. Remove it first", bundle && *bundle ? path : "config.json");
  if (fd < 0)
    return rh_error_sys (err, errno, "spec: create %s", path);
  if (rh_write_all (fd, spec_template, sizeof spec_template - 1) < 0)
    {
      int e = errno;
      unlink (path);
      return rh_error_sys (err, e, "spec: write %s", path);
    }
  return 0;
}
