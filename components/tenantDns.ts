import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";

export interface TenantDnsArgs {
  zoneId: string;
  /** The tenant's host name, `<tenant>.<domain>`. */
  host: string;
  /** The public address of the server the tenant runs on. */
  serverIp: string;
  proxied: boolean;
  /** The tenant's gateway: the record changes only after it is created and healthy (`wait: true`). */
  after?: pulumi.Resource;
}

/**
 * One tenant's own A record, for a stack with several servers: one wildcard cannot send each
 * subdomain to a different machine. It depends on the tenant's gateway, so after a move it points
 * at the new server only once the new container is healthy.
 */
export class TenantDns extends pulumi.ComponentResource {
  public readonly recordName: string;

  constructor(name: string, args: TenantDnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openclaw:hosting:TenantDns", name, {}, opts);
    this.recordName = args.host;
    new cloudflare.DnsRecord(
      `${name}-record`,
      {
        zoneId: args.zoneId,
        name: args.host,
        type: "A",
        content: args.serverIp,
        // Cloudflare requires the automatic TTL (1) for proxied records.
        ttl: args.proxied ? 1 : 300,
        proxied: args.proxied,
        comment: "Managed by openclaw-hosting (Pulumi): one tenant's gateway",
      },
      // On the record itself, not only the component: a component's dependsOn does not hold back its children in every SDK.
      { parent: this, dependsOn: args.after !== undefined ? [args.after] : [] },
    );
    this.registerOutputs({ recordName: this.recordName });
  }
}
