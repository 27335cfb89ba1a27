# shellcheck shell=bash
# tests/integration/lib_net.sh — network helpers for the hooks tests (load after lib.sh).
#
# Everything here happens inside the test's own network namespace (RH_NETNS) or a second one
# made for an outside client (RH_NET_OUT); the machine's root namespace is only ever read
# (rh_net_root_has_ours). Every helper pushes its own cleanup with rh_cleanup_push.
#
#   rh_net_outside_create   second netns RH_NET_OUT (rh-<topic>out-PID) joined to RH_NETNS by a
#                           veth pair: RH_NET_IN_ADDR=198.18.0.1 (test ns), RH_NET_OUT_ADDR=
#                           198.18.0.2 (outside); both sides created from inside the namespaces.
#   rh_net_default_drop     INPUT policy DROP in RH_NETNS (lo and established traffic accepted),
#                           as on a Confidential Space host.
#   rh_net_alias ADDR       a loopback alias (127.0.0.77) in RH_NETNS.
#   rh_net_listen ADDR PORT TEXT  a listener in RH_NETNS answering TEXT to every connection.
#   rh_net_wait_listen ADDR PORT  wait (from inside RH_NETNS) until ADDR:PORT accepts.
#   rh_net_probe_outside ADDR PORT  connect from the outside namespace; print what it answers;
#                           non-zero when the connection fails (2 s timeout).
#   rh_net_probe_inside ADDR PORT   the same from RH_NETNS (a host process, not the sandbox).
#   rh_net_ours [SAVE...]   our lines in iptables-save of RH_NETNS (default iptables-save and
#                           ip6tables-save): chains RUNSC-HOST-*, RH-I-*, RH-E-* and their rules.
#   rh_net_container_rules ID [SAVE...]  the lines that belong to container ID.
#   rh_net_root_has_ours    true when the ROOT namespace's firewall shows anything of ours
#                           (read-only iptables-save/ip6tables-save; proves the tests never
#                           touch it).
#   rh_net_fake_sandbox     start a stand-in "sandbox" (sleep) for driving runsc-host-hook
#                           directly; prints its pid; it is killed at teardown.
#   rh_net_state ID PID [STATUS [BUNDLE]]  the OCI state JSON runsc would give the hook.

rh_net_outside_create ()
{
  export RH_NET_OUT="rh-${RH_TOPIC}out-$RH_OWNER_PID"
  export RH_NET_IN_ADDR=198.18.0.1 RH_NET_OUT_ADDR=198.18.0.2
  ip netns add "$RH_NET_OUT" || return 1
  rh_cleanup_push "ip netns delete '$RH_NET_OUT' 2>/dev/null || true"
  # Both ends are created inside the test namespace and one is moved straight into the outside
  # one: no interface ever appears in the root namespace.
  rh_in_netns ip link add rhveth0 type veth peer name rhveth1 netns "$RH_NET_OUT" || return 1
  rh_in_netns ip addr add "$RH_NET_IN_ADDR/30" dev rhveth0 || return 1
  rh_in_netns ip link set rhveth0 up || return 1
  nsenter --net="/run/netns/$RH_NET_OUT" ip link set lo up || return 1
  nsenter --net="/run/netns/$RH_NET_OUT" ip addr add "$RH_NET_OUT_ADDR/30" dev rhveth1 || return 1
  nsenter --net="/run/netns/$RH_NET_OUT" ip link set rhveth1 up || return 1
}

rh_net_default_drop ()
{
  rh_in_netns iptables -w -A INPUT -i lo -j ACCEPT || return 1
  rh_in_netns iptables -w -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT || return 1
  rh_in_netns iptables -w -P INPUT DROP
}

rh_net_alias ()
{
  rh_in_netns ip addr add "${1:?}/32" dev lo
}

rh_net_listen ()
{
  local addr=${1:?} port=${2:?} text=${3:?}
  rh_in_netns socat "TCP-LISTEN:$port,bind=$addr,fork,reuseaddr" SYSTEM:"echo $text" \
    </dev/null >/dev/null 2>&1 3>&- &
  rh_cleanup_push "kill $! 2>/dev/null || true"
  rh_net_wait_listen "$addr" "$port"
}

rh_net_wait_listen ()
{
  local addr=${1:?} port=${2:?} i
  for ((i = 0; i < 100; i++)); do
    rh_in_netns socat -T1 /dev/null "TCP:$addr:$port,connect-timeout=1" 2>/dev/null && return 0
    sleep 0.1
  done
  rh_log "nothing listens on $addr:$port"
  return 1
}

rh_net_probe_outside ()
{
  nsenter --net="/run/netns/$RH_NET_OUT" socat -T2 - "TCP:${1:?}:${2:?},connect-timeout=2" </dev/null 2>&1
}

rh_net_probe_inside ()
{
  rh_in_netns socat -T2 - "TCP:${1:?}:${2:?},connect-timeout=2" </dev/null 2>&1
}

rh_net_ours ()
{
  local tools=("$@") t
  ((${#tools[@]})) || tools=(iptables-save ip6tables-save)
  for t in "${tools[@]}"; do
    rh_in_netns "$t" 2>/dev/null | grep -E 'RUNSC-HOST|RH-[IE]-|runsc-host:' | sed "s/^/$t: /"
  done
  return 0
}

rh_net_container_rules ()
{
  local id=${1:?}
  shift
  rh_net_ours "$@" | grep -F -- "\"runsc-host:$id\"" || true
}

rh_net_root_has_ours ()
{
  { iptables-save; ip6tables-save; } 2>/dev/null | grep -qE 'RUNSC-HOST|RH-[IE]-|runsc-host:'
}

rh_net_fake_sandbox ()
{
  sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
  local pid=$!
  rh_cleanup_push "kill $pid 2>/dev/null || true"
  # Until the child has exec'd sleep it is a copy of bash, which the hook rightly refuses.
  until [[ $(readlink "/proc/$pid/exe") == */sleep ]]; do :; done
  echo "$pid"
}

rh_net_state ()
{
  local id=${1:?} pid=${2:?} status=${3:-created} bundle=${4:-$RH_TMP}
  jq -cn --arg id "$id" --argjson pid "$pid" --arg st "$status" --arg b "$bundle" \
    '{ociVersion: "1.0.2", id: $id, pid: $pid, status: $st, bundle: $b}'
}

