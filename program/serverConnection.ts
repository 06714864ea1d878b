import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import { StackConfig } from "../core/stackConfig";
import { ServerConnection } from "./serverCommand";

/**
 * How commands (edge, egress guard, process limits) reach a server over SSH: the same login the
 * Docker provider uses, with the key read here and kept secret. Undefined for this machine.
 */
export function serverConnection(ssh: StackConfig["ssh"]): ServerConnection | undefined {
  if (ssh === undefined) return undefined;
  const privateKey = ssh.privateKeyPath !== undefined ? pulumi.secret(fs.readFileSync(ssh.privateKeyPath, "utf8")) : undefined;
  return { host: ssh.host, port: ssh.port, user: ssh.user, privateKey, agentSocketPath: privateKey === undefined ? process.env.SSH_AUTH_SOCK : undefined };
}
