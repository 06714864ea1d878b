# Run in a helper container (busybox or coreutils) with the tenant's volumes at /v/<key>: one line
# per regular file, `<bytes> <sha256> <path>`, one `DIR <path>` line per directory (empty ones too),
# one `OTHER <path>` line for anything else, and one `OWNER <uid>:<gid> <path>` line for every entry
# (numeric: the tenant's own uid has no name in any image). tools/shared/manifest.ts parses it.
# shellcheck shell=sh
set -eu
cd /v
find . -type d | while IFS= read -r d; do printf 'DIR %s\n' "$d"; done
find . -type f | while IFS= read -r f; do printf '%s %s %s\n' "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)" "$f"; done
find . ! -type f ! -type d | while IFS= read -r o; do printf 'OTHER %s\n' "$o"; done
find . | while IFS= read -r p; do printf 'OWNER %s %s\n' "$(stat -c %u:%g "$p")" "$p"; done
