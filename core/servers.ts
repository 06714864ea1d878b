import { ServerSize } from "./capacity";
import { DockerTarget, sshDockerHost } from "./dockerHost";
import { PortPool } from "./portPool";
import { CgroupDriver } from "./processLimit";
import { StackConfig } from "./stackConfig";

/** The name of the one server a stack with the single-server keys (`ssh`, `serverIp`, `server`) has. */
export const DEFAULT_SERVER = "default";

/** One server after normalisation: the same shape whichever way the stack described it. */
export interface ServerTarget {
  name: string;
  /** Absent: the machine `pulumi up` runs on. */
  ssh?: NonNullable<StackConfig["ssh"]>;
  /** Where DNS points this server's tenants (`serverIp` for a single-server stack). */
  publicIp?: string;
  /** Absent only for a single-server stack without `server` (capacity is then not checked). */
  size?: ServerSize;
  portPool: PortPool;
  tenantNetworks: string;
  /** Docker's cgroup driver there: the server's own, else the stack's. */
  cgroupDriver: CgroupDriver;
  /** Config field prefix for problems about this server (`servers.b.` or, for the single server, ``). */
  fieldPrefix: string;
}

/**
 * Every server of the stack, sorted by name. A stack with today's single-server keys has one
 * server, `default`, built from them, so it keeps working unchanged.
 */
export function resolveServers(config: StackConfig): ServerTarget[] {
  if (config.servers === undefined) {
    return [{
      name: DEFAULT_SERVER,
      ssh: config.ssh,
      publicIp: config.serverIp,
      size: config.server,
      portPool: config.portPool,
      tenantNetworks: config.tenantNetworks,
      cgroupDriver: config.cgroupDriver,
      fieldPrefix: "",
    }];
  }
  return Object.entries(config.servers)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, s]) => ({
      name,
      ssh: s.ssh,
      publicIp: s.publicIp,
      size: { memoryMb: s.memoryMb, cpus: s.cpus, overcommit: s.overcommit, ...(s.diskGb === undefined ? {} : { diskGb: s.diskGb }) },
      portPool: s.portPool ?? config.portPool,
      tenantNetworks: s.tenantNetworks ?? config.tenantNetworks,
      cgroupDriver: s.cgroupDriver ?? config.cgroupDriver,
      fieldPrefix: `servers.${name}.`,
    }));
}

/** The stack described its one server with the single-server keys: problems then name those keys. */
export function writtenAsSingleServer(servers: readonly ServerTarget[]): boolean {
  return servers.length === 1 && servers[0].fieldPrefix === "";
}

/**
 * Pulumi resource names of a server's own resources. The server named `default` keeps the names a
 * single-server stack has always used (`server`, `edge`), so moving the single-server keys under
 * `servers.default` replaces nothing; every other server gets its name as a suffix.
 */
export function serverResourceNames(server: string): { provider: string; edge: string; egressGuard: string; backup: string } {
  return server === DEFAULT_SERVER
    ? { provider: "server", edge: "edge", egressGuard: "egress-guard", backup: "backup" }
    : { provider: `server-${server}`, edge: `edge-${server}`, egressGuard: `egress-guard-${server}`, backup: `backup-${server}` };
}

/** How a server's Docker engine is reached: over SSH with its key, or this machine's (`local`: DOCKER_HOST or the socket). */
export function engineTarget(server: Pick<ServerTarget, "ssh">, local: DockerTarget): DockerTarget {
  const { ssh } = server;
  if (ssh === undefined) return local;
  return { kind: "ssh", host: ssh.host, port: ssh.port, user: ssh.user, display: sshDockerHost(ssh.user, ssh.host, ssh.port), identityFile: ssh.privateKeyPath };
}
