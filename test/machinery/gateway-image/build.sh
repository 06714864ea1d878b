#!/usr/bin/env bash
# Builds the stand-in OpenClaw gateway image (default tag openclaw-standin:test) without a
# registry: a root filesystem made of the host's node binary + its shared libraries,
# busybox-static as /bin/sh and applets, a `node` user (1000:1000) and gateway.js as
# /app/dist/index.js, imported with `docker import`.
#
#   DOCKER_HOST=unix:///run/openclaw-test/docker.sock test/machinery/gateway-image/build.sh [--force]
#
# Skips the build when an image with the same tag and content hash exists (--force rebuilds).
# Env: OPENCLAW_STANDIN_TAG (image tag), NODE_BIN (node binary to copy, default: `node` on PATH).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../base-rootfs.sh
. "$HERE/../base-rootfs.sh"
TAG="${OPENCLAW_STANDIN_TAG:-openclaw-standin:test}"
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

log() { printf '[build-image] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v docker >/dev/null || die "docker CLI not found"
docker info >/dev/null 2>&1 || die "docker engine not reachable (DOCKER_HOST=${DOCKER_HOST:-unset})"
NODE_BIN="$(readlink -f "${NODE_BIN:-$(command -v node)}")" || die "node not found"
[ -x "$NODE_BIN" ] || die "node binary $NODE_BIN not executable"
BUSYBOX="$(command -v busybox || true)"
[ -n "$BUSYBOX" ] || die "busybox not found (apt-get install busybox-static)"
BUSYBOX="$(readlink -f "$BUSYBOX")"
# A dynamically linked busybox would need its own libraries; insist on the static one.
if ldd "$BUSYBOX" >/dev/null 2>&1; then die "$BUSYBOX is dynamically linked; install busybox-static"; fi

HASH="$( {
  sha256sum "$HERE/gateway.js" "$HERE/build.sh" "$HERE/../base-rootfs.sh" | cut -d' ' -f1
  "$NODE_BIN" --version
  stat -c '%s %Y' "$NODE_BIN" "$BUSYBOX"
} | sha256sum | cut -c1-16)"

if [ "$FORCE" = 0 ]; then
  existing="$(docker image inspect -f '{{ index .Config.Labels "org.openclaw.standin.hash" }}' "$TAG" 2>/dev/null || true)"
  if [ "$existing" = "$HASH" ]; then
    log "$TAG is up to date (hash $HASH); use --force to rebuild"
    exit 0
  fi
fi

t0=$(date +%s%N)
ROOTFS="$(mktemp -d /tmp/openclaw-standin-rootfs.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT
lay_base_rootfs "$ROOTFS" "$NODE_BIN" "$BUSYBOX"
mkdir -p "$ROOTFS/app/dist"
echo "openclaw-standin $HASH" >"$ROOTFS/etc/openclaw-standin-release"

# the stand-in gateway
install -m 0644 "$HERE/gateway.js" "$ROOTFS/app/dist/index.js"
printf '{"name":"openclaw-standin","private":true,"version":"0.0.0"}\n' >"$ROOTFS/app/package.json"

# State directories owned by node, so new named volumes copy that ownership.
chown -R 1000:1000 "$ROOTFS/home/node"

OLD_ID="$(docker image inspect -f '{{.Id}}' "$TAG" 2>/dev/null || true)"
TMP_TAG="openclaw-standin-build:$HASH"
tar --numeric-owner -C "$ROOTFS" -cf - . | docker import \
  --change 'USER node' \
  --change 'WORKDIR /app' \
  --change 'ENV HOME=/home/node' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_ENV=production' \
  --change 'EXPOSE 18789' \
  --change "LABEL org.openclaw.standin.hash=$HASH org.opencontainers.image.title=openclaw-standin" \
  --change 'CMD ["node","dist/index.js","gateway","--bind","lan","--port","18789"]' \
  --message "openclaw stand-in gateway ($HASH)" \
  - "$TMP_TAG" >/dev/null

# sanity: the dynamic loader, libraries and busybox work inside the image
out="$(docker run --rm --network none "$TMP_TAG" sh -c 'id && node -e "console.log(typeof fetch)"' 2>&1 || true)"
case "$out" in
  *"uid=1000(node) gid=1000(node)"*function*) ;;
  *) docker rmi "$TMP_TAG" >/dev/null 2>&1 || true; die "image sanity check failed: $out" ;;
esac
docker tag "$TMP_TAG" "$TAG"
docker rmi "$TMP_TAG" >/dev/null
# drop the previous build if nothing uses it any more (best effort)
if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$(docker image inspect -f '{{.Id}}' "$TAG")" ]; then
  docker rmi "$OLD_ID" >/dev/null 2>&1 || true
fi
log "built $TAG (hash $HASH) in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
