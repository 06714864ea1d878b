#!/usr/bin/env bash
# Runtime environment for integration tests: a private Docker engine (Debian's docker.io) plus
# Caddy, and the local stand-in OpenClaw gateway image. No image registry is needed.
#
#   test/machinery/runtime-env.sh install       # apt-get install what is missing (idempotent)
#   eval "$(test/machinery/runtime-env.sh start)"   # start (or reuse) the private dockerd, export DOCKER_HOST
#                                        # (--fresh-bridge: start it with no docker0 and no network
#                                        # store, as on a freshly booted machine; the test runner's way)
#   test/machinery/runtime-env.sh build-image   # build openclaw-standin:test into that engine
#   test/machinery/runtime-env.sh build-openclaw-image  # build the real gateway, openclaw-real:<version>
#                                        # (npm install cached in $OPENCLAW_TEST_STATE/cache)
#   test/machinery/runtime-env.sh status        # print state; exit 0 when the engine answers
#   test/machinery/runtime-env.sh stop          # stop that dockerd (and only it)
#
# Everything lives under dedicated directories (override with the env vars below):
#   OPENCLAW_TEST_STATE  (/var/lib/openclaw-test)  data-root, logs
#   OPENCLAW_TEST_RUN    (/run/openclaw-test)      exec-root, socket, pidfile
#   OPENCLAW_TEST_STORAGE_DRIVER  force a storage driver (default: overlay2, falling back to vfs)
#   OPENCLAW_TEST_START_TIMEOUT   seconds to wait for the engine (default 60)
# Only `start` writes to stdout (the export line), so `eval "$(... start)"` is safe; all
# diagnostics go to stderr.
set -euo pipefail

STATE_DIR="${OPENCLAW_TEST_STATE:-/var/lib/openclaw-test}"
RUN_DIR="${OPENCLAW_TEST_RUN:-/run/openclaw-test}"
DATA_ROOT="$STATE_DIR/docker"
EXEC_ROOT="$RUN_DIR/exec"
SOCK="$RUN_DIR/docker.sock"
PIDFILE="$RUN_DIR/dockerd.pid"
LOG_DIR="$STATE_DIR/log"
LOG_FILE="$LOG_DIR/dockerd.log"
DRIVER_FILE="$STATE_DIR/storage-driver"
BRIDGE_AT_START_FILE="$RUN_DIR/bridge-at-start"   # "fresh" or "kept": docker0 and the network store as the engine started
START_TIMEOUT="${OPENCLAW_TEST_START_TIMEOUT:-60}"
STOP_TIMEOUT="${OPENCLAW_TEST_STOP_TIMEOUT:-30}"
DOCKER_HOST_VALUE="unix://$SOCK"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

# chromium: the dashboard's and the Control UI's browser tests (playwright-core, no browser download).
# lego, pebble (+ pebble-challtestsrv), openssl: the certificate suite against a real ACME server (test/integration/acme).
# restic, sqlite3: the restore suites make snapshots the backup contract's way and check restored databases.
PACKAGES=(docker.io containerd runc tini iptables caddy busybox-static curl jq iproute2 tar chromium lego pebble openssl restic sqlite3)

log() { printf '[runtime-env] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# A daemon started here must not inherit the caller's open files: one that keeps a `flock` lock's
# descriptor holds that lock for as long as it runs (seen: every later locked run waited on dockerd).
close_inherited_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd="${fd##*/}"
    case "$fd" in 0|1|2|255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
  done
}

need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

pkg_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

cmd_install() {
  need_root
  local missing=() p
  for p in "${PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
  # The image build copies the host's node; only install Debian's nodejs when there is none.
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  if [ "${#missing[@]}" -eq 0 ]; then
    log "all packages present: ${PACKAGES[*]}"
  else
    log "installing: ${missing[*]}"
    # A new machine's package lists may be missing or stale (a stale one names versions the
    # mirror no longer has), so refresh them whenever anything has to be installed.
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    # Keep the distro services (docker, containerd, caddy) from being started by postinst:
    # a temporary policy-rc.d if none exists (Debian's documented mechanism).
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; created_policy=1
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >&2
    if [ "$created_policy" = 1 ]; then rm -f "$policy"; trap - EXIT; fi
  fi
  ensure_modern_caddy
  disable_distro_services
  log "install: ok"
}

# The edge needs Caddy >= 2.7 (`stream_close_delay`, which keeps WebSockets open across reloads).
# Bookworm ships 2.6.2; Debian's trixie-backports has a current one that runs on bookworm's libc.
# Its lists go to a private apt directory, so the machine's own sources stay untouched.
caddy_is_modern() {
  local v
  v="$(caddy version 2>/dev/null | sed -E 's/^v?([0-9]+)\.([0-9]+).*/\1 \2/')" || return 1
  set -- $v
  [ "${1:-0}" -gt 2 ] || { [ "${1:-0}" -eq 2 ] && [ "${2:-0}" -ge 7 ]; }
}

ensure_modern_caddy() {
  if caddy_is_modern; then log "caddy $(caddy version | cut -d' ' -f1) is >= 2.7"; return 0; fi
  log "caddy $(caddy version 2>/dev/null | cut -d' ' -f1) is older than 2.7: installing Debian's trixie-backports caddy"
  local dir; dir="$(mktemp -d)"
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  echo "deb http://deb.debian.org/debian trixie-backports main" >"$dir/sources.list"
  local apt_opts=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache")
  apt-get "${apt_opts[@]}" update -q >&2
  (cd "$dir" && apt-get "${apt_opts[@]}" download caddy >&2)
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; created_policy=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$dir"/caddy_*.deb >&2
  [ "$created_policy" = 1 ] && rm -f "$policy"
  rm -rf "$dir"
  caddy_is_modern || die "caddy is still older than 2.7 after the upgrade"
  log "caddy $(caddy version | cut -d' ' -f1) installed"
}

systemd_running() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

# Is PID alive and is its executable NAME?
pid_is() {
  local pid="$1" name="$2"
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

our_pid() {
  local pid
  [ -s "$PIDFILE" ] || return 1
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  pid_is "$pid" dockerd || return 1
  # Make sure it is *our* dockerd (pid reuse, or a pidfile from another setup).
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--pidfile $PIDFILE" || return 1
  echo "$pid"
}

# The test engine needs docker0, the iptables DOCKER chains and ports 80/443/2019 to itself. A
# system service in the way is stopped only when that loses nothing: never disabled (it starts again
# at boot, and `systemctl start` brings it back now), and a system Docker that runs containers is never
# stopped: the run stops instead, saying so. The system's containerd is left alone (our engine uses
# its own containerd namespaces). `npm start` never runs this (tools/launcher has its own installer).
SYSTEM_DOCKER_SOCK="${OPENCLAW_SYSTEM_DOCKER_SOCK:-/var/run/docker.sock}"
system_docker_containers() {
  [ -S "$SYSTEM_DOCKER_SOCK" ] || { echo 0; return 0; }
  docker -H "unix://$SYSTEM_DOCKER_SOCK" ps -q 2>/dev/null | wc -l
}
refuse_if_docker_busy() {
  local n
  n="$(system_docker_containers)"
  [ "$n" -eq 0 ] || die "the system's Docker runs $n container(s); the test engine would need it stopped, and the tests never stop a Docker with containers. Stop it yourself (systemctl stop docker.socket docker.service) or run the tests on another machine"
}
disable_distro_services() {
  if systemd_running; then
    local u
    # Asked before anything stops (and only of a running service: a `docker ps` on the socket unit
    # alone would start the service).
    if systemctl is-active --quiet docker.service 2>/dev/null; then refuse_if_docker_busy; fi
    for u in docker.socket docker.service caddy.service caddy-api.service; do
      systemctl is-active --quiet "$u" 2>/dev/null || continue
      log "stopping $u for the test run (not disabled: it starts again at boot; 'systemctl start $u' brings it back now)"
      systemctl stop "$u" >&2 || die "could not stop $u"
    done
    return 0
  fi
  # No systemd (containers, firecracker VMs): stop an init.d-started docker if there is one.
  local dpid
  if [ -s /var/run/docker.pid ]; then
    dpid="$(cat /var/run/docker.pid 2>/dev/null || true)"
    if pid_is "$dpid" dockerd && [ -x /etc/init.d/docker ]; then
      refuse_if_docker_busy
      log "stopping Debian docker service (pid $dpid) for the test run"
      /etc/init.d/docker stop >&2 || true
    fi
  fi
  # Debian's caddy unit runs `caddy run --environ --config /etc/caddy/Caddyfile`; without
  # systemd only a hand-started copy can exist. Stop exactly that one, by pid.
  local p cmd
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null || true)" = caddy ] || continue
    cmd="$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null || true)"
    case "$cmd" in
      *"--config /etc/caddy/Caddyfile"*)
        log "stopping distro-config caddy pid ${p#/proc/}: $cmd"
        kill -TERM "${p#/proc/}" 2>/dev/null || true ;;
    esac
  done
}

foreign_dockerds() {
  local p mine
  mine="$(our_pid || true)"
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null || true)" = dockerd ] || continue
    [ "${p#/proc/}" = "$mine" ] && continue
    echo "${p#/proc/}: $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null || true)"
  done
}

engine_answers() { docker -H "$DOCKER_HOST_VALUE" info >/dev/null 2>&1; }

launch_dockerd() {
  local driver="$1"
  mkdir -p "$DATA_ROOT" "$EXEC_ROOT" "$LOG_DIR" "$RUN_DIR"
  rm -f "$SOCK"
  {
    echo "===== $(date -Is) starting dockerd (storage driver $driver) ====="
  } >>"$LOG_FILE"
  # setsid: own session, so the engine survives the calling shell and job control.
  # A system containerd on /run/containerd would be used by dockerd if running; separate
  # containerd namespaces keep our containers apart from anything else in it.
  ( close_inherited_fds; exec setsid dockerd \
    --data-root "$DATA_ROOT" \
    --exec-root "$EXEC_ROOT" \
    --host "$DOCKER_HOST_VALUE" \
    --pidfile "$PIDFILE" \
    --storage-driver "$driver" \
    --containerd-namespace openclaw-test \
    --containerd-plugins-namespace openclaw-test-plugins \
    --log-level info \
    ) </dev/null >>"$LOG_FILE" 2>&1 &
  local launcher=$!
  local deadline=$((SECONDS + START_TIMEOUT)) i=0
  while [ "$SECONDS" -lt "$deadline" ] && [ "$i" -lt $((START_TIMEOUT * 4)) ]; do
    i=$((i + 1))
    if engine_answers; then
      echo "$driver" >"$DRIVER_FILE"
      return 0
    fi
    if ! kill -0 "$launcher" 2>/dev/null; then
      log "dockerd exited early (storage driver $driver); last log lines:"
      tail -n 15 "$LOG_FILE" >&2 || true
      return 1
    fi
    sleep 0.25
  done
  log "dockerd did not answer within ${START_TIMEOUT}s; stopping it"
  kill -TERM "$launcher" 2>/dev/null || true
  i=0; while kill -0 "$launcher" 2>/dev/null && [ "$i" -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
  kill -KILL "$launcher" 2>/dev/null || true
  return 2
}

cmd_start() {
  need_root
  local fresh_bridge=0
  case "${1:-}" in
    --fresh-bridge) fresh_bridge=1 ;;
    "") ;;
    *) die "start: unknown option $1 (only --fresh-bridge)" ;;
  esac
  command -v dockerd >/dev/null || die "dockerd not installed: run '$0 install'"
  local t0=$SECONDS pid
  if pid="$(our_pid)"; then
    local i=0
    while ! engine_answers && [ "$i" -lt $((START_TIMEOUT * 4)) ]; do sleep 0.25; i=$((i + 1)); done
    engine_answers || die "our dockerd (pid $pid) runs but does not answer on $SOCK; see $LOG_FILE"
    log "reusing running dockerd pid $pid ($(cat "$DRIVER_FILE" 2>/dev/null || echo '?'))"
    echo "export DOCKER_HOST=$DOCKER_HOST_VALUE"
    return 0
  fi
  disable_distro_services
  local others
  others="$(foreign_dockerds)"
  if [ -n "$others" ]; then
    die "another dockerd is running and would fight over docker0/iptables; stop it first:
$others"
  fi
  # cgroup v2-only hosts need the memory controller delegated; v1/hybrid works as is.
  if [ ! -d /sys/fs/cgroup/memory ] && [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
    log "warning: no memory cgroup found; --memory limits will not work"
  fi
  # An engine started where docker0 does not exist yet and with no network store of its own (a
  # freshly booted machine) leaves Gateway out of the default bridge's IPAM config; one started
  # while either exists (left by an engine that ran before) fills it in. `--fresh-bridge` (the test
  # runner's) removes both while no engine of ours runs (foreign ones were refused above), so every
  # run takes the fresh machine's path; the suites read which one it was. Images are kept.
  local network_store="$DATA_ROOT/network/files/local-kv.db"
  if [ "$fresh_bridge" = 1 ]; then
    if ip link show docker0 >/dev/null 2>&1; then
      log "removing docker0 left by an engine that is not running (--fresh-bridge)"
      ip link delete docker0 || die "could not remove docker0"
    fi
    [ -e "$network_store" ] && { log "removing the stopped engine's network store (--fresh-bridge)"; rm -f "$network_store"; }
  fi
  mkdir -p "$RUN_DIR"
  if ip link show docker0 >/dev/null 2>&1 || [ -e "$network_store" ]; then echo kept; else echo fresh; fi >"$BRIDGE_AT_START_FILE"
  local drivers=()
  if [ -n "${OPENCLAW_TEST_STORAGE_DRIVER:-}" ]; then
    drivers=("$OPENCLAW_TEST_STORAGE_DRIVER")
  elif [ -s "$DRIVER_FILE" ]; then
    drivers=("$(cat "$DRIVER_FILE")")   # data-root was initialised with this one
  else
    drivers=(overlay2 vfs)
  fi
  local d
  for d in "${drivers[@]}"; do
    if launch_dockerd "$d"; then
      log "dockerd up (pid $(cat "$PIDFILE"), storage driver $d) in $((SECONDS - t0))s; log: $LOG_FILE"
      echo "export DOCKER_HOST=$DOCKER_HOST_VALUE"
      return 0
    fi
  done
  die "could not start dockerd; see $LOG_FILE"
}

cmd_stop() {
  need_root
  local pid i=0
  if ! pid="$(our_pid)"; then
    log "no dockerd of ours is running"
    rm -f "$PIDFILE"
    return 0
  fi
  log "stopping dockerd pid $pid"
  kill -TERM "$pid"
  local limit=$((STOP_TIMEOUT * 4))
  while pid_is "$pid" dockerd && [ "$i" -lt "$limit" ]; do sleep 0.25; i=$((i + 1)); done
  if pid_is "$pid" dockerd; then
    log "dockerd did not stop within ${STOP_TIMEOUT}s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
  fi
  # dockerd's managed containerd normally exits with it; stop a leftover one (ours only).
  local cpid
  if [ -s "$EXEC_ROOT/containerd/containerd.pid" ]; then
    cpid="$(cat "$EXEC_ROOT/containerd/containerd.pid" 2>/dev/null || true)"
    if pid_is "$cpid" containerd; then
      kill -TERM "$cpid" 2>/dev/null || true
      i=0; while pid_is "$cpid" containerd && [ "$i" -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
    fi
  fi
  rm -f "$PIDFILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid="$(our_pid)" && engine_answers; then
    log "running: pid $pid, DOCKER_HOST=$DOCKER_HOST_VALUE, driver $(cat "$DRIVER_FILE" 2>/dev/null || echo '?')"
    echo "export DOCKER_HOST=$DOCKER_HOST_VALUE"
    return 0
  fi
  log "not running"
  return 1
}

cmd_build_image() {
  need_root
  engine_answers || die "engine not running on $SOCK: run '$0 start' first"
  DOCKER_HOST="$DOCKER_HOST_VALUE" bash "$REPO_ROOT/test/machinery/gateway-image/build.sh" "$@"
}

# The real OpenClaw from the npm registry (test/machinery/openclaw-image): skipped when the tag
# exists with the same content; the ~830 MB npm install is kept under $STATE_DIR/cache.
cmd_build_openclaw_image() {
  need_root
  engine_answers || die "engine not running on $SOCK: run '$0 start' first"
  DOCKER_HOST="$DOCKER_HOST_VALUE" OPENCLAW_IMAGE_CACHE="${OPENCLAW_IMAGE_CACHE:-$STATE_DIR/cache}" \
    bash "$REPO_ROOT/test/machinery/openclaw-image/build.sh" "$@"
}

main() {
  local cmd="${1:-}"; shift || true
  case "$cmd" in
    install) cmd_install "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    build-image) cmd_build_image "$@" ;;
    build-openclaw-image) cmd_build_openclaw_image "$@" ;;
    *) echo "usage: $0 {install|start [--fresh-bridge]|stop|status|build-image [--force]|build-openclaw-image [--force]}" >&2; exit 2 ;;
  esac
}

# Sourced (the machinery's unit test reads its functions): define, run nothing.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
