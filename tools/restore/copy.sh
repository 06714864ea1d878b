# Run in a helper container as root: the staged snapshot at /src/<key> (read-only) copied into the
# fresh volumes at /v/<key>, numeric owners, modes and times kept (cp -a; the volume's own root
# directory takes the snapshot's owner and mode too).
# shellcheck shell=sh
set -eu
for key in state credentials; do
  cp -a "/src/$key/." "/v/$key/"
done
