// openclaw-hosting: one isolated OpenClaw gateway per tenant, behind Caddy, with automatic HTTPS.
import * as pulumi from "@pulumi/pulumi";
import { RetainedData, listRetainedData } from "./core/retainedData";
import { EgressGuard } from "./components/egressGuard";
import { Edge } from "./components/edge";
import { loadHostingInputs } from "./components/hostingInputs";
import { serverAccess } from "./components/server";
import { TenantDataDeletion } from "./components/tenantDataDeletion";
import { TenantInstance } from "./components/tenantInstance";
import { WildcardDns } from "./components/wildcardDns";

// Pulumi calls this function and publishes what it returns as the stack outputs.
export = async () => {
  // Pulumi records a stack trace for every promise and resource; starting after an await keeps those
  // stacks short and skipping the per-promise ones saves most of the rest (bench: 58 s -> 9 s at
  // 1,000 tenants). OPENCLAW_FULL_STACKS=1 restores full traces for debugging.
  await Promise.resolve();
  if (process.env.OPENCLAW_FULL_STACKS !== "1") Error.stackTraceLimit = 0;

  // 1. Read the stack config and the roster; any problem stops here, before anything changes.
  const { config, plan, apiKeys } = loadHostingInputs(__dirname);

  // 2. The server the tenants run on.
  const server = serverAccess(config.ssh);

  // 3. The server's egress guard: tenants reach the internet, never the host, metadata or private ranges.
  const guard = new EgressGuard(
    "egress-guard",
    { policy: { tenantNetworks: config.tenantNetworks, privateRanges: config.privateRanges }, connection: server.connection },
  );

  // 4. One TenantInstance per roster entry.
  const instances = plan.tenants.map(
    (tenant) =>
      new TenantInstance(
        tenant.name,
        { plan: tenant, apiKey: apiKeys[tenant.name], connection: server.connection, serverReady: [guard.ready] },
        { provider: server.docker },
      ),
  );

  // 5. The edge: Caddy routes every tenant's subdomain to its loopback port.
  new Edge(
    "edge",
    { caddyfile: plan.caddyfile, caddyfilePath: config.caddy.caddyfilePath, adminAddress: config.caddy.adminAddress, connection: server.connection },
    // Routes go live once the gateways behind them are healthy.
    { dependsOn: instances.flatMap((instance) => (instance.gateway !== undefined ? [instance.gateway] : [])) },
  );

  // 6. DNS: one wildcard record, only when the stack manages DNS.
  if (config.dns !== undefined && config.serverIp !== undefined) {
    new WildcardDns("dns", { zoneId: config.dns.zoneId, domain: config.domain, serverIp: config.serverIp, proxied: config.dns.proxied });
  }

  // 7. Data of departed tenants: kept and listed, deleted only when `deleteData` names them.
  for (const tenant of config.deleteData) new TenantDataDeletion(tenant, { tenant, connection: server.connection });
  const previous = new pulumi.StackReference("previous-deployment", {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
  });

  // 8. What operators read after `pulumi up`.
  return {
    tenants: Object.fromEntries(plan.tenants.map((t) => [t.name, { url: t.url, port: t.port, tier: t.tier, state: t.state }])),
    urls: plan.tenants.map((t) => t.url),
    gatewayTokens: pulumi.secret(
      pulumi.all(Object.fromEntries(instances.map((instance, i) => [plan.tenants[i].name, instance.gatewayToken]))),
    ),
    caddyfile: plan.caddyfile,
    retainedData: pulumi
      .all([previous.getOutput("tenants"), previous.getOutput("retainedData")])
      .apply(([before, kept]) =>
        listRetainedData(
          Object.keys((before ?? {}) as Record<string, unknown>),
          (kept ?? []) as RetainedData[],
          plan.tenants.map((t) => t.name),
          config.deleteData,
        ),
      ),
  };
};
