import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import { sshDockerHost } from "../core/dockerHost";
import { StackConfig } from "../core/stackConfig";
import { EdgeArgs } from "./edge";

export interface ServerAccess {
  /** The Docker engine the tenants run on. */
  docker: docker.Provider;
  /** How the edge command reaches Caddy; undefined when it runs on this machine. */
  connection: EdgeArgs["connection"];
}

/**
 * Where tenants run: the local engine (or DOCKER_HOST) by default, or a server over SSH, with
 * Docker over `ssh://` and the Caddy command over the same SSH login.
 */
export function serverAccess(ssh: StackConfig["ssh"], providerName = "server"): ServerAccess {
  if (ssh === undefined) return { docker: new docker.Provider(providerName, {}), connection: undefined };
  const keyArgs = ssh.privateKeyPath !== undefined ? ["-i", ssh.privateKeyPath] : [];
  const provider = new docker.Provider(providerName, {
    host: sshDockerHost(ssh.user, ssh.host, ssh.port),
    sshOpts: [...keyArgs, "-o", "BatchMode=yes"],
  });
  const privateKey = ssh.privateKeyPath !== undefined ? pulumi.secret(fs.readFileSync(ssh.privateKeyPath, "utf8")) : undefined;
  return {
    docker: provider,
    connection: { host: ssh.host, port: ssh.port, user: ssh.user, privateKey, agentSocketPath: privateKey === undefined ? process.env.SSH_AUTH_SOCK : undefined },
  };
}
