import * as pulumi from "@pulumi/pulumi";

export interface PreviousDeployment {
  /** The admin addresses the last deployment's Caddyfiles named (its `caddyfile` or `caddyfiles` output). */
  adminAddresses: string[];
  /** Tenants of the last deployment, name -> server (undefined: deployed before servers were recorded). */
  tenantServers: Record<string, string | undefined>;
  /** Tenants that ran on a restored copy of their data, name -> `data` label. */
  tenantData: Record<string, string>;
  /** Tenants' uids (name -> uid); a tenant deployed before tenants had their own uid has none. */
  tenantUids: Record<string, number>;
  /** The last deployment's retainedData output. */
  retainedData: { tenant: string; server?: string; data?: string }[];
  /** Tenants whose data was in a disk image, name -> server; undefined: deployed before this was recorded. */
  diskImages?: Record<string, string>;
}

/**
 * This stack's own last outputs, read through a StackReference: with the roster in git, the
 * Pulumi state is the central record of which tenant runs where.
 */
export async function previousDeployment(): Promise<PreviousDeployment> {
  const previous = new pulumi.StackReference("previous-deployment", {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
  });
  const [tenants, retained, caddyfile, caddyfiles, images] = await Promise.all(
    ["tenants", "retainedData", "caddyfile", "caddyfiles", "diskImages"].map((name) => previous.getOutputDetails(name)),
  );
  const tenantServers: Record<string, string | undefined> = {};
  const tenantData: Record<string, string> = {};
  const tenantUids: Record<string, number> = {};
  for (const [name, entry] of Object.entries(asRecord(tenants.value))) {
    const { server, data, uid } = asRecord(entry);
    tenantServers[name] = typeof server === "string" ? server : undefined;
    if (typeof data === "string") tenantData[name] = data;
    if (typeof uid === "number" && Number.isInteger(uid)) tenantUids[name] = uid;
  }
  const retainedData = (Array.isArray(retained.value) ? retained.value : []).flatMap((entry: unknown) => {
    const { tenant, server, data } = asRecord(entry);
    return typeof tenant === "string" ? [{ tenant, server: typeof server === "string" ? server : undefined, ...(typeof data === "string" ? { data } : {}) }] : [];
  });
  const texts = [caddyfile.value, ...Object.values(asRecord(caddyfiles.value))].filter((t): t is string => typeof t === "string");
  const adminAddresses = texts.flatMap((t) => [...t.matchAll(/^\tadmin (\S+)$/gm)].map((m) => m[1]));
  const diskImages = images.value === undefined
    ? undefined
    : Object.fromEntries(Object.entries(asRecord(images.value)).flatMap(([name, server]) => (typeof server === "string" ? [[name, server]] : [])));
  return { adminAddresses, tenantServers, tenantData, tenantUids, retainedData, diskImages };
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
