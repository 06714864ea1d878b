// Blast radius: which registered resources change when one tenant file is edited.
import type { CapturedRegistration } from "./evalChild";

export interface BlastDiff {
  changed: string[];
  added: string[];
  removed: string[];
}

/** A roster edit changes the edge's routes only (no reload); an edge-caddyfile change would count as outside the tenant. */
export const EDGE_COMMAND = "command:local:Command edge-routes";

/** JSON with sorted keys, so key order never counts as a change. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj).sort().filter((k) => obj[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stableJson(obj[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const key = (r: CapturedRegistration) => `${r.type} ${r.name}`;
/** A provider reference is `urn::id`; the mock id changes between runs, the provider's name does not. */
const providerName = (ref: string) => ref.split("::")[3] ?? "";

export function diffRegistrations(before: readonly CapturedRegistration[], after: readonly CapturedRegistration[]): BlastDiff {
  // The provider counts: a resource moved to another server's engine is replaced there.
  const a = new Map(before.map((r) => [key(r), stableJson({ inputs: r.inputs, secret: [...r.secretInputs].sort(), provider: providerName(r.provider) })]));
  const b = new Map(after.map((r) => [key(r), stableJson({ inputs: r.inputs, secret: [...r.secretInputs].sort(), provider: providerName(r.provider) })]));
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [k, v] of b) {
    const old = a.get(k);
    if (old === undefined) added.push(k);
    else if (old !== v) changed.push(k);
  }
  for (const k of a.keys()) if (!b.has(k)) removed.push(k);
  return { changed: changed.sort(), added: added.sort(), removed: removed.sort() };
}

/** A resource belongs to a tenant when its name is the tenant's name or starts with `<tenant>-` (and is no other tenant's). */
export function belongsTo(resourceKey: string, tenant: string, allTenants: ReadonlySet<string>): boolean {
  const name = resourceKey.slice(resourceKey.indexOf(" ") + 1);
  if (name === tenant) return true;
  if (!name.startsWith(`${tenant}-`)) return false;
  // tenant "a" must not claim resources of tenant "a-b"
  for (const other of allTenants) if (other !== tenant && other.startsWith(`${tenant}-`) && (name === other || name.startsWith(`${other}-`))) return false;
  return true;
}

export interface BlastVerdict {
  /** Resources whose inputs changed, were added or were removed. */
  count: number;
  resources: string[];
  /** Of those, the ones that are neither the edited tenant's own nor the edge command. */
  outsideTenant: string[];
  edgeChanged: boolean;
  ok: boolean;
}

export function judge(diff: BlastDiff, tenant: string, allTenants: ReadonlySet<string>, expectEdgeChange: boolean): BlastVerdict {
  const resources = [...diff.changed.map((k) => `~ ${k}`), ...diff.added.map((k) => `+ ${k}`), ...diff.removed.map((k) => `- ${k}`)];
  const all = [...diff.changed, ...diff.added, ...diff.removed];
  const outsideTenant = all.filter((k) => k !== EDGE_COMMAND && !belongsTo(k, tenant, allTenants));
  const edgeChanged = all.includes(EDGE_COMMAND);
  return { count: all.length, resources, outsideTenant, edgeChanged, ok: outsideTenant.length === 0 && edgeChanged === expectEdgeChange };
}
