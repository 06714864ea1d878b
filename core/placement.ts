import { ServerSize } from "./capacity";
import { fnv1a } from "./portPool";
import { Problem } from "./problems";

export interface PlacementServer {
  name: string;
  /** Absent: no capacity known (a single-server stack without `server`); every tenant fits. */
  size?: ServerSize;
}

export interface PlacementTenant {
  name: string;
  /** The tenant file's `server:`; it is never overridden. */
  server?: string;
  active: boolean;
  memoryMb: number;
  cpus: number;
}

export interface Placement {
  /** Tenant name -> server name, for every tenant that could be placed. */
  servers: Map<string, string>;
  /** Tenants the rule placed (no `server:` in their file). */
  suggested: Set<string>;
  problems: Problem[];
}

/** A 32-bit hash of tenant and server with a full-avalanche finish (FNV alone mixes similar names poorly). */
function mix(tenant: string, server: string): number {
  let h = fnv1a(`${tenant}\u0000${server}`);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The servers in a tenant's order of preference: weighted rendezvous hashing, so the order depends
 * on the tenant's name and the servers alone, and bigger servers come first proportionally more often.
 */
export function preferenceOrder(tenant: string, servers: readonly PlacementServer[]): string[] {
  const scored = servers.map((s) => {
    const weight = s.size !== undefined ? s.size.memoryMb * s.size.overcommit : 1;
    const u = (mix(tenant, s.name) + 0.5) / 2 ** 32; // in (0, 1)
    return { name: s.name, score: -weight / Math.log(u) };
  });
  return scored.sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : 1)).map((s) => s.name);
}

/**
 * Which server each tenant runs on, as a pure function of names, pins and server sizes.
 *
 * A tenant whose file names `server:` runs there, always. Every other tenant takes the first server
 * in its preference order that still fits it next to the pinned tenants (memory and CPU limits
 * within size x overcommit); if none does, its first choice (and the capacity check names it).
 * Only pinned tenants count toward "fits", so a tenant's server never depends on other unpinned
 * tenants: file order does not matter, and adding, removing or editing one tenant moves no other.
 * Adding or resizing a server can change suggestions, which is why `npm run pin` writes each
 * tenant's server into its file, and why the program refuses to move a deployed tenant that is not pinned.
 */
export function placeTenants(tenants: readonly PlacementTenant[], servers: readonly PlacementServer[]): Placement {
  const known = new Map(servers.map((s) => [s.name, s]));
  const result = new Map<string, string>();
  const suggested = new Set<string>();
  const problems: Problem[] = [];
  const pinnedLoad = new Map(servers.map((s) => [s.name, { memoryMb: 0, cpus: 0 }]));
  for (const t of tenants) {
    if (t.server === undefined) continue;
    const load = pinnedLoad.get(t.server);
    if (load === undefined) {
      problems.push({ tenant: t.name, field: "server", message: `names server ${t.server}, which is not in the stack's servers (${[...known.keys()].join(", ")})` });
      continue;
    }
    result.set(t.name, t.server);
    if (t.active) {
      load.memoryMb += t.memoryMb;
      load.cpus += t.cpus;
    }
  }
  const fits = (t: PlacementTenant, name: string): boolean => {
    const size = known.get(name)?.size;
    const load = pinnedLoad.get(name);
    if (size === undefined || load === undefined || !t.active) return true;
    return load.memoryMb + t.memoryMb <= size.memoryMb * size.overcommit && load.cpus + t.cpus <= size.cpus * size.overcommit + 1e-9;
  };
  for (const t of tenants) {
    if (t.server !== undefined || servers.length === 0) continue;
    const order = preferenceOrder(t.name, servers);
    result.set(t.name, order.find((name) => fits(t, name)) ?? order[0]);
    suggested.add(t.name);
  }
  return { servers: result, suggested, problems };
}

/**
 * The program's guard against a silent move: a tenant without `server:` in its file that was
 * deployed on one server and that the rule now puts on another (because a server was added or
 * resized). Moving a tenant is an explicit edit of `server:`, never a side effect.
 */
export function unpinnedMoves(
  tenants: readonly { name: string; server: string }[],
  pinned: ReadonlySet<string>,
  /** Last deployment's tenants, name -> server (undefined: deployed before servers were recorded). */
  deployed: Readonly<Record<string, string | undefined>>,
  fallbackServer: string,
): Problem[] {
  return tenants.flatMap((t) => {
    if (pinned.has(t.name) || !Object.prototype.hasOwnProperty.call(deployed, t.name)) return [];
    const was = deployed[t.name] ?? fallbackServer;
    return was === t.server
      ? []
      : [{
          tenant: t.name,
          field: "server",
          message: `runs on server ${was}, but without server: in its file the placement rule now puts it on ${t.server}; ` +
            `write server: ${was} into its file to keep it (npm run pin does this for every tenant), or server: ${t.server} to move it on purpose`,
        }];
  });
}
