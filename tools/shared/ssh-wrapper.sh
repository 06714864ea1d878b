#!/bin/sh
# The `ssh` the Docker CLI runs for DOCKER_HOST=ssh://user@host:port (it has no option for a key
# file): the system ssh (known_hosts, agent) with the stack's key for this server, if it names one,
# never asking for a password. Installed first on PATH as `ssh` by tools/shared/dockerCli.ts (move, restore).
# OPENCLAW_MOVE_SSH_CONTROL (a private 0700 directory): every Docker call of the move shares one
# ssh connection per server instead of a handshake each; it ends 30 s after its last use at most.
if [ -n "${OPENCLAW_MOVE_SSH_CONTROL:-}" ]; then
  set -- -o ControlMaster=auto -o "ControlPath=$OPENCLAW_MOVE_SSH_CONTROL/%C" -o ControlPersist=30 \
    -o ServerAliveInterval=10 -o ServerAliveCountMax=3 "$@"
fi
# OPENCLAW_KNOWN_HOSTS (files separated by `:`, as the program reads it): the host keys checked
# instead of the user's known_hosts, so a tool checks the same keys as the program's commands.
if [ -n "${OPENCLAW_KNOWN_HOSTS:-}" ]; then
  set -- -o "UserKnownHostsFile=$(printf '%s' "$OPENCLAW_KNOWN_HOSTS" | tr ':' ' ')" -o StrictHostKeyChecking=yes "$@"
fi
if [ -n "${OPENCLAW_MOVE_SSH_KEY:-}" ]; then
  exec /usr/bin/ssh -i "$OPENCLAW_MOVE_SSH_KEY" -o BatchMode=yes "$@"
fi
exec /usr/bin/ssh -o BatchMode=yes "$@"
