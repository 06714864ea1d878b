#!/usr/bin/env bash
# `npm start -- --install`: installs what the launcher's checks found absent, with apt-get, as
# Debian installs it (the package's service starts as Debian sets it up).
#   install.sh docker|caddy ...
# It never stops, disables or replaces anything: a program that is already there (running,
# stopped or too old) belongs to the machine, and the script refuses to touch it. The test
# engine's own installer (test/machinery/runtime-env.sh) is a different thing and is not run here.
set -euo pipefail

log() { printf '[npm start --install] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
[ "$#" -gt 0 ] || die "usage: install.sh docker|caddy ..."

packages=()
caddy_from_backports=0
for want in "$@"; do
  case "$want" in
    docker)
      command -v dockerd >/dev/null 2>&1 && die "dockerd is installed already; npm start installs only what is absent"
      packages+=(docker.io) ;;
    caddy)
      command -v caddy >/dev/null 2>&1 && die "caddy is installed already; npm start installs only what is absent"
      caddy_from_backports=1 ;;
    *) die "unknown program: $want (docker or caddy)" ;;
  esac
done

log "apt-get update"
DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
if [ "$caddy_from_backports" = 1 ]; then
  # The edge needs Caddy >= 2.7 (stream_close_delay); bookworm's is 2.6.2.
  candidate="$(apt-cache policy caddy 2>/dev/null | awk '/Candidate:/ {print $2}')"
  if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] && dpkg --compare-versions "$candidate" ge 2.7; then
    packages+=(caddy); caddy_from_backports=0
  fi
fi
if [ "${#packages[@]}" -gt 0 ]; then
  log "installing: ${packages[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}" >&2
fi
if [ "$caddy_from_backports" = 1 ]; then
  # Debian's trixie-backports caddy runs on bookworm's libc. Its lists go to a private apt
  # directory, so the machine's own sources stay untouched.
  log "installing caddy from Debian's trixie-backports (this Debian's is older than 2.7)"
  dir="$(mktemp -d)"
  trap 'rm -rf "$dir"' EXIT
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  echo "deb http://deb.debian.org/debian trixie-backports main" >"$dir/sources.list"
  apt_opts=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache")
  apt-get "${apt_opts[@]}" update -q >&2
  (cd "$dir" && apt-get "${apt_opts[@]}" download caddy >&2)
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$dir"/caddy_*.deb >&2
fi
log "installed: $*"
