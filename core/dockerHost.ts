import { shellWord } from "./shell";

/** Where the Docker engine is, read from DOCKER_HOST the way the docker CLI reads it. */

/** A command-line or DOCKER_HOST value that cannot be used. */
export class UsageError extends Error {}

export type DockerTarget =
  | { kind: "unix"; socketPath: string; display: string }
  | { kind: "tcp"; host: string; port: number; tls: boolean; display: string }
  | { kind: "ssh"; host: string; port: number | null; user: string | null; display: string; identityFile?: string };

export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";

/**
 * DOCKER_HOST the way the docker CLI reads it: unset = the default socket; unix:///path;
 * tcp://host[:port] (TLS when DOCKER_TLS_VERIFY is set or the port is 2376); ssh://[user@]host[:port].
 */
export function parseDockerHost(dockerHost: string | undefined, tlsVerify?: string): DockerTarget {
  const raw = (dockerHost ?? "").trim();
  if (raw === "") return { kind: "unix", socketPath: DEFAULT_DOCKER_SOCKET, display: `unix://${DEFAULT_DOCKER_SOCKET}` };
  if (raw.startsWith("unix://")) {
    const socketPath = raw.slice("unix://".length) || DEFAULT_DOCKER_SOCKET;
    return { kind: "unix", socketPath, display: `unix://${socketPath}` };
  }
  const withScheme = raw.includes("://") ? raw : `tcp://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`DOCKER_HOST=${raw} is not a valid address (use unix:///path, tcp://host:port or ssh://user@host)`);
  }
  if (!["tcp:", "http:", "https:", "ssh:"].includes(url.protocol)) {
    throw new UsageError(`DOCKER_HOST=${raw}: unsupported scheme ${url.protocol} (use unix://, tcp:// or ssh://)`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new UsageError(`DOCKER_HOST=${raw} has no host`);
  if (url.protocol === "tcp:" || url.protocol === "http:" || url.protocol === "https:") {
    const tls = url.protocol === "https:" || (tlsVerify !== undefined && tlsVerify !== "" && tlsVerify !== "0") || url.port === "2376";
    const port = url.port !== "" ? Number(url.port) : tls ? 2376 : 2375;
    return { kind: "tcp", host, port, tls, display: `tcp://${url.host.replace(/:\d+$/, "")}:${port}${tls ? " (TLS)" : ""}` };
  }
  if (url.protocol === "ssh:") {
    if (url.password !== "") throw new UsageError("DOCKER_HOST: ssh:// with a password is not supported (use a key or ssh-agent)");
    const user = url.username !== "" ? decodeURIComponent(url.username) : null;
    const port = url.port !== "" ? Number(url.port) : null;
    return { kind: "ssh", host, port, user, display: `ssh://${user !== null ? `${user}@` : ""}${url.host}` };
  }
  throw new UsageError(`DOCKER_HOST=${raw}: unsupported scheme ${url.protocol} (use unix://, tcp:// or ssh://)`);
}

/**
 * One ssh connection per server, shared by every `docker system dial-stdio` to it (OpenSSH
 * multiplexing): one handshake instead of one per Docker API connection, and one of sshd's
 * MaxStartups slots instead of many. The socket lives in a private (0700) directory of the caller's;
 * the shared connection ends `persistSeconds` after its last session, so it never outlives its use
 * for long, even when the caller dies without closing it.
 */
export interface SshMux {
  /** A ControlPath inside a 0700 directory; `%C` (a hash of host, port and user) keeps it short. */
  controlPath: string;
  persistSeconds: number;
}

/** ssh sends a keep-alive this often and gives up after this many unanswered: a dead server costs ~30 s at most. */
export const SSH_ALIVE = { intervalSeconds: 10, countMax: 3 };

function sshCommonArgs(target: Extract<DockerTarget, { kind: "ssh" }>, connectTimeoutSeconds: number, mux: SshMux | undefined): string[] {
  return [
    "-o", "BatchMode=yes",
    "-o", `ConnectTimeout=${Math.max(1, Math.ceil(connectTimeoutSeconds))}`,
    ...(mux === undefined
      ? []
      : [
        "-o", "ControlMaster=auto",
        "-o", `ControlPath=${mux.controlPath}`,
        "-o", `ControlPersist=${Math.max(1, Math.ceil(mux.persistSeconds))}`,
        "-o", `ServerAliveInterval=${SSH_ALIVE.intervalSeconds}`,
        "-o", `ServerAliveCountMax=${SSH_ALIVE.countMax}`,
      ]),
    ...(target.user !== null ? ["-l", target.user] : []),
    ...(target.port !== null ? ["-p", String(target.port)] : []),
    // A stack server's privateKeyPath, as components/server.ts gives it to ssh; only that key is offered.
    ...(target.identityFile !== undefined ? ["-i", target.identityFile, "-o", "IdentitiesOnly=yes"] : []),
  ];
}

/**
 * The ssh command line the docker CLI uses for ssh:// hosts: the remote's `docker system dial-stdio`
 * bridges stdin/stdout to its engine. BatchMode: never prompt (cron); host keys are checked against
 * known_hosts by ssh itself. With `mux`, every call shares one connection (see SshMux).
 */
export function sshDialArgs(target: Extract<DockerTarget, { kind: "ssh" }>, connectTimeoutSeconds: number, mux?: SshMux): string[] {
  return ["-T", ...sshCommonArgs(target, connectTimeoutSeconds, mux), "--", target.host, "docker", "system", "dial-stdio"];
}

/**
 * One command run on the server over the same shared connection (a session of it, like each
 * dial-stdio stream): ssh hands the remote shell one string, so each word is quoted for it.
 */
export function sshRunArgs(target: Extract<DockerTarget, { kind: "ssh" }>, connectTimeoutSeconds: number, mux: SshMux, command: readonly string[]): string[] {
  if (command.length === 0) throw new Error("sshRunArgs: no command to run");
  return ["-T", ...sshCommonArgs(target, connectTimeoutSeconds, mux), "--", target.host, command.map(shellWord).join(" ")];
}

/** Ends a shared connection now (its sessions with it) instead of at the end of ControlPersist. */
export function sshMuxExitArgs(target: Extract<DockerTarget, { kind: "ssh" }>, mux: SshMux): string[] {
  return [...sshCommonArgs(target, 1, mux), "-O", "exit", "--", target.host];
}

/** The DOCKER_HOST of a server reached over SSH; an IPv6 address goes in brackets, as in any URL. */
export function sshDockerHost(user: string, host: string, port: number): string {
  return `ssh://${user}@${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * Where the Docker provider's shared ssh connections live on the machine that runs `pulumi`: ssh
 * expands `~` to the user's home; program/providerSsh.ts creates the directory (0700) first, as
 * ssh fails when it is missing.
 */
export const PROVIDER_SSH_CONTROL_DIR = "~/.ssh/openclaw-mux";
/** How long the provider's shared connection outlives its last Docker call (a run's calls come in bursts). */
export const PROVIDER_SSH_PERSIST_SECONDS = 60;

/**
 * How many direct ssh connections the Docker provider opens to one server at a time (the rest
 * wait, up to `waitSeconds`): below a stock sshd's MaxStartups (10), which drops the handshakes
 * past it, with room for the tools and the command provider's connections. Measured in
 * bench/ssh-scale.sh (docs/servers.md).
 */
export const PROVIDER_SSH_SLOTS = 6;
export const PROVIDER_SSH_WAIT_SECONDS = 900;

/** The gate ssh runs as its ProxyCommand (program/sshGate.js), by absolute paths. */
export interface SshGate {
  node: string;
  script: string;
  slots: number;
  waitSeconds: number;
}

/** ssh expands %h and %p to the server's address and port. */
export function sshGateCommand(gate: SshGate): string {
  return [gate.node, gate.script, String(gate.slots), String(gate.waitSeconds)].map(shellWord).join(" ") + " %h %p";
}

/**
 * The Docker provider's sshOpts: its key, never prompting, and one shared connection per server
 * (see SshMux) for all of its `docker system dial-stdio` calls, so a first `up` of many tenants
 * makes one ssh handshake per server instead of one per Docker call (sshd's MaxStartups). The
 * shared connection carries only the server's MaxSessions (10) calls at once; the others open
 * their own connections, which go through the gate so that they wait instead of being dropped.
 */
export function providerSshOpts(privateKeyPath: string | undefined, gate: SshGate): string[] {
  return [
    ...(privateKeyPath !== undefined ? ["-i", privateKeyPath] : []),
    "-o", "BatchMode=yes",
    "-o", "ControlMaster=auto",
    "-o", `ControlPath=${PROVIDER_SSH_CONTROL_DIR}/%C`,
    "-o", `ControlPersist=${PROVIDER_SSH_PERSIST_SECONDS}`,
    "-o", `ServerAliveInterval=${SSH_ALIVE.intervalSeconds}`,
    "-o", `ServerAliveCountMax=${SSH_ALIVE.countMax}`,
    "-o", `ProxyCommand=${sshGateCommand(gate)}`,
    // ssh counts a ProxyCommand's wait for the server's banner against ConnectTimeout (an
    // operator's ssh config may set a short one): allow the gate's whole wait.
    "-o", `ConnectTimeout=${gate.waitSeconds + 30}`,
  ];
}
