import { wildcardServersWarning } from "./tls";
import { EdgeOptions, EdgeSite, caddyfileProblems, renderCaddyfile, renderRoutes, routesDirOf } from "./caddyfile";
import { Utilisation, checkCapacity, checkDiskCapacity, utilisation } from "./capacity";
import { GatewaySetting, gatewaySettings, heapCapMb, trustedProxies } from "./gateway";
import { allocatePorts } from "./portPool";
import { DiskQuotaMode } from "./diskBudget";
import { bridgeName } from "./egressGuard";
import { Problem } from "./problems";
import { setSecretCommand } from "./secrets";
import { CgroupDriver, cgroupParent } from "./processLimit";
import { PROVIDER_KEY_ENV, Tenant } from "./roster";
import { LIMITS } from "./limits";
import { placeTenants } from "./placement";
import { ServerTarget, resolveServers, writtenAsSingleServer } from "./servers";
import { StackConfig, TierName, caddyPorts, resolveTiers } from "./stackConfig";
import { checkNetworkCapacity, isPrivateIpv4, tenantSubnet } from "./tenantNetworks";
import { allocateUids, formerUids } from "./tenantIdentity";

/** Records a Cloudflare Free zone may hold (zones created from 2024-09-01 on). */
export const FREE_ZONE_RECORDS = 200;

/** Everything one tenant's resources are built from. Nothing in it depends on another tenant. */
export interface TenantPlan {
  name: string;
  host: string;
  url: string;
  tier: TierName;
  state: Tenant["state"];
  port: number;
  /** The host uid and gid (one number) its gateway runs as and its volumes belong to (core/tenantIdentity.ts). */
  uid: number;
  /** Uids whose files in its volumes are re-owned to `uid` before its gateway starts (the shared 1000, a changed uid). */
  formerUids: number[];
  /** The server it runs on (`default` for a single-server stack). */
  server: string;
  /** Which copy of its data it runs on (the roster's `data:`); absent: the volumes it was created with. */
  data?: string;
  image: string;
  apiKeyEnv: string;
  memoryMb: number;
  reservationMb: number;
  cpus: number;
  pidsLimit: number;
  /** The tenant's own parent cgroup, which carries pidsLimit (see core/processLimit.ts). */
  cgroupParent: string;
  cgroupDriver: CgroupDriver;
  diskMb: number;
  /** How diskMb is enforced on the server (see core/diskBudget.ts). */
  diskQuota: DiskQuotaMode;
  heapMb: number;
  subnet: string;
  bridgeGateway: string;
  /** The bridge's host interface name, which the egress guard matches (see core/egressGuard.ts). */
  bridgeName: string;
  settings: GatewaySetting[];
  env: Record<string, string>;
}

/** One server's share of the plan: its tenants, its edge's Caddyfile and its load. */
export interface ServerPlan extends ServerTarget {
  tenants: string[];
  /** Names no tenant: roster changes leave it (and Caddy's loaded config) alone. */
  caddyfile: string;
  /** Its tenants' routes (core/caddyfile.ts renderRoutes): what a roster change rewrites, without a reload. */
  routes: string;
  utilisation: Utilisation;
}

export interface HostingPlan {
  tenants: TenantPlan[];
  servers: ServerPlan[];
  /** Tenants whose file names their server: the placement rule never moves them. */
  pinnedServers: Set<string>;
  /** The uids tenant files pin (`uid:`); the rest come from the last deployment or the pool (keepIdentities). */
  pinnedUids: Map<string, number>;
  /** The Caddyfile of a single-server stack; with several servers, each has its own (`servers[].caddyfile`). */
  caddyfile: string;
  /** The route table of a single-server stack (`servers[].routes` with several). */
  routes: string;
  problems: Problem[];
  /** Not wrong, but worth a look (e.g. an API key for a tenant that is not in the roster). */
  warnings: Problem[];
  utilisation: Utilisation;
}

/**
 * The whole pure core in one call: ports, networks, sizes, gateway settings and the Caddyfile.
 * Returns every problem found; the caller refuses to register anything when there is one.
 */
export function planHosting(config: StackConfig, roster: readonly Tenant[]): HostingPlan {
  const { tiers, problems } = resolveTiers(config);
  // From here on a server is one thing: resolveServers turns the single-server keys into `default`.
  const servers = resolveServers(config);
  const multi = !writtenAsSingleServer(servers);
  // Which server each tenant runs on: its own `server:`, or the placement rule's suggestion.
  const placement = placeTenants(
    roster.map((t) => ({ name: t.name, server: t.server, active: t.state === "active", memoryMb: tiers[t.tier].memoryMb, cpus: tiers[t.tier].cpus })),
    servers,
  );
  problems.push(...placement.problems);
  // Caddy binds its own ports on every server: a tenant there would keep one of them from starting.
  const reserved = new Map(caddyPorts(config.caddy).map(([field, port]) => [port, `Caddy's ${field.split(".").pop()} port (${field})`]));
  // Each server has its own pool and subnets: ports and subnets may repeat across servers.
  const ports = new Map<string, number>();
  for (const server of servers) {
    const poolSize = server.portPool.end - server.portPool.start + 1;
    problems.push(...checkNetworkCapacity(server.tenantNetworks, poolSize).map((p) => ({ ...p, field: `${server.fieldPrefix}${p.field}` })));
    const here = roster.filter((t) => placement.servers.get(t.name) === server.name);
    const allocation = allocatePorts(here.map((t) => ({ name: t.name, pinned: t.port })), server.portPool, reserved);
    problems.push(...allocation.problems.map((p) => (multi ? { ...p, message: `${p.message} (on server ${server.name})` } : p)));
    for (const [name, port] of allocation.ports) ports.set(name, port);
  }
  const serverOf = new Map(servers.map((s) => [s.name, s]));
  // One uid per tenant across the whole stack: it travels with the tenant when it changes server.
  const identities = allocateUids(roster.map((t) => ({ name: t.name, pinned: t.uid })));
  problems.push(...identities.problems);

  const warnings: Problem[] = [];
  // Cloudflare's per-zone record limit (its DNS FAQ): Free 200 (1,000 for zones created before
  // 2024-09-01), Pro, Business and Enterprise 3,500. Several servers need one record per tenant.
  if (config.dns !== undefined && servers.length > 1 && roster.length > FREE_ZONE_RECORDS) {
    warnings.push({ field: "dns", message: `${roster.length} tenants need ${roster.length} DNS records; a Cloudflare Free zone allows ${FREE_ZONE_RECORDS} (1,000 if created before 2024-09-01), paid plans 3,500` });
  }
  for (const server of servers) {
    if (config.dns !== undefined && server.publicIp !== undefined && isPrivateIpv4(server.publicIp)) {
      warnings.push({ field: multi ? `${server.fieldPrefix}publicIp` : "serverIp", message: `${server.publicIp} is a private address (RFC 1918, loopback, CGNAT or link-local): the public DNS record will point where the internet cannot reach, and Let's Encrypt cannot validate` });
    }
  }
  const names = new Set(roster.map((t) => t.name));
  for (const name of Object.keys(config.apiKeys).sort()) {
    if (!names.has(name)) warnings.push({ field: `apiKeys.${name}`, message: "has no tenant in the roster (left over or misspelt?)" });
  }

  const tenants: TenantPlan[] = [];
  const httpsPort = config.caddy.ports?.https;
  for (const tenant of [...roster].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (tenant.state === "active" && config.apiKeys[tenant.name] === undefined) {
      problems.push({
        tenant: tenant.name,
        field: "apiKeys",
        message: `is active but has no API key; run: ${setSecretCommand(`apiKeys.${tenant.name}`)}`,
      });
    }
    const port = ports.get(tenant.name);
    const uid = identities.uids.get(tenant.name);
    const server = serverOf.get(placement.servers.get(tenant.name) ?? "");
    if (port === undefined || uid === undefined || server === undefined) continue;
    const size = tiers[tenant.tier];
    const host = `${tenant.name}.${config.domain}`;
    // A non-default HTTPS port (the dev stack's 8443) is part of the address browsers use and send as Origin.
    const url = `https://${host}${httpsPort !== undefined && httpsPort !== 443 ? `:${httpsPort}` : ""}`;
    const { subnet, gateway } = tenantSubnet(server.tenantNetworks, port - server.portPool.start);
    const settings = gatewaySettings(url, trustedProxies(gateway));
    problems.push(...kernelEnvProblems(tenant.name, { ...tenant.env, OPENCLAW_HOSTING_SETTINGS: JSON.stringify(settings) }));
    tenants.push({
      name: tenant.name,
      host,
      url,
      tier: tenant.tier,
      state: tenant.state,
      port,
      uid,
      formerUids: formerUids(uid, undefined),
      server: server.name,
      ...(tenant.data === undefined ? {} : { data: tenant.data }),
      image: tenant.image ?? config.image,
      apiKeyEnv: PROVIDER_KEY_ENV[tenant.provider],
      memoryMb: size.memoryMb,
      reservationMb: size.reservationMb,
      cpus: size.cpus,
      pidsLimit: size.pidsLimit,
      cgroupParent: cgroupParent(tenant.name, server.cgroupDriver),
      cgroupDriver: server.cgroupDriver,
      diskMb: size.diskMb,
      diskQuota: config.diskQuota,
      heapMb: heapCapMb(size.memoryMb),
      subnet,
      bridgeGateway: gateway,
      bridgeName: bridgeName(subnet),
      settings,
      env: tenant.env,
    });
  }

  // Deleting data never happens to a live tenant: `dave` only once dave left the roster,
  // `alice@s1` only for a server alice no longer runs on.
  for (const { tenant, server } of config.deleteData) {
    if (server === undefined && names.has(tenant)) {
      problems.push({ tenant, field: "deleteData", message: `is still in the roster; remove its file first${multi ? `, or name only a server it left (${tenant}@<server>)` : ""} (deleting data never happens to a live tenant)` });
    }
    const live = server !== undefined ? tenants.find((t) => t.name === tenant && t.server === server) : undefined;
    if (live !== undefined) {
      problems.push({ tenant, field: "deleteData", message: `${tenant}@${server} names server ${server}, where ${tenant} runs now; deleting a live tenant's data never happens (name the server it moved away from)` });
    }
  }
  // "Pinned" for the capacity message: nothing the placement rule or the port hash chose.
  const pinnedNames = new Set(roster.filter((r) => r.port !== undefined && (!multi || r.server !== undefined)).map((r) => r.name));
  const sized = tenants.map((t) => ({ ...t, pinned: pinnedNames.has(t.name) }));
  if (!multi && servers[0].size === undefined) {
    warnings.push({ field: "server", message: "is not set, so capacity is not checked; set server.memoryMb and server.cpus" });
  }
  for (const server of servers) {
    if (server.size === undefined) continue;
    const here = sized.filter((t) => t.server === server.name);
    const named = (p: Problem): Problem => (multi ? { field: p.field.replace(/^server\./, server.fieldPrefix), message: `server ${server.name}: ${p.message}` } : p);
    problems.push(...checkCapacity(here, server.size).map(named));
    const disk = checkDiskCapacity(here, server.size);
    problems.push(...disk.problems.map(named));
    warnings.push(...disk.warnings.map(named));
  }

  const manyWildcards = wildcardServersWarning(config.tls.mode, servers.length);
  if (manyWildcards !== undefined) warnings.push(manyWildcards);
  const { caddy } = config;
  const edge: EdgeOptions = {
    adminAddress: caddy.adminAddress,
    domain: config.domain,
    routesDir: routesDirOf(caddy),
    acmeEmail: caddy.acmeEmail,
    acmeCa: caddy.acmeCa,
    localCerts: caddy.localCerts,
    httpPort: caddy.ports?.http,
    httpsPort: caddy.ports?.https,
    storageDir: caddy.storageDir,
    tls: config.tls,
  };
  // The renderer refuses structure-changing text itself; its refusal is a problem like any other.
  const siteOf = (t: TenantPlan): EdgeSite => ({ host: t.host, port: t.port, state: t.state });
  const caddyProblems = caddyfileProblems(tenants.map(siteOf), edge);
  problems.push(...caddyProblems);
  // Each server's edge routes its own tenants only.
  const serverPlans: ServerPlan[] = servers.map((server) => {
    const here = tenants.filter((t) => t.server === server.name);
    return {
      ...server,
      tenants: here.map((t) => t.name),
      caddyfile: caddyProblems.length === 0 ? renderCaddyfile(edge) : "",
      routes: caddyProblems.length === 0 ? renderRoutes(here.map(siteOf)) : "",
      utilisation: utilisation(sized.filter((t) => t.server === server.name), server.size),
    };
  });
  const caddyfile = serverPlans.length === 1 ? serverPlans[0].caddyfile : "";
  const routes = serverPlans.length === 1 ? serverPlans[0].routes : "";
  const pinnedServers = new Set(roster.filter((r) => r.server !== undefined).map((r) => r.name));
  const pinnedUids = new Map(roster.flatMap((r) => (r.uid === undefined ? [] : [[r.name, r.uid] as [string, number]])));
  return { tenants, servers: serverPlans, pinnedServers, pinnedUids, caddyfile, routes, problems, warnings, utilisation: utilisation(sized, multi ? undefined : servers[0].size) };
}

/** A `NAME=value` string over the kernel's MAX_ARG_STRLEN makes the container fail to start. */
export function kernelEnvProblems(tenant: string, env: Record<string, string>): Problem[] {
  return Object.entries(env).flatMap(([name, value]) => {
    const bytes = Buffer.byteLength(`${name}=${value}`, "utf8");
    return bytes > LIMITS.kernelEnvStringBytes
      ? [{ tenant, field: `env.${name}`, message: `is ${bytes} bytes with its name; the kernel refuses an environment string over ${LIMITS.kernelEnvStringBytes} bytes (MAX_ARG_STRLEN)` }]
      : [];
  });
}
