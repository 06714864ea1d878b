/** The math `docker stats` does (docker/cli cli/command/container/stats_helpers.go), and byte formatting. */
import { ContainerInspect, ContainerStats } from "./dockerApi";

export const MIB = 1024 * 1024;

/**
 * CPU percent from one sample: the container's CPU time delta over the host's, times the online
 * CPUs (so one busy core is 100 %, two are 200 %). null when the sample carries no host CPU time
 * (a container that is not running).
 */
export function cpuPercent(stats: ContainerStats): number | null {
  const cur = stats.cpu_stats;
  const pre = stats.precpu_stats;
  if (cur?.system_cpu_usage === undefined) return null;
  const cpuDelta = (cur.cpu_usage?.total_usage ?? 0) - (pre?.cpu_usage?.total_usage ?? 0);
  const systemDelta = cur.system_cpu_usage - (pre?.system_cpu_usage ?? 0);
  let online = cur.online_cpus ?? 0;
  if (online === 0) online = cur.cpu_usage?.percpu_usage?.length ?? 0;
  if (systemDelta > 0 && cpuDelta > 0) return (cpuDelta / systemDelta) * online * 100;
  return 0;
}

/**
 * Memory in use without the reclaimable page cache: usage minus `total_inactive_file` (cgroup v1)
 * or `inactive_file` (cgroup v2). null when the sample has no usage (not running).
 */
export function memoryUsedBytes(stats: ContainerStats): number | null {
  const mem = stats.memory_stats;
  if (mem?.usage === undefined) return null;
  const s = mem.stats ?? {};
  const v1 = s.total_inactive_file;
  if (v1 !== undefined && v1 < mem.usage) return mem.usage - v1;
  const v2 = s.inactive_file ?? 0;
  if (v2 < mem.usage) return mem.usage - v2;
  return mem.usage;
}

/** The container's own limit (HostConfig.Memory) when set; else what the cgroup reports (host memory), from a sample. */
export function memoryLimitBytes(inspect: ContainerInspect, sample: { memoryLimitBytes: number | null } | undefined): number | null {
  const own = inspect.HostConfig.Memory ?? 0;
  if (own > 0) return own;
  const reported = sample?.memoryLimitBytes ?? 0;
  return reported > 0 ? reported : null;
}

/** used / limit in percent; null when either is unknown. */
export function memoryPercent(used: number | null, limit: number | null): number | null {
  if (used === null || limit === null || limit <= 0) return null;
  return (used / limit) * 100;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MIB) return `${(bytes / (1024 * MIB)).toFixed(2)} GiB`;
  return `${(bytes / MIB).toFixed(1)} MiB`;
}
