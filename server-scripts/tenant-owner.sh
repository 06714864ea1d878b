#!/usr/bin/env bash
# Makes a tenant's volumes its own before its gateway starts: the volume roots belong to the
# tenant's uid (and gid, the same number), and every file owned by one of its former uids (the
# shared 1000 every tenant ran as before, or its own earlier uid) is re-owned to it. Nothing is
# removed or rewritten: only owners change, and running it again changes nothing more.
#   tenant-owner.sh TENANT UID FORMER_UIDS(a,b) STOP_GRACE_SECONDS IMAGE CONTAINER VOLUME...
# The re-owning runs in a one-shot container of the tenant's own image with only its volumes
# mounted, no network, a read-only root and only CAP_CHOWN, CAP_FOWNER and CAP_DAC_READ_SEARCH:
# a link the tenant planted resolves inside that container, never on the server, and find never
# follows one (chown -h changes the link itself).
set -euo pipefail

tenant=${1:?usage: tenant-owner.sh TENANT UID FORMER_UIDS GRACE IMAGE CONTAINER VOLUME...}
uid=$2 former=$3 grace=$4 image=$5 container=$6
shift 6
die() { echo "openclaw-hosting: tenant $tenant's files: $*" >&2; exit 1; }
[[ "$uid" =~ ^[0-9]+$ ]] || die "uid must be a number, got $uid"
[[ "$former" =~ ^([0-9]+(,[0-9]+)*)?$ ]] || die "former uids must be numbers separated by commas, got $former"
[[ "$grace" =~ ^[0-9]+$ ]] || die "stop grace must be a number of seconds, got $grace"
[ "$#" -ge 1 ] || die "no volumes named"

# A gateway still running as another uid is stopped first (within its drain grace, as a
# replacement would), so nothing writes as the old uid while or after its files are re-owned.
# The program replaces that container right after this step.
user=$(docker container inspect -f '{{.Config.User}}' "$container" 2>/dev/null || true)
if [ -n "$user" ] && [ "$user" != "$uid:$uid" ] \
  && [ "$(docker container inspect -f '{{.State.Running}}' "$container")" = true ]; then
  echo "openclaw-hosting: stopping $container (runs as $user) before re-owning its files to $uid:$uid"
  docker stop -t "$grace" "$container" >/dev/null
fi

mounts=()
i=0
for volume in "$@"; do
  docker volume inspect "$volume" >/dev/null 2>&1 || die "volume $volume does not exist"
  # volume-nocopy: the image's folder must not be copied in (nor its owner, 1000) over the volume.
  mounts+=(--mount "type=volume,src=$volume,dst=/owned/$i,volume-nocopy")
  i=$((i + 1))
done

helper="openclaw-owner-$tenant"
docker rm -f "$helper" >/dev/null 2>&1 || true   # left by an interrupted run
# shellcheck disable=SC2016
inner='set -eu
uid=$1; former=$(echo "$2" | tr , " ")
for d in /owned/*; do
  n=0
  for old in $former; do
    n=$((n + $(find "$d" -xdev \( -user "$old" -o -group "$old" \) | wc -l)))
    find "$d" -xdev -user "$old" -exec chown -h "$uid" {} +
    find "$d" -xdev -group "$old" -exec chgrp -h "$uid" {} +
  done
  chown "$uid:$uid" "$d"
  chmod 0700 "$d"
  echo "$n"
done'
counts=$(docker run --rm --name "$helper" --network none --user 0:0 --cap-drop ALL --cap-add CHOWN --cap-add FOWNER --cap-add DAC_READ_SEARCH \
  --security-opt no-new-privileges --read-only --log-driver none --entrypoint sh "${mounts[@]}" "$image" -c "$inner" sh "$uid" "$former") \
  || die "re-owning to $uid:$uid failed (nothing was removed; run again)"
total=0
for n in $counts; do total=$((total + n)); done
echo "openclaw-hosting: tenant $tenant's volumes belong to $uid:$uid ($total files re-owned from ${former:-no former uid})"
