/** Volumes kept on a server for a tenant that has left the roster or moved to another server. */
export interface RetainedData {
  tenant: string;
  /** Where the volumes are (`default` for a single-server stack). */
  server: string;
  volumes: string[];
}

export function tenantVolumes(tenant: string): string[] {
  return [`openclaw-${tenant}-state`, `openclaw-${tenant}-credentials`];
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
  previousRetained: readonly { tenant: string; server?: string }[],
  /** This update's tenants, name -> server. */
  current: Readonly<Record<string, string>>,
  deleted: readonly string[],
  fallbackServer: string,
): RetainedData[] {
  const key = (tenant: string, server: string) => `${tenant}\u0000${server}`;
  const kept = new Map<string, { tenant: string; server: string }>();
  for (const r of previousRetained) kept.set(key(r.tenant, r.server ?? fallbackServer), { tenant: r.tenant, server: r.server ?? fallbackServer });
  for (const [tenant, server] of Object.entries(previousTenants)) {
    const was = server ?? fallbackServer;
    if (current[tenant] !== was) kept.set(key(tenant, was), { tenant, server: was });
  }
  const deletedSet = new Set(deleted);
  return [...kept.values()]
    .filter((r) => current[r.tenant] !== r.server && !deletedSet.has(r.tenant))
    .sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : a.server < b.server ? -1 : 1))
    .map((r) => ({ tenant: r.tenant, server: r.server, volumes: tenantVolumes(r.tenant) }));
}
