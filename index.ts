// openclaw-hosting: one isolated OpenClaw gateway per tenant, behind Caddy, with automatic HTTPS.
import * as pulumi from "@pulumi/pulumi";
import { routesDirOf } from "./core/caddyfile";
import { publicOutputs } from "./core/outputs";
import { dataDeletions, listRetainedData } from "./core/retainedData";
import { DEFAULT_SERVER } from "./core/servers";
import { Server } from "./components/server";
import { TenantDataDeletion } from "./components/tenantDataDeletion";
import { TenantDns } from "./components/tenantDns";
import { TenantInstance } from "./components/tenantInstance";
import { WildcardDns } from "./components/wildcardDns";
import { DEBIAN_CADDY_STORAGE, LETS_ENCRYPT_DIRECTORY } from "./core/tls";
import { readDeployment } from "./program/hostingInputs";
import { ensureProviderSshControlDir } from "./program/providerSsh";

// Pulumi calls this function and publishes what it returns as the stack outputs.
export = async () => {
  // Pulumi records a stack trace for every promise and resource; starting after an await keeps those
  // stacks short and skipping the per-promise ones saves most of the rest (bench: 58 s -> 9 s at
  // 1,000 tenants). OPENCLAW_FULL_STACKS=1 restores full traces for debugging.
  await Promise.resolve();
  if (process.env.OPENCLAW_FULL_STACKS !== "1") Error.stackTraceLimit = 0;

  // 1. Config, roster, last deployment, servers answering: any problem stops here, before anything changes.
  const { config, plan, apiKeys, previous, fallbackServer, connections } = await readDeployment(__dirname);

  // 2. The servers (each its Docker engine, egress guard and edge) and on each the tenants placed there.
  if (plan.servers.some((s) => s.ssh !== undefined)) ensureProviderSshControlDir();
  // wildcard: lego on each server answers DNS-01 with the stack's Cloudflare token (a secret, stdin only).
  const dnsToken = config.tls.mode === "wildcard" ? new pulumi.Config("cloudflare").requireSecret("apiToken") : undefined;
  const renewal = {
    mode: config.tls.mode, domain: config.domain, directory: config.caddy.acmeCa ?? LETS_ENCRYPT_DIRECTORY, email: config.caddy.acmeEmail,
    renewDays: config.tls.renewDays, caddyfilePath: config.caddy.caddyfilePath, caddyAdmin: config.caddy.adminAddress,
    caddyStorage: config.caddy.storageDir ?? DEBIAN_CADDY_STORAGE, dnsProvider: "cloudflare",
  };
  const servers = new Map(plan.servers.map((s) => [s.name, new Server(s.name, {
    plan: s,
    privateRanges: config.privateRanges,
    caddy: { caddyfilePath: config.caddy.caddyfilePath, routesDir: routesDirOf(config.caddy), adminAddress: config.caddy.adminAddress },
    certificates: { settings: renewal, dnsToken },
    backup: config.backup === undefined ? undefined : { config: config.backup, servers: plan.servers.map((p) => p.name), stack: pulumi.getStack() },
    connection: connections.get(s.name),
    tenants: (server) => plan.tenants.filter((t) => t.server === s.name).map((t) => new TenantInstance(
      t.name,
      { plan: t, apiKey: apiKeys[t.name], connection: server.connection, serverReady: [server.ready], backupReady: server.backup },
      { provider: server.docker },
    )),
  })]));
  const tenants = new Map([...servers.values()].flatMap((s) => s.tenants).map((t) => [t.tenant, t]));

  // 3. DNS, when the stack manages it: one wildcard for one server; with several, one record per
  //    tenant at its server, switched only once the tenant's gateway there is healthy.
  if (config.dns !== undefined) {
    const { zoneId, proxied } = config.dns;
    const [only] = plan.servers;
    if (plan.servers.length === 1 && only.publicIp !== undefined) new WildcardDns("dns", { zoneId, domain: config.domain, serverIp: only.publicIp, proxied });
    for (const t of plan.servers.length > 1 ? plan.tenants : []) {
      const serverIp = plan.servers.find((s) => s.name === t.server)?.publicIp; // required on every server when dns is set
      if (serverIp !== undefined) new TenantDns(`dns-${t.name}`, { zoneId, host: t.host, serverIp, proxied, after: tenants.get(t.name)?.gateway });
    }
  }

  // 4. Data of departed tenants and what moved tenants left behind: kept and listed, deleted only
  //    when `deleteData` names them (`dave`: every server that keeps some; `alice@s1`: s1 only).
  const here = Object.fromEntries(plan.tenants.map((t) => [t.name, t.server]));
  const data = { previous: previous.tenantData, current: Object.fromEntries(plan.tenants.flatMap((t) => (t.data === undefined ? [] : [[t.name, t.data]]))) };
  const retainedData = listRetainedData(previous.tenantServers, previous.retainedData, here, [], fallbackServer, data);
  for (const d of dataDeletions(config.deleteData, retainedData, fallbackServer, DEFAULT_SERVER)) {
    new TenantDataDeletion(d.name, { tenant: d.tenant, volumes: d.volumes, connection: (servers.get(d.server) as Server).connection });
  }

  // 5. What operators read after `pulumi up`; the gateway tokens only as a secret.
  const gatewayTokens = pulumi.secret(pulumi.all(Object.fromEntries(plan.tenants.map((t) => [t.name, (tenants.get(t.name) as TenantInstance).gatewayToken]))));
  return { ...publicOutputs(plan, retainedData, config.deleteData), gatewayTokens };
};
