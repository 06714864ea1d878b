# Run in a helper container with the restored volumes at /v/<key>: one line per path under /v,
# `<uid> <gid> <octal mode> <path>` (numeric owners, never names). tools/restore/decide.ts parses it.
# shellcheck shell=sh
set -eu
cd /v
find . | while IFS= read -r p; do printf '%s\n' "$(stat -c '%u %g %a' "$p") $p"; done
