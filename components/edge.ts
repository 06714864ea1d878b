import * as pulumi from "@pulumi/pulumi";
import { inlineScript } from "../core/shell";
import { ServerConnection, serverCommand } from "../program/serverCommand";
import { serverScript, serverScriptPath } from "../program/serverScripts";

/** The install scripts (server-scripts/install-*.sh), shipped inline so the same file runs on this machine and over SSH. */
export const INSTALL_SCRIPT_PATH = serverScriptPath("install-caddyfile");
export const ROUTES_SCRIPT_PATH = serverScriptPath("install-routes");

export interface EdgeArgs {
  /** The rendered Caddyfile (no secrets in it, and no tenant: core/caddyfile.ts renderCaddyfile). */
  caddyfile: string;
  /** The rendered route table (host names and loopback ports: core/caddyfile.ts renderRoutes). */
  routes: string;
  caddyfilePath: string;
  /** Where the route files live; the Caddyfile names the same folder. */
  routesDir: string;
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

/** The same for the route table (stdin) and its folder. */
export function routesCommand(script: string, routesDir: string): string {
  return inlineScript(script, [routesDir], "OPENCLAW_ROUTES_SCRIPT_EOF");
}

/**
 * The edge: Caddy's configuration as two resources. The routes follow the roster and are rewritten
 * in place, file by file, without reloading Caddy (Caddy reads them per request). The Caddyfile
 * names no tenant, so it changes, and Caddy reloads, only when the stack's Caddy options change.
 * Routes go first: a Caddyfile that starts reading the folder finds it filled.
 */
export class Edge extends pulumi.ComponentResource {
  public readonly caddyfile: string;
  public readonly routes: string;

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openclaw:hosting:Edge", name, {}, opts);
    const routes = serverCommand(
      `${name}-routes`,
      { create: routesCommand(serverScript("install-routes"), args.routesDir), stdin: args.routes },
      args.connection,
      { parent: this },
    );
    const create = installCommand(serverScript("install-caddyfile"), args.caddyfilePath, args.adminAddress);
    serverCommand(`${name}-caddyfile`, { create, stdin: args.caddyfile }, args.connection, { parent: this, dependsOn: [routes] });
    this.caddyfile = args.caddyfile;
    this.routes = args.routes;
    this.registerOutputs({ caddyfile: this.caddyfile, routes: this.routes });
  }
}
