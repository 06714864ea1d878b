#!/usr/bin/env bash
# The server's egress guard: tenant bridges (interfaces ocl*) may not open connections to the host
# itself, to link-local addresses (cloud metadata) or to the operator's private ranges.
#   egress-guard.sh apply     rules on stdin (iptables argument lines): record, install the boot unit, load
#   egress-guard.sh load      (re)load the recorded rules: fill both chains from empty, add the jumps once
#   egress-guard.sh remove    remove jumps, chains, the record and the boot unit
# Docker never flushes DOCKER-USER, and our chains are our own, so an engine restart keeps them;
# the boot unit loads them again before Docker starts after a reboot.
set -euo pipefail

RULES=/etc/openclaw-hosting/egress-rules
INSTALLED=/usr/local/lib/openclaw-hosting/egress-guard.sh
UNIT=/etc/systemd/system/openclaw-egress-guard.service
CHAINS=(OPENCLAW-INPUT OPENCLAW-EGRESS)
BRIDGES=ocl+
# chain:jump-target pairs, each jump only for traffic from tenant bridges
JUMPS=("INPUT OPENCLAW-INPUT" "DOCKER-USER OPENCLAW-EGRESS")

die() { echo "openclaw-hosting: egress guard: $*" >&2; exit 1; }
have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
if [ "$(id -u)" != 0 ]; then exec sudo -n bash "$0" "$@"; fi
command -v iptables >/dev/null 2>&1 || die "iptables is not installed"

load() {
  [ -f "$RULES" ] || die "no rules recorded at $RULES"
  local chain line from to
  # Docker creates DOCKER-USER when it starts; at boot we may be first. Docker keeps it as it is.
  iptables -n -L DOCKER-USER >/dev/null 2>&1 || iptables -N DOCKER-USER
  for chain in "${CHAINS[@]}"; do
    iptables -n -L "$chain" >/dev/null 2>&1 || iptables -N "$chain"
  done
  # Fill both chains in one transaction (iptables-restore without --noflush of the built-in chains):
  # there is no moment where a chain is half full.
  {
    echo "*filter"
    for chain in "${CHAINS[@]}"; do echo ":$chain - [0:0]"; done
    cat "$RULES"
    echo "COMMIT"
  } | iptables-restore --noflush
  for line in "${JUMPS[@]}"; do
    read -r from to <<<"$line"
    iptables -C "$from" -i "$BRIDGES" -j "$to" 2>/dev/null || iptables -I "$from" 1 -i "$BRIDGES" -j "$to"
  done
}

remove() {
  local line from to chain
  for line in "${JUMPS[@]}"; do
    read -r from to <<<"$line"
    while iptables -C "$from" -i "$BRIDGES" -j "$to" 2>/dev/null; do iptables -D "$from" -i "$BRIDGES" -j "$to"; done
  done
  for chain in "${CHAINS[@]}"; do
    if iptables -n -L "$chain" >/dev/null 2>&1; then iptables -F "$chain"; iptables -X "$chain"; fi
  done
  if have_systemd && [ -f "$UNIT" ]; then
    systemctl disable openclaw-egress-guard.service >/dev/null 2>&1 || true
    rm -f -- "$UNIT"
    systemctl daemon-reload
  fi
  rm -f -- "$RULES" "$INSTALLED"
  rmdir -- "$(dirname "$RULES")" "$(dirname "$INSTALLED")" 2>/dev/null || true
}

install_boot() {
  mkdir -p -- "$(dirname "$INSTALLED")"
  if ! cmp -s -- "$0" "$INSTALLED"; then install -m 0755 -- "$0" "$INSTALLED"; fi
  have_systemd || { echo "openclaw-hosting: no systemd here: run '$INSTALLED load' at boot before Docker starts" >&2; return 0; }
  local unit
  unit=$(printf '%s\n' \
    '[Unit]' \
    'Description=openclaw-hosting: egress guard for tenant bridges' \
    'Before=docker.service' 'After=network-pre.target' \
    '' '[Service]' 'Type=oneshot' 'RemainAfterExit=yes' "ExecStart=$INSTALLED load" \
    '' '[Install]' 'WantedBy=multi-user.target' 'RequiredBy=docker.service')
  if [ "$(cat "$UNIT" 2>/dev/null || true)" != "$unit" ]; then
    printf '%s\n' "$unit" >"$UNIT"
    systemctl daemon-reload
    systemctl enable openclaw-egress-guard.service >/dev/null 2>&1
  fi
}

case "${1:-}" in
  apply)
    rules=$(cat)
    # Only rule lines for our own chains: nothing else may reach iptables from here.
    if grep -qvE '^-A OPENCLAW-(INPUT|EGRESS) [-A-Za-z0-9 ./,]+$' <<<"$rules"; then die "refusing a rule outside our chains"; fi
    mkdir -p -- "$(dirname "$RULES")"
    printf '%s\n' "$rules" >"$RULES.new" && mv -f -- "$RULES.new" "$RULES"
    install_boot
    load
    echo "openclaw-hosting: egress guard loaded ($(wc -l <"$RULES") rules)"
    ;;
  load) load ;;
  remove) remove; echo "openclaw-hosting: egress guard removed" ;;
  *) die "usage: egress-guard.sh apply|load|remove" ;;
esac
