/** When a tenant needs attention, and the exit codes that tell a cron job so. */
import { formatBytes } from "./metrics";
import type { TenantStatus } from "./model";

export const DEFAULT_MEMORY_THRESHOLD_PERCENT = 90;
export const DEFAULT_DISK_THRESHOLD_PERCENT = 90;

/** Exit codes, so a cron job can alert: 1 = something is flagged, 2 = an engine (a server) is unreachable. */
export const EXIT_OK = 0;
export const EXIT_FLAGGED = 1;
export const EXIT_UNREACHABLE = 2;
export const EXIT_USAGE = 64;

export interface FlagRules {
  /** Flag at or above this percent of the memory limit. */
  memoryThresholdPercent: number;
  /** Flag at or above this percent of the disk budget (default 90). */
  diskThresholdPercent?: number;
}

/**
 * The flag rules: not running (restarting, exited, ...), unhealthy, at or above the memory or disk
 * threshold, not found, or active in the roster with no container.
 */
export function flagReasons(t: Omit<TenantStatus, "flags">, rules: FlagRules): string[] {
  const reasons: string[] = [];
  switch (t.state) {
    case "running":
      break;
    case "no container":
      if (t.desired === "active") reasons.push("missing: active in the roster, no container on the engine (data kept in its volumes)");
      break;
    case "restarting":
      reasons.push(`restarting (${t.restartCount ?? 0} restarts${t.oomKilled ? ", last exit OOM-killed" : ""})`);
      break;
    case "exited":
    case "dead":
      reasons.push(`${t.state} (exit code ${t.exitCode ?? "?"}${t.oomKilled ? ", OOM-killed" : ""})`);
      break;
    case "not found":
      reasons.push(t.desired === "active"
        ? "missing: active in the roster, nothing on the engine (no container, no volumes)"
        : "not found on the engine (no container, no volumes)");
      break;
    case "unknown":
      reasons.push(`state unknown${t.error !== null ? `: ${t.error}` : ""}`);
      break;
    default:
      reasons.push(`container ${t.state}`);
  }
  if (t.health === "unhealthy") reasons.push("unhealthy");
  if (t.memoryPercent !== null && t.memoryPercent >= rules.memoryThresholdPercent && t.memoryLimitBytes !== null) {
    reasons.push(`memory at ${t.memoryPercent.toFixed(0)}% of its ${formatBytes(t.memoryLimitBytes)} limit (>= ${rules.memoryThresholdPercent}%)`);
  }
  const disk = rules.diskThresholdPercent ?? DEFAULT_DISK_THRESHOLD_PERCENT;
  if (t.diskPercent !== null && t.diskPercent >= disk && t.diskBudgetBytes !== null) {
    reasons.push(`disk at ${t.diskPercent.toFixed(0)}% of its ${formatBytes(t.diskBudgetBytes)} budget (>= ${disk}%)`);
  }
  return reasons;
}
