/**
 * Several servers in one report: each server's engine is asked on its own; one that cannot be
 * reached is marked so (with why), its roster tenants listed as unknown, and the others still show.
 */
import { FlagRules, flagReasons } from "./flags";
import { MIB } from "./metrics";
import { DesiredTenant, ReportMeta, ServerCapacity, StatusReport, TenantStatus, buildReport, summariseServers } from "./model";

/** What one server's engine answered: its tenants, or why it could not be asked. */
export type ServerResult =
  | { server: string; engine: string; reachable: true; tenants: TenantStatus[] }
  | { server: string; engine: string; reachable: false; error: string; desired: readonly DesiredTenant[] };

/** A roster tenant of a server that could not be asked: nothing is known but that it should be there. */
export function unreachableTenant(d: DesiredTenant, error: string, rules: FlagRules): TenantStatus {
  const base: Omit<TenantStatus, "flags"> = {
    tenant: d.tenant, server: d.server, container: null, state: "unknown", health: "none",
    memoryUsedBytes: null, memoryLimitBytes: null, memoryPercent: null, cpuPercent: null, cpuLimit: null,
    restartCount: null, exitCode: null, oomKilled: false, startedAt: null, image: null, url: null,
    tier: d.tier, volumes: [], diskUsedBytes: null, diskBudgetBytes: d.diskMb * MIB, diskPercent: null,
    desired: d.state, error: `server ${d.server} unreachable: ${error}`, notes: [],
  };
  return { ...base, flags: flagReasons(base, rules) };
}

/** One report from every server's result, in server order; `meta.engine` is ignored (each server has its own). */
export function mergeServerResults(results: readonly ServerResult[], meta: Omit<ReportMeta, "engine">, rules: FlagRules): StatusReport {
  const sorted = [...results].sort((a, b) => (a.server < b.server ? -1 : 1));
  const tenants = sorted.flatMap((r) => (r.reachable ? r.tenants : r.desired.map((d) => unreachableTenant(d, r.error, rules))));
  const engine = sorted.map((r) => `${r.server}=${r.engine}`).join(", ");
  const report = buildReport(tenants, { ...meta, engine });
  const capacity: Readonly<Record<string, ServerCapacity>> = meta.capacity ?? {};
  report.servers = sorted.map((r) => {
    const rows = tenants.filter((t) => t.server === r.server);
    const summary = summariseServers(rows, r.engine, capacity)[0] ?? emptySummary(r.server, r.engine, capacity[r.server]);
    return {
      ...summary,
      reachable: r.reachable,
      error: r.reachable ? null : r.error,
    };
  });
  return report;
}

function emptySummary(server: string, engine: string, cap: ServerCapacity | undefined): StatusReport["servers"][number] {
  const capacityBytes = cap === undefined ? null : cap.memoryMb * MIB;
  return {
    server, engine, tenants: 0, running: 0, flagged: 0, memoryCommittedBytes: 0, memoryCapacityBytes: capacityBytes,
    overcommit: cap?.overcommit ?? null, commitRatio: capacityBytes === null ? null : 0, memoryUsedBytes: 0, cpuPercent: 0,
    diskUsedBytes: 0, reachable: true, error: null,
  };
}

/** The servers that could not be asked (exitCodeFor then gives EXIT_UNREACHABLE). */
export function unreachableServers(report: StatusReport): string[] {
  return report.servers.filter((s) => !s.reachable).map((s) => s.server);
}
