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
#   test/machinery/servers-env.sh backup-link N down|up  # cut (or restore) server N's path to the backup host
#
# The backup host: its own namespace (oc-bak) with an sshd serving only sftp (internal-sftp), key
# authentication with a key of its own (the servers' restic uses it), at 10.249.0.1, reached from
# server N over a veth of its own (10.249.N.2 -> 10.249.N.1). The repository folder is a 256 MB
# tmpfs ($BASE_RUN/backup/repo), so a test can fill it. Each server sees its own
# /etc/openclaw/backup and /var/lib/openclaw/backup (bound from its run folder, like the edge's
# files), as separate machines would.
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
  # restic (the backups' tool, on every server) and sqlite3 (the backup suite's integrity checks).
  local want=() p
  for p in restic sqlite3; do command -v "$p" >/dev/null 2>&1 || want+=("$p"); done
  if [ ${#want[@]} -gt 0 ]; then
    log "installing ${want[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${want[@]}" >&2 \
      || { DEBIAN_FRONTEND=noninteractive apt-get update -q >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${want[@]}" >&2; }
  fi
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
  backup_dirs "$n"
  ( close_inherited_fds; exec nsenter --net="/run/netns/$(ns "$n")" unshare --mount --propagation private bash -c '
    set -e
    mount --rbind /sys/fs/cgroup "$1/cg"
    mount -t sysfs sysfs /sys
    mount --move "$1/cg" /sys/fs/cgroup 2>/dev/null || mount --rbind "$1/cg" /sys/fs/cgroup
    mount --bind "$1/backup-etc" /etc/openclaw/backup
    mount --bind "$1/backup-var" /var/lib/openclaw/backup
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
  local n="$1" run; shift
  run="$(run_dir "$n")"
  mkdir -p "$EDGE_DIR" "$run/edge"
  backup_dirs "$n"
  nsenter --net="/run/netns/$(ns "$n")" unshare --mount --propagation private bash -c \
    'mount --bind "$1/edge" "$2" && mount --bind "$1/backup-etc" /etc/openclaw/backup && mount --bind "$1/backup-var" /var/lib/openclaw/backup && shift 2 && exec "$@"' \
    _ "$run" "$EDGE_DIR" "$@"
}

# Each server's own backup settings and state (root-only, as tenant-backup.sh keeps them), at the
# paths the program uses, bound over these empty mount points.
backup_dirs() {
  local run; run="$(run_dir "$1")"
  mkdir -p /etc/openclaw/backup /var/lib/openclaw/backup "$run/backup-etc" "$run/backup-var"
  chmod 700 "$run/backup-etc" "$run/backup-var"
}

BACKUP_NS=oc-bak
BACKUP_ADDR=10.249.0.1
backup_run() { echo "$BASE_RUN/backup"; }

# The backup host: sshd serving only sftp, in its own namespace, linked to each server.
start_backup_host() {
  local run n; run="$(backup_run)"
  mkdir -p "$run/repo"
  mountpoint -q "$run/repo" || mount -t tmpfs -o "size=${OPENCLAW_BACKUP_REPO_MB:-256}m,mode=0700" openclaw-backup-repo "$run/repo"
  [ -s "$KEY_DIR/backup_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$KEY_DIR/backup_ed25519" -C openclaw-backup-test >/dev/null
  cp "$KEY_DIR/backup_ed25519.pub" "$run/authorized_keys"
  [ -s "$run/host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$run/host_key" -C backup-host >/dev/null
  ip netns add "$BACKUP_NS"
  ip -n "$BACKUP_NS" link set lo up
  ip -n "$BACKUP_NS" addr add "$BACKUP_ADDR/32" dev lo
  for n in "${SERVERS[@]}"; do
    ip link add "ocb$n-b" netns "$BACKUP_NS" type veth peer name "ocb$n-s" netns "$(ns "$n")"
    ip -n "$BACKUP_NS" addr add "10.249.$n.1/24" dev "ocb$n-b"
    ip -n "$BACKUP_NS" link set "ocb$n-b" up
    ip -n "$(ns "$n")" addr add "10.249.$n.2/24" dev "ocb$n-s"
    backup_link "$n" up
  done
  mkdir -p /run/sshd
  ( close_inherited_fds; exec nsenter --net="/run/netns/$BACKUP_NS" /usr/sbin/sshd -f /dev/null \
    -o ListenAddress="$BACKUP_ADDR" -o Port=22 -o HostKey="$run/host_key" -o PidFile="$run/sshd.pid" \
    -o AuthorizedKeysFile="$run/authorized_keys" -o PubkeyAuthentication=yes -o PasswordAuthentication=no \
    -o KbdInteractiveAuthentication=no -o PermitRootLogin=prohibit-password -o UsePAM=no -o StrictModes=no \
    -o Subsystem="sftp internal-sftp" -o ForceCommand=internal-sftp -o AllowTcpForwarding=no -o PermitTTY=no \
    -o MaxStartups=100 -o MaxSessions=100 -E "$run/sshd.log" ) </dev/null >>"$run/sshd.log" 2>&1
  local i=0
  until [ -s "$run/sshd.pid" ]; do i=$((i + 1)); [ "$i" -lt 40 ] || die "sshd of the backup host did not start (see $run/sshd.log)"; sleep 0.25; done
}

# backup_link N up|down: server N's veth to the backup host (down: the repository is unreachable).
backup_link() {
  ip -n "$(ns "$1")" link set "ocb$1-s" "$2"
  if [ "$2" = up ]; then ip -n "$(ns "$1")" route replace "$BACKUP_ADDR/32" via "10.249.$1.1" dev "ocb$1-s"; fi
}

stop_backup_host() {
  local run; run="$(backup_run)"
  stop_pidfile "$run/sshd.pid" "sshd of the backup host"
  ip netns del "$BACKUP_NS" 2>/dev/null || true
  mountpoint -q "$run/repo" 2>/dev/null && umount "$run/repo"
  rm -rf "$run"
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
  start_backup_host
  log "backup host up: sftp root@$BACKUP_ADDR, repository folder $(backup_run)/repo (tmpfs, 256 MB)"
  # What the tests read: where the servers are and how to reach them.
  printf 'export OPENCLAW_SERVERS=%s\nexport OPENCLAW_SERVERS_KEY=%s\nexport OPENCLAW_SERVERS_SSH_BIN=%s\nexport OPENCLAW_SERVERS_RUN=%s\n' \
    "$(for n in "${SERVERS[@]}"; do printf '%s ' "$(addr "$n")"; done | sed 's/ $//' | tr ' ' ,)" "$KEY_DIR/id_ed25519" "$KEY_DIR/bin" "$BASE_RUN"
  printf "export OPENCLAW_BACKUP_HOST=%s\nexport OPENCLAW_BACKUP_KEY=%s\nexport OPENCLAW_BACKUP_HOST_KEY='%s'\nexport OPENCLAW_BACKUP_REPO_DIR=%s\n" \
    "$BACKUP_ADDR" "$KEY_DIR/backup_ed25519" "$(cut -d' ' -f1-2 "$(backup_run)/host_key.pub")" "$(backup_run)/repo"
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
  stop_backup_host
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
  rmdir /etc/openclaw/backup /etc/openclaw /var/lib/openclaw/backup /var/lib/openclaw 2>/dev/null || true
}

case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  down) cmd_down; log "down" ;;
  stop-server) cmd_stop_server "${2:?server number}" ;;
  start-server) cmd_start_server "${2:?server number}" ;;
  backup-link) backup_link "${2:?server number}" "${3:?up or down}" ;;
  *) echo "usage: $0 {install|up|down|stop-server N|start-server N|backup-link N up|down}" >&2; exit 2 ;;
esac
