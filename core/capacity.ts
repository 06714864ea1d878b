import { Problem } from "./problems";

export interface ServerSize {
  memoryMb: number;
  cpus: number;
  /** How far the sum of limits may exceed the server (limits are ceilings, not usage). */
  overcommit: number;
  /** The disk the tenants' data lives on (GB); absent: the sum of disk budgets is not checked. */
  diskGb?: number;
}

export interface SizedTenant {
  name: string;
  state: "active" | "suspended";
  memoryMb: number;
  reservationMb: number;
  cpus: number;
  /** Unpinned tenants are the ones added since the last `npm run pin-ports`. */
  pinned: boolean;
  /** The tier's disk budget; absent counts as none. */
  diskMb?: number;
}

export interface Utilisation {
  activeTenants: number;
  memoryLimitMb: number;
  memoryReservedMb: number;
  cpus: number;
  /** Percent of the overcommitted allowance in use; absent without a server size. */
  memoryPercent?: number;
  cpuPercent?: number;
  recommended: { memoryGb: number; cpus: number };
}

/** Headroom for the OS, Docker and Caddy on top of the tenants. */
const SYSTEM_MB = 1024;
const MEMORY_SIZES_GB = [2, 4, 8, 16, 32, 64, 128, 256, 512];
const CPU_SIZES = [1, 2, 4, 8, 16, 32, 64, 128];

export function utilisation(tenants: readonly SizedTenant[], server: ServerSize | undefined, overcommit = server?.overcommit ?? 1.5): Utilisation {
  const active = tenants.filter((t) => t.state === "active");
  const memoryLimitMb = active.reduce((s, t) => s + t.memoryMb, 0);
  const memoryReservedMb = active.reduce((s, t) => s + t.reservationMb, 0);
  const cpus = Math.round(active.reduce((s, t) => s + t.cpus, 0) * 100) / 100;
  // Smallest common size that holds every reservation and the limits at the overcommit ratio.
  const neededMb = Math.max(memoryReservedMb, memoryLimitMb / overcommit) + SYSTEM_MB;
  const memoryGb = MEMORY_SIZES_GB.find((gb) => gb * 1024 >= neededMb) ?? Math.ceil(neededMb / 1024);
  const cpuCount = CPU_SIZES.find((c) => c >= cpus / overcommit) ?? Math.ceil(cpus / overcommit);
  const result: Utilisation = { activeTenants: active.length, memoryLimitMb, memoryReservedMb, cpus, recommended: { memoryGb, cpus: cpuCount } };
  if (server !== undefined) {
    result.memoryPercent = Math.round((memoryLimitMb / (server.memoryMb * server.overcommit)) * 100);
    result.cpuPercent = Math.round((cpus / (server.cpus * server.overcommit)) * 100);
  }
  return result;
}

/** Refuses a roster whose limits exceed the server at its overcommit ratio, saying by how much. */
export function checkCapacity(tenants: readonly SizedTenant[], server: ServerSize): Problem[] {
  const use = utilisation(tenants, server);
  const added = tenants.filter((t) => t.state === "active" && !t.pinned).map((t) => t.name);
  const addedNote = added.length > 0 ? ` Tenants added since the last pin-ports: ${added.join(", ")}.` : "";
  const problems: Problem[] = [];
  const memoryAllowed = Math.floor(server.memoryMb * server.overcommit);
  if (use.memoryLimitMb > memoryAllowed) {
    problems.push({
      field: "server.memoryMb",
      message:
        `the ${use.activeTenants} active tenants need ${use.memoryLimitMb} MB of memory limits, over the ${memoryAllowed} MB allowed ` +
        `(${server.memoryMb} MB x overcommit ${server.overcommit}) by ${use.memoryLimitMb - memoryAllowed} MB.${addedNote}`,
    });
  }
  const cpusAllowed = Math.round(server.cpus * server.overcommit * 100) / 100;
  if (use.cpus > cpusAllowed) {
    problems.push({
      field: "server.cpus",
      message:
        `the ${use.activeTenants} active tenants need ${use.cpus} CPUs, over the ${cpusAllowed} allowed ` +
        `(${server.cpus} x overcommit ${server.overcommit}) by ${Math.round((use.cpus - cpusAllowed) * 100) / 100}.${addedNote}`,
    });
  }
  return problems;
}

/** Warn once the disk budgets take this share of the server's declared disk. */
export const DISK_WARN_RATIO = 0.9;

/**
 * Disk is never overcommitted: images (diskQuota: image) are sparse, so an over-promised server
 * fails every tenant at once when it fills, long after the roster was accepted. Every tenant counts,
 * suspended ones too (their data stays). Refuses a sum over the server's diskGb, warns near it.
 */
export function checkDiskCapacity(tenants: readonly SizedTenant[], server: ServerSize): { problems: Problem[]; warnings: Problem[] } {
  if (server.diskGb === undefined) return { problems: [], warnings: [] };
  const budgetMb = tenants.reduce((s, t) => s + (t.diskMb ?? 0), 0);
  const diskMb = server.diskGb * 1024;
  const sum = `the ${tenants.length} tenants' disk budgets (diskMb) add up to ${budgetMb} MB`;
  if (budgetMb > diskMb) {
    return { problems: [{ field: "server.diskGb", message: `${sum}, over the server's ${server.diskGb} GB (${diskMb} MB) by ${budgetMb - diskMb} MB; give the server more disk, lower a tier's diskMb or place tenants elsewhere` }], warnings: [] };
  }
  if (budgetMb >= diskMb * DISK_WARN_RATIO) {
    return { problems: [], warnings: [{ field: "server.diskGb", message: `${sum}, ${Math.round((budgetMb / diskMb) * 100)}% of the server's ${server.diskGb} GB (the OS and images need room too)` }] };
  }
  return { problems: [], warnings: [] };
}
