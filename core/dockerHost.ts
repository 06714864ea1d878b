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
 * The ssh command line the docker CLI uses for ssh:// hosts: the remote's `docker system dial-stdio`
 * bridges stdin/stdout to its engine. BatchMode: never prompt (cron); host keys are checked against
 * known_hosts by ssh itself.
 */
export function sshDialArgs(target: Extract<DockerTarget, { kind: "ssh" }>, connectTimeoutSeconds: number): string[] {
  return [
    "-T",
    "-o", "BatchMode=yes",
    "-o", `ConnectTimeout=${Math.max(1, Math.ceil(connectTimeoutSeconds))}`,
    ...(target.user !== null ? ["-l", target.user] : []),
    ...(target.port !== null ? ["-p", String(target.port)] : []),
    // A stack server's privateKeyPath, as components/server.ts gives it to ssh; only that key is offered.
    ...(target.identityFile !== undefined ? ["-i", target.identityFile, "-o", "IdentitiesOnly=yes"] : []),
    "--", target.host,
    "docker", "system", "dial-stdio",
  ];
}

/** The DOCKER_HOST of a server reached over SSH; an IPv6 address goes in brackets, as in any URL. */
export function sshDockerHost(user: string, host: string, port: number): string {
  return `ssh://${user}@${host.includes(":") ? `[${host}]` : host}:${port}`;
}
