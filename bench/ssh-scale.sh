#!/usr/bin/env bash
# Many tenants per server over SSH (issue 21), measured against test server 1 of
# test/machinery/servers-env.sh. Not part of any test run. Run it as root INSIDE the shared lock,
# with the servers up and their env loaded, e.g.:
#   flock /work/engine.lock bash -c 'bash test/machinery/servers-env.sh install; eval "$(bash test/machinery/servers-env.sh up)";
#     bash bench/ssh-scale.sh status 10 [BEFORE_CHECKOUT]; bash bench/ssh-scale.sh replay 100; bash test/machinery/servers-env.sh down'
#
# status N [BEFORE]: N idle labelled containers on server 1, then `npm run status` over ssh:// with
#   this checkout (and BEFORE, another checkout of the repo, if given) and over the server's local
#   socket: wall time, ssh processes started, and ssh handshakes the server accepted (its sshd log);
#   then 5 dashboard refreshes over ssh:// and over the local socket (bench/sshRefresh.ts). With
#   STATUS_STOCK=1 both also over a stock sshd on port 2222 (see replay; "stock" rows).
# replay N [CONC]: (REPLAY_MODES, default "plain mux gate") a stock sshd (MaxStartups 10:30:100, MaxSessions 10) next to server 1's on port
#   2222; N tenants' worth of the program's engine calls (4 Docker API connections each, as the
#   provider makes them: `ssh ... docker system dial-stdio`) plus 1 remote command each, CONC
#   (default 10, Pulumi's usual --parallel) at a time; failed connections counted, without and with
#   ssh multiplexing for the Docker calls (what components/server.ts now gives the provider).
set -uo pipefail
cd "$(dirname "$0")/.."
: "${OPENCLAW_SERVERS_SSH_BIN:?load the servers env first (servers-env.sh up)}"
: "${OPENCLAW_SERVERS_RUN:?}"
SSH="$OPENCLAW_SERVERS_SSH_BIN/ssh"
HOST=10.250.1.2
ENGINE="unix://$OPENCLAW_SERVERS_RUN/s1/docker.sock"
LOG="$OPENCLAW_SERVERS_RUN/s1/sshd.log"
WORK="$(mktemp -d /tmp/ssh-scale.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
accepted() { local c; c="$(grep -c "Accepted publickey" "$1" 2>/dev/null)"; echo "${c:-0}"; }
now_ms() { date +%s%3N; }

status_bench() {
  local n="$1" before="${2:-}" i
  for i in $(seq 1 "$n"); do
    DOCKER_HOST="$ENGINE" docker run -d --name "openclaw-bench-t$i" --label managed-by=openclaw-hosting \
      --label "openclaw.tenant=bench-t$i" --memory 64m openclaw-standin:test >/dev/null 2>&1 || true
  done
  # Counts every ssh the client starts, then runs the servers' own ssh (their key and known hosts).
  printf '#!/bin/sh\necho x >> %s/count\nexec %s "$@"\n' "$WORK" "$SSH" >"$WORK/ssh"
  chmod 755 "$WORK/ssh"
  local label dir engine labels="before after local"
  # STATUS_STOCK=1: also over a stock sshd (its default MaxSessions 10 per connection).
  if [ "${STATUS_STOCK:-0}" = 1 ]; then start_stock_sshd || return 1; labels="before after stock local"; fi
  for label in $labels; do
    if [ "$label" = before ]; then dir="$before"; else dir="$PWD"; fi
    [ -n "$dir" ] || continue
    # "local": the same tenants over the server's own socket, what status costs run on the server.
    case "$label" in local) engine="$ENGINE" ;; stock) engine="ssh://root@$HOST:2222" ;; *) engine="ssh://root@$HOST" ;; esac
    : >"$WORK/count"
    local a0 t0 t1 a1 code
    local log="$LOG"; [ "$label" = stock ] && log="$WORK/stock.log"
    a0="$(accepted "$log")"; t0="$(now_ms)"
    (cd "$dir" && DOCKER_HOST="$engine" OPENCLAW_STATUS_SSH="$WORK/ssh" npx ts-node --transpile-only tools/status/main.ts --json --timeout 20000 >"$WORK/$label.json" 2>"$WORK/$label.err")
    code=$?; t1="$(now_ms)"; sleep 1; a1="$(accepted "$log")"
    local timedout
    timedout="$(grep -c "timed out" "$WORK/$label.json" "$WORK/$label.err" | awk -F: '{s+=$2} END {print s}')"
    echo "status $label: $n tenants, exit $code, $((t1 - t0)) ms, ssh processes $(wc -l <"$WORK/count"), handshakes accepted by sshd $((a1 - a0)), 'timed out' mentions $timedout, rows $(jq '.tenants | length' "$WORK/$label.json" 2>/dev/null), running without figures $(jq '[.tenants[] | select(.state == "running" and (.memoryUsedBytes == null or .cpuPercent == null))] | length' "$WORK/$label.json" 2>/dev/null), sampled on their own $(jq '[.tenants[] | select(any(.notes[]; startswith("sampled on its own")))] | length' "$WORK/$label.json" 2>/dev/null)"
  done
  # A dashboard refresh (the kept connection, as `npm run dashboard` keeps it), over ssh and locally.
  local stock_engine=(); [ "${STATUS_STOCK:-0}" = 1 ] && stock_engine=("ssh://root@$HOST:2222")
  OPENCLAW_STATUS_SSH="$WORK/ssh" npx ts-node --transpile-only bench/sshRefresh.ts 5 "ssh://root@$HOST" "${stock_engine[@]}" "$ENGINE"
  [ "${STATUS_STOCK:-0}" = 1 ] && kill "$(cat "$WORK/stock.pid")" 2>/dev/null
  for i in $(seq 1 "$n"); do DOCKER_HOST="$ENGINE" docker rm -f "openclaw-bench-t$i" >/dev/null 2>&1 || true; done
}

# A stock sshd on port 2222 of server 1: no MaxStartups or MaxSessions given, so OpenSSH's defaults
# apply (10:30:100, 10 sessions per connection).
start_stock_sshd() {
  local run="$OPENCLAW_SERVERS_RUN/s1"
  nsenter --net=/run/netns/oc-srv1 /usr/sbin/sshd -f /dev/null -o ListenAddress="$HOST" -o Port=2222 \
    -o HostKey="$run/host_key" -o PidFile="$WORK/stock.pid" -o AuthorizedKeysFile="$(dirname "$OPENCLAW_SERVERS_KEY")/authorized_keys" \
    -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no -o PermitRootLogin=prohibit-password -o UsePAM=no \
    -o StrictModes=no -o SetEnv="DOCKER_HOST=$ENGINE" -E "$WORK/stock.log"
  local i=0; until [ -s "$WORK/stock.pid" ]; do i=$((i + 1)); [ "$i" -lt 40 ] || { echo "stock sshd did not start"; return 1; }; sleep 0.25; done
  # The same host key as port 22's: known_hosts needs the [host]:2222 form too.
  local kh; kh="$(dirname "$OPENCLAW_SERVERS_KEY")/known_hosts"
  grep -q "^\[$HOST\]:2222 " "$kh" || ssh-keyscan -T 5 -p 2222 "$HOST" 2>/dev/null >>"$kh"
}

replay_bench() {
  local n="$1" conc="${2:-10}"
  start_stock_sshd || return 1
  local mode
  local modes="${REPLAY_MODES:-plain mux gate}"
  for mode in $modes; do
    local mux_opts=() retry_dials=1
    if [ "$mode" != plain ]; then
      rm -rf "$WORK/cm"; mkdir -m 700 "$WORK/cm"
      mux_opts=(-o ControlMaster=auto -o "ControlPath=$WORK/cm/%C" -o ControlPersist=60)
    fi
    if [ "$mode" = gate ]; then
      # What the program gives the provider now (core/dockerHost.ts providerSshOpts): the shared
      # connection plus the gate (program/sshGate.js) for the calls it cannot carry.
      mux_opts+=(-o "'ProxyCommand=$(command -v node) $PWD/program/sshGate.js 6 900 %h %p'" -o ConnectTimeout=930)
      # The command provider dials again on failure: 10 dials, waits 150 ms growing 1.5x to 5 s
      # (pulumi-command remote/connection.go, dialErrorLimit's default, with pulumi's retry.Until).
      retry_dials=10
    fi
    # One tenant: 4 engine connections (volume, volume, network, container), as the provider makes
    # them, then 1 remote command (its own connection: the command provider dials each one).
    cat >"$WORK/tenant.sh" <<EOF
#!/bin/bash
fail=0
for k in 1 2 3 4; do
  timeout 600 "$SSH" -p 2222 ${mux_opts[*]} -T -- $HOST docker system dial-stdio >/dev/null 2>>"$WORK/$mode.err" < <(printf 'GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n') || fail=\$((fail + 1))
done
delay=0.1; ok=0
for d in \$(seq 1 $retry_dials); do
  if timeout 60 "$SSH" -p 2222 -T -- $HOST true 2>>"$WORK/$mode.err"; then ok=1; break; fi
  delay=\$(awk -v d=\$delay 'BEGIN { d *= 1.5; if (d > 5) d = 5; print d }'); sleep \$delay
done
[ \$ok = 1 ] || fail=\$((fail + 1))
echo \$fail
EOF
    chmod 755 "$WORK/tenant.sh"
    : >"$WORK/$mode.err"; export OPENCLAW_SSH_GATE_HOME="$WORK/gate-home"
    local a0 t0 t1 a1 failed
    a0="$(accepted "$WORK/stock.log")"; t0="$(now_ms)"
    failed="$(seq 1 "$n" | xargs -P "$conc" -I{} "$WORK/tenant.sh" | awk '{s+=$1} END {print s+0}')"
    t1="$(now_ms)"; a1="$(accepted "$WORK/stock.log")"
    echo "  most frequent errors ($mode):"; sed 's/[0-9a-f]\{40\}/HASH/; s/tmp\.[A-Za-z0-9]*/tmp.X/' "$WORK/$mode.err" | sort | uniq -c | sort -rn | head -4
    [ "$mode" != plain ] && "$SSH" -p 2222 -o "ControlPath=$WORK/cm/%C" -O exit "$HOST" 2>/dev/null
    echo "replay $mode: $n tenants x (4 engine + 1 command) connections at concurrency $conc on a stock sshd: $failed of $((n * 5)) failed, $((t1 - t0)) ms, handshakes $((a1 - a0)), refused handshakes (retried or failed): $(grep -c kex_exchange_identification "$WORK/$mode.err")"
  done
  kill "$(cat "$WORK/stock.pid")" 2>/dev/null
}

case "${1:-}" in
  status) status_bench "${2:-10}" "${3:-}" ;;
  replay) replay_bench "${2:-100}" "${3:-10}" ;;
  *) echo "usage: $0 status N [BEFORE_CHECKOUT] | replay N [CONCURRENCY]" >&2; exit 64 ;;
esac
