/**
 * What `npm run restore` and `npm run recover` decide from the plan, the last deployment's outputs
 * and restic's answers alone: which snapshot, which fresh volumes, where a lost server's tenants
 * go, and whether what was restored is exactly what the snapshot holds. No I/O.
 */
import { z } from "zod";
import { SizedTenant, checkCapacity } from "../../core/capacity";
import { DataLabel } from "../../core/names";
import { HostingPlan, TenantPlan } from "../../core/plan";
import { placeTenants } from "../../core/placement";
import { formatProblem } from "../../core/problems";
import { tenantVolumes } from "../../core/retainedData";
import { Manifest } from "../shared/manifest";

/** Where a server's snapshot job stages a tenant (the backup contract); a restore yields this path under its target. */
export const STAGING_DIR = "/var/lib/openclaw/backup/staging";
/** Where a restore stages a snapshot on the target server before copying it into fresh volumes (root-only, removed after). */
export const RESTORE_DIR = "/var/lib/openclaw/backup/restore";
export const KEYS = ["state", "credentials"] as const;

/** One entry of `restic snapshots --json`, as far as a restore needs it. */
export const Snapshot = z.looseObject({
  id: z.string().regex(/^[0-9a-f]{64}$/),
  short_id: z.string().optional(),
  time: z.string(),
  hostname: z.string().optional(),
  tags: z.array(z.string()).optional(),
  paths: z.array(z.string()).optional(),
});
export type Snapshot = z.infer<typeof Snapshot>;

/** What the snapshot helper writes; `latest` or a snapshot ID (a prefix of at least 8 hex digits, as restic shows them). */
export const SnapshotChoice = z.union([z.literal("latest"), z.string().regex(/^[0-9a-f]{8,64}$/, { error: "must be latest or a snapshot ID (8 to 64 hex digits)" })]);

/** Parses restic's snapshot list; a tenant's own snapshots are those tagged tenant=<name> (and stack=<stack>). */
export function parseSnapshots(text: string): Snapshot[] | { error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text.trim() === "" ? "[]" : text);
  } catch {
    return { error: `restic's snapshot list is not JSON: ${text.slice(0, 200)}` };
  }
  const parsed = z.array(Snapshot).safeParse(raw ?? []);
  return parsed.success ? parsed.data : { error: `restic's snapshot list is not as expected: ${parsed.error.issues[0]?.message ?? "invalid"}` };
}

/** The snapshot to restore: the latest of the tenant's (by time), or the one whose ID starts with `choice`. */
export function chooseSnapshot(all: readonly Snapshot[], tenant: string, stack: string, choice: string): { snapshot: Snapshot } | { refused: string } {
  const own = all.filter((s) => (s.tags ?? []).includes(`tenant=${tenant}`) && (s.tags ?? []).includes(`stack=${stack}`) && (s.paths ?? [`${STAGING_DIR}/${tenant}`]).includes(`${STAGING_DIR}/${tenant}`));
  if (own.length === 0) return { refused: `tenant ${tenant} has no snapshot in the stack ${stack}'s repository; nothing was changed` };
  if (choice === "latest") return { snapshot: [...own].sort((a, b) => Date.parse(b.time) - Date.parse(a.time))[0] };
  const found = own.filter((s) => s.id.startsWith(choice));
  if (found.length === 1) return { snapshot: found[0] };
  if (found.length === 0) return { refused: `tenant ${tenant} has no snapshot ${choice} (its snapshots: ${own.map((s) => `${s.id.slice(0, 8)} ${s.time}`).join(", ")}); nothing was changed` };
  return { refused: `snapshot ${choice} is ambiguous for tenant ${tenant}: give more of its ID; nothing was changed` };
}

/** A fresh data label for a restore at `now` (UTC, to the second): never the tenant's current one. */
export function freshDataLabel(now: Date, current?: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15).toLowerCase();
  const label = `r${stamp}`;
  const chosen = label === current ? `${label}-2` : label;
  DataLabel.parse(chosen);
  return chosen;
}

/** The fresh volumes a restore fills (never the tenant's live ones: the label differs from its current one). */
export function freshVolumes(tenant: string, label: string): string[] {
  return tenantVolumes(tenant, label);
}

/** One line of `restic ls --json`: the snapshot first, then a node per path. */
const LsNode = z.looseObject({
  struct_type: z.literal("node"),
  path: z.string(),
  type: z.string(),
  size: z.number().optional(),
  uid: z.number().optional(),
  gid: z.number().optional(),
  mode: z.number().optional(),
});

export interface SnapshotEntry {
  /** `file`, `dir` or anything else restic records (symlink, ...). */
  type: string;
  bytes: number;
  uid?: number;
  gid?: number;
  /** Permission bits (mode & 0o777). */
  perm?: number;
}
/** The snapshot's listing under the tenant's staging directory, keyed as manifest.sh keys a tree mounted at /v (`./state/...`). */
export type SnapshotListing = Map<string, SnapshotEntry>;

export function parseListing(text: string, tenant: string): SnapshotListing {
  const root = `${STAGING_DIR}/${tenant}`;
  const out: SnapshotListing = new Map();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`unreadable line of restic ls: ${line.slice(0, 200)}`);
    }
    const node = LsNode.safeParse(value);
    if (!node.success) continue; // the snapshot line, and anything that is no node
    const { path, type, size, uid, gid, mode } = node.data;
    if (path !== root && !path.startsWith(`${root}/`)) continue;
    out.set(path === root ? "." : `.${path.slice(root.length)}`, { type, bytes: type === "file" ? size ?? 0 : -1, uid, gid, perm: mode === undefined ? undefined : mode & 0o777 });
  }
  return out;
}

/**
 * Every difference between the snapshot's listing and a manifest of the restored tree: each path
 * there with the same kind and byte count, nothing more. Content is proven by restic's own
 * `--verify` (the staged copy) and then by SHA-256 (staged copy against the volumes).
 */
export function compareWithSnapshot(listing: SnapshotListing, restored: Manifest): string[] {
  const out: string[] = [];
  for (const [file, want] of listing) {
    if (file === ".") continue; // the staging root is /v itself
    const got = restored.get(file);
    const kind = want.type === "file" ? "file" : want.type === "dir" ? "dir" : "other";
    if (got === undefined) out.push(`${file} is in the snapshot but not restored`);
    else if (kind === "dir" && got.bytes !== -1) out.push(`${file} is a directory in the snapshot but not restored as one`);
    else if (kind === "other" && got.bytes !== -2) out.push(`${file} is a ${want.type} in the snapshot but not restored as one`);
    else if (kind === "file" && got.bytes !== want.bytes) out.push(`${file} has ${got.bytes} bytes restored, ${want.bytes} in the snapshot`);
  }
  for (const file of restored.keys()) if (file !== "." && !listing.has(file)) out.push(`${file} is restored but not in the snapshot`);
  return out.sort();
}

/** owners.sh's lines: `<uid> <gid> <octal perm> <path>`. */
export function parseOwners(text: string): Map<string, { uid: number; gid: number; perm: number }> {
  const out = new Map<string, { uid: number; gid: number; perm: number }>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const m = /^(\d+) (\d+) ([0-7]+) (.+)$/.exec(line);
    if (m === null) throw new Error(`unreadable owners line: ${line.slice(0, 200)}`);
    out.set(m[4], { uid: Number(m[1]), gid: Number(m[2]), perm: parseInt(m[3], 8) & 0o777 });
  }
  return out;
}

/** Numeric owners and permission bits the fresh volumes must carry: exactly the snapshot's (a tenant's own uid is never assumed). */
export function compareOwners(listing: SnapshotListing, owners: ReturnType<typeof parseOwners>): string[] {
  const out: string[] = [];
  for (const [file, want] of listing) {
    if (file === "." || want.uid === undefined) continue;
    const got = owners.get(file);
    if (got === undefined) continue; // reported by compareWithSnapshot
    if (got.uid !== want.uid || got.gid !== want.gid) out.push(`${file} is owned by ${got.uid}:${got.gid}, ${want.uid}:${want.gid} in the snapshot`);
    else if (want.type !== "symlink" && want.perm !== undefined && got.perm !== want.perm) out.push(`${file} has mode ${got.perm.toString(8)}, ${want.perm.toString(8)} in the snapshot`);
  }
  return out.sort();
}

/** How old a snapshot is at `now`: what a tenant restored from it has lost (the RPO of that restore). */
export function snapshotAgeMs(s: Snapshot, now: Date): number {
  return Math.max(0, now.getTime() - Date.parse(s.time));
}

export function formatAge(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 360) / 10} h`;
  return `${Math.round(s / 8640) / 10} days`;
}

/** The last deployment's `tenants` output (core/outputs.ts), as far as recovery needs it. */
export const DeployedTenants = z.record(z.string(), z.looseObject({ server: z.string().optional(), data: z.string().optional() }));
export type DeployedTenants = z.infer<typeof DeployedTenants>;

export interface Recovery {
  tenant: TenantPlan;
  to: string;
}

/**
 * Where each tenant that ran on `lost` at the last deployment goes: the placement rule over the
 * surviving servers, one tenant at a time in name order (each placed one counts as pinned for the
 * next), then every surviving server's capacity checked with them all. Refused as a whole, before
 * anything changes, when a tenant fits nowhere or the result is over a server's capacity.
 */
export function planRecovery(plan: HostingPlan, deployed: DeployedTenants, lost: string): { recoveries: Recovery[]; notInRoster: string[] } | { refused: string } {
  if (!plan.servers.some((s) => s.name === lost)) return { refused: `server ${lost} is not in the stack's servers (${plan.servers.map((s) => s.name).join(", ")})` };
  const survivors = plan.servers.filter((s) => s.name !== lost);
  if (survivors.length === 0) return { refused: `server ${lost} is the stack's only server: there is nowhere to bring its tenants back` };
  const wasThere = Object.entries(deployed).filter(([, t]) => t.server === lost).map(([name]) => name).sort();
  if (wasThere.length === 0) return { refused: `the last deployment ran no tenant on server ${lost}; nothing to recover` };
  const byName = new Map(plan.tenants.map((t) => [t.name, t]));
  const notInRoster = wasThere.filter((n) => !byName.has(n));
  const lostTenants = wasThere.flatMap((n) => byName.get(n) ?? []);
  const where = new Map(plan.tenants.filter((t) => !wasThere.includes(t.name)).map((t) => [t.name, t.server]));
  const sized = (t: TenantPlan) => ({ name: t.name, active: t.state === "active", memoryMb: t.memoryMb, cpus: t.cpus });
  for (const t of lostTenants) {
    const others = plan.tenants.filter((x) => where.has(x.name)).map((x) => ({ ...sized(x), server: where.get(x.name) }));
    const placement = placeTenants([...others, sized(t)], survivors.map((s) => ({ name: s.name, size: s.size })));
    const to = placement.servers.get(t.name);
    if (to === undefined) return { refused: `tenant ${t.name}: the placement rule found no surviving server; nothing was changed` };
    where.set(t.name, to);
  }
  const problems = survivors.flatMap((s) => {
    if (s.size === undefined) return [];
    const here: SizedTenant[] = plan.tenants.filter((t) => where.get(t.name) === s.name).map((t) => ({
      name: t.name, state: t.state, memoryMb: t.memoryMb, reservationMb: t.reservationMb, cpus: t.cpus, pinned: true, diskMb: t.diskMb,
    }));
    return checkCapacity(here, s.size).map((p) => `${formatProblem({ ...p, field: `servers.${s.name}.${p.field.replace(/^server\./, "")}` })} (with ${lost}'s tenants)`);
  });
  if (problems.length > 0) return { refused: `the surviving servers cannot hold ${lost}'s tenants; nothing was changed:\n  - ${problems.join("\n  - ")}` };
  return { recoveries: lostTenants.map((t) => ({ tenant: t, to: where.get(t.name) as string })), notInRoster };
}

/**
 * What `pulumi up` cannot do for a tenant whose old server is gone: delete its container, network and
 * process-limit command there (each delete would reach the dead server; the container and network are
 * deleted before their replacement is created). These commands make Pulumi forget them instead, in
 * dependency order (container first); nothing on a surviving server is touched. The URNs are the
 * program's own (components/tenantInstance.ts under index.ts).
 */
export function forgetOnLostServer(stack: string, tenant: string, project = "openclaw-hosting"): string[] {
  const stackName = stack.split("/").pop() ?? stack;
  const urn = (type: string, name: string) => `urn:pulumi:${stackName}::${project}::openclaw:hosting:TenantInstance$${type}::${name}`;
  return [
    urn("docker:index/container:Container", `${tenant}-gateway`),
    urn("docker:index/network:Network", `${tenant}-network`),
    urn("command:remote:Command", `${tenant}-process-limit`),
  ].map((u) => `pulumi state delete --stack ${stack} --yes '${u}'`);
}

/** The `pulumi up` that applies a recovery while the lost server cannot answer (see docs/servers.md, "Losing a server"). */
export const upWithoutLostServer = (stack: string): string => `OPENCLAW_SERVER_CHECK=off pulumi up --stack ${stack} --continue-on-error`;
