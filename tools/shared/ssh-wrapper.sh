#!/bin/sh
# The `ssh` the Docker CLI runs for DOCKER_HOST=ssh://user@host:port (it has no option for a key
# file): the system ssh (known_hosts, agent) with the stack's key for this server, if it names one,
# never asking for a password. Installed first on PATH as `ssh` by tools/move/transfer.ts.
# OPENCLAW_MOVE_SSH_CONTROL (a private 0700 directory): every Docker call of the move shares one
# ssh connection per server instead of a handshake each; it ends 30 s after its last use at most.
if [ -n "${OPENCLAW_MOVE_SSH_CONTROL:-}" ]; then
  set -- -o ControlMaster=auto -o "ControlPath=$OPENCLAW_MOVE_SSH_CONTROL/%C" -o ControlPersist=30 \
    -o ServerAliveInterval=10 -o ServerAliveCountMax=3 "$@"
fi
if [ -n "${OPENCLAW_MOVE_SSH_KEY:-}" ]; then
  exec /usr/bin/ssh -i "$OPENCLAW_MOVE_SSH_KEY" -o BatchMode=yes "$@"
fi
exec /usr/bin/ssh -o BatchMode=yes "$@"
