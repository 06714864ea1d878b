import { fnv1a } from "./portPool";
import { Problem } from "./problems";
import { inlineScript } from "./shell";

/**
 * Each tenant's own host identity: the uid (and the gid, the same number) its gateway runs as and
 * its volumes belong to. With one uid for every tenant, any process of that uid reads every
 * gateway's /proc/<pid>/environ (API key, gateway token) and writes every tenant's files.
 *
 * The pool sits where no host account is: above ordinary users (1000-60000), systemd's dynamic and
 * container ranges (61184-65519, 524288-1879048191) and the /etc/subuid ranges useradd hands out
 * (100000 upward, 65536 per user), and below 2^31 (signedness trouble in some tools).
 */
export const UID_POOL = { start: 1_900_000_000, end: 1_900_999_999 } as const;

/** The uid and gid every tenant ran as before tenants had their own: their files are re-owned from it. */
export const LEGACY_UID = 1000;

export interface IdentityRequest {
  name: string;
  /** The uid the roster pins (`uid:`); it never moves. */
  pinned?: number;
  /** The uid the last deployment gave the tenant; kept while the roster pins none. */
  previous?: number;
}

/** `uid:gid` for Docker's `user` and for chown: one number for both. */
export function ownerOf(uid: number): string {
  return `${uid}:${uid}`;
}

export function inUidPool(uid: number): boolean {
  return Number.isInteger(uid) && uid >= UID_POOL.start && uid <= UID_POOL.end;
}

/**
 * Gives every tenant a uid, as a pure function of names, pins and the last deployment's uids.
 * Roster pins first (clashes name every tenant involved), then each tenant's previous uid (a
 * deployed tenant keeps its identity, and so its files, even when unpinned), then, for new
 * tenants in name order, the first free uid at or after a slot hashed from the name.
 */
export function allocateUids(requests: readonly IdentityRequest[]): { uids: Map<string, number>; problems: Problem[] } {
  const size = UID_POOL.end - UID_POOL.start + 1;
  const problems: Problem[] = [];
  const uids = new Map<string, number>();
  const taken = new Map<number, string>();

  const pinnedBy = new Map<number, string[]>();
  for (const { name, pinned } of requests) {
    if (pinned === undefined) continue;
    if (!inUidPool(pinned)) {
      problems.push({ tenant: name, field: "uid", message: `${pinned} is outside the tenant uid pool ${UID_POOL.start}-${UID_POOL.end}` });
      continue;
    }
    pinnedBy.set(pinned, [...(pinnedBy.get(pinned) ?? []), name]);
  }
  for (const [uid, names] of pinnedBy) {
    const sorted = [...names].sort();
    if (sorted.length > 1) {
      for (const name of sorted) problems.push({ tenant: name, field: "uid", message: `${uid} is pinned by more than one tenant: ${sorted.join(", ")}` });
    } else {
      uids.set(sorted[0], uid);
      taken.set(uid, sorted[0]);
    }
  }

  const rest = requests.filter((r) => r.pinned === undefined).sort((a, b) => (a.name < b.name ? -1 : 1));
  // A previous uid is kept unless a roster pin now claims it: the tenant that ran as it would lose its files.
  for (const { name, previous } of rest) {
    if (previous === undefined || !inUidPool(previous)) continue;
    const owner = taken.get(previous);
    if (owner !== undefined) {
      problems.push({ tenant: owner, field: "uid", message: `${previous} is ${name}'s uid (its files belong to it); pin another uid` });
      continue;
    }
    uids.set(name, previous);
    taken.set(previous, name);
  }
  for (const { name } of rest) {
    if (uids.has(name)) continue;
    let slot = fnv1a(`uid:${name}`) % size;
    for (let tries = 0; taken.has(UID_POOL.start + slot) && tries < size; tries++) slot = (slot + 1) % size;
    uids.set(name, UID_POOL.start + slot);
    taken.set(UID_POOL.start + slot, name);
  }
  return { uids, problems };
}

/**
 * The uids whose files in a tenant's volumes are re-owned to its uid before its gateway starts:
 * the shared uid every tenant ran as before, and the tenant's own previous uid when it changed.
 */
export function formerUids(uid: number, previous: number | undefined): number[] {
  return [...new Set([LEGACY_UID, ...(previous === undefined ? [] : [previous])])].filter((u) => u !== uid).sort((a, b) => a - b);
}

/**
 * The plan's tenants with the identities the last deployment gave them (its `tenants.<name>.uid`
 * outputs): a deployed tenant keeps its uid unless its file pins another, and then its files are
 * re-owned from the old one. A deployment from before tenants had their own uid has none: its
 * tenants get one from the pool and their files are re-owned from the shared 1000.
 */
export function keepIdentities<T extends { name: string; uid: number; formerUids: number[] }>(
  tenants: readonly T[],
  pinned: ReadonlyMap<string, number>,
  previous: Readonly<Record<string, number>>,
): { tenants: T[]; problems: Problem[] } {
  const { uids, problems } = allocateUids(tenants.map((t) => ({ name: t.name, pinned: pinned.get(t.name), previous: previous[t.name] })));
  return {
    tenants: tenants.map((t) => {
      const uid = uids.get(t.name) ?? t.uid;
      return { ...t, uid, formerUids: formerUids(uid, previous[t.name]) };
    }),
    problems,
  };
}

const MARKER = "OPENCLAW_TENANT_OWNER_EOF";

export interface OwnershipStep {
  tenant: string;
  uid: number;
  formerUids: readonly number[];
  /** The image the step runs in: the tenant's own gateway image (present, or pulled, for its container anyway). */
  image: string;
  /** The tenant's state and credentials volumes. */
  volumes: readonly string[];
  /** The tenant's container, stopped first when it still runs as another uid. */
  container: string;
  /** How long that stop waits for the gateway to drain (STOP_GRACE_SECONDS). */
  graceSeconds: number;
}

/** The command that makes the tenant's volumes its own (server-scripts/tenant-owner.sh). */
export function ownershipApply(script: string, step: OwnershipStep): string {
  return inlineScript(
    script,
    [step.tenant, String(step.uid), step.formerUids.join(","), String(step.graceSeconds), step.image, step.container, ...step.volumes],
    MARKER,
  );
}
