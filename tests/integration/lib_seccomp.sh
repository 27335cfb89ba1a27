# shellcheck shell=bash
# tests/integration/lib_seccomp.sh — helpers for seccomp.bats (load after lib.sh).
#
#   rh_seccomp_probe_build    Compile (static, once per run) $RH_TMP/probe/probe: a small program
#                             that makes one system call and prints what came back, for what
#                             busybox cannot show (select, threads, AF_PACKET). Mount it into a
#                             container with --mount "$RH_SECCOMP_PROBE_MOUNT_OPT" (read-only at
#                             /probe).
#                             Usage inside: /probe/probe select | thread | socket FAMILY TYPE PROTO
#                             Prints "<what>=ok" or "<what>=ERRNO_NAME", exits 0.
#   rh_seccomp_caps HEX       Names of the capabilities set in a /proc/PID/status Cap* value.
#   rh_seccomp_cap_line TEXT FIELD  The hex value of FIELD (CapEff...) in status TEXT.
#   rh_seccomp_tpm_node       Make /dev/tpmrm0 (a char node with /dev/null's numbers, 1:3) unless
#                             it exists; pushes its removal. Sets RH_SECCOMP_TPM_CREATED=1 when
#                             it made it.
#   rh_seccomp_tpm_remove     Remove the node made by rh_seccomp_tpm_node (only that one).
#   rh_runsc_is_2022          True when $RH_RUNSC is a runsc of 2022 (Debian's 2022-12-19): the
#                             build whose exec'd processes get no seccomp filter. Any other
#                             (the pinned current one, README "Versions") is expected to filter.

rh_seccomp_probe_build ()
{
  local d=$RH_TMP/probe
  [[ -x $d/probe ]] && return 0
  command -v gcc >/dev/null 2>&1 || rh_die "gcc is needed to build the seccomp probe" || return 1
  mkdir -p "$d"
  cat >"$d/probe.c" <<'EOF'
/* One system call, its result by name: what runsc's seccomp filter let through. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

static void *nothing (void *a) { return a; }

static int
report (const char *what, int err)
{
  printf ("%s=%s\n", what, err == 0 ? "ok" : strerrorname_np (err));
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "select") == 0)
    {
      struct timeval tv = { 0, 1000 };
      return report ("select", select (0, NULL, NULL, NULL, &tv) < 0 ? errno : 0);
    }
  if (argc >= 2 && strcmp (argv[1], "thread") == 0)
    {
      pthread_t t;
      int r = pthread_create (&t, NULL, nothing, NULL);
      if (r == 0)
        pthread_join (t, NULL);
      return report ("thread", r);
    }
  if (argc >= 5 && strcmp (argv[1], "socket") == 0)
    {
      int fd = socket (atoi (argv[2]), atoi (argv[3]), atoi (argv[4]));
      return report ("socket", fd < 0 ? errno : 0);
    }
  fprintf (stderr, "usage: probe select|thread|socket FAMILY TYPE PROTO\n");
  return 2;
}
EOF
  gcc -static -O1 -pthread -o "$d/probe" "$d/probe.c" || rh_die "cannot build the seccomp probe" || return 1
  export RH_SECCOMP_PROBE_MOUNT_OPT="type=bind,src=$d,dst=/probe,options=rbind:ro"
}

# Capability numbers to names, for the ones the tests look at and report.
rh_seccomp_caps ()
{
  local hex=${1:?} names=(CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_KILL
    CAP_SETGID CAP_SETUID CAP_SETPCAP CAP_LINUX_IMMUTABLE CAP_NET_BIND_SERVICE CAP_NET_BROADCAST
    CAP_NET_ADMIN CAP_NET_RAW CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE CAP_SYS_RAWIO CAP_SYS_CHROOT
    CAP_SYS_PTRACE CAP_SYS_PACCT CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYS_NICE CAP_SYS_RESOURCE CAP_SYS_TIME
    CAP_SYS_TTY_CONFIG CAP_MKNOD CAP_LEASE CAP_AUDIT_WRITE CAP_AUDIT_CONTROL CAP_SETFCAP
    CAP_MAC_OVERRIDE CAP_MAC_ADMIN CAP_SYSLOG CAP_WAKE_ALARM CAP_BLOCK_SUSPEND CAP_AUDIT_READ
    CAP_PERFMON CAP_BPF CAP_CHECKPOINT_RESTORE) i out=()
  for ((i = 0; i < ${#names[@]}; i++)); do
    if (((16#$hex >> i) & 1)); then
      out+=("${names[i]}")
    fi
  done
  echo "${out[*]}"
}

rh_seccomp_cap_line ()
{
  local text=$1 field=${2:?}
  printf '%s\n' "$text" | awk -v f="$field:" '$1 == f { print $2 }'
}

rh_seccomp_tpm_node ()
{
  export RH_SECCOMP_TPM_CREATED=0
  if [[ -e /dev/tpmrm0 ]]; then
    return 0
  fi
  # /dev/null's numbers: harmless if anything opens it, and the rewrite must still treat the
  # node as protected by its name.
  mknod -m 0600 /dev/tpmrm0 c 1 3 || return 1
  RH_SECCOMP_TPM_CREATED=1
  # The teardown runs in another shell: the entry carries the state with it.
  rh_cleanup_push 'RH_SECCOMP_TPM_CREATED=1 rh_seccomp_tpm_remove'
}

rh_seccomp_tpm_remove ()
{
  [[ ${RH_SECCOMP_TPM_CREATED:-0} == 1 ]] || return 0
  # Still the node made here (a char device 1:3), not one that appeared since.
  if [[ $(stat -c '%F %t:%T' /dev/tpmrm0 2>/dev/null) == "character special file 1:3" ]]; then
    rm -f /dev/tpmrm0
  fi
  RH_SECCOMP_TPM_CREATED=0
}

rh_runsc_is_2022 ()
{
  # "runsc version 0.0~20221219.0" (Debian) or "runsc version v0.0.0-20260905035102-<hash>" (Go
  # branch): the first 8-digit date in the version line.
  local d
  d=$("$RH_RUNSC" --version 2>/dev/null | head -n 1 | grep -o '20[0-9]\{6\}' | head -n 1)
  [[ -n $d ]] || rh_die "cannot read a date from $RH_RUNSC --version" || return 2
  ((d < 20230101))
}
