import { EdgeOptions, EdgeSite, caddyfileProblems, renderCaddyfile } from "./caddyfile";
import { Utilisation, checkCapacity, utilisation } from "./capacity";
import { GatewaySetting, gatewaySettings, heapCapMb, trustedProxies } from "./gateway";
import { allocatePorts } from "./portPool";
import { DiskQuotaMode } from "./diskBudget";
import { bridgeName } from "./egressGuard";
import { Problem } from "./problems";
import { CgroupDriver, cgroupParent } from "./processLimit";
import { PROVIDER_KEY_ENV, Tenant } from "./roster";
import { LIMITS } from "./limits";
import { StackConfig, TierName, caddyPorts, resolveTiers } from "./stackConfig";
import { checkNetworkCapacity, isPrivateIpv4, tenantSubnet } from "./tenantNetworks";

/** Everything one tenant's resources are built from. Nothing in it depends on another tenant. */
export interface TenantPlan {
  name: string;
  host: string;
  url: string;
  tier: TierName;
  state: Tenant["state"];
  port: number;
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

export interface HostingPlan {
  tenants: TenantPlan[];
  caddyfile: string;
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
  const poolSize = config.portPool.end - config.portPool.start + 1;
  problems.push(...checkNetworkCapacity(config.tenantNetworks, poolSize));
  // Caddy binds its own ports on the same host: a tenant there would keep one of them from starting.
  const reserved = new Map(caddyPorts(config.caddy).map(([field, port]) => [port, `Caddy's ${field.split(".").pop()} port (${field})`]));
  const allocation = allocatePorts(roster.map((t) => ({ name: t.name, pinned: t.port })), config.portPool, reserved);
  problems.push(...allocation.problems);

  const warnings: Problem[] = [];
  if (config.dns !== undefined && config.serverIp !== undefined && isPrivateIpv4(config.serverIp)) {
    warnings.push({ field: "serverIp", message: `${config.serverIp} is a private address (RFC 1918, loopback, CGNAT or link-local): the public DNS record will point where the internet cannot reach, and Let's Encrypt cannot validate` });
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
        message: `is active but has no API key; run: pulumi config set --secret --path 'apiKeys.${tenant.name}' <key>`,
      });
    }
    const port = allocation.ports.get(tenant.name);
    if (port === undefined) continue;
    const size = tiers[tenant.tier];
    const host = `${tenant.name}.${config.domain}`;
    // A non-default HTTPS port (the dev stack's 8443) is part of the address browsers use and send as Origin.
    const url = `https://${host}${httpsPort !== undefined && httpsPort !== 443 ? `:${httpsPort}` : ""}`;
    const { subnet, gateway } = tenantSubnet(config.tenantNetworks, port - config.portPool.start);
    const settings = gatewaySettings(url, trustedProxies(gateway));
    problems.push(...kernelEnvProblems(tenant.name, { ...tenant.env, OPENCLAW_HOSTING_SETTINGS: JSON.stringify(settings) }));
    tenants.push({
      name: tenant.name,
      host,
      url,
      tier: tenant.tier,
      state: tenant.state,
      port,
      image: tenant.image ?? config.image,
      apiKeyEnv: PROVIDER_KEY_ENV[tenant.provider],
      memoryMb: size.memoryMb,
      reservationMb: size.reservationMb,
      cpus: size.cpus,
      pidsLimit: size.pidsLimit,
      cgroupParent: cgroupParent(tenant.name, config.cgroupDriver),
      cgroupDriver: config.cgroupDriver,
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

  for (const name of config.deleteData) {
    if (names.has(name)) {
      problems.push({ tenant: name, field: "deleteData", message: "is still in the roster; remove its file first (deleting data never happens to a live tenant)" });
    }
  }
  const pinnedNames = new Set(roster.filter((r) => r.port !== undefined).map((r) => r.name));
  const sized = tenants.map((t) => ({ ...t, pinned: pinnedNames.has(t.name) }));
  if (config.server !== undefined) problems.push(...checkCapacity(sized, config.server));
  else warnings.push({ field: "server", message: "is not set, so capacity is not checked; set server.memoryMb and server.cpus" });

  const sites: EdgeSite[] = tenants.map((t) => ({ host: t.host, port: t.port, state: t.state }));
  const { caddy } = config;
  const edge: EdgeOptions = {
    adminAddress: caddy.adminAddress,
    acmeEmail: caddy.acmeEmail,
    acmeCa: caddy.acmeCa,
    localCerts: caddy.localCerts,
    httpPort: caddy.ports?.http,
    httpsPort: caddy.ports?.https,
    storageDir: caddy.storageDir,
  };
  // The renderer refuses structure-changing text itself; its refusal is a problem like any other.
  const caddyProblems = caddyfileProblems(sites, edge);
  problems.push(...caddyProblems);
  const caddyfile = caddyProblems.length === 0 ? renderCaddyfile(sites, edge) : "";
  return { tenants, caddyfile, problems, warnings, utilisation: utilisation(sized, config.server) };
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
