/** The CLI's two views of a report: an aligned table for people, JSON for scripts. */
import { formatBytes } from "../shared/status/metrics";
import { StatusReport, TenantStatus } from "../shared/status/model";
import { ServerCertificates, soonestExpiry } from "../shared/status/certificates";

export function renderJson(report: StatusReport): string {
  return JSON.stringify(report, null, 2);
}

function pct(v: number | null): string {
  return v === null ? "-" : `${v.toFixed(1)}%`;
}

export function diskCell(t: TenantStatus): string {
  if (t.diskUsedBytes === null) return "-";
  if (t.diskBudgetBytes === null) return formatBytes(t.diskUsedBytes);
  return `${formatBytes(t.diskUsedBytes)} / ${formatBytes(t.diskBudgetBytes)}`;
}

/** One line per server when there are several (or one cannot be reached): where, how many, or why not. */
function serverLines(report: StatusReport): string[] {
  if (report.servers.length < 2 && report.servers.every((s) => s.reachable)) return [];
  return report.servers.map((s) => (s.reachable
    ? `  server ${s.server} (${s.engine}): ${s.tenants} tenant(s), ${s.running} running, ${s.flagged} flagged`
    : `  server ${s.server} (${s.engine}): UNREACHABLE: ${s.error ?? "no answer"}`));
}

/** One line per server: how many certificates, which expires first, the last renewal. */
export function certificateLine(server: string, certs: ServerCertificates): string {
  const soonest = soonestExpiry(certs);
  const first = soonest === undefined ? "none recorded yet" : `soonest ${soonest.name} in ${soonest.daysLeft} days (${soonest.notAfter})`;
  const renewal = certs.renewal === null ? "" : `; last renewal ${certs.renewal.at} ${certs.renewal.ok ? "ok" : "FAILED"}`;
  return `certificates on server ${server} (${certs.mode}, recorded ${certs.checkedAt}): ${certs.certificates.length}, ${first}${renewal}`;
}

export function renderTable(report: StatusReport): string {
  // The SERVER column only when there is more than one server, so a single-server table stays as it was.
  const several = report.servers.length > 1;
  const header = [...(several ? ["SERVER"] : []), "TENANT", "STATE", "HEALTH", "MEMORY", "MEM%", "CPU%", "RESTARTS", "DISK", "URL", ""];
  const rows = report.tenants.map((t) => [
    ...(several ? [t.server] : []),
    t.tenant,
    t.state === "no container" ? "no container - data kept" : t.state,
    t.health,
    t.memoryUsedBytes === null ? "-" : `${formatBytes(t.memoryUsedBytes)} / ${t.memoryLimitBytes === null ? "?" : formatBytes(t.memoryLimitBytes)}`,
    pct(t.memoryPercent),
    pct(t.cpuPercent),
    t.restartCount === null ? "-" : String(t.restartCount),
    diskCell(t),
    t.url ?? "-",
    t.flags.length > 0 ? "FLAGGED" : "",
  ]);
  const all = [header, ...rows];
  const right = new Set([3, 4, 5, 6, 7].map((c) => c + (several ? 1 : 0)));
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const lines = all.map((r) => r.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd());
  const out = [`Engine ${report.engine}, ${report.checkedAt} (${report.elapsedMs} ms)`, "", ...lines, ""];
  if (report.tenants.length === 0) out.splice(2, lines.length, "no tenants found (nothing labelled managed-by=openclaw-hosting)");
  const s = report.summary;
  out.push(`${s.tenants} tenant(s), ${s.running} running, ${s.noContainer} without a container, ${s.flagged} flagged`);
  out.push(...serverLines(report));
  for (const f of report.flagged) out.push(`  FLAGGED ${f.tenant}: ${f.reasons.join("; ")}`);
  for (const sv of report.servers) if (sv.certificates !== null) out.push(`  ${certificateLine(sv.server, sv.certificates)}`);
  for (const sv of report.servers) for (const reason of sv.flags) out.push(`  FLAGGED server ${sv.server}: ${reason}`);
  for (const t of report.tenants) for (const n of t.notes) if (!n.startsWith("no container:")) out.push(`  note ${t.tenant}: ${n}`);
  for (const t of report.tenants) {
    const b = t.backup;
    if (b === undefined) continue;
    const good = b.lastGoodAt === null ? "no good snapshot" : `last good snapshot ${b.snapshotId ?? "?"} at ${b.lastGoodAt}${b.lastGoodBytes === null ? "" : ` (${formatBytes(b.lastGoodBytes)})`}`;
    out.push(`  backup ${t.tenant}: ${good}${b.lastRunOk === false ? `; last run FAILED at ${b.lastRunAt}` : ""}`);
  }
  for (const sv of report.servers) if (sv.backupCheck !== undefined) out.push(`  backup repository check (from ${sv.server}): ${sv.backupCheck.ok ? "ok" : "FAILED"} at ${sv.backupCheck.time}`);
  return out.join("\n");
}
