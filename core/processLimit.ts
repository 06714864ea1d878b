import { inlineScript } from "./shell";

export const CGROUP_DRIVERS = ["systemd", "cgroupfs"] as const;
export type CgroupDriver = (typeof CGROUP_DRIVERS)[number];

/**
 * The tenant's own parent cgroup, which carries its process limit. systemd reads `-` in a slice
 * name as nesting (openclaw-my-shop.slice would sit inside openclaw-my.slice and share its limit),
 * so hyphens in the tenant's name are escaped as systemd-escape does.
 */
export function cgroupParent(tenant: string, driver: CgroupDriver): string {
  return driver === "systemd" ? `openclaw-${tenant.replace(/-/g, "\\x2d")}.slice` : `/openclaw/${tenant}`;
}

const MARKER = "OPENCLAW_PROCESS_LIMIT_EOF";

/** The command that records and applies the limit (re-run with the new limit when the tier changes). */
export function processLimitApply(script: string, tenant: string, limit: number, driver: CgroupDriver): string {
  return inlineScript(script, ["apply", driver, tenant, String(limit), cgroupParent(tenant, driver)], MARKER);
}

/** The command that forgets the limit once the tenant's container is gone. */
export function processLimitRemove(script: string, tenant: string, driver: CgroupDriver): string {
  return inlineScript(script, ["remove", driver, tenant, cgroupParent(tenant, driver)], MARKER);
}
