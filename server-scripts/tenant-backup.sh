#!/usr/bin/env bash
# Scheduled restic snapshots of every tenant on this server (docs/backups.md).
#   tenant-backup.sh install SERVER STACK SETTING...  stdin: the bundle of files for /etc/openclaw/backup
#                          (`name length` + bytes each); installs the script, the units, opens (or
#                          initialises) the repository; SETTINGs are schedule=, interval=, keep=,
#                          maintain=yes|no, subset=
#   tenant-backup.sh run                 (the timer's service) snapshot every tenant container here
#   tenant-backup.sh tenant NAME [REASON] snapshot one tenant (REASON: scheduled, before-upgrade, manual)
#   tenant-backup.sh maintain            (maintenance server) forget + prune by the retention, then check a data subset
#   tenant-backup.sh restic ARGS...      restic with this server's repository settings (for restores by hand)
#   tenant-backup.sh remove              remove the units, the settings and secrets (snapshots stay in the repository)
# Secrets live only in root-only files under /etc/openclaw/backup: never in argv, the environment of
# a unit, or the output (restic reads RESTIC_PASSWORD_FILE; the sftp key is a file).
set -euo pipefail
umask 077

ETC=/etc/openclaw/backup
VAR=/var/lib/openclaw/backup
STATUS=$VAR/status
STAGING=$VAR/staging
INSTALLED=/usr/local/lib/openclaw-hosting/tenant-backup.sh
UNIT_DIR=/etc/systemd/system
UNIT=openclaw-backup
MAINT_UNIT=openclaw-backup-maintain
MANAGED_LABEL=managed-by
TENANT_LABEL=openclaw.tenant
# restic 0.14 has no --retry-lock: a backup meeting prune's exclusive lock (or prune meeting a
# backup's) waits and tries again, bounded.
LOCK_TRIES=${OPENCLAW_BACKUP_LOCK_TRIES:-20}
LOCK_WAIT=${OPENCLAW_BACKUP_LOCK_WAIT:-30}

if [ "$(id -u)" != 0 ]; then exec sudo -n bash "$0" "$@"; fi
die() { echo "openclaw-hosting: backup on server '${OPENCLAW_BACKUP_SERVER:-${SERVER:-this server}}': $*" >&2; exit 1; }
have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
now_iso() { date -u +%Y-%m-%dT%H:%M:%SZ; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# Error text for a status file: one line, no quotes or backslashes, bounded.
clean() { tr '\n\r\t' '   ' | tr -d '"\\' | tr -cd '[:print:]' | sed 's/  */ /g; s/^ //; s/ $//' | cut -c1-400; }

load_env() {
  [ -r "$ETC/restic.env" ] || die "no backup settings ($ETC/restic.env): this server's backups are not installed (set the stack's backup block and run pulumi up)"
  set -a
  # shellcheck disable=SC1091
  . "$ETC/restic.env"
  set +a
  SETTINGS_FILE=$ETC/settings
  [ -r "$SETTINGS_FILE" ] && while IFS= read -r line; do
    case "$line" in schedule=*|interval=*|keep=*|maintain=*|subset=*) printf -v "SET_${line%%=*}" '%s' "${line#*=}" ;; esac
  done <"$SETTINGS_FILE"
  mkdir -p "$VAR/cache" "$STATUS" "$STAGING"
  chmod 700 "$VAR" "$STATUS" "$STAGING" "$VAR/cache"
}

# restic with the repository's options; its own stdout/stderr pass through.
restic_() {
  local opts=()
  [ -n "${OPENCLAW_RESTIC_OPTS:-}" ] && opts=(-o "$OPENCLAW_RESTIC_OPTS")
  restic "${opts[@]}" --cache-dir "$VAR/cache" "$@"
}

# restic_, retried while another process holds an exclusive lock. Output in $OUT, errors in $ERR.
restic_retry() {
  local try=1 errf
  errf=$(mktemp)
  while :; do
    if OUT=$(restic_ "$@" 2>"$errf"); then ERR=$(cat "$errf"); rm -f "$errf"; return 0; fi
    ERR=$(cat "$errf")
    if [ "$try" -lt "$LOCK_TRIES" ] && grep -qi "already locked" "$errf"; then try=$((try + 1)); sleep "$LOCK_WAIT"; continue; fi
    rm -f "$errf"
    return 1
  done
}

json_num() { [[ "${1:-}" =~ ^[0-9]+$ ]] && echo "$1" || echo null; }
json_str() { if [ -n "${1:-}" ]; then printf '"%s"' "$(printf '%s' "$1" | clean)"; else echo null; fi; }

# write_status TENANT OK START_ISO DURATION_MS REASON SNAPSHOT ADDED TOTAL ERROR
write_status() {
  local t=$1 ok=$2 started=$3 ms=$4 reason=$5 snap=$6 added=$7 total=$8 err=$9 time good=null
  time=$(now_iso)
  if [ "$ok" = true ]; then printf '%s %s %s\n' "$time" "$snap" "$total" >"$STATUS/$t.last-good"; fi
  if [ -s "$STATUS/$t.last-good" ]; then
    local gt gs gb
    read -r gt gs gb <"$STATUS/$t.last-good"
    good=$(printf '{"time":"%s","snapshotId":"%s","totalBytes":%s}' "$gt" "$gs" "$(json_num "$gb")")
  fi
  local tmp
  tmp=$(mktemp "$STATUS/.$t.XXXXXX")
  printf '{"tenant":"%s","server":"%s","stack":"%s","ok":%s,"time":"%s","startedAt":"%s","snapshotId":%s,"bytesAdded":%s,"totalBytes":%s,"durationMs":%s,"reason":"%s","error":%s,"lastGood":%s}\n' \
    "$t" "$OPENCLAW_BACKUP_SERVER" "$OPENCLAW_BACKUP_STACK" "$ok" "$time" "$started" "$(json_str "$snap")" "$(json_num "$added")" "$(json_num "$total")" \
    "$(json_num "$ms")" "$reason" "$(json_str "$err")" "$good" >"$tmp"
  chmod 600 "$tmp"
  mv -f "$tmp" "$STATUS/$t.json"
}

# The copy made inside a one-shot container of the tenant's own image, as the tenant's own user,
# without network or capabilities: it reads the tenant's files the way the gateway does (a symlink
# the tenant planted leads nowhere outside its volumes), copies every file, and replaces each SQLite
# database by a copy made with SQLite's online backup API (one step: one read transaction, so every
# transaction committed before it began is in the copy, whatever the gateway writes meanwhile),
# checked with PRAGMA integrity_check. -wal, -shm and -journal files beside a database are left out.
# What only a running gateway means is left out too, as OpenClaw's own `backup create` leaves it out:
# its lock folder (state/tmp/openclaw-<uid>), and the rows of `state_leases` in the copies (a lease
# names the process that held it; restored, no such process runs, and a lease from another host
# would keep the restored gateway from starting until it expires, up to 5 minutes later).
COPY_JS=$(cat <<'JS'
const fs = require("fs"), path = require("path");
let sqlite; try { sqlite = require("node:sqlite"); } catch { sqlite = undefined; }
const MAGIC = Buffer.from("SQLite format 3\0", "latin1");
const SIDE = /-(wal|shm|journal)$/;
const isDb = (p) => { const fd = fs.openSync(p, "r"); try { const b = Buffer.alloc(16); return fs.readSync(fd, b, 0, 16, 0) === 16 && b.equals(MAGIC); } finally { fs.closeSync(fd); } };
const GATEWAY_LOCKS = /^\/src\/state\/tmp\/openclaw(-\d+)?$/;
let files = 0, dbs = 0, bytes = 0, leases = 0;
async function copy(src, dst) {
  const st = fs.lstatSync(src);
  if (st.isDirectory() && GATEWAY_LOCKS.test(src)) return;
  if (st.isDirectory()) {
    fs.mkdirSync(dst, { mode: 0o700 });
    for (const name of fs.readdirSync(src)) await copy(path.join(src, name), path.join(dst, name));
    fs.chmodSync(dst, st.mode & 0o7777);
    fs.utimesSync(dst, st.atime, st.mtime);
  } else if (st.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(src), dst);
  } else if (st.isFile()) {
    if (SIDE.test(src) && fs.existsSync(src.replace(SIDE, ""))) return;
    if (st.size >= 16 && isDb(src)) {
      if (sqlite === undefined) throw new Error(`${src} is a SQLite database and this image's node (${process.version}) has no node:sqlite for a consistent copy`);
      const db = new sqlite.DatabaseSync(src, { timeout: 30000 });
      try { await sqlite.backup(db, dst, { rate: 2147483647 }); } finally { db.close(); }
      const copy = new sqlite.DatabaseSync(dst);
      try {
        if (copy.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'state_leases'").get() !== undefined) {
          leases += Number(copy.prepare("DELETE FROM state_leases").run().changes);
        }
        const rows = copy.prepare("PRAGMA integrity_check").all();
        if (rows.length !== 1 || rows[0].integrity_check !== "ok") throw new Error(`the copy of ${src} fails its integrity check`);
        copy.exec("PRAGMA journal_mode=DELETE");
      } finally { copy.close(); }
      for (const s of ["-wal", "-shm", "-journal"]) fs.rmSync(dst + s, { force: true });
      dbs++;
    } else {
      fs.copyFileSync(src, dst);
    }
    fs.chmodSync(dst, st.mode & 0o7777);
    fs.utimesSync(dst, st.atime, st.mtime);
    files++; bytes += fs.statSync(dst).size;
  }
}
(async () => {
  for (const part of ["state", "credentials"]) await copy(`/src/${part}`, `/out/${part}`);
  console.log(JSON.stringify({ files, dbs, bytes, leases, maxRssKb: process.resourceUsage().maxRSS }));
})().catch((e) => { console.error(String(e && e.message || e)); process.exit(1); });
JS
)

# Copies TENANT's two volumes into its staging folder. Prints the copy's counts.
stage() {
  local t=$1 image=$2 user=$3 dir=$STAGING/$1
  rm -rf "$dir"
  mkdir -p "$dir"
  chown "$user" "$dir"
  chmod 700 "$dir"
  docker run --rm --network none --user "$user" --cap-drop ALL --security-opt no-new-privileges \
    --read-only --tmpfs /tmp:rw,nosuid,nodev,size=16m --memory 512m --memory-swap 512m --pids-limit 64 \
    --label "openclaw.backup-of=$t" \
    -v "openclaw-$t-state:/src/state" -v "openclaw-$t-credentials:/src/credentials" -v "$dir:/out" \
    --entrypoint node "$image" -e "$COPY_JS"
}

# Snapshot one tenant; writes its status file. Fails (after writing it) when the snapshot failed.
snapshot_tenant() {
  local t=$1 reason=${2:-scheduled} c=openclaw-$1 started t0 info image user summary snap added total err=""
  started=$(now_iso); t0=$(now_ms)
  if ! info=$(docker inspect -f "{{.Image}}|{{.Config.User}}|{{index .Config.Labels \"$MANAGED_LABEL\"}}" "$c" 2>/dev/null); then
    echo "tenant $t has no container on this server: nothing to snapshot"
    return 0
  fi
  local managed
  IFS='|' read -r image user managed <<<"$info"
  if [ "$managed" != openclaw-hosting ]; then echo "tenant $t: container $c is not one of the program's; not snapshotted" >&2; return 1; fi
  # The copy runs as the tenant's own user, never as root: a container without one is refused.
  if ! [[ "$user" =~ ^[0-9]+(:[0-9]+)?$ ]] || [ "${user%%:*}" = 0 ]; then echo "tenant $t: container $c has no numeric non-root user; not snapshotted" >&2; return 1; fi
  exec 8>"/run/lock/openclaw-backup-$t.lock"
  flock -w 900 8 || { err="another snapshot of $t is still running after 15 min"; }
  local copied=""
  if [ -z "$err" ] && ! copied=$(stage "$t" "$image" "$user" 2>&1); then err="copying the tenant's volumes failed: $(printf '%s' "$copied" | tail -n 3)"; fi
  if [ -z "$err" ]; then
    if restic_retry backup --json --host "$OPENCLAW_BACKUP_SERVER" --tag "tenant=$t" --tag "server=$OPENCLAW_BACKUP_SERVER" \
      --tag "stack=$OPENCLAW_BACKUP_STACK" --tag "reason=$reason" "$STAGING/$t"; then
      summary=$(printf '%s\n' "$OUT" | grep '"message_type":"summary"' | tail -n1 || true)
      snap=$(printf '%s' "$summary" | sed -n 's/.*"snapshot_id":"\([0-9a-f]*\)".*/\1/p')
      added=$(printf '%s' "$summary" | sed -n 's/.*"data_added":\([0-9]*\).*/\1/p')
      total=$(printf '%s' "$summary" | sed -n 's/.*"total_bytes_processed":\([0-9]*\).*/\1/p')
      [ -n "$snap" ] || err="restic wrote no snapshot id"
    elif printf '%s' "$ERR" | grep -qi "already locked"; then
      # Who holds it, not restic's hint to remove "stale" locks: this lock is live (a prune or check).
      err="restic backup failed: the repository stayed locked through $LOCK_TRIES tries, ${LOCK_WAIT}s apart: $(printf '%s' "$ERR" | grep -i -m1 "already locked")"
    else
      err="restic backup failed: $(printf '%s' "$ERR" | grep -v '^$' | tail -n 3)"
    fi
  fi
  rm -rf "${STAGING:?}/$t"
  flock -u 8 || true
  if [ -n "$err" ]; then
    write_status "$t" false "$started" "$(( $(now_ms) - t0 ))" "$reason" "" "" "" "$err"
    echo "tenant $t: snapshot FAILED: $(printf '%s' "$err" | clean)" >&2
    return 1
  fi
  write_status "$t" true "$started" "$(( $(now_ms) - t0 ))" "$reason" "$snap" "$added" "$total" ""
  echo "tenant $t: snapshot $snap ($total bytes, $added added, $(( $(now_ms) - t0 )) ms; copy $copied)"
}

cmd_run() {
  load_env
  local t failed=0 tenants
  tenants=$(docker ps -a --filter "label=$MANAGED_LABEL=openclaw-hosting" --filter "label=$TENANT_LABEL" --format "{{.Label \"$TENANT_LABEL\"}}" | sort -u)
  for t in $tenants; do
    [[ "$t" =~ ^[a-z0-9][a-z0-9-]*$ ]] || continue
    snapshot_tenant "$t" scheduled || failed=$((failed + 1))
  done
  [ "$failed" = 0 ] || die "$failed tenant snapshot(s) failed (see $STATUS)"
}

cmd_tenant() {
  [[ "${1:-}" =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "tenant name expected"
  load_env
  snapshot_tenant "$1" "${2:-manual}"
}

cmd_maintain() {
  load_env
  local t0 ok=true err=""
  t0=$(now_iso)
  # One retention per tenant (its staging path), across the servers it lived on, this stack only.
  # shellcheck disable=SC2086
  if ! restic_retry forget --tag "stack=$OPENCLAW_BACKUP_STACK" --group-by paths ${SET_keep:?} --prune; then ok=false; err="forget/prune failed: $(printf '%s' "$ERR" | tail -n 3)"; fi
  printf '{"ok":%s,"time":"%s","error":%s}\n' "$ok" "$(now_iso)" "$(json_str "$err")" >"$STATUS/_prune.json"
  local cok=true cerr=""
  if ! restic_retry check --read-data-subset="${SET_subset:-5%}"; then cok=false; cerr="repository check failed: $(printf '%s\n%s' "$ERR" "$OUT" | grep -v '^$' | tail -n 3)"; fi
  printf '{"ok":%s,"time":"%s","startedAt":"%s","subset":"%s","error":%s}\n' "$cok" "$(now_iso)" "$t0" "${SET_subset:-5%}" "$(json_str "$cerr")" >"$STATUS/_check.json"
  chmod 600 "$STATUS/_prune.json" "$STATUS/_check.json"
  [ "$ok" = true ] && [ "$cok" = true ] || die "${err:-$cerr}"
  echo "repository maintained: forget/prune and check of ${SET_subset:-5%} ok"
}

# Reads the bundle from stdin into ETC: `name length\n` then exactly length bytes, repeated.
read_bundle() {
  local name len
  while IFS=' ' read -r name len; do
    [ -n "$name" ] || continue
    case "$name" in restic.env|password|ssh_key|known_hosts) ;; *) die "unexpected file '$name' in the settings" ;; esac
    [[ "$len" =~ ^[0-9]+$ ]] || die "bad length for $name"
    head -c "$len" >"$ETC/$name.new"
    [ "$(stat -c %s "$ETC/$name.new")" = "$len" ] || die "settings ended early ($name)"
    chmod 600 "$ETC/$name.new"
    mv -f "$ETC/$name.new" "$ETC/$name"
    # head -c leaves the reader at the next header.
  done
}

cmd_install() {
  SERVER=${1:?server}; local stack=${2:?stack}; shift 2
  command -v restic >/dev/null 2>&1 || die "restic is not installed (apt-get install restic)"
  command -v docker >/dev/null 2>&1 || die "the docker CLI is not installed"
  install -d -m 700 "$ETC"
  rm -f "$ETC/ssh_key" "$ETC/known_hosts"
  read_bundle
  [ -s "$ETC/restic.env" ] && [ -s "$ETC/password" ] || die "the settings did not arrive"
  local s
  : >"$ETC/settings.new"
  for s in "$@"; do
    case "$s" in schedule=*|interval=*|keep=*|maintain=*|subset=*) printf '%s\n' "$s" >>"$ETC/settings.new" ;; *) die "unknown setting" ;; esac
  done
  chmod 600 "$ETC/settings.new"; mv -f "$ETC/settings.new" "$ETC/settings"
  load_env
  [ "$OPENCLAW_BACKUP_SERVER" = "$SERVER" ] && [ "$OPENCLAW_BACKUP_STACK" = "$stack" ] || die "the settings name another server or stack"
  install -d -m 755 "$(dirname "$INSTALLED")"
  install -m 755 "$0" "$INSTALLED"
  printf '{"schedule":"%s","intervalMinutes":%s,"maintain":%s}\n' "$SET_schedule" "$(json_num "$SET_interval")" "$([ "$SET_maintain" = yes ] && echo true || echo false)" >"$STATUS/_schedule.json"
  chmod 600 "$STATUS/_schedule.json"
  # The repository must open with this password, or the first scheduled run would fail unseen.
  if ! restic_retry cat config >/dev/null; then
    if printf '%s' "$ERR" | grep -qiE "wrong password|no key found"; then die "the repository does not open with backup.password (wrong password)"; fi
    if [ "$SET_maintain" = yes ] && printf '%s' "$ERR" | grep -qiE "does not exist|no such file|Is there a repository|unable to open config file"; then
      restic_ init >/dev/null 2>"$ETC/.init.err" || { local e; e=$(tail -n 2 "$ETC/.init.err" | clean); rm -f "$ETC/.init.err"; die "could not create the repository: $e"; }
      rm -f "$ETC/.init.err"
      echo "repository created"
    else
      die "the repository cannot be opened: $(printf '%s' "$ERR" | grep -v '^$' | tail -n 2 | clean)"
    fi
  fi
  write_units
  echo "backups installed: schedule $SET_schedule, maintenance here: $SET_maintain"
}

write_units() {
  local delay=$(( ${SET_interval:-60} * 6 ))  # a tenth of the interval, in seconds, at most 5 min
  [ "$delay" -le 300 ] || delay=300
  cat >"$UNIT_DIR/$UNIT.service" <<EOF
[Unit]
Description=openclaw-hosting: restic snapshot of every tenant on this server
After=docker.service network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=$INSTALLED run
Nice=10
IOSchedulingClass=idle
EOF
  cat >"$UNIT_DIR/$UNIT.timer" <<EOF
[Unit]
Description=openclaw-hosting: tenant snapshots ($SET_schedule)

[Timer]
OnCalendar=$SET_schedule
Persistent=true
RandomizedDelaySec=$delay

[Install]
WantedBy=timers.target
EOF
  if [ "$SET_maintain" = yes ]; then
    cat >"$UNIT_DIR/$MAINT_UNIT.service" <<EOF
[Unit]
Description=openclaw-hosting: forget, prune and check the backup repository
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=$INSTALLED maintain
Nice=10
IOSchedulingClass=idle
EOF
    cat >"$UNIT_DIR/$MAINT_UNIT.timer" <<EOF
[Unit]
Description=openclaw-hosting: backup repository maintenance (daily)

[Timer]
OnCalendar=*-*-* 04:30
Persistent=true
RandomizedDelaySec=900

[Install]
WantedBy=timers.target
EOF
  else
    rm -f "$UNIT_DIR/$MAINT_UNIT.service" "$UNIT_DIR/$MAINT_UNIT.timer"
  fi
  if have_systemd; then
    systemctl daemon-reload
    systemctl enable --now "$UNIT.timer" >/dev/null 2>&1 || die "systemctl could not enable $UNIT.timer"
    if [ "$SET_maintain" = yes ]; then systemctl enable --now "$MAINT_UNIT.timer" >/dev/null 2>&1 || die "systemctl could not enable $MAINT_UNIT.timer"
    else systemctl disable --now "$MAINT_UNIT.timer" >/dev/null 2>&1 || true; fi
  else
    echo "no systemd here: the units are written but nothing starts them (run '$INSTALLED run' from cron)" >&2
  fi
}

cmd_remove() {
  if have_systemd; then
    systemctl disable --now "$UNIT.timer" "$MAINT_UNIT.timer" >/dev/null 2>&1 || true
  fi
  rm -f "$UNIT_DIR/$UNIT.service" "$UNIT_DIR/$UNIT.timer" "$UNIT_DIR/$MAINT_UNIT.service" "$UNIT_DIR/$MAINT_UNIT.timer"
  have_systemd && systemctl daemon-reload || true
  # The secrets go; the snapshots stay in the repository (the operator's to delete).
  # Their contents: the folders themselves may be mount points (the test servers bind them).
  local d
  for d in "$ETC" "$STAGING" "$VAR/cache"; do [ -d "$d" ] && find "$d" -mindepth 1 -delete; rmdir "$d" 2>/dev/null || true; done
  rm -f "$STATUS"/_schedule.json
  # This script too, and its folder once no other openclaw-hosting script is left in it.
  rm -f "$INSTALLED"
  rmdir "$(dirname "$INSTALLED")" 2>/dev/null || true
  echo "backups removed from this server (snapshots kept in the repository)"
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  run) cmd_run ;;
  tenant) shift; cmd_tenant "$@" ;;
  maintain) cmd_maintain ;;
  restic) shift; load_env; restic_ "$@" ;;
  remove) cmd_remove ;;
  *) echo "usage: $0 {install SERVER STACK SETTING...|run|tenant NAME [REASON]|maintain|restic ARGS...|remove}" >&2; exit 2 ;;
esac
