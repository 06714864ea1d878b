import * as pulumi from "@pulumi/pulumi";
import { inlineScript } from "../core/shell";
import { ServerConnection, serverCommand } from "../program/serverCommand";
import { serverScript, serverScriptPath } from "../program/serverScripts";

/** The install script (server-scripts/install-caddyfile.sh), shipped inline so the same file runs on this machine and over SSH. */
export const INSTALL_SCRIPT_PATH = serverScriptPath("install-caddyfile");

export interface EdgeArgs {
  /** The rendered Caddyfile (no secrets in it). */
  caddyfile: string;
  caddyfilePath: string;
  adminAddress: string;
  /** Set for a remote server; absent means Caddy runs where `pulumi up` runs. */
  connection?: ServerConnection;
}

/**
 * Wraps the install script in a here-document, so stdin stays free for the Caddyfile and nothing
 * has to be copied to the server first.
 */
export function installCommand(script: string, caddyfilePath: string, adminAddress: string): string {
  return inlineScript(script, [caddyfilePath, adminAddress], "OPENCLAW_EDGE_SCRIPT_EOF");
}

/**
 * The edge: Caddy's whole configuration as one resource. Its only input that changes is the
 * Caddyfile, so it runs once per apply that changes routes, and not at all otherwise.
 */
export class Edge extends pulumi.ComponentResource {
  public readonly caddyfile: string;

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openclaw:hosting:Edge", name, {}, opts);
    const create = installCommand(serverScript("install-caddyfile"), args.caddyfilePath, args.adminAddress);
    serverCommand(`${name}-caddyfile`, { create, stdin: args.caddyfile }, args.connection, { parent: this });
    this.caddyfile = args.caddyfile;
    this.registerOutputs({ caddyfile: this.caddyfile });
  }
}
