#!/usr/bin/env bash
# `npm run bench:gateway [-- --tiers light,standard,heavy --sessions 20 --seconds 30 --json]`:
# takes the shared engine lock, starts the private engine, builds (or reuses) the real OpenClaw
# image, runs bench/gateway.ts, and stops the engine again. Needs root (like `npm test`).
set -euo pipefail
cd "$(dirname "$0")/.."
LOCK="${OPENCLAW_RUNTIME_LOCK:-/tmp/openclaw-runtime.lock}"
exec flock "$LOCK" bash -c '
  set -euo pipefail
  bash test/machinery/runtime-env.sh install >&2
  eval "$(bash test/machinery/runtime-env.sh start)"
  trap "bash test/machinery/runtime-env.sh stop >&2 || true" EXIT
  bash test/machinery/runtime-env.sh build-openclaw-image >&2
  npx ts-node --transpile-only bench/gateway.ts "$@"
' bench-gateway "$@"
