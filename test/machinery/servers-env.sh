#!/usr/bin/env bash
# Three stand-in "servers" on this machine for the real-runtime suite: each a network namespace
# with its own dockerd (own data-root, exec-root, socket and bridge range), its own sshd (key
# authentication only) and its own Caddy, reached from the host only over its veth address.
#
#   test/machinery/servers-env.sh install   # apt-get install openssh-server if missing (and keep its service off)
#   test/machinery/servers-env.sh up        # start all three (idempotent: down first); prints the env for the tests
#   test/machinery/servers-env.sh down      # stop everything it started and remove namespaces, veths and state
#   test/machinery/servers-env.sh stop-server N   # stop server N's dockerd and sshd (the "lost server" test)
#   test/machinery/servers-env.sh start-server N  # start them again (idempotent: what runs is left running)
#
# Addresses: host side 10.250.N.1/24, server side 10.250.N.2/24; each engine's default bridge is
# 10.251.N.1/24. None of them exists outside these namespaces and their veths. Run it under the
# shared lock (/tmp/openclaw-runtime.lock) like every user of Docker, iptables and Caddy.
set -euo pipefail

BASE_STATE="${OPENCLAW_SERVERS_STATE:-/var/lib/openclaw-servers}"
BASE_RUN="${OPENCLAW_SERVERS_RUN:-/run/openclaw-servers}"
SERVERS=(1 2 3)
KEY_DIR="$BASE_STATE/ssh"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() { printf '[servers-env] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"

ns() { echo "oc-srv$1"; }
run_dir() { echo "$BASE_RUN/s$1"; }
state_dir() { echo "$BASE_STATE/s$1"; }
addr() { echo "10.250.$1.2"; }

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_of() { [ -s "$1" ] && cat "$1" || true; }

stop_pidfile() {
  local file="$1" what="$2" pid i=0
  pid="$(pid_of "$file")"
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    while pid_alive "$pid" && [ "$i" -lt 120 ]; do sleep 0.25; i=$((i + 1)); done
    pid_alive "$pid" && { log "$what (pid $pid) did not stop; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; }
  fi
  rm -f "$file"
}

cmd_install() {
  if [ -x /usr/sbin/sshd ]; then log "openssh-server present"; return 0; fi
  log "installing openssh-server"
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; created=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssh-server >&2 \
    || { DEBIAN_FRONTEND=noninteractive apt-get update -q >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssh-server >&2; }
  [ "$created" = 1 ] && rm -f "$policy"
  # Installed only for these tests: do not leave a system sshd enabled on the machine.
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
  fi
  log "openssh-server installed"
}

# A daemon started here must not inherit the caller's open files: one that keeps a `flock` lock's
# descriptor holds that lock for as long as it runs (seen: every later locked run waited on dockerd).
close_inherited_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd="${fd##*/}"
    case "$fd" in 0|1|2|255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
  done
}

# dockerd inside the namespace, in a private mount namespace with a /sys that shows the
# namespace's own interfaces and the host's cgroup mounts moved back under it.
start_dockerd() {
  local n="$1" run state
  run="$(run_dir "$n")"; state="$(state_dir "$n")"
  mkdir -p "$run/exec" "$state/docker" "$run/cg"
  ( close_inherited_fds; exec nsenter --net="/run/netns/$(ns "$n")" unshare --mount --propagation private bash -c '
    set -e
    mount --rbind /sys/fs/cgroup "$1/cg"
    mount -t sysfs sysfs /sys
    mount --move "$1/cg" /sys/fs/cgroup 2>/dev/null || mount --rbind "$1/cg" /sys/fs/cgroup
    exec setsid dockerd --data-root "$2/docker" --exec-root "$1/exec" --host "unix://$1/docker.sock" \
      --pidfile "$1/dockerd.pid" --bip "10.251.$3.1/24" --containerd-namespace "openclaw-srv$3" \
      --containerd-plugins-namespace "openclaw-srv$3-plugins" --storage-driver overlay2 --log-level warn
  ' _ "$run" "$state" "$n" ) </dev/null >>"$state/dockerd.log" 2>&1 &
  local i=0
  until docker -H "unix://$run/docker.sock" info >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -lt 240 ] || { tail -n 20 "$state/dockerd.log" >&2; die "dockerd of server $n did not answer in 60 s"; }
    sleep 0.25
  done
}

# Every server has the edge's files at the same path, as separate machines would: a private mount
# namespace per process with the server's own folder bound at $EDGE_DIR.
EDGE_DIR=/run/openclaw-edge
in_server() {
  local n="$1"; shift
  mkdir -p "$EDGE_DIR" "$(run_dir "$n")/edge"
  nsenter --net="/run/netns/$(ns "$n")" unshare --mount --propagation private bash -c \
    'mount --bind "$1" "$2" && shift 2 && exec "$@"' _ "$(run_dir "$n")/edge" "$EDGE_DIR" "$@"
}

start_sshd() {
  local n="$1" run
  run="$(run_dir "$n")"
  mkdir -p /run/sshd
  [ -s "$run/host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$run/host_key" -C "server$n" >/dev/null
  in_server "$n" /usr/sbin/sshd -f /dev/null \
    -o ListenAddress="$(addr "$n")" -o Port=22 -o HostKey="$run/host_key" -o PidFile="$run/sshd.pid" \
    -o AuthorizedKeysFile="$KEY_DIR/authorized_keys" -o PubkeyAuthentication=yes -o PasswordAuthentication=no \
    -o KbdInteractiveAuthentication=no -o PermitRootLogin=prohibit-password -o UsePAM=no -o StrictModes=no \
    -o SetEnv="DOCKER_HOST=unix://$run/docker.sock" -o MaxStartups=100 -o MaxSessions=100 \
    -E "$run/sshd.log"
  local i=0
  until [ -s "$run/sshd.pid" ]; do i=$((i + 1)); [ "$i" -lt 40 ] || die "sshd of server $n did not start (see $run/sshd.log)"; sleep 0.25; done
  # Restarted (start-server): same host key, already known.
  grep -q "^$(addr "$n") " "$KEY_DIR/known_hosts" 2>/dev/null && return 0
  ssh-keyscan -T 5 "$(addr "$n")" 2>/dev/null >>"$KEY_DIR/known_hosts" || die "sshd of server $n does not answer"
}

start_caddy() {
  local n="$1" run
  run="$(run_dir "$n")"
  mkdir -p "$run/caddy-data" "$run/edge/data"
  printf '{\n\tadmin localhost:2019\n\tlocal_certs\n\tskip_install_trust\n\tstorage file_system %s\n}\n' "$EDGE_DIR/data" >"$run/edge/Caddyfile"
  ( close_inherited_fds; in_server "$n" env HOME="$run" XDG_DATA_HOME="$run/caddy-data" XDG_CONFIG_HOME="$run/caddy-config" \
    setsid caddy run --config "$EDGE_DIR/Caddyfile" --adapter caddyfile --pidfile "$run/caddy.pid" ) </dev/null >>"$run/caddy.log" 2>&1 &
  local i=0
  until nsenter --net="/run/netns/$(ns "$n")" curl -fsS -o /dev/null http://localhost:2019/config/ 2>/dev/null; do
    i=$((i + 1)); [ "$i" -lt 80 ] || die "caddy of server $n did not start (see $run/caddy.log)"; sleep 0.25
  done
}

cmd_up() {
  cmd_down
  command -v /usr/sbin/sshd >/dev/null || die "openssh-server missing: run '$0 install'"
  mkdir -p "$KEY_DIR" "$BASE_RUN"
  chmod 700 "$KEY_DIR"
  : >"$KEY_DIR/known_hosts"
  [ -s "$KEY_DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$KEY_DIR/id_ed25519" -C openclaw-servers-test >/dev/null
  cp "$KEY_DIR/id_ed25519.pub" "$KEY_DIR/authorized_keys"
  # ssh reads ~/.ssh of the passwd entry, not $HOME: the tests' ssh (and the Docker CLI's, found on
  # PATH) use this config through a wrapper instead, so root's own ~/.ssh is never touched.
  printf 'Host 10.250.*\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  BatchMode yes\n  ConnectTimeout 5\n' \
    "$KEY_DIR/id_ed25519" "$KEY_DIR/known_hosts" >"$KEY_DIR/config"
  mkdir -p "$KEY_DIR/bin"
  printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$KEY_DIR/config" >"$KEY_DIR/bin/ssh"
  chmod 755 "$KEY_DIR/bin/ssh"
  local n
  for n in "${SERVERS[@]}"; do
    local name; name="$(ns "$n")"
    ip netns add "$name"
    ip link add "oc-srv$n-h" type veth peer name eth0 netns "$name"
    ip addr add "10.250.$n.1/24" dev "oc-srv$n-h"
    ip link set "oc-srv$n-h" up
    ip -n "$name" addr add "$(addr "$n")/24" dev eth0
    ip -n "$name" link set eth0 up
    ip -n "$name" link set lo up
    start_dockerd "$n"
    start_sshd "$n"
    start_caddy "$n"
    # The stand-in gateway image, built into this server's own engine (docker import, no registry).
    DOCKER_HOST="unix://$(run_dir "$n")/docker.sock" bash "$REPO_ROOT/test/machinery/gateway-image/build.sh" >&2
    log "server $n up: ssh root@$(addr "$n"), engine $(run_dir "$n")/docker.sock"
  done
  # What the tests read: where the servers are and how to reach them.
  printf 'export OPENCLAW_SERVERS=%s\nexport OPENCLAW_SERVERS_KEY=%s\nexport OPENCLAW_SERVERS_SSH_BIN=%s\nexport OPENCLAW_SERVERS_RUN=%s\n' \
    "$(for n in "${SERVERS[@]}"; do printf '%s ' "$(addr "$n")"; done | sed 's/ $//' | tr ' ' ,)" "$KEY_DIR/id_ed25519" "$KEY_DIR/bin" "$BASE_RUN"
}

cmd_stop_server() {
  local n="$1" run
  run="$(run_dir "$n")"
  stop_pidfile "$run/dockerd.pid" "dockerd of server $n"
  stop_pidfile "$run/sshd.pid" "sshd of server $n"
}

# The servers' test files run in one jest process in any order: a file that needs a server stopped
# by another starts it again. Its containers come back as their restart policy says.
cmd_start_server() {
  local n="$1" run
  run="$(run_dir "$n")"
  [ -e "/run/netns/$(ns "$n")" ] || die "server $n is not set up: run '$0 up' first"
  if pid_alive "$(pid_of "$run/dockerd.pid")"; then log "dockerd of server $n already running"; else start_dockerd "$n"; log "dockerd of server $n started"; fi
  if pid_alive "$(pid_of "$run/sshd.pid")"; then log "sshd of server $n already running"; else start_sshd "$n"; log "sshd of server $n started"; fi
}

cmd_down() {
  local n run
  for n in "${SERVERS[@]}"; do
    run="$(run_dir "$n")"
    stop_pidfile "$run/caddy.pid" "caddy of server $n"
    stop_pidfile "$run/sshd.pid" "sshd of server $n"
    stop_pidfile "$run/dockerd.pid" "dockerd of server $n"
    # dockerd's own containerd normally exits with it.
    stop_pidfile "$run/exec/containerd/containerd.pid" "containerd of server $n"
    ip netns del "$(ns "$n")" 2>/dev/null || true
    ip link del "oc-srv$n-h" 2>/dev/null || true
    rm -rf "$run"
    # Overlay mounts lived in dockerd's private mount namespace and went with it.
    rm -rf "$(state_dir "$n")" 2>/dev/null || log "could not remove $(state_dir "$n") entirely"
  done
  rm -rf "$KEY_DIR"
  rmdir "$BASE_RUN" "$BASE_STATE" "$EDGE_DIR" 2>/dev/null || true
}

case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  down) cmd_down; log "down" ;;
  stop-server) cmd_stop_server "${2:?server number}" ;;
  start-server) cmd_start_server "${2:?server number}" ;;
  *) echo "usage: $0 {install|up|down|stop-server N|start-server N}" >&2; exit 2 ;;
esac
