#!/usr/bin/env bash
# Makes the route folder match the route table read from stdin, without reloading Caddy.
#   install-routes.sh ROUTES_DIR
# Each stdin line is `<host> port-<port>` or `<host> suspended` (core/caddyfile.ts renderRoutes).
# Caddy looks `ROUTES_DIR/<host>/*` up on every request and before it obtains a certificate, so the
# folder is the routing table: a host's folder holds exactly one entry once this script is done.
# Every step is one rename or one unlink, so a request sees the old route or the new one, never a
# half-written one: a new host's folder is filled aside and renamed into place; a changed entry is
# written aside and renamed in beside the old one, which is then removed (glob order picks one of the
# two meanwhile); a host that left loses its entry first (no route from then on), then its folder.
set -euo pipefail

dir=${1:?usage: install-routes.sh ROUTES_DIR}
mkdir -p -m 0755 -- "$dir"

# One apply at a time: two concurrent runs must not interleave.
exec 9>"$dir/.lock"
flock -w 120 9 || { echo "openclaw-hosting: another route install holds $dir/.lock" >&2; exit 1; }

host_re='^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$'
entry_re='^(port-[0-9]{1,5}|suspended)$'
declare -A want=()
added=0 changed=0 removed=0
while IFS= read -r line || [ -n "$line" ]; do
  [ -z "$line" ] && continue
  host=${line%% *}; entry=${line#* }
  # Defence in depth: the core renders only these shapes; anything else could name a path elsewhere.
  if ! [[ $host =~ $host_re ]] || ! [[ $entry =~ $entry_re ]] || [ -n "${want[$host]:-}" ]; then
    echo "openclaw-hosting: refusing route line '${line:0:200}' (expected '<host> port-<port>' or '<host> suspended', each host once); the route folder was not changed" >&2
    exit 1
  fi
  want[$host]=$entry
done

note() { # what a person reading the folder sees; Caddy only looks at the entry's name
  case $2 in
    suspended) printf '%s is suspended: it answers 503 with a message\n' "$1" ;;
    *) printf '%s is routed to 127.0.0.1:%s\n' "$1" "${2#port-}" ;;
  esac
}

# Temporaries live at the folder's top level, never inside a host's folder: Caddy's glob
# (`<host>/*`) matches dot files too, and must only ever see a finished entry.
umask 022
seq=0
# Leftovers of an interrupted run (never a route: Caddy looks only at `<host>/*`).
find "$dir" -mindepth 1 -maxdepth 1 -name '.new.*' -exec rm -rf -- {} +
for host in "${!want[@]}"; do
  entry=${want[$host]}
  target="$dir/$host"
  if [ ! -d "$target" ]; then
    seq=$((seq + 1)); tmp="$dir/.new.$$.$seq"
    mkdir -- "$tmp"
    note "$host" "$entry" > "$tmp/$entry"
    mv -T -- "$tmp" "$target"
    added=$((added + 1))
    continue
  fi
  if [ ! -f "$target/$entry" ]; then
    seq=$((seq + 1)); tmp="$dir/.new.$$.$seq"
    note "$host" "$entry" > "$tmp"
    mv -f -T -- "$tmp" "$target/$entry"
    changed=$((changed + 1))
  fi
  for old in "$target"/* "$target"/.[!.]*; do
    [ -e "$old" ] || continue
    [ "$old" = "$target/$entry" ] || rm -rf -- "$old"
  done
done

for target in "$dir"/*; do
  [ -d "$target" ] || continue
  host=${target##*/}
  [ -n "${want[$host]:-}" ] && continue
  # The entry first: from that unlink on, the host has no route and gets no new certificate.
  find "$target" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
  rmdir -- "$target"
  removed=$((removed + 1))
done
echo "openclaw-hosting: routes in $dir: ${#want[@]} hosts (${added} added, ${changed} changed, ${removed} removed); Caddy not reloaded"
