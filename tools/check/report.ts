/** What `npm run check` prints for a checked stack: the tenant table, totals, servers and problems. No I/O. */
import { backupSummary } from "../../core/backup";
import { HostingCheck } from "../../core/check";
import { ServerPlan } from "../../core/plan";
import { formatProblem } from "../../core/problems";

export interface CheckReport {
  stdout: string[];
  stderr: string[];
  code: number;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  // PORT, MEMORY and CPUS are right-aligned numbers; the rest is text.
  return rows.map((r) => r.map((cell, c) => (c === 2 || c === 5 || c === 6 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd()).join("\n");
}

/** One server's totals and utilisation, for a stack with `servers`. */
function serverLine(s: ServerPlan): string {
  const u = s.utilisation;
  const size = s.size;
  const head = `Server ${s.name}: ${s.tenants.length} tenants (${u.activeTenants} active), memory limits ${u.memoryLimitMb} MB, CPUs ${u.cpus}`;
  if (size === undefined) return head;
  const allowedMb = Math.floor(size.memoryMb * size.overcommit);
  const allowedCpus = Math.round(size.cpus * size.overcommit * 100) / 100;
  return `${head}; of ${allowedMb} MB (${u.memoryPercent}%) and ${allowedCpus} CPUs (${u.cpuPercent}%) allowed (${size.memoryMb} MB, ${size.cpus} CPUs, overcommit ${size.overcommit})`;
}

/**
 * The report of one check. `keysInFile`: the stack file holds apiKeys; without any (they are set
 * with `pulumi config set --secret`), missing keys are a note, not a problem.
 */
export function checkReport(stack: string, rosterOverride: string | undefined, checked: HostingCheck, keysInFile: boolean): CheckReport {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const problems = checked.problems.filter((p) => keysInFile || p.field !== "apiKeys");
  const missingKeys = checked.problems.filter((p) => !keysInFile && p.field === "apiKeys").map((p) => p.tenant);

  if (checked.plan !== undefined) {
    const rows = [["TENANT", "URL", "PORT", "TIER", "STATE", "MEMORY", "CPUS", "SERVER"]];
    for (const t of checked.plan.tenants) {
      rows.push([t.name, t.url, String(t.port), t.tier, t.state, `${t.memoryMb} MB`, t.cpus.toFixed(1), t.server]);
    }
    const active = checked.plan.tenants.filter((t) => t.state === "active");
    const memory = active.reduce((sum, t) => sum + t.memoryMb, 0);
    const cpus = active.reduce((sum, t) => sum + t.cpus, 0);
    rows.push([`TOTAL ${checked.plan.tenants.length}`, `${active.length} active`, "", "", "", `${memory} MB`, cpus.toFixed(1), ""]);
    stdout.push(`Stack ${stack}, roster ${rosterOverride ?? checked.config?.rosterDir}\n`);
    stdout.push(table(rows));
    const use = checked.plan.utilisation;
    if (checked.config?.servers !== undefined) {
      stdout.push("");
      for (const s of checked.plan.servers) stdout.push(serverLine(s));
    }
    const server = checked.config?.server;
    if (server !== undefined) {
      const allowedMb = Math.floor(server.memoryMb * server.overcommit);
      const allowedCpus = Math.round(server.cpus * server.overcommit * 100) / 100;
      stdout.push(
        `\nCapacity: memory limits ${use.memoryLimitMb} of ${allowedMb} MB allowed (${use.memoryPercent}%), ` +
          `CPUs ${use.cpus} of ${allowedCpus} (${use.cpuPercent}%); server ${server.memoryMb} MB, ${server.cpus} CPUs, overcommit ${server.overcommit}`,
      );
    }
    if (checked.config?.servers === undefined) stdout.push(`Recommended server for this roster: ${use.recommended.memoryGb} GB memory, ${use.recommended.cpus} CPUs (reservations ${use.memoryReservedMb} MB + 1 GB for the system)`);
  }
  if (checked.config !== undefined) stdout.push(`\n${backupSummary(checked.config.backup)}`);
  for (const w of checked.certificateBurst === undefined ? checked.warnings : [...checked.warnings, checked.certificateBurst]) stdout.push(`warning: ${formatProblem(w)}`);
  if (missingKeys.length > 0) {
    stdout.push(`note: Pulumi.${stack}.yaml holds no apiKeys; pulumi up will require one for: ${missingKeys.join(", ")}`);
  }
  if (problems.length > 0) {
    stderr.push(`\n${problems.length} problem(s):`);
    for (const p of problems) stderr.push(`  - ${formatProblem(p)}`);
    return { stdout, stderr, code: 1 };
  }
  stdout.push("\nroster OK");
  return { stdout, stderr, code: 0 };
}
