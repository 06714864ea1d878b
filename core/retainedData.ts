import type { Problem } from "./problems";
import type { DeleteDataEntry } from "./stackConfig";

/** Volumes kept on a server for a tenant that has left the roster or moved to another server. */
export interface RetainedData {
  tenant: string;
  /** Where the volumes are (`default` for a single-server stack). */
  server: string;
  /** Which copy of the tenant's data these volumes are (the roster's `data:` then); absent: the first. */
  data?: string;
  volumes: string[];
}

/**
 * The one answer to "which volumes hold this tenant's data": the program creates and mounts these,
 * `npm run move` copies them, `npm run restore` fills fresh ones under a new `data` label, and
 * retainedData lists them. Without a label they are the names every tenant was created with.
 */
export function tenantVolumes(tenant: string, data?: string): string[] {
  const suffix = data === undefined ? "" : `.${data}`;
  return [`openclaw-${tenant}-state${suffix}`, `openclaw-${tenant}-credentials${suffix}`];
}

/**
 * What the `retainedData` output lists after this update: what it listed before, plus every tenant
 * that was deployed last time on a server it is no longer on (removed from the roster, or moved),
 * minus tenants back on that server and those whose data the stack deletes explicitly (`deleteData`).
 * Entries and tenants from before servers were recorded are on `fallbackServer`.
 */
export function listRetainedData(
  /** Last deployment's tenants, name -> server. */
  previousTenants: Readonly<Record<string, string | undefined>>,
  previousRetained: readonly { tenant: string; server?: string; data?: string }[],
  /** This update's tenants, name -> server. */
  current: Readonly<Record<string, string>>,
  deleted: readonly DeleteDataEntry[],
  fallbackServer: string,
  /** Each tenant's `data` label at the last deployment and in this update (absent: the first copy). */
  data: { previous?: Readonly<Record<string, string>>; current?: Readonly<Record<string, string>> } = {},
): RetainedData[] {
  const key = (tenant: string, server: string, label: string | undefined) => `${tenant}\u0000${server}\u0000${label ?? ""}`;
  const kept = new Map<string, { tenant: string; server: string; data?: string }>();
  const entry = (tenant: string, server: string, label: string | undefined) => ({ tenant, server, ...(label === undefined ? {} : { data: label }) });
  for (const r of previousRetained) kept.set(key(r.tenant, r.server ?? fallbackServer, r.data), entry(r.tenant, r.server ?? fallbackServer, r.data));
  // A tenant leaves its volumes behind when it runs elsewhere now, or on other volumes (a restore).
  const runsOn = (tenant: string, server: string, label: string | undefined) => current[tenant] === server && data.current?.[tenant] === label;
  for (const [tenant, server] of Object.entries(previousTenants)) {
    const was = server ?? fallbackServer;
    const label = data.previous?.[tenant];
    if (!runsOn(tenant, was, label)) kept.set(key(tenant, was, label), entry(tenant, was, label));
  }
  const order = (r: { tenant: string; server: string; data?: string }) => [r.tenant, r.server, r.data ?? ""];
  return [...kept.values()]
    .filter((r) => !runsOn(r.tenant, r.server, r.data) && !deletedBy(deleted, r))
    .sort((a, b) => {
      const [x, y] = [order(a), order(b)];
      const i = x.findIndex((v, n) => v !== y[n]);
      return i < 0 ? 0 : x[i] < y[i] ? -1 : 1;
    })
    .map((r) => ({ ...r, volumes: tenantVolumes(r.tenant, r.data) }));
}

/** Whether `deleteData` deletes these retained volumes: `dave` on every server, `alice@s1` on s1 only. */
export function deletedBy(entries: readonly DeleteDataEntry[], r: { tenant: string; server: string }): boolean {
  return entries.some((e) => e.tenant === r.tenant && (e.server === undefined || e.server === r.server));
}

/** One TenantDataDeletion: its resource name, the tenant and the server it runs on. */
export interface DataDeletion {
  name: string;
  tenant: string;
  server: string;
  /** The volumes to delete there: the first copy's, and every other copy retainedData lists there. */
  volumes: string[];
}

/**
 * The deletions `deleteData` asks for. `dave` runs on the fallback server and on every server that
 * lists dave's volumes (the command skips volumes that are not there); `alice@s1` runs on s1 only.
 * Names stay as they were before `tenant@server` existed: the tenant on `default`, `<tenant>-on-<server>`
 * elsewhere, so existing deletions keep their URNs.
 */
export function dataDeletions(entries: readonly DeleteDataEntry[], retained: readonly RetainedData[], fallbackServer: string, defaultServer: string): DataDeletion[] {
  return entries.flatMap((e) => {
    const servers = e.server !== undefined ? [e.server] : [...new Set([fallbackServer, ...retained.filter((r) => r.tenant === e.tenant).map((r) => r.server)])].sort();
    return servers.map((server) => ({
      name: server === defaultServer ? e.tenant : `${e.tenant}-on-${server}`,
      tenant: e.tenant,
      server,
      volumes: [...new Set([...tenantVolumes(e.tenant), ...retained.filter((r) => r.tenant === e.tenant && r.server === server).flatMap((r) => r.volumes)])],
    }));
  });
}

/**
 * `alice@s1` while the last deployment still ran alice on s1: the move is in this very update, so
 * the copy on the new server has not run yet (and without `npm run move` there is no copy at all).
 * Deleting the old volumes waits for a later update.
 */
export function deletionsTooEarly(entries: readonly DeleteDataEntry[], previousTenants: Readonly<Record<string, string | undefined>>, fallbackServer: string): Problem[] {
  return entries.flatMap(({ tenant, server }) => {
    if (server === undefined || !Object.hasOwn(previousTenants, tenant) || (previousTenants[tenant] ?? fallbackServer) !== server) return [];
    return [{ tenant, field: "deleteData", message: `${tenant}@${server}: ${tenant} ran on server ${server} at the last update; delete what it left there in a later update, once it runs on its new server` }];
  });
}
