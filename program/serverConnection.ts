import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { knownHostKeys, knownHostsName, preferredHostKey } from "../core/knownHosts";
import { HostingInputError, Problem } from "../core/problems";
import { ServerTarget } from "../core/servers";
import { StackConfig } from "../core/stackConfig";
import { ServerConnection } from "./serverCommand";

/**
 * The known_hosts files read for host keys: OPENCLAW_KNOWN_HOSTS (paths separated by `:`) or, as
 * ssh reads them, the operator's ~/.ssh/known_hosts and the system's /etc/ssh/ssh_known_hosts.
 */
export function knownHostsFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const own = env.OPENCLAW_KNOWN_HOSTS;
  if (own !== undefined && own !== "") return own.split(":").filter((f) => f !== "");
  return [path.join(os.homedir(), ".ssh", "known_hosts"), "/etc/ssh/ssh_known_hosts"];
}

/** The host key a server must present: its config's `hostKey`, else the one known_hosts holds for it. */
export function serverHostKey(ssh: NonNullable<StackConfig["ssh"]>, files: readonly string[]): { key?: string; revoked: boolean } {
  if (ssh.hostKey !== undefined) return { key: ssh.hostKey, revoked: false };
  const keys: string[] = [];
  let revoked = false;
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      continue; // a missing file knows no host
    }
    const found = knownHostKeys(text, ssh.host, ssh.port);
    keys.push(...found.keys);
    revoked ||= found.revoked.length > 0;
  }
  return { key: preferredHostKey(keys), revoked };
}

/**
 * How commands (edge, egress guard, process limits) reach a server over SSH: the same login the
 * Docker provider uses, and the host key the server must present (without one the provider would
 * accept any server). With `privateKeyPath` the key's text goes into the connection, which Pulumi
 * keeps as a secret in state (encrypted); without it only the agent's socket path does.
 */
export function serverConnection(ssh: StackConfig["ssh"], hostKey: string | undefined): ServerConnection | undefined {
  if (ssh === undefined) return undefined;
  const privateKey = ssh.privateKeyPath !== undefined ? pulumi.secret(fs.readFileSync(ssh.privateKeyPath, "utf8")) : undefined;
  return { host: ssh.host, port: ssh.port, user: ssh.user, hostKey, privateKey, agentSocketPath: privateKey === undefined ? process.env.SSH_AUTH_SOCK : undefined };
}

/**
 * Every server's connection, or a refusal before anything is registered: a remote server whose host
 * key is neither in config nor in known_hosts is not connected to (fail closed).
 */
export function serverConnections(servers: readonly ServerTarget[], files: readonly string[] = knownHostsFiles()): Map<string, ServerConnection | undefined> {
  const problems: Problem[] = [];
  const connections = new Map<string, ServerConnection | undefined>();
  for (const server of servers) {
    if (server.ssh === undefined) {
      connections.set(server.name, undefined);
      continue;
    }
    const { key, revoked } = serverHostKey(server.ssh, files);
    if (key === undefined) {
      problems.push({
        field: `${server.fieldPrefix}ssh.hostKey`,
        message:
          `server ${server.name}: no host key is known for ${knownHostsName(server.ssh.host, server.ssh.port)}${revoked ? " (known_hosts marks its key @revoked)" : ""} ` +
          `in ${files.join(", ")}; check the server's key out of band and add it there (ssh-keyscan, then compare fingerprints) or set ${server.fieldPrefix}ssh.hostKey to \`type base64\`. ` +
          "Remote commands never connect to a server whose key they cannot check",
      });
      continue;
    }
    connections.set(server.name, serverConnection(server.ssh, key));
  }
  if (problems.length > 0) throw new HostingInputError(problems);
  return connections;
}
