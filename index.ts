// openclaw-hosting: one isolated OpenClaw gateway per tenant, behind Caddy, with automatic HTTPS.
import * as pulumi from "@pulumi/pulumi";
import { HostingInputError } from "./core/problems";
import { unpinnedMoves } from "./core/placement";
import { dataDeletions, deletedBy, deletionsTooEarly, listRetainedData } from "./core/retainedData";
import { DEFAULT_SERVER } from "./core/servers";
import { Server } from "./components/server";
import { TenantDataDeletion } from "./components/tenantDataDeletion";
import { TenantDns } from "./components/tenantDns";
import { TenantInstance } from "./components/tenantInstance";
import { WildcardDns } from "./components/wildcardDns";
import { loadHostingInputs } from "./program/hostingInputs";
import { previousDeployment } from "./program/previousDeployment";
import { serverConnection } from "./program/serverConnection";
import { serversNotAnswering } from "./program/serverCheck";

// Pulumi calls this function and publishes what it returns as the stack outputs.
export = async () => {
  // Pulumi records a stack trace for every promise and resource; starting after an await keeps those
  // stacks short and skipping the per-promise ones saves most of the rest (bench: 58 s -> 9 s at
  // 1,000 tenants). OPENCLAW_FULL_STACKS=1 restores full traces for debugging.
  await Promise.resolve();
  if (process.env.OPENCLAW_FULL_STACKS !== "1") Error.stackTraceLimit = 0;

  // 1. Read the stack config and the roster; any problem stops here, before anything changes.
  const { config, plan, apiKeys } = loadHostingInputs(__dirname);
  const multi = plan.servers.length > 1;
  const fallbackServer = plan.servers.some((s) => s.name === DEFAULT_SERVER) ? DEFAULT_SERVER : plan.servers[0].name;

  // 2. The last deployment: which server each tenant was on. A tenant never changes server unless its file says so.
  const previous = await previousDeployment();
  const moves = unpinnedMoves(plan.tenants, plan.pinnedServers, previous.tenantServers, fallbackServer);
  const early = deletionsTooEarly(config.deleteData, previous.tenantServers, fallbackServer);
  if (moves.length > 0 || early.length > 0) throw new HostingInputError([...moves, ...early]);

  // 2b. Every server's Docker engine answers, or nothing changes on any of them: the error names the
  //     server that does not and its tenants, instead of ssh's words halfway through an update.
  const silent = await serversNotAnswering(plan.servers);
  if (silent.length > 0) throw new HostingInputError(silent);

  // 3. The servers, each with its Docker engine, egress guard and edge, and on each the tenants placed
  //    there: one TenantInstance per roster entry, started once the server's guard is up.
  const servers = new Map(plan.servers.map((s) => [s.name, new Server(s.name, {
    plan: s,
    privateRanges: config.privateRanges,
    caddy: { caddyfilePath: config.caddy.caddyfilePath, adminAddress: config.caddy.adminAddress },
    connection: serverConnection(s.ssh),
    tenants: (server) => plan.tenants.filter((t) => t.server === s.name).map((t) => new TenantInstance(
      t.name,
      { plan: t, apiKey: apiKeys[t.name], connection: server.connection, serverReady: [server.ready] },
      { provider: server.docker },
    )),
  })]));
  const serverOf = (name: string): Server => servers.get(name) ?? fail(`no server ${name}`);
  const tenants = new Map([...servers.values()].flatMap((s) => s.tenants).map((t) => [t.tenant, t]));
  const tenantOf = (name: string): TenantInstance => tenants.get(name) ?? fail(`no tenant ${name}`);
  // 6. DNS, only when the stack manages it: one wildcard for one server; with several, one record
  //    per tenant at its server, switched only once the tenant's gateway there is healthy.
  if (config.dns !== undefined) {
    const { zoneId, proxied } = config.dns;
    if (!multi && plan.servers[0].publicIp !== undefined) {
      new WildcardDns("dns", { zoneId, domain: config.domain, serverIp: plan.servers[0].publicIp, proxied });
    }
    if (multi) {
      const ipOf = new Map(plan.servers.map((s) => [s.name, s.publicIp]));
      for (const t of plan.tenants) {
        const serverIp = ipOf.get(t.server);
        if (serverIp === undefined) continue; // the schema requires publicIp on every server when dns is set
        new TenantDns(`dns-${t.name}`, { zoneId, host: t.host, serverIp, proxied, after: tenantOf(t.name).gateway });
      }
    }
  }

  // 7. Data of departed tenants and what moved tenants left behind: kept and listed, deleted only
  //    when `deleteData` names them (`dave`: every server that keeps some; `alice@s1`: s1 only).
  const retainedData = listRetainedData(
    previous.tenantServers,
    previous.retainedData,
    Object.fromEntries(plan.tenants.map((t) => [t.name, t.server])),
    [],
    fallbackServer,
  );
  for (const d of dataDeletions(config.deleteData, retainedData, fallbackServer, DEFAULT_SERVER)) {
    new TenantDataDeletion(d.name, { tenant: d.tenant, connection: serverOf(d.server).connection });
  }

  // 8. What operators read after `pulumi up`.
  return {
    tenants: Object.fromEntries(plan.tenants.map((t) => [t.name, { url: t.url, port: t.port, tier: t.tier, state: t.state, server: t.server }])),
    urls: plan.tenants.map((t) => t.url),
    gatewayTokens: pulumi.secret(
      pulumi.all(Object.fromEntries(plan.tenants.map((t) => [t.name, tenantOf(t.name).gatewayToken]))),
    ),
    servers: Object.fromEntries(plan.servers.map((s) => [s.name, {
      tenants: s.tenants.length,
      activeTenants: s.utilisation.activeTenants,
      memoryLimitMb: s.utilisation.memoryLimitMb,
      cpus: s.utilisation.cpus,
      memoryPercent: s.utilisation.memoryPercent,
      cpuPercent: s.utilisation.cpuPercent,
      publicIp: s.publicIp,
    }])),
    ...(multi ? { caddyfiles: Object.fromEntries(plan.servers.map((s) => [s.name, s.caddyfile])) } : { caddyfile: plan.caddyfile }),
    retainedData: retainedData.filter((r) => !deletedBy(config.deleteData, r)),
  };
};

/** The program's own invariant broke (the core guarantees every name it hands out exists). */
function fail(message: string): never {
  throw new Error(message);
}
