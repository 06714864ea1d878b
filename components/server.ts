import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { providerSshOpts, sshDockerHost } from "../core/dockerHost";
import { ServerPlan } from "../core/plan";
import { serverResourceNames } from "../core/servers";
import { providerSshGate } from "../program/providerSsh";
import { ServerConnection } from "../program/serverCommand";
import { Certificates, CertificatesArgs } from "./certificates";
import { BackupConfig } from "../core/backup";
import { BackupSchedule } from "./backupSchedule";
import { EgressGuard } from "./egressGuard";
import { Edge } from "./edge";
import { TenantInstance } from "./tenantInstance";

export interface ServerArgs {
  /** The server as the pure core planned it: how to reach it, its tenant networks, its Caddyfile. */
  plan: ServerPlan;
  /** Ranges its tenants may never reach (the stack's `privateRanges`). */
  privateRanges: string[];
  caddy: { caddyfilePath: string; routesDir: string; adminAddress: string };
  /** Its certificates: renewal settings (core/tls.ts) and, in wildcard mode, the DNS token. */
  certificates: Pick<CertificatesArgs, "settings" | "dnsToken">;
  /** The stack's backups (absent: none); every server's names, for the one that maintains the repository. */
  backup?: { config: BackupConfig; servers: readonly string[]; stack: string };
  /** How commands reach it over SSH (program/serverConnection.ts); absent when it is this machine. */
  connection?: ServerConnection;
  /**
   * Creates the tenants that run here, once the server's engine and guard exist and before its
   * edge routes to them. They stay children of the stack, not of the server: a tenant's URN (and
   * so its gateway token) must not change when it moves to another server.
   */
  tenants: (server: Server) => TenantInstance[];
}

/** Under the Server, these were children of the stack before it existed: the alias keeps their URNs. */
const WAS_TOP_LEVEL: pulumi.Alias[] = [{ parent: pulumi.rootStackResource }];

/**
 * One server: its Docker engine (local, or over SSH), its egress guard, the tenants placed on it
 * and its edge (Caddy), which routes only its own tenants.
 */
export class Server extends pulumi.ComponentResource {
  /** The Docker engine its tenants run on. */
  public readonly docker: docker.Provider;
  public readonly connection: ServerConnection | undefined;
  /** Tenants' containers wait for it, so no gateway runs unguarded. */
  public readonly ready: pulumi.Resource;
  /** The server's scheduled snapshots, installed; absent when the stack has no backups. */
  public readonly backup: pulumi.Resource | undefined;
  public readonly tenants: TenantInstance[];
  public readonly caddyfile: string;

  constructor(name: string, args: ServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openclaw:hosting:Server", name, {}, opts);
    const names = serverResourceNames(args.plan.name);
    const { ssh } = args.plan;
    this.connection = args.connection;
    // Not a child: a provider's URN is recorded in the state of every resource it manages, and
    // re-parenting a provider through an alias has replaced those resources in some Pulumi versions
    // (pulumi/pulumi#3979, #18395). Its URN stays the one main gave it.
    this.docker = new docker.Provider(
      names.provider,
      ssh === undefined
        ? {}
        // One shared ssh connection per server for all of the provider's Docker calls (see
        // providerSshOpts; index.ts creates its directory). A changed sshOpts updates the provider
        // only, never the resources it manages (test/program/upgrade.test.ts).
        : { host: sshDockerHost(ssh.user, ssh.host, ssh.port), sshOpts: providerSshOpts(ssh.privateKeyPath, providerSshGate()) },
    );
    const guard = new EgressGuard(
      names.egressGuard,
      { policy: { tenantNetworks: args.plan.tenantNetworks, privateRanges: args.privateRanges }, server: args.plan.name, connection: this.connection },
      { parent: this, aliases: WAS_TOP_LEVEL },
    );
    this.ready = guard.ready;
    this.backup =
      args.backup === undefined
        ? undefined
        : new BackupSchedule(
          names.backup,
          { backup: args.backup.config, server: args.plan.name, servers: args.backup.servers, stack: args.backup.stack, connection: this.connection },
          { parent: this },
        ).ready;
    this.tenants = args.tenants(this);
    const certificates = new Certificates(
      `${args.plan.name}-certificates`,
      { ...args.certificates, server: args.plan.name, connection: this.connection },
      { parent: this },
    );
    // In wildcard mode the Caddyfile names the certificate's files: they must exist before it loads.
    const wildcard = certificates.mode === "wildcard" ? [certificates.ready] : [];
    new Edge(
      names.edge,
      { caddyfile: args.plan.caddyfile, routes: args.plan.routes, ...args.caddy, connection: this.connection },
      // Routes go live once the gateways behind them are healthy (a roster change reloads nothing);
      // in wildcard mode, once the certificate the Caddyfile names exists.
      { parent: this, aliases: WAS_TOP_LEVEL, dependsOn: [...this.tenants.flatMap((t) => t.gateway ?? []), ...wildcard] },
    );
    this.caddyfile = args.plan.caddyfile;
    this.registerOutputs({ caddyfile: this.caddyfile });
  }
}
