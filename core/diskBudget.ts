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
