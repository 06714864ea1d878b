import type { Problem } from "./problems";
import { inlineScript } from "./shell";

/**
 * How a tenant's disk budget (the tier's diskMb) is enforced:
 * - `off`: not enforced; the budget is only reported (`npm run status` reads the container's label).
 * - `image`: the tenant's own ext4 image of diskMb, loop-mounted on the server; both volumes are bind
 *   mounts of folders inside it. Works on any Linux host with loop devices.
 * - `xfs`: each volume gets a `size` (Docker's local driver, XFS project quotas); needs the engine's
 *   volumes folder on XFS mounted with prjquota, and Docker refuses such volumes anywhere else.
 */
export const DISK_QUOTA_MODES = ["off", "image", "xfs"] as const;
export type DiskQuotaMode = (typeof DISK_QUOTA_MODES)[number];

/** The credentials volume holds one small auth-profile key; with `xfs` the rest is the state volume's. */
export const CREDENTIALS_MB = 64;
/** Where `image` keeps each tenant's filesystem image (`<tenant>.img`) and mounts it (`<tenant>/`). */
export const DISKS_DIR = "/var/lib/openclaw-hosting/disks";

export type VolumeKey = "state" | "credentials";

/** Docker local-driver options for one of the tenant's volumes; undefined when nothing is enforced. */
export function volumeDriverOpts(tenant: string, key: VolumeKey, diskMb: number, mode: DiskQuotaMode): Record<string, string> | undefined {
  switch (mode) {
    case "off":
      return undefined;
    case "xfs":
      return { size: `${key === "state" ? diskMb - CREDENTIALS_MB : CREDENTIALS_MB}M` };
    case "image":
      return { type: "none", o: "bind", device: `${DISKS_DIR}/${tenant}/${key}` };
  }
}

const MARKER = "OPENCLAW_TENANT_DISK_EOF";

/** Creates (or grows) and mounts the tenant's image, owned inside by the gateway's user. */
export function diskApply(script: string, tenant: string, diskMb: number, owner: string): string {
  return inlineScript(script, ["apply", tenant, String(diskMb), owner], MARKER);
}

/** Unmounts it when the tenant leaves the roster; the image, which is the data, stays. */
export function diskRelease(script: string, tenant: string): string {
  return inlineScript(script, ["release", tenant], MARKER);
}

/** Deletes the image: only as part of the explicit deleteData act. */
export function diskPurge(script: string, tenant: string): string {
  return inlineScript(script, ["purge", tenant], MARKER);
}

/** A tenant as keepDiskImages needs it: its name, server and disk mode. */
export interface DiskTenant {
  name: string;
  server: string;
  diskQuota: DiskQuotaMode;
}

/**
 * A tenant whose data lives in its disk image keeps `image` whatever `diskQuota` says now: switching
 * the stack's mode would unmount the filesystem its volumes bind into (they keep their driverOpts),
 * so its container would lose its data at the next start. Only tenants created afterwards get the new
 * mode. `previous` is the last deployment's `diskImages` output (tenant -> server); undefined when
 * that deployment predates the record, which is then said, since nothing can be kept from it.
 */
export function keepDiskImages<T extends DiskTenant>(tenants: readonly T[], previous: Readonly<Record<string, string>> | undefined, mode: DiskQuotaMode, hadTenants: boolean): { tenants: T[]; warnings: Problem[] } {
  if (mode === "image") return { tenants: [...tenants], warnings: [] };
  if (previous === undefined) {
    return {
      tenants: [...tenants],
      warnings: hadTenants
        ? [{ field: "diskQuota", message: `is ${mode}, and the last deployment did not record which tenants have disk images (it predates the record): if this stack used diskQuota: image, set it back to image for one deployment first, or their disks are unmounted` }]
        : [],
    };
  }
  const kept: string[] = [];
  const out = tenants.map((t) => {
    if (previous[t.name] !== t.server) return t;
    kept.push(t.name);
    return { ...t, diskQuota: "image" as const };
  });
  const warnings: Problem[] = kept.length === 0 ? [] : [{
    field: "diskQuota",
    message: `is ${mode}, but ${kept.join(", ")} ${kept.length === 1 ? "has its data in a disk image" : "have their data in disk images"}: they keep diskQuota: image (mounted, budget enforced); only new tenants get ${mode} (docs/security.md#disk)`,
  }];
  return { tenants: out, warnings };
}

/** The `diskImages` output: each tenant whose data is in a disk image, and on which server. */
export function diskImagesOutput(tenants: readonly DiskTenant[]): Record<string, string> {
  return Object.fromEntries(tenants.filter((t) => t.diskQuota === "image").map((t) => [t.name, t.server]));
}
