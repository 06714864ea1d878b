/** Which tenants are on an engine: the managed containers and volumes, grouped by tenant. */
import { z } from "zod";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL } from "../../../core/labels";
import { ListedContainer, ListedContainerSchema, ListedVolume, ListedVolumeSchema } from "./dockerApi";

/** The tenant an object belongs to: its `openclaw.tenant` label, else its name (`openclaw-<t>`, `openclaw-<t>-state`). */
export function tenantOfContainer(c: ListedContainer): string | null {
  const label = c.Labels[TENANT_LABEL];
  if (label !== undefined && label !== "") return label;
  const name = (c.Names[0] ?? "").replace(/^\//, "");
  return name.startsWith("openclaw-") ? name.slice("openclaw-".length) : null;
}

export function tenantOfVolume(v: ListedVolume): string | null {
  const label = v.Labels[TENANT_LABEL];
  if (label !== undefined && label !== "") return label;
  const m = /^openclaw-(.+)-(state|credentials)$/.exec(v.Name);
  return m === null ? null : m[1];
}

export interface DiscoveredTenant {
  tenant: string;
  /** The container to report on (named `openclaw-<t>` when there is one), or null. */
  container: { id: string; name: string } | null;
  otherContainers: string[];
  volumes: string[];
}

/**
 * Groups what the list calls returned (already filtered to managed-by=openclaw-hosting) by tenant.
 * With `only`, keeps those tenants, in that order, and includes the ones with nothing on the engine.
 */
export function discoverTenants(containersJson: unknown, volumesJson: unknown, only?: readonly string[]): DiscoveredTenant[] {
  const containers = z.array(ListedContainerSchema).parse(containersJson);
  const volumes = z.array(ListedVolumeSchema).nullish().transform((v) => v ?? []).parse(volumesJson);
  const byTenant = new Map<string, { containers: { id: string; name: string }[]; volumes: string[] }>();
  const entry = (t: string) => {
    let e = byTenant.get(t);
    if (e === undefined) byTenant.set(t, (e = { containers: [], volumes: [] }));
    return e;
  };
  for (const c of containers) {
    if (c.Labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) continue;
    const t = tenantOfContainer(c);
    if (t !== null) entry(t).containers.push({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, "") });
  }
  for (const v of volumes) {
    if (v.Labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) continue;
    const t = tenantOfVolume(v);
    if (t !== null) entry(t).volumes.push(v.Name);
  }
  const names = only !== undefined ? [...new Set(only)] : [...byTenant.keys()].sort();
  return names.map((tenant) => {
    const e = byTenant.get(tenant) ?? { containers: [], volumes: [] };
    const preferred = e.containers.find((c) => c.name === `openclaw-${tenant}`) ?? e.containers[0] ?? null;
    return {
      tenant,
      container: preferred,
      otherContainers: e.containers.filter((c) => c !== preferred).map((c) => c.name).sort(),
      volumes: [...e.volumes].sort(),
    };
  });
}
