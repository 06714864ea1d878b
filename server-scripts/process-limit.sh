#!/usr/bin/env bash
# A tenant's process limit (cgroup pids.max), set on the tenant's own parent cgroup BEFORE its
# container is created: the container is created under that parent (`cgroupParent`), so the kernel
# bounds every process and thread in it from the first one, across restarts and replacements.
#   process-limit.sh apply  DRIVER TENANT LIMIT PARENT   record the limit, install the boot unit, apply now
#   process-limit.sh remove DRIVER TENANT PARENT         forget the limit (after the container is gone)
#   process-limit.sh boot                                re-apply every recorded limit (boot, before Docker)
# DRIVER is Docker's cgroup driver: cgroupfs (PARENT is a path such as /openclaw/alice) or systemd
# (PARENT is a slice such as openclaw-alice.slice, made persistent by its unit file's TasksMax=).
set -euo pipefail

RECORDS=/etc/openclaw-hosting/process-limits
INSTALLED=/usr/local/lib/openclaw-hosting/process-limit.sh
BOOT_UNIT=/etc/systemd/system/openclaw-process-limits.service
CG=/sys/fs/cgroup

die() { echo "openclaw-hosting: process limit: $*" >&2; exit 1; }
have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

if [ "$(id -u)" != 0 ]; then exec sudo -n bash "$0" "$@"; fi

# The limit must land where the engine will put the container: refuse a driver mismatch.
check_driver() {
  local want=$1 actual
  command -v docker >/dev/null 2>&1 || return 0
  actual=$(docker info --format '{{.CgroupDriver}}' 2>/dev/null || true)
  if [ -n "$actual" ] && [ "$actual" != "$want" ]; then
    die "stack field cgroupDriver is \"$want\" but the Docker engine uses \"$actual\"; set cgroupDriver: $actual"
  fi
}

# cgroupfs: the parent directory with pids.max, on cgroup v1 (pids hierarchy) or v2 (unified tree).
cgroupfs_apply() {
  local parent=$1 limit=$2 dir
  if [ -d "$CG/pids" ] && [ -f "$CG/pids/cgroup.procs" ]; then
    dir="$CG/pids$parent"
    mkdir -p -- "$dir"
  elif [ -f "$CG/cgroup.controllers" ]; then
    # v2: a controller is only available to a child once its parent delegates it.
    local path="" part
    for part in ${parent//\// }; do
      grep -qw pids "$CG$path/cgroup.subtree_control" || echo +pids >"$CG$path/cgroup.subtree_control"
      path="$path/$part"
      mkdir -p -- "$CG$path"
    done
    dir="$CG$path"
  else
    die "this host has no pids cgroup controller"
  fi
  echo "$limit" >"$dir/pids.max"
  [ "$(cat "$dir/pids.max")" = "$limit" ] || die "pids.max of $dir did not take $limit"
}

cgroupfs_remove() {
  local parent=$1 d
  # Every v1 hierarchy got a directory from runc; only empty ones can go (a running container keeps its own).
  for d in "$CG"/*"$parent" "$CG$parent"; do [ -d "$d" ] && rmdir -- "$d" 2>/dev/null || true; done
  for d in "$CG"/*"${parent%/*}" "$CG${parent%/*}"; do [ -d "$d" ] && rmdir -- "$d" 2>/dev/null || true; done
  return 0
}

systemd_apply() {
  local slice=$2 tenant=$1 limit=$3
  have_systemd || die "cgroupDriver is systemd but systemd is not running here"
  printf '[Unit]\nDescription=openclaw-hosting tenant %s\n\n[Slice]\nTasksMax=%s\n' "$tenant" "$limit" >"/etc/systemd/system/$slice"
  systemctl daemon-reload
  systemctl start -- "$slice"
  systemctl set-property --runtime -- "$slice" "TasksMax=$limit"
}

systemd_remove() {
  local slice=$1
  have_systemd || return 0
  systemctl stop -- "$slice" 2>/dev/null || true
  rm -f -- "/etc/systemd/system/$slice"
  systemctl daemon-reload
}

# Installs this script and a oneshot unit that re-applies every recorded limit before Docker starts
# (cgroupfs directories do not survive a reboot; Docker would otherwise re-create them unlimited).
install_boot() {
  mkdir -p -- "$(dirname "$INSTALLED")" "$RECORDS"
  if ! cmp -s -- "$0" "$INSTALLED"; then install -m 0755 -- "$0" "$INSTALLED"; fi
  have_systemd || { echo "openclaw-hosting: no systemd here: run '$INSTALLED boot' at boot before Docker starts" >&2; return 0; }
  local unit
  unit=$(printf '%s\n' \
    '[Unit]' \
    'Description=openclaw-hosting: tenant process limits before Docker starts containers' \
    'Before=docker.service' \
    '' '[Service]' 'Type=oneshot' 'RemainAfterExit=yes' "ExecStart=$INSTALLED boot" \
    '' '[Install]' 'WantedBy=multi-user.target' 'RequiredBy=docker.service')
  if [ "$(cat "$BOOT_UNIT" 2>/dev/null || true)" != "$unit" ]; then
    printf '%s\n' "$unit" >"$BOOT_UNIT"
    systemctl daemon-reload
    systemctl enable openclaw-process-limits.service >/dev/null 2>&1
  fi
}

apply_one() {
  local driver=$1 tenant=$2 limit=$3 parent=$4
  case "$driver" in
    cgroupfs) cgroupfs_apply "$parent" "$limit" ;;
    systemd) systemd_apply "$tenant" "$parent" "$limit" ;;
    *) die "unknown cgroup driver $driver" ;;
  esac
}

action=${1:?usage: process-limit.sh apply|remove|boot ...}
case "$action" in
  apply)
    driver=$2 tenant=$3 limit=$4 parent=$5
    [[ "$limit" =~ ^[0-9]+$ ]] || die "limit must be a number, got $limit"
    check_driver "$driver"
    install_boot
    printf '%s %s %s\n' "$driver" "$limit" "$parent" >"$RECORDS/$tenant"
    apply_one "$driver" "$tenant" "$limit" "$parent"
    echo "openclaw-hosting: tenant $tenant limited to $limit processes ($driver $parent)"
    ;;
  remove)
    driver=$2 tenant=$3 parent=$4
    rm -f -- "$RECORDS/$tenant"
    case "$driver" in cgroupfs) cgroupfs_remove "$parent" ;; systemd) systemd_remove "$parent" ;; esac
    # The last tenant gone: the boot unit and the installed script go too.
    if [ -z "$(ls -A -- "$RECORDS" 2>/dev/null)" ]; then
      if have_systemd && [ -f "$BOOT_UNIT" ]; then
        systemctl disable openclaw-process-limits.service >/dev/null 2>&1 || true
        rm -f -- "$BOOT_UNIT"; systemctl daemon-reload
      fi
      rm -f -- "$INSTALLED"; rmdir -- "$RECORDS" "$(dirname "$INSTALLED")" "$(dirname "$RECORDS")" 2>/dev/null || true
    fi
    echo "openclaw-hosting: tenant $tenant's process limit removed"
    ;;
  boot)
    shopt -s nullglob
    for record in "$RECORDS"/*; do
      read -r driver limit parent <"$record"
      apply_one "$driver" "$(basename -- "$record")" "$limit" "$parent"
    done
    ;;
  *) die "unknown action $action" ;;
esac
