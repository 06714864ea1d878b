#!/usr/bin/env bash
# The server's egress guard: tenant bridges (interfaces ocl*) may not open connections to the host
# itself, to link-local addresses (cloud metadata), to the operator's private ranges or to any part of
# the tenants' block but their own bridge; over IPv6 (tenant networks are IPv4 only) to nothing at all.
#   egress-guard.sh apply SERVER  rules on stdin (iptables-restore lines, -4 or -6 each): check that
#                                 Docker's firewall passes tenant traffic through DOCKER-USER, record,
#                                 install the boot unit, load, verify; refuse before any change otherwise
#   egress-guard.sh check SERVER  verify only: exit 1 naming what is missing when tenants are unguarded
#   egress-guard.sh load          (boot) load the recorded rules into the recorded backend(s)
#   egress-guard.sh remove        remove jumps, chains, the record and the boot unit
# Docker never flushes DOCKER-USER, and our chains are our own, so an engine restart keeps them;
# the boot unit loads them again before Docker starts after a reboot.
set -euo pipefail

RULES=/etc/openclaw-hosting/egress-rules
# Which iptables backend(s) Docker's rules live in (nft, legacy, or plain: only an `iptables` binary).
BACKENDS=/etc/openclaw-hosting/egress-backends
INSTALLED=/usr/local/lib/openclaw-hosting/egress-guard.sh
UNIT=/etc/systemd/system/openclaw-egress-guard.service
CHAINS=(OPENCLAW-INPUT OPENCLAW-EGRESS)
BRIDGES=ocl+
SERVER=${2:-this server}

die() { echo "openclaw-hosting: egress guard on server '$SERVER': $*" >&2; exit 1; }
have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
if [ "$(id -u)" != 0 ]; then exec sudo -n bash "$0" "$@"; fi

# A kernel booted with ipv6.disable=1 has no IPv6 to guard (and no ip6tables tables).
families() { if [ -e /proc/net/if_inet6 ]; then echo 4 6; else echo 4; fi; }
# tool BACKEND FAMILY [SUFFIX]: iptables-nft, ip6tables-legacy-restore, iptables, ...
tool() {
  local base=iptables
  [ "$2" = 6 ] && base=ip6tables
  if [ "$1" = plain ]; then echo "$base${3:-}"; else echo "$base-$1${3:-}"; fi
}
ipt() { local b=$1 fam=$2; shift 2; "$(tool "$b" "$fam")" -w "$@"; }
# Both backends can hold rules at once (the kernel runs both); Docker uses whichever its
# `iptables` binary was when it started, which need not be ours now.
candidates() {
  local b found=()
  for b in nft legacy; do if command -v "iptables-$b" >/dev/null 2>&1; then found+=("$b"); fi; done
  if [ ${#found[@]} -eq 0 ]; then
    command -v iptables >/dev/null 2>&1 || die "iptables is not installed"
    found=(plain)
  fi
  echo "${found[@]}"
}
# Legacy tables nobody created: looking would create them (and iptables-nft then warns about them
# on every call), so a backend without its filter table in this network namespace holds no rules.
untouched() {
  [ "$1" = legacy ] || return 1
  local f=/proc/net/ip_tables_names
  [ "$2" = 6 ] && f=/proc/net/ip6_tables_names
  ! grep -qsx filter "$f"
}
names() { local b out=(); for b; do out+=("$(tool "$b" 4)"); done; echo "${out[*]}"; }

# Prints the first rule of CHAIN a tenant's packet could be accepted by (or leave by) before it meets
# a jump of ours, following Docker's jump to DOCKER-USER; succeeds, printing nothing, when ours come
# first. With STOP=docker-user, reaching Docker's jump is enough (before our rules exist).
walk() {
  local b=$1 fam=$2 chain=$3 stop=${4:-} rule rules
  rules=$(ipt "$b" "$fam" -S "$chain" 2>/dev/null) || { echo "(no $chain chain)"; return 1; }
  while IFS= read -r rule; do
    case "$rule" in
      "-P "* | "-N "* | "") ;;
      "-A $chain -i $BRIDGES -j OPENCLAW-"*) return 0 ;;
      "-A $chain -j DOCKER-USER")
        [ "$stop" = docker-user ] && return 0
        if walk "$b" "$fam" DOCKER-USER >/dev/null; then return 0; fi
        ;;
      # Rules that can only drop do not let anything through.
      *" -j DROP" | *" -j REJECT" | *" -j REJECT "* | *" -j LOG"*) ;;
      *) echo "$rule"; return 1 ;;
    esac
  done <<<"$rules"
  echo "(end of $chain)"
  return 1
}

# Where Docker's FORWARD chain jumps to DOCKER-USER: the backend(s) our rules must go into. Refuses,
# naming the server and the way out, when there is none.
detect() {
  local b jumping=() managed=() hint=""
  for b in $(candidates); do
    if untouched "$b" 4; then continue; fi
    if ipt "$b" 4 -n -L DOCKER >/dev/null 2>&1; then managed+=("$b"); fi
    if walk "$b" 4 FORWARD docker-user >/dev/null; then jumping+=("$b"); fi
  done
  if [ ${#jumping[@]} -gt 0 ]; then echo "${jumping[*]}"; return 0; fi
  if [ ${#managed[@]} -gt 0 ]; then
    for b in "${managed[@]}"; do
      local gap
      gap=$(walk "$b" 4 FORWARD docker-user) || true
      echo "openclaw-hosting: $(tool "$b" 4): FORWARD reaches '$gap' before any jump to DOCKER-USER" >&2
    done
    die "Docker's chains are in $(names "${managed[@]}") but its FORWARD chain does not send traffic to DOCKER-USER first, so the guard would guard nothing. Restart Docker (it puts the jump back at the top), remove any rule that accepts before it, and run 'pulumi up' again. Nothing was changed."
  fi
  if grep -qsE '"iptables"[[:space:]]*:[[:space:]]*false' /etc/docker/daemon.json; then hint=' (/etc/docker/daemon.json sets "iptables": false)'; fi
  if grep -qsE '"firewall-backend"[[:space:]]*:[[:space:]]*"nftables"' /etc/docker/daemon.json; then hint=' (/etc/docker/daemon.json sets "firewall-backend": "nftables")'; fi
  die "Docker does not manage iptables here: no DOCKER chain in $(names $(candidates))$hint. With \"iptables\": false or Docker's nftables firewall backend, no traffic passes DOCKER-USER and the guard would guard nothing. Let Docker manage iptables (remove \"iptables\": false and any \"firewall-backend\": \"nftables\" from /etc/docker/daemon.json), restart Docker, and run 'pulumi up' again. Nothing was changed."
}

# CHAIN's first rule is our jump: moved there if something was put above it since.
ensure_first() {
  local b=$1 fam=$2 chain=$3 target=$4 rules first
  rules=$(ipt "$b" "$fam" -S "$chain")
  first=$(grep -m1 '^-A ' <<<"$rules" || true)
  [ "$first" = "-A $chain -i $BRIDGES -j $target" ] && return 0
  while ipt "$b" "$fam" -C "$chain" -i "$BRIDGES" -j "$target" 2>/dev/null; do ipt "$b" "$fam" -D "$chain" -i "$BRIDGES" -j "$target"; done
  ipt "$b" "$fam" -I "$chain" 1 -i "$BRIDGES" -j "$target"
}

load() {
  [ -f "$RULES" ] || die "no rules recorded at $RULES"
  local b fam chain
  for b in $(cat "$BACKENDS" 2>/dev/null || echo plain); do
    for fam in $(families); do
      # Docker creates DOCKER-USER when it starts; at boot we may be first. Docker keeps it as it is.
      ipt "$b" "$fam" -n -L DOCKER-USER >/dev/null 2>&1 || ipt "$b" "$fam" -N DOCKER-USER
      for chain in "${CHAINS[@]}"; do
        ipt "$b" "$fam" -n -L "$chain" >/dev/null 2>&1 || ipt "$b" "$fam" -N "$chain"
      done
      # Fill both chains in one transaction (their declarations empty them first): there is no
      # moment where a chain is half full. Each family's restore skips the other's lines.
      {
        echo "*filter"
        for chain in "${CHAINS[@]}"; do echo ":$chain - [0:0]"; done
        cat "$RULES"
        echo "COMMIT"
      } | "$(tool "$b" "$fam" -restore)" -w --noflush
      ensure_first "$b" "$fam" INPUT OPENCLAW-INPUT
      ensure_first "$b" "$fam" DOCKER-USER OPENCLAW-EGRESS
      # Docker leaves ip6tables alone unless its own ip6tables option is on: then FORWARD is ours to
      # guard; when it is on, Docker keeps its DOCKER-USER jump first and ours sits right below.
      if [ "$fam" = 6 ]; then ensure_first "$b" 6 FORWARD OPENCLAW-EGRESS; fi
    done
  done
}

# After loading: from a tenant bridge, INPUT and FORWARD meet our chains before anything accepts.
verify() {
  local b fam chain gap
  for b; do
    for fam in $(families); do
      for chain in INPUT FORWARD; do
        gap=$(walk "$b" "$fam" "$chain") ||
          die "$(tool "$b" "$fam") $chain reaches '$gap' before the guard's chain: tenants are not guarded. Run 'pulumi up' again (it puts the guard's jumps first; Docker's jump to DOCKER-USER must come first in FORWARD)."
      done
    done
  done
}

remove() {
  local b fam chain from to
  for b in $(candidates); do
    for fam in $(families); do
      if untouched "$b" "$fam"; then continue; fi
      for from in "INPUT OPENCLAW-INPUT" "DOCKER-USER OPENCLAW-EGRESS" "FORWARD OPENCLAW-EGRESS"; do
        read -r chain to <<<"$from"
        while ipt "$b" "$fam" -C "$chain" -i "$BRIDGES" -j "$to" 2>/dev/null; do ipt "$b" "$fam" -D "$chain" -i "$BRIDGES" -j "$to"; done
      done
      for chain in "${CHAINS[@]}"; do
        if ipt "$b" "$fam" -n -L "$chain" >/dev/null 2>&1; then ipt "$b" "$fam" -F "$chain"; ipt "$b" "$fam" -X "$chain"; fi
      done
    done
  done
  if have_systemd && [ -f "$UNIT" ]; then
    systemctl disable openclaw-egress-guard.service >/dev/null 2>&1 || true
    rm -f -- "$UNIT"
    systemctl daemon-reload
  fi
  rm -f -- "$RULES" "$BACKENDS" "$INSTALLED"
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
    if grep -qvE '^-[46] -A OPENCLAW-(INPUT|EGRESS) [-A-Za-z0-9 ./,]+$' <<<"$rules"; then die "refusing a rule outside our chains"; fi
    # Everything that can refuse does so before anything changes.
    backends=$(detect) || exit 1
    for b in $backends; do
      for fam in $(families); do
        command -v "$(tool "$b" "$fam")" >/dev/null 2>&1 || die "$(tool "$b" "$fam") is not installed (Docker's rules are in $(tool "$b" 4))"
      done
    done
    mkdir -p -- "$(dirname "$RULES")"
    printf '%s\n' "$rules" >"$RULES.new" && mv -f -- "$RULES.new" "$RULES"
    echo "$backends" >"$BACKENDS.new" && mv -f -- "$BACKENDS.new" "$BACKENDS"
    install_boot
    load
    # shellcheck disable=SC2086 # one word per backend
    verify $backends
    echo "openclaw-hosting: egress guard loaded on server '$SERVER' ($(wc -l <"$RULES") rules; $(names $backends); IPv$(families | sed 's/ / and IPv/'); Docker's FORWARD passes tenant traffic through it)"
    ;;
  check)
    backends=$(detect) || exit 1
    # shellcheck disable=SC2086
    verify $backends
    echo "openclaw-hosting: egress guard on server '$SERVER' is in place ($(names $backends))"
    ;;
  load) load ;;
  remove) remove; echo "openclaw-hosting: egress guard removed" ;;
  *) die "usage: egress-guard.sh apply SERVER | check SERVER | load | remove" ;;
esac
