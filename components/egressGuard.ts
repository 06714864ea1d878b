import * as pulumi from "@pulumi/pulumi";
import { EgressPolicy, egressRules } from "../core/egressGuard";
import { inlineScript } from "../core/shell";
import { ServerConnection, serverCommand } from "../program/serverCommand";
import { serverScript } from "../program/serverScripts";

const MARKER = "OPENCLAW_EGRESS_GUARD_EOF";

export interface EgressGuardArgs {
  policy: EgressPolicy;
  /** The server's name, for the script's messages (a refusal names the server it happened on). */
  server: string;
  /** Set for a remote server; absent means the server is this machine. */
  connection?: ServerConnection;
}

/**
 * The server's egress guard (iptables and ip6tables, in the backend Docker's rules live in): tenant
 * bridges may not open connections to the host, to link-local addresses (cloud metadata), to private
 * ranges or to the tenants' block beyond their own bridge, nor anything new over IPv6. Where Docker's
 * FORWARD chain does not pass through DOCKER-USER (`iptables: false`, its nftables backend), the
 * command fails before changing anything rather than load rules that guard nothing. Its rules name no tenant, so a roster
 * edit never touches it; removing the stack removes the rules.
 */
export class EgressGuard extends pulumi.ComponentResource {
  public readonly rules: string[];
  /** Tenants' containers wait for it, so no gateway runs unguarded. */
  public readonly ready: pulumi.Resource;

  constructor(name: string, args: EgressGuardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openclaw:hosting:EgressGuard", name, {}, opts);
    const script = serverScript("egress-guard");
    this.rules = egressRules(args.policy);
    this.ready = serverCommand(
      `${name}-rules`,
      { create: inlineScript(script, ["apply", args.server], MARKER), delete: inlineScript(script, ["remove"], MARKER), stdin: `${this.rules.join("\n")}\n` },
      args.connection,
      { parent: this },
    );
    this.registerOutputs({ rules: this.rules });
  }
}
