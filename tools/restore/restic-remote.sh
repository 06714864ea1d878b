# Run on a server over the stack's ssh (`bash -s -- MODE ARGS...`, this text on stdin) by
# tools/restore/restore.ts. It reads the repository's location, password file and options from
# the root-only /etc/openclaw/backup/restic.env the program installs (the backup contract), so the
# password never travels in argv, output or the operator's terminal.
#   snapshots TENANT STACK     restic's JSON list of the tenant's snapshots (tags tenant=, stack=)
#   stage ID DIR               restores snapshot ID under DIR (new, root-only) with --verify, then
#                              prints `restic ls --json ID` (paths, sizes, owners, modes)
#   unstage DIR                removes a staged restore (it holds the tenant's secrets)
# shellcheck shell=bash
set -euo pipefail
ENV_FILE=/etc/openclaw/backup/restic.env
RESTORE_DIR=/var/lib/openclaw/backup/restore
die() { printf 'restore on %s: %s\n' "$(hostname)" "$*" >&2; exit 3; }

command -v restic >/dev/null || die "restic is not installed on this server (apt-get install restic)"
[ -r "$ENV_FILE" ] || die "no $ENV_FILE here: the stack has no backup block, or pulumi up has not installed it on this server"
set -a
# shellcheck disable=SC1090
. "$ENV_FILE"
set +a
[ -n "${RESTIC_REPOSITORY:-}" ] || die "$ENV_FILE sets no RESTIC_REPOSITORY"
r() { restic ${OPENCLAW_RESTIC_OPTS:+-o "$OPENCLAW_RESTIC_OPTS"} "$@"; }

# A staged restore lives only in its own new directory under RESTORE_DIR.
staged_dir() {
  case "$1" in "$RESTORE_DIR"/*) ;; *) die "not a restore directory: $1" ;; esac
  case "$1" in *..*|*//*) die "not a restore directory: $1" ;; esac
}

case "${1:-}" in
  snapshots)
    r snapshots --json --no-lock --tag "tenant=$2,stack=$3"
    ;;
  stage)
    staged_dir "$3"
    mkdir -p -m 0700 "$RESTORE_DIR"
    mkdir -m 0700 "$3" || die "$3 exists already (an unfinished restore?); nothing was changed"
    r restore "$2" --target "$3" --verify >&2
    r ls --json "$2"
    ;;
  unstage)
    staged_dir "$2"
    rm -rf -- "$2"
    ;;
  *) die "usage: snapshots TENANT STACK | stage ID DIR | unstage DIR" ;;
esac
