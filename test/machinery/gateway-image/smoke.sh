#!/usr/bin/env bash
# Smoke test: runs the stand-in gateway with the hardened per-tenant profile the Pulumi
# program produces (docker run equivalent) and checks health, the source address the gateway
# sees through a 127.0.0.1-published port, read-only root, volume persistence, WebSocket echo,
# signal handling and the applied limits. Cleans up everything it created.
#
#   DOCKER_HOST=unix:///run/openclaw-test/docker.sock test/machinery/gateway-image/smoke.sh
# Env: SMOKE_TENANT (smoke), SMOKE_OCTET (X in 10.231.X.0/28, default 250), SMOKE_PORT (18899),
#      OPENCLAW_STANDIN_TAG (openclaw-standin:test), SMOKE_KEEP=1 to leave resources behind.
set -euo pipefail

export DOCKER_HOST="${DOCKER_HOST:-unix:///run/openclaw-test/docker.sock}"
TENANT="${SMOKE_TENANT:-smoke}"
X="${SMOKE_OCTET:-250}"
PORT="${SMOKE_PORT:-18899}"
IMAGE="${OPENCLAW_STANDIN_TAG:-openclaw-standin:test}"
NAME="openclaw-$TENANT"
NET="openclaw-$TENANT"
SUBNET="10.231.$X.0/28"
GW="10.231.$X.1"
VOL_STATE="openclaw-$TENANT-state"
VOL_CONFIG="openclaw-$TENANT-config"
TOKEN="smoke-token-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
APIKEY="sk-ant-smoke-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SETTINGS='[{"path":"gateway.mode","value":"local"},{"path":"gateway.bind","value":"lan"},{"path":"gateway.auth.mode","value":"token"},{"path":"gateway.trustedProxies","value":["'"$GW"'"]},{"path":"gateway.controlUi.allowedOrigins","value":["https://'"$TENANT"'.example.test"]}]'
HEALTH_TEST="fetch('http://127.0.0.1:18789/healthz').then(r=>r.json()).then(j=>process.exit(j&&j.ok===true?0:1)).catch(()=>process.exit(1))"

FAILS=0
ok() { printf '  ok   %s\n' "$*"; }
bad() { printf '  FAIL %s\n' "$*"; FAILS=$((FAILS + 1)); }
check() { local desc="$1"; shift; if "$@"; then ok "$desc"; else bad "$desc"; fi; }
info() { printf '  info %s\n' "$*"; }
j() { jq -r "$1"; }

cleanup() {
  [ "${SMOKE_KEEP:-0}" = 1 ] && { echo "SMOKE_KEEP=1: leaving $NAME, $NET, $VOL_STATE, $VOL_CONFIG"; return; }
  docker rm -f "$NAME" >/dev/null 2>&1 || true
  docker network rm "$NET" >/dev/null 2>&1 || true
  docker volume rm "$VOL_STATE" "$VOL_CONFIG" >/dev/null 2>&1 || true
}
trap cleanup EXIT

run_container() {
  docker run -d \
    --name "$NAME" \
    --user 1000:1000 \
    --read-only \
    --tmpfs /tmp:rw,nosuid,nodev,size=64m,mode=1777 \
    --cap-drop ALL \
    --security-opt no-new-privileges:true \
    --init \
    --restart unless-stopped \
    --memory 512m --memory-reservation 384m --memory-swap 512m --cpus 1.0 \
    --network "$NET" \
    -p "127.0.0.1:$PORT:18789" \
    -v "$VOL_STATE:/home/node/.openclaw" \
    -v "$VOL_CONFIG:/home/node/.config/openclaw" \
    -e "OPENCLAW_GATEWAY_TOKEN=$TOKEN" \
    -e "ANTHROPIC_API_KEY=$APIKEY" \
    -e "NODE_OPTIONS=--max-old-space-size=384" \
    -e "OPENCLAW_DISABLE_BONJOUR=1" \
    -e "OPENCLAW_SETTINGS=$SETTINGS" \
    --log-driver json-file --log-opt max-size=10m --log-opt max-file=3 \
    --label "openclaw.tenant=$TENANT" --label "openclaw.managed-by=smoke" \
    --health-cmd "node -e \"$HEALTH_TEST\"" \
    --health-interval 2s --health-timeout 3s --health-start-period 10s --health-retries 3 \
    "$IMAGE" \
    sh -c 'node dist/index.js config set --batch-json "$OPENCLAW_SETTINGS" && exec node dist/index.js gateway --bind lan --port 18789'
}
# NB: the Pulumi program sets the health check as an exec array ["CMD","node","-e","fetch(...)"];
# the CLI's --health-cmd can only produce CMD-SHELL (run by /bin/sh), so the exec form is also
# checked below with `docker exec NAME node -e ...` (same argv, no shell).

wait_healthy() {
  local i=0 st
  while [ "$i" -lt 60 ]; do
    st="$(docker inspect -f '{{.State.Health.Status}}' "$NAME" 2>/dev/null || echo missing)"
    [ "$st" = healthy ] && return 0
    [ "$st" = missing ] && return 1
    sleep 0.5; i=$((i + 1))
  done
  return 1
}

echo "== smoke: $NAME on $NET ($SUBNET), 127.0.0.1:$PORT, image $IMAGE, DOCKER_HOST=$DOCKER_HOST"
docker image inspect "$IMAGE" >/dev/null || { echo "image $IMAGE missing: test/machinery/runtime-env.sh build-image"; exit 1; }
cleanup
docker network create --driver bridge --subnet "$SUBNET" --gateway "$GW" \
  --label "openclaw.tenant=$TENANT" "$NET" >/dev/null
docker volume create --label "openclaw.tenant=$TENANT" "$VOL_STATE" >/dev/null
docker volume create --label "openclaw.tenant=$TENANT" "$VOL_CONFIG" >/dev/null

t0=$(date +%s%N)
RUN_ERR="$(mktemp)"
run_container >/dev/null 2>"$RUN_ERR" || { cat "$RUN_ERR"; exit 1; }
if [ -s "$RUN_ERR" ]; then info "docker run stderr: $(tr '\n' ' ' <"$RUN_ERR")"; fi
rm -f "$RUN_ERR"
check "container becomes healthy" wait_healthy
info "healthy after $(( ($(date +%s%N) - t0) / 1000000 )) ms"

echo "-- applied profile"
HC="$(docker inspect -f '{{json .HostConfig}}' "$NAME")"
CFG="$(docker inspect -f '{{json .Config}}' "$NAME")"
NETS="$(docker inspect -f '{{json .NetworkSettings.Networks}}' "$NAME")"
check "only attached to $NET (not the default bridge)" [ "$(echo "$NETS" | jq -c 'keys')" = "[\"$NET\"]" ]
CIP="$(echo "$NETS" | j ".[\"$NET\"].IPAddress")"
info "container address $CIP, networks $(echo "$NETS" | jq -c 'keys')"
check "ReadonlyRootfs" [ "$(echo "$HC" | j .ReadonlyRootfs)" = true ]
check "CapDrop ALL" [ "$(echo "$HC" | jq -c .CapDrop)" = '["ALL"]' ]
check "no-new-privileges" [ "$(echo "$HC" | jq -c .SecurityOpt)" = '["no-new-privileges:true"]' ]
check "Init" [ "$(echo "$HC" | j .Init)" = true ]
check "restart unless-stopped" [ "$(echo "$HC" | j .RestartPolicy.Name)" = unless-stopped ]
check "Memory 512m" [ "$(echo "$HC" | j .Memory)" = 536870912 ]
check "MemoryReservation 384m" [ "$(echo "$HC" | j .MemoryReservation)" = 402653184 ]
check "MemorySwap 512m (= memory: no swap)" [ "$(echo "$HC" | j .MemorySwap)" = 536870912 ]
check "NanoCpus 1e9" [ "$(echo "$HC" | j .NanoCpus)" = 1000000000 ]
check "user 1000:1000" [ "$(echo "$CFG" | j .User)" = 1000:1000 ]
check "port bound to 127.0.0.1 only" [ "$(echo "$HC" | jq -c '.PortBindings["18789/tcp"]')" = "[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$PORT\"}]" ]
check "log opts" [ "$(echo "$HC" | jq -c .LogConfig)" = '{"Type":"json-file","Config":{"max-file":"3","max-size":"10m"}}' ]
CG="$(docker exec "$NAME" sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes /sys/fs/cgroup/memory/memory.soft_limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max /sys/fs/cgroup/memory.low' | tr '\n' ' ')"
info "cgroup memory limit / memsw / soft (or v2 max / swap.max / low): $CG"
NODE_PID="$(docker exec "$NAME" sh -c 'for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = node ] && { echo ${p#/proc/}; break; }; done')"
check "gateway is not PID 1 (init is)" [ -n "$NODE_PID" ] && [ "$NODE_PID" != 1 ]
info "PID 1: $(docker exec "$NAME" cat /proc/1/comm), gateway pid $NODE_PID"
check "gateway runs with no effective capabilities" [ "$(docker exec "$NAME" sh -c "grep CapEff /proc/$NODE_PID/status" | awk '{print $2}')" = 0000000000000000 ]
check "gateway NoNewPrivs=1" [ "$(docker exec "$NAME" sh -c "grep NoNewPrivs /proc/$NODE_PID/status" | awk '{print $2}')" = 1 ]
check "exec-form health check command works" docker exec "$NAME" node -e "$HEALTH_TEST"

echo "-- HTTP through 127.0.0.1:$PORT"
B="http://127.0.0.1:$PORT"
check "/healthz live" [ "$(curl -fsS "$B/healthz")" = '{"ok":true,"status":"live"}' ]
check "/health live" [ "$(curl -fsS "$B/health")" = '{"ok":true,"status":"live"}' ]
check "/readyz ready" [ "$(curl -fsS "$B/readyz")" = '{"ok":true,"status":"ready"}' ]
check "unknown path 404" [ "$(curl -s -o /dev/null -w '%{http_code}' "$B/definitely-not-here")" = 404 ]
WHO="$(curl -fsS -H "Authorization: Bearer $TOKEN" "$B/__standin/whoami")"
REMOTE="$(echo "$WHO" | j .remoteAddress)"
info "remoteAddress seen by the gateway via 127.0.0.1:$PORT = $REMOTE (network gateway $GW)"
check "remoteAddress is the network gateway address" [ "$REMOTE" = "::ffff:$GW" ] || [ "$REMOTE" = "$GW" ]
check "remote is trusted (trustedProxies from OPENCLAW_SETTINGS)" [ "$(echo "$WHO" | j .trusted)" = true ]
check "bearer token matches env" [ "$(echo "$WHO" | j .tokenValid)" = true ]
check "whoami does not echo the token" bash -c '! grep -qF -- "$1" <<<"$2"' _ "$TOKEN" "$WHO"
CONF="$(curl -fsS "$B/__standin/config")"
check "config has trustedProxies [$GW]" [ "$(echo "$CONF" | jq -c .config.gateway.trustedProxies)" = "[\"$GW\"]" ]
check "config has gateway.mode local" [ "$(echo "$CONF" | j .config.gateway.mode)" = local ]
ENVN="$(curl -fsS "$B/__standin/env-names")"
for v in OPENCLAW_GATEWAY_TOKEN ANTHROPIC_API_KEY NODE_OPTIONS OPENCLAW_DISABLE_BONJOUR OPENCLAW_SETTINGS HOME; do
  check "env $v present" bash -c 'jq -e --arg v "$1" ".names|index(\$v)" <<<"$2" >/dev/null' _ "$v" "$ENVN"
done
check "env-names has no secret values" bash -c '! grep -qF -- "$1" <<<"$2"' _ "$APIKEY" "$ENVN"

echo "-- filesystem"
WR="$(curl -fsS -XPOST "$B/__standin/write-root")"
info "write-root: $(echo "$WR" | jq -c '[.results[]|{path,code}]')"
check "root fs writes fail with EROFS" [ "$(echo "$WR" | j .readOnly)" = true ]
check "/tmp is writable (tmpfs)" docker exec "$NAME" sh -c 'echo x >/tmp/probe && rm /tmp/probe'
check "state volume owned by 1000:1000" [ "$(docker exec "$NAME" stat -c '%u:%g' /home/node/.openclaw)" = 1000:1000 ]
check "config volume owned by 1000:1000" [ "$(docker exec "$NAME" stat -c '%u:%g' /home/node/.config/openclaw)" = 1000:1000 ]
PAYLOAD="persist-$(date +%s%N)"
check "volume writes work" [ "$(curl -fsS -XPOST --data-binary "$PAYLOAD" "$B/__standin/write?name=smoke.txt" | j .ok)" = true ]

echo "-- WebSocket echo through 127.0.0.1:$PORT"
WS_OUT="$(timeout 10 node - "$PORT" <<'EOF' 2>&1 || true
// minimal RFC 6455 client (no deps): handshake, one masked text frame, expect the echo
const net = require('net'), crypto = require('crypto');
const port = Number(process.argv[2]);
const key = crypto.randomBytes(16).toString('base64');
const s = net.connect(port, '127.0.0.1', () => {
  s.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
});
let buf = Buffer.alloc(0), upgraded = false;
s.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  if (!upgraded) {
    const i = buf.indexOf('\r\n\r\n'); if (i < 0) return;
    const head = buf.subarray(0, i).toString();
    const want = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    if (!head.startsWith('HTTP/1.1 101') || !head.includes(want)) { console.log('bad handshake', head); process.exit(1); }
    upgraded = true; buf = buf.subarray(i + 4);
    const msg = Buffer.from('hello-ws'), mask = crypto.randomBytes(4);
    const masked = Buffer.from(msg.map((b, k) => b ^ mask[k & 3]));
    s.write(Buffer.concat([Buffer.from([0x81, 0x80 | msg.length]), mask, masked]));
  }
  if (upgraded && buf.length >= 2) {
    const len = buf[1] & 0x7f; if (buf.length < 2 + len) return;
    console.log(`opcode=${buf[0] & 0x0f} text=${buf.subarray(2, 2 + len).toString()}`);
    s.end(); process.exit(0);
  }
});
s.on('error', (e) => { console.log('error', e.message); process.exit(1); });
EOF
)"
check "WebSocket echo ($WS_OUT)" [ "$WS_OUT" = "opcode=1 text=hello-ws" ]

echo "-- restart, persistence, signals"
t1=$(date +%s%N)
docker stop -t 10 "$NAME" >/dev/null
STOP_MS=$(( ($(date +%s%N) - t1) / 1000000 ))
EXIT_CODE="$(docker inspect -f '{{.State.ExitCode}}' "$NAME")"
info "docker stop took $STOP_MS ms, exit code $EXIT_CODE"
check "SIGTERM -> exit 0" [ "$EXIT_CODE" = 0 ]
check "stop took under 3 s (no SIGKILL)" [ "$STOP_MS" -lt 3000 ]
docker rm "$NAME" >/dev/null
RUN_ERR="$(mktemp)"; run_container >/dev/null 2>"$RUN_ERR" || { cat "$RUN_ERR"; exit 1; }; rm -f "$RUN_ERR"
check "replacement container healthy" wait_healthy
RD="$(curl -fsS "$B/__standin/read?name=smoke.txt")"
check "state volume content survives replacement" [ "$(echo "$RD" | j .state.content)" = "$PAYLOAD" ]
check "config volume content survives replacement" [ "$(echo "$RD" | j .config.content)" = "$PAYLOAD" ]
check "config set is idempotent (one trustedProxies entry after 2 runs)" \
  [ "$(curl -fsS "$B/__standin/config" | jq -c .config.gateway.trustedProxies)" = "[\"$GW\"]" ]
LOGS="$(docker logs "$NAME" 2>&1)"
check "container logs contain neither token nor API key" bash -c '! grep -qF -e "$1" -e "$2" <<<"$3"' _ "$TOKEN" "$APIKEY" "$LOGS"

echo "== smoke done: $FAILS failure(s); remoteAddress via 127.0.0.1:$PORT = $REMOTE"
[ "$FAILS" = 0 ]
