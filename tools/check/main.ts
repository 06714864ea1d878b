// npm run check [-- --stack dev] [-- --roster DIR]: validates a roster offline (no Pulumi CLI, no
// network), prints the tenant table with totals, and exits 1 listing every problem found.
import * as fs from "fs";
import * as path from "path";
import { checkHosting } from "../../core/check";
import { LIMITS } from "../../core/limits";
import { readRoster, readRosterFolder } from "../../core/load";
import { ServerPlan } from "../../core/plan";
import { formatProblem } from "../../core/problems";
import { StackFileConfig, readStackFile } from "../shared/stackFile";

const REPO = path.resolve(__dirname, "..", "..");

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  // PORT, MEMORY and CPUS are right-aligned numbers; the rest is text.
  return rows.map((r) => r.map((cell, c) => (c === 2 || c === 5 || c === 6 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd()).join("\n");
}

function main(): number {
  const stack = option("stack") ?? "dev";
  if (!/^[A-Za-z0-9_.-]+$/.test(stack) || stack.startsWith(".")) {
    console.error("check: --stack takes a stack name (letters, digits, . _ -)");
    return 1;
  }
  const stackPath = path.join(REPO, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(stackPath) || !fs.statSync(stackPath).isFile()) {
    console.error(`check: no stack file ${stackPath} (use --stack NAME)`);
    return 1;
  }
  // A stack file over its size limit is not read at all.
  const size = fs.statSync(stackPath).size;
  const stackFile: StackFileConfig =
    size > LIMITS.stackFileBytes
      ? { raw: {}, encrypted: [], plaintextSecrets: [], problems: [{ field: "(stack file)", message: `Pulumi.${stack}.yaml is ${size} bytes, over the limit of ${LIMITS.stackFileBytes} bytes` }] }
      : readStackFile(fs.readFileSync(stackPath, "utf8"), `Pulumi.${stack}.yaml`);
  const { raw, plaintextSecrets, problems: fileProblems } = stackFile;
  // --roster names a folder on this machine explicitly (e.g. a checkout under review), so it is read
  // wherever it is; the stack's own rosterDir must stay inside the project.
  const rosterOverride = option("roster");
  const keysInFile = raw.apiKeys !== undefined;

  const checked =
    fileProblems.length > 0
      ? { problems: fileProblems, warnings: [], plan: undefined, config: undefined }
      : checkHosting(
          raw,
          (dir) => (rosterOverride !== undefined ? readRosterFolder(path.resolve(process.cwd(), rosterOverride)) : readRoster(REPO, dir)),
          plaintextSecrets,
        );
  // Keys are set with `pulumi config set --secret`; a stack file without any cannot be checked for them.
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
    console.log(`Stack ${stack}, roster ${rosterOverride ?? checked.config?.rosterDir}\n`);
    console.log(table(rows));
    const use = checked.plan.utilisation;
    if (checked.config?.servers !== undefined) {
      console.log("");
      for (const s of checked.plan.servers) console.log(serverLine(s));
    }
    const server = checked.config?.server;
    if (server !== undefined) {
      const allowedMb = Math.floor(server.memoryMb * server.overcommit);
      const allowedCpus = Math.round(server.cpus * server.overcommit * 100) / 100;
      console.log(
        `\nCapacity: memory limits ${use.memoryLimitMb} of ${allowedMb} MB allowed (${use.memoryPercent}%), ` +
          `CPUs ${use.cpus} of ${allowedCpus} (${use.cpuPercent}%); server ${server.memoryMb} MB, ${server.cpus} CPUs, overcommit ${server.overcommit}`,
      );
    }
    if (checked.config?.servers === undefined) console.log(`Recommended server for this roster: ${use.recommended.memoryGb} GB memory, ${use.recommended.cpus} CPUs (reservations ${use.memoryReservedMb} MB + 1 GB for the system)`);
  }
  for (const w of checked.warnings) console.log(`warning: ${formatProblem(w)}`);
  if (missingKeys.length > 0) {
    console.log(`note: Pulumi.${stack}.yaml holds no apiKeys; pulumi up will require one for: ${missingKeys.join(", ")}`);
  }
  if (problems.length > 0) {
    console.error(`\n${problems.length} problem(s):`);
    for (const p of problems) console.error(`  - ${formatProblem(p)}`);
    return 1;
  }
  console.log("\nroster OK");
  return 0;
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


try {
  process.exit(main());
} catch (err) {
  // Every input problem is reported above; anything else is a bug, said in one line (OPENCLAW_FULL_STACKS=1 for the trace).
  const text = err instanceof Error ? (process.env.OPENCLAW_FULL_STACKS === "1" ? String(err.stack) : err.message.split("\n")[0]) : String(err);
  console.error(`check: unexpected error, please report it: ${text}`);
  process.exit(2);
}
