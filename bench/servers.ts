// Several servers in the bench: a 10-server roster of 1,000 tenants, pinned as `npm run pin` leaves
// it, and what one-tenant edits and a move change.
import { checkHosting } from "../core/check";
import { BlastDiff, belongsTo } from "./blast";
import { BenchTenant, PORT_POOL, TENANT_NETWORKS, apiKeysFor, generateTenants, rosterFiles } from "./fixtures";

export const SERVER_COUNT = 10;
export const SERVERS_TENANTS = 1000;

export function benchServers(): Record<string, unknown> {
  return Object.fromEntries(Array.from({ length: SERVER_COUNT }, (_, i) => [`s${i}`, {
    ssh: { host: `s${i}.bench.example`, user: "deploy" },
    publicIp: `203.0.113.${10 + i}`,
    memoryMb: 400_000,
    cpus: 800,
    // Ports and subnets repeat across servers: each has its own pool.
    portPool: { start: PORT_POOL.start, end: PORT_POOL.start + 999 },
    tenantNetworks: TENANT_NETWORKS,
  }]));
}

/** The roster after `npm run pin`: every tenant's server and port written down, from the core's own plan. */
export function pinnedOnServers(): BenchTenant[] {
  const tenants = generateTenants(SERVERS_TENANTS);
  const raw = {
    domain: "claw.bench.test", image: "ghcr.io/openclaw/openclaw:2026.8.1-r20260820", caddy: { acmeEmail: "ops@example.com" },
    servers: benchServers(), apiKeys: apiKeysFor(tenants), rosterDir: "unused",
  };
  const checked = checkHosting(raw, () => rosterFiles(tenants));
  if (checked.plan === undefined || checked.problems.length > 0) throw new Error(`servers roster: ${JSON.stringify(checked.problems[0])}`);
  const placed = new Map(checked.plan.tenants.map((t) => [t.name, t]));
  return tenants.map((t) => ({ ...t, server: placed.get(t.name)?.server, port: placed.get(t.name)?.port }));
}

export interface ServersVerdict {
  count: number;
  resources: string[];
  /** Changed resources that are neither the tenant's own nor an allowed server's edge command. */
  outside: string[];
  /** Changed edge commands of servers the edit does not concern (target 0). */
  otherServersEdges: string[];
  ok: boolean;
}

/** Judges a diff: only the tenant's resources and the edge commands of `servers` may change. */
export function judgeOnServers(diff: BlastDiff, tenant: string, all: ReadonlySet<string>, servers: readonly string[]): ServersVerdict {
  const keys = [...diff.changed, ...diff.added, ...diff.removed];
  const edge = (k: string) => /^command:(remote|local):Command edge(-[a-z0-9-]+)?-routes$/.test(k);
  const allowedEdges = new Set(servers.map((s) => `command:remote:Command edge-${s}-routes`));
  const outside = keys.filter((k) => !belongsTo(k, tenant, all) && !allowedEdges.has(k));
  const otherServersEdges = keys.filter((k) => edge(k) && !allowedEdges.has(k));
  return {
    count: keys.length,
    resources: [...diff.changed.map((k) => `~ ${k}`), ...diff.added.map((k) => `+ ${k}`), ...diff.removed.map((k) => `- ${k}`)],
    outside,
    otherServersEdges,
    ok: outside.length === 0 && otherServersEdges.length === 0 && servers.every((s) => keys.includes(`command:remote:Command edge-${s}-routes`)),
  };
}
