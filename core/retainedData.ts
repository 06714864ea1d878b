/** A tenant that has left the roster but whose volumes are still on the server. */
export interface RetainedData {
  tenant: string;
  volumes: string[];
}

export function tenantVolumes(tenant: string): string[] {
  return [`openclaw-${tenant}-state`, `openclaw-${tenant}-credentials`];
}

/**
 * What the `retainedData` output lists after this update: what it listed before, plus every tenant
 * that was deployed last time and is no longer in the roster, minus tenants back in the roster and
 * those whose data the stack deletes explicitly (`deleteData`).
 */
export function listRetainedData(
  previousTenants: readonly string[],
  previousRetained: readonly RetainedData[],
  roster: readonly string[],
  deleted: readonly string[],
): RetainedData[] {
  const gone = new Set([...previousRetained.map((r) => r.tenant), ...previousTenants]);
  for (const name of [...roster, ...deleted]) gone.delete(name);
  return [...gone].sort().map((tenant) => ({ tenant, volumes: tenantVolumes(tenant) }));
}
