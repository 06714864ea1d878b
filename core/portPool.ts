import { Problem } from "./problems";

export interface PortPool {
  start: number;
  end: number;
}

export interface PortRequest {
  name: string;
  /** A port committed in the roster; it never moves. */
  pinned?: number;
}

/** FNV-1a: a stable, dependency-free hash, so a tenant's preferred slot depends on its name only. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Gives every tenant a port from the pool, as a pure function of names, pins and pool.
 *
 * Pins are honoured first. Unpinned tenants, in name order, take the first free port at or after
 * a slot chosen by hashing their name, so adding or removing one tenant moves no pinned tenant and
 * almost never an unpinned one (only on a hash collision). `npm run pin-ports` writes the result
 * into the roster, after which no edit can move anyone.
 */
export function allocatePorts(
  requests: readonly PortRequest[],
  pool: PortPool,
  /** Ports someone else on the host binds (Caddy's), with who: never given to a tenant. */
  reserved: ReadonlyMap<number, string> = new Map(),
): { ports: Map<string, number>; problems: Problem[] } {
  const size = pool.end - pool.start + 1;
  const problems: Problem[] = [];
  const owners = new Map<number, string[]>();

  for (const { name, pinned } of requests) {
    if (pinned === undefined) continue;
    if (pinned < pool.start || pinned > pool.end) {
      problems.push({ tenant: name, field: "port", message: `${pinned} is outside the port pool ${pool.start}-${pool.end}` });
      continue;
    }
    const owner = reserved.get(pinned);
    if (owner !== undefined) {
      problems.push({ tenant: name, field: "port", message: `${pinned} is ${owner}; pin another port` });
      continue;
    }
    owners.set(pinned, [...(owners.get(pinned) ?? []), name]);
  }
  for (const [port, names] of owners) {
    if (names.length > 1) {
      const sorted = [...names].sort();
      for (const name of sorted) {
        problems.push({ tenant: name, field: "port", message: `${port} is pinned by more than one tenant: ${sorted.join(", ")}` });
      }
    }
  }

  const taken = new Set<number>([...owners.keys(), ...[...reserved.keys()].filter((p) => p >= pool.start && p <= pool.end)]);
  const result = new Map<string, number>();
  for (const [port, names] of owners) if (names.length === 1) result.set(names[0], port);

  const unpinned = requests.filter((r) => r.pinned === undefined).map((r) => r.name).sort();
  const left: string[] = [];
  for (const name of unpinned) {
    if (taken.size >= size) {
      left.push(name);
      continue;
    }
    let slot = fnv1a(name) % size;
    while (taken.has(pool.start + slot)) slot = (slot + 1) % size;
    taken.add(pool.start + slot);
    result.set(name, pool.start + slot);
  }
  for (const name of left) {
    problems.push({
      tenant: name,
      field: "port",
      message: `no free port: the pool ${pool.start}-${pool.end} has ${size} ports and the roster needs ${requests.length}; widen portPool`,
    });
  }
  return { ports: result, problems };
}
