// npm run recover -- --server LOST [--stack dev] [--roster DIR] [--outputs FILE]: brings back every
// tenant the last deployment ran on a server that is gone, onto the surviving servers (the placement
// rule, with its capacity check), each from its latest snapshot into fresh volumes, checked file by
// file; then pins each one (`server:` and `data:` in its file) and prints the `pulumi up` to run and
// what each tenant lost (its snapshot's age). The lost server is never contacted.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { Engine, endSharedConnections, engineFor } from "../shared/dockerCli";
import { STACK_FLAGS, StackArgs, UsageError, parseToolArgs } from "../shared/args";
import { REPO, loadPlan } from "../shared/load";
import { rosterTextAfter, tenantFileName } from "../shared/tenantData";
import { DeployedTenants, Recovery, forgetOnLostServer, formatAge, freshDataLabel, planRecovery, snapshotAgeMs, upWithoutLostServer } from "./decide";
import { RestoreResult, restoreTenant } from "./restore";

const RecoverArgs = StackArgs.extend({ server: z.string(), outputs: z.string().optional() });

/** The last deployment's `tenants` output: from a file of `pulumi stack output --json`, or asked of Pulumi. */
function deployedTenants(stack: string, file: string | undefined): { tenants: DeployedTenants } | { error: string } {
  let text: string;
  if (file !== undefined) {
    text = fs.readFileSync(path.resolve(file), "utf8");
  } else {
    const r = spawnSync("pulumi", ["stack", "output", "--json", "--stack", stack], { cwd: REPO, encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) return { error: `pulumi stack output --json --stack ${stack} failed: ${(r.stderr || String(r.error ?? "")).trim().slice(0, 400)} (or give --outputs FILE, that command's output saved)` };
    text = r.stdout;
  }
  const parsed = z.looseObject({ tenants: DeployedTenants }).safeParse(JSON.parse(text));
  return parsed.success ? { tenants: parsed.data.tenants } : { error: `the last deployment's outputs have no readable tenants output: ${parsed.error.issues[0]?.message ?? "invalid"}` };
}

interface Outcome {
  recovery: Recovery;
  label: string;
  result?: RestoreResult;
  error?: string;
}

async function main(): Promise<number> {
  let args: z.output<typeof RecoverArgs>;
  try {
    args = parseToolArgs(process.argv.slice(2), { flags: { ...STACK_FLAGS, server: { type: "string" }, outputs: { type: "string" } }, schema: RecoverArgs }).values;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`recover: ${err.message}\nusage: npm run recover -- --server LOST [--stack NAME] [--roster DIR] [--outputs FILE]`);
    return 2;
  }
  const checked = loadPlan("recover", args);
  if ("error" in checked) {
    if (checked.error !== "") console.error(checked.error);
    return 1;
  }
  const { plan } = checked;
  const deployed = deployedTenants(args.stack, args.outputs);
  if ("error" in deployed) return fail(deployed.error);
  const planned = planRecovery(plan, deployed.tenants, args.server);
  if ("refused" in planned) return fail(planned.refused);
  const rosterDir = path.resolve(REPO, args.roster ?? checked.config.rosterDir);
  const entries = fs.readdirSync(rosterDir);
  const files = new Map<string, string>();
  for (const { tenant } of planned.recoveries) {
    const named = tenantFileName(entries, tenant.name);
    if ("refused" in named) return fail(named.refused);
    files.set(tenant.name, path.join(rosterDir, named.file));
  }
  const stack = args.stack.split("/").pop() ?? args.stack;
  const t0 = Date.now();
  console.log(`recovering ${planned.recoveries.length} tenants of ${args.server} (never contacted): ${planned.recoveries.map((r) => `${r.tenant.name} -> ${r.to}`).join(", ")}`);
  if (planned.notInRoster.length > 0) console.log(`  not in the roster any more, not recovered: ${planned.notInRoster.join(", ")}`);

  const wrappers = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-recover-"));
  const engines = new Map<string, Engine>();
  for (const s of plan.servers) if (s.name !== args.server && planned.recoveries.some((r) => r.to === s.name)) engines.set(s.name, engineFor(s, wrappers));
  const outcomes: Outcome[] = [];
  try {
    // One restore at a time per surviving server, the servers in parallel.
    const now = new Date();
    await Promise.all([...engines.entries()].map(async ([name, engine]) => {
      for (const recovery of planned.recoveries.filter((r) => r.to === name)) {
        const label = freshDataLabel(now, recovery.tenant.data);
        const outcome: Outcome = { recovery, label };
        outcomes.push(outcome);
        try {
          outcome.result = await restoreTenant({ tenant: recovery.tenant, stack, snapshot: "latest", label, to: engine, log: (line) => console.log(`  ${recovery.tenant.name}: ${line}`) });
          const file = files.get(recovery.tenant.name) as string;
          fs.writeFileSync(file, rosterTextAfter(fs.readFileSync(file, "utf8"), plan, recovery.tenant.name, name, label));
        } catch (err) {
          outcome.error = err instanceof Error ? err.message : String(err);
        }
      }
    }));
  } finally {
    endSharedConnections([...engines.values()]);
    fs.rmSync(wrappers, { recursive: true, force: true });
  }
  const end = new Date();
  console.log(`\nTENANT  TO  SNAPSHOT  TAKEN  LOST (snapshot age)  FILES  BYTES  RESTORE`);
  for (const o of outcomes.sort((a, b) => (a.recovery.tenant.name < b.recovery.tenant.name ? -1 : 1))) {
    const { tenant, to } = o.recovery;
    if (o.result === undefined) {
      console.log(`${tenant.name}  ${to}  FAILED: ${o.error ?? "?"}`);
      continue;
    }
    const r = o.result;
    console.log(`${tenant.name}  ${to}  ${r.snapshot.id.slice(0, 8)}  ${r.snapshot.time}  ${formatAge(snapshotAgeMs(r.snapshot, end))}  ${r.files}  ${r.bytes}  ${r.ms.total} ms`);
  }
  const ok = outcomes.filter((o) => o.result !== undefined);
  console.log(`\n${ok.length} of ${outcomes.length} tenants restored in ${end.getTime() - t0} ms; their files now say server: and data:. Commit them, then`);
  console.log(`make Pulumi forget what they had on ${args.server} (it cannot be deleted there while ${args.server} is gone), and update the rest:`);
  for (const o of ok) for (const line of forgetOnLostServer(args.stack, o.recovery.tenant.name)) console.log(`  ${line}`);
  console.log(`  ${upWithoutLostServer(args.stack)}`);
  console.log(`Their volumes on ${args.server} stay listed in retainedData. Once ${args.server} is replaced or removed from servers, a plain pulumi up works again.`);
  return ok.length === outcomes.length ? 0 : 1;
}

function fail(message: string): number {
  console.error(`recover: ${message}`);
  return 1;
}

main().then((code) => process.exit(code));
