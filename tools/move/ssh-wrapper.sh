#!/bin/sh
# The `ssh` the Docker CLI runs for DOCKER_HOST=ssh://user@host:port (it has no option for a key
# file): the system ssh (known_hosts, agent) with the stack's key for this server, if it names one,
# never asking for a password. Installed first on PATH as `ssh` by tools/move/transfer.ts.
if [ -n "${OPENCLAW_MOVE_SSH_KEY:-}" ]; then
  exec /usr/bin/ssh -i "$OPENCLAW_MOVE_SSH_KEY" -o BatchMode=yes "$@"
fi
exec /usr/bin/ssh -o BatchMode=yes "$@"
