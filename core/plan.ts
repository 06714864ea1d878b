import { EdgeSite, renderCaddyfile } from "./caddyfile";
import { Utilisation, checkCapacity, utilisation } from "./capacity";
import { GatewaySetting, gatewaySettings, heapCapMb, trustedProxies } from "./gateway";
import { allocatePorts } from "./portPool";
import { Problem } from "./problems";
import { PROVIDER_KEY_ENV, Tenant } from "./roster";
import { StackConfig, TierName, resolveTiers } from "./stackConfig";
import { checkNetworkCapacity, tenantSubnet } from "./tenantNetworks";

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
  diskMb: number;
  heapMb: number;
  subnet: string;
  bridgeGateway: string;
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
  const allocation = allocatePorts(roster.map((t) => ({ name: t.name, pinned: t.port })), config.portPool);
  problems.push(...allocation.problems);

  const warnings: Problem[] = [];
  const names = new Set(roster.map((t) => t.name));
  for (const name of Object.keys(config.apiKeys).sort()) {
    if (!names.has(name)) warnings.push({ field: `apiKeys.${name}`, message: "has no tenant in the roster (left over or misspelt?)" });
  }

  const tenants: TenantPlan[] = [];
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
    const { subnet, gateway } = tenantSubnet(config.tenantNetworks, port - config.portPool.start);
    tenants.push({
      name: tenant.name,
      host,
      url: `https://${host}`,
      tier: tenant.tier,
      state: tenant.state,
      port,
      image: tenant.image ?? config.image,
      apiKeyEnv: PROVIDER_KEY_ENV[tenant.provider],
      memoryMb: size.memoryMb,
      reservationMb: size.reservationMb,
      cpus: size.cpus,
      pidsLimit: size.pidsLimit,
      diskMb: size.diskMb,
      heapMb: heapCapMb(size.memoryMb),
      subnet,
      bridgeGateway: gateway,
      settings: gatewaySettings(browserOrigin(host, config.caddy.ports?.https), trustedProxies(gateway)),
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
  const caddyfile = renderCaddyfile(sites, {
    adminAddress: caddy.adminAddress,
    acmeEmail: caddy.acmeEmail,
    acmeCa: caddy.acmeCa,
    localCerts: caddy.localCerts,
    httpPort: caddy.ports?.http,
    httpsPort: caddy.ports?.https,
    storageDir: caddy.storageDir,
  });
  return { tenants, caddyfile, problems, warnings, utilisation: utilisation(sized, config.server) };
}

/** The origin a browser sends for the tenant's site: Caddy's https port is part of it when set (not 443). */
function browserOrigin(host: string, httpsPort: number | undefined): string {
  return httpsPort === undefined ? `https://${host}` : `https://${host}:${httpsPort}`;
}
