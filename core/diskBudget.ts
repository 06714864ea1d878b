export const DISK_QUOTA_MODES = ["off", "xfs"] as const;
export type DiskQuotaMode = (typeof DISK_QUOTA_MODES)[number];

/** The credentials volume holds one small auth-profile key; the rest of the budget is the state volume's. */
export const CREDENTIALS_MB = 64;

/**
 * Each volume's share of the tenant's disk budget, as Docker's local volume driver takes it
 * (`size`, enforced with XFS project quotas when the engine's data-root is XFS mounted with
 * prjquota). With quotas off, no size is set and the budget is only reported (`npm run status`).
 */
export function volumeSizes(diskMb: number, mode: DiskQuotaMode): { state?: string; credentials?: string } {
  if (mode === "off") return {};
  return { state: `${diskMb - CREDENTIALS_MB}M`, credentials: `${CREDENTIALS_MB}M` };
}
