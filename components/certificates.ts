import * as pulumi from "@pulumi/pulumi";
import { inlineScript } from "../core/shell";
import { RenewalSettings, renewalSettingsText } from "../core/tls";
import { ServerConnection, serverCommand } from "../program/serverCommand";
import { serverScript } from "../program/serverScripts";

const MARKER = "OPENCLAW_TLS_CERTIFICATE_EOF";

export interface CertificatesArgs {
  /** What the server's certificate script is told (core/tls.ts); nothing secret. */
  settings: RenewalSettings;
  /** The Cloudflare token lego answers DNS-01 with (wildcard mode); a Pulumi secret. */
  dnsToken?: pulumi.Output<string>;
  /** The server's name, for the script's messages. */
  server: string;
  /** Set for a remote server; absent means the server is this machine. */
  connection?: ServerConnection;
}

/**
 * A server's certificates (server-scripts/tls-certificate.sh): the settings stored root-only, a
 * daily systemd timer that renews the wildcard certificate (tls.mode wildcard, lego through DNS-01)
 * and records every certificate's expiry for `npm run status`; in wildcard mode the first
 * certificate is obtained before the edge names its files. The token travels on stdin only (never
 * argv, output or error text); stdin is a secret, so Pulumi's state holds it encrypted.
 */
export class Certificates extends pulumi.ComponentResource {
  /** The edge waits for it in wildcard mode: Caddy cannot load a Caddyfile naming missing files. */
  public readonly ready: pulumi.Resource;
  public readonly mode: string;

  constructor(name: string, args: CertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openclaw:hosting:Certificates", name, {}, opts);
    const script = serverScript("tls-certificate");
    const settings = renewalSettingsText(args.settings);
    const stdin = args.dnsToken === undefined ? settings : pulumi.secret(pulumi.interpolate`${settings}CLOUDFLARE_DNS_API_TOKEN=${args.dnsToken}\n`);
    this.ready = serverCommand(
      `${name}-renewal`,
      { create: inlineScript(script, ["install", args.server], MARKER), delete: inlineScript(script, ["remove", args.server], MARKER), stdin },
      args.connection,
      { parent: this, additionalSecretOutputs: ["stdin"] },
    );
    this.mode = args.settings.mode;
    this.registerOutputs({ mode: this.mode });
  }
}
