import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";

export interface WildcardDnsArgs {
  zoneId: string;
  domain: string;
  serverIp: string;
  /** DNS-only by default: Caddy terminates TLS and answers ACME challenges itself. */
  proxied: boolean;
}

/** One `*.<domain>` record for every tenant, so onboarding a tenant never touches DNS. */
export class WildcardDns extends pulumi.ComponentResource {
  public readonly recordName: string;

  constructor(name: string, args: WildcardDnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openclaw:hosting:WildcardDns", name, {}, opts);
    this.recordName = `*.${args.domain}`;
    new cloudflare.DnsRecord(
      `${name}-wildcard`,
      {
        zoneId: args.zoneId,
        name: this.recordName,
        type: "A",
        content: args.serverIp,
        // Cloudflare requires the automatic TTL (1) for proxied records.
        ttl: args.proxied ? 1 : 300,
        proxied: args.proxied,
        comment: "Managed by openclaw-hosting (Pulumi): wildcard for tenant gateways",
      },
      { parent: this },
    );
    this.registerOutputs({ recordName: this.recordName });
  }
}
