/**
 * Several servers in one report: each server's engine is asked on its own; one that cannot be
 * reached is marked so (with why), its roster tenants listed as unknown, and the others still show.
 */
import { FlagRules, flagReasons } from "./flags";
import { MIB } from "./metrics";
import { DataDisk, serverDiskReasons } from "./serverDisk";
import { ServerCertificates, certificateReasons } from "./certificates";
import { ServerBackups, repositoryCheckReasons, tenantBackup } from "./backups";
import { DesiredTenant, ReportMeta, ServerCapacity, ServerSummary, StatusReport, TenantStatus, buildReport, summariseServers } from "./model";

/** What one server's engine answered: its tenants, or why it could not be asked. */
export type ServerResult = (
  | { server: string; engine: string; reachable: true; tenants: TenantStatus[]; /** absent: not measured */ dataDisk?: DataDisk; /** absent: not read */ certificates?: ServerCertificates; /** absent: no backups installed (or not read) */ backups?: ServerBackups }
  | { server: string; engine: string; reachable: false; error: string; desired: readonly DesiredTenant[] }
) & { /** How long the server took to answer or fail, ms. */ elapsedMs?: number };

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
  const now = new Date(meta.checkedAt);
  const tenants = sorted.flatMap((r) => (r.reachable ? withBackups(r.tenants, r.backups, now) : r.desired.map((d) => unreachableTenant(d, r.error, rules))));
  const engine = sorted.map((r) => `${r.server}=${r.engine}`).join(", ");
  const report = buildReport(tenants, { ...meta, engine });
  const capacity: Readonly<Record<string, ServerCapacity>> = meta.capacity ?? {};
  report.servers = sorted.map((r) => {
    const rows = tenants.filter((t) => t.server === r.server);
    const summary = summariseServers(rows, r.engine, capacity)[0] ?? emptySummary(r.server, r.engine, capacity[r.server]);
    const dataDisk = r.reachable ? r.dataDisk ?? null : null;
    const certificates = r.reachable ? r.certificates ?? null : null;
    return {
      ...summary,
      dataDisk,
      certificates,
      flags: [...serverDiskReasons(dataDisk), ...certificateReasons(certificates), ...repositoryCheckReasons(r.reachable ? r.backups : undefined)],
      ...(r.reachable && r.backups?.check !== undefined ? { backupCheck: r.backups.check } : {}),
      reachable: r.reachable,
      error: r.reachable ? null : r.error,
      elapsedMs: r.elapsedMs ?? null,
    };
  });
  return report;
}

function emptySummary(server: string, engine: string, cap: ServerCapacity | undefined): StatusReport["servers"][number] {
  const capacityBytes = cap === undefined ? null : cap.memoryMb * MIB;
  return {
    server, engine, tenants: 0, running: 0, flagged: 0, memoryCommittedBytes: 0, memoryCapacityBytes: capacityBytes,
    overcommit: cap?.overcommit ?? null, cpus: cap?.cpus ?? null, commitRatio: capacityBytes === null ? null : 0, memoryUsedBytes: 0,
    cpuPercent: 0, diskUsedBytes: 0, dataDisk: null, certificates: null, flags: [], reachable: true, error: null, elapsedMs: null,
  };
}

/**
 * Each running or stopped tenant's backup cells and flags from its server's status files. A tenant
 * without a container there (data kept after a move) is not judged: its new server's files are.
 */
export function withBackups(rows: TenantStatus[], backups: ServerBackups | undefined, now: Date): TenantStatus[] {
  if (backups === undefined) return rows;
  return rows.map((t) => {
    if (t.container === null) return t;
    const { backup, flags } = tenantBackup(backups, t.tenant, now);
    return { ...t, backup, flags: [...t.flags, ...flags] };
  });
}

/** The servers that could not be asked (exitCodeFor then gives EXIT_UNREACHABLE). */
export function unreachableServers(report: StatusReport): string[] {
  return report.servers.filter((s) => !s.reachable).map((s) => s.server);
}

/**
 * The row that stands for a tenant when it shows on several servers (after a move the old server
 * keeps its volumes, "no container"): the named server's, else the one with a container, a running
 * one first. undefined when the report has no such tenant.
 */
export function rowOfTenant(report: StatusReport, tenant: string, server?: string): TenantStatus | undefined {
  const rows = report.tenants.filter((t) => t.tenant === tenant && (server === undefined || t.server === server));
  const rank = (t: TenantStatus): number => (t.state === "running" ? 0 : t.container !== null ? 1 : 2);
  return rows.sort((a, b) => rank(a) - rank(b))[0];
}

/**
 * What a history sample holds: the servers that answered, and one row per tenant on them. A server
 * that did not answer is left out (a gap), not recorded as zeros that would read as idle.
 */
export function sampleRows(report: StatusReport): { servers: ServerSummary[]; tenants: TenantStatus[] } {
  const servers = report.servers.filter((s) => s.reachable);
  const answered = new Set(servers.map((s) => s.server));
  const onAnswered = { ...report, tenants: report.tenants.filter((t) => answered.has(t.server)) };
  const names = [...new Set(onAnswered.tenants.map((t) => t.tenant))];
  const tenants = names.map((n) => rowOfTenant(onAnswered, n)).filter((t): t is TenantStatus => t !== undefined);
  return { servers, tenants };
}

/** Log lines for servers whose reachability changed since the previous report (none on a steady fleet). */
export function reachabilityChanges(before: readonly ServerSummary[] | undefined, after: readonly ServerSummary[]): string[] {
  const was = new Map((before ?? []).map((s) => [s.server, s.reachable]));
  const lines: string[] = [];
  for (const s of after) {
    const prev = was.get(s.server);
    if (!s.reachable && prev !== false) lines.push(`server ${s.server} unreachable: ${s.error ?? "no answer"} (its roster tenants show as unknown)`);
    if (s.reachable && prev === false) lines.push(`server ${s.server} answers again`);
  }
  return lines;
}
