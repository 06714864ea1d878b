#!/usr/bin/env bash
# Installs a new Caddyfile read from stdin, safely, and reloads Caddy.
#   install-caddyfile.sh CADDYFILE_PATH ADMIN_ADDRESS
# ADMIN_ADDRESS is host:port or unix/<path>|<mode> (the address the new Caddyfile's admin line names).
# The same script runs locally and over SSH. It validates before touching the live file, swaps
# atomically, and if the reload fails it puts the previous file back and fails, so `pulumi up`
# fails while Caddy keeps serving the config it already had (a failed load is rolled back by Caddy).
set -euo pipefail

target=${1:?usage: install-caddyfile.sh CADDYFILE_PATH ADMIN_ADDRESS}
admin=${2:?usage: install-caddyfile.sh CADDYFILE_PATH ADMIN_ADDRESS}
# `caddy reload` has no timeout of its own: a hung admin API would hang `pulumi up` with it.
reload_timeout=${OPENCLAW_CADDY_RELOAD_TIMEOUT:-60}
dir=$(dirname -- "$target")
mkdir -p -- "$dir"

# One apply at a time: two concurrent runs must not interleave swap and restore.
exec 9>"$target.lock"
flock -w 120 9 || { echo "openclaw-hosting: another Caddyfile install holds $target.lock" >&2; exit 1; }

new=$(mktemp "$dir/.Caddyfile.new.XXXXXX")
previous="$target.previous"
cleanup() { rm -f -- "$new"; }
trap cleanup EXIT

cat > "$new"
# Keep the owner and mode of the file being replaced (an operator may have made it 0640 root:caddy).
if [ -f "$target" ]; then
  chown --reference="$target" -- "$new"
  chmod --reference="$target" -- "$new"
else
  chmod 0644 "$new"
fi

if ! caddy validate --config "$new" --adapter caddyfile >"$new.log" 2>&1; then
  cat "$new.log" >&2; rm -f -- "$new.log"
  echo "openclaw-hosting: the new Caddyfile is invalid; the live file and Caddy were not touched" >&2
  # The most likely cause on an older server: stream_close_delay needs Caddy 2.7 or newer.
  echo "openclaw-hosting: (this needs Caddy >= 2.7; the server has $(caddy version 2>/dev/null | cut -d' ' -f1))" >&2
  exit 1
fi
rm -f -- "$new.log"

had_previous=0
if [ -f "$target" ]; then
  cp -p -- "$target" "$previous"
  had_previous=1
fi
mv -f -- "$new" "$target"

# A unix socket that is not there yet: Caddy still listens where it was started (Debian's package,
# or an older stack: Caddy's default localhost:2019). Reload through that once; the new file's admin
# line moves the API onto the socket. Caddy does not create the socket's folder itself.
# (OPENCLAW_CADDY_PREVIOUS_ADMIN names another previous address; the tests use a free port.)
reload_via=$admin
case $admin in
  unix/*)
    socket=${admin#unix/}; socket=${socket%|*}
    if [ ! -S "$socket" ]; then
      mkdir -p -m 0755 -- "$(dirname -- "$socket")"
      reload_via=${OPENCLAW_CADDY_PREVIOUS_ADMIN:-localhost:2019}
      echo "openclaw-hosting: Caddy's admin socket $socket does not exist yet: reloading through $reload_via, which moves Caddy's admin API onto the socket" >&2
    fi
    ;;
esac

if ! timeout --kill-after=5 "$reload_timeout" caddy reload --config "$target" --adapter caddyfile --address "$reload_via"; then
  if [ "$had_previous" = 1 ]; then
    mv -f -- "$previous" "$target"
  else
    rm -f -- "$target"
  fi
  echo "openclaw-hosting: caddy reload failed or took over ${reload_timeout}s; restored the previous Caddyfile (Caddy keeps serving its old config)" >&2
  exit 1
fi
echo "openclaw-hosting: Caddyfile installed at $target and Caddy reloaded"
