// npm run restore -- --tenant T [--snapshot ID|latest] [--server S] [--stack dev] [--roster DIR]:
// restores a tenant from a snapshot (default: its latest) onto its own server or another one, into
// FRESH volumes (openclaw-T-state.<label>, never the live ones), checked file by file against the
// snapshot, and then writes `server: S` and `data: <label>` into the tenant's file. `pulumi up` then
// runs the tenant on the restored copy with its same gateway token (kept in the Pulumi state); the
// volumes it ran on stay on their server and are listed in retainedData.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { tenantVolumes } from "../../core/retainedData";
import { endSharedConnections, engineFor } from "../shared/dockerCli";
import { STACK_FLAGS, StackArgs, UsageError, parseToolArgs } from "../shared/args";
import { REPO, loadPlan } from "../shared/load";
import { rosterTextAfter, tenantFileName } from "../shared/tenantData";
import { SnapshotChoice, formatAge, freshDataLabel, snapshotAgeMs } from "./decide";
import { RestoreError, restoreTenant } from "./restore";

const RestoreArgs = StackArgs.extend({ tenant: z.string(), snapshot: SnapshotChoice.default("latest"), server: z.string().optional() });

async function main(): Promise<number> {
  let args: z.output<typeof RestoreArgs>;
  try {
    args = parseToolArgs(process.argv.slice(2), {
      flags: { ...STACK_FLAGS, tenant: { type: "string" }, snapshot: { type: "string" }, server: { type: "string" } },
      schema: RestoreArgs,
    }).values;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`restore: ${err.message}\nusage: npm run restore -- --tenant T [--snapshot ID|latest] [--server S] [--stack NAME] [--roster DIR]`);
    return 2;
  }
  const checked = loadPlan("restore", args);
  if ("error" in checked) {
    if (checked.error !== "") console.error(checked.error);
    return 1;
  }
  const { plan } = checked;
  const t = plan.tenants.find((x) => x.name === args.tenant);
  if (t === undefined) return fail(`tenant ${args.tenant} is not in the roster; nothing was changed`);
  const to = plan.servers.find((s) => s.name === (args.server ?? t.server));
  if (to === undefined) return fail(`--server: server ${args.server ?? ""} is not in the stack's servers (${plan.servers.map((s) => s.name).join(", ")}); nothing was changed`);
  const rosterDir = path.resolve(REPO, args.roster ?? checked.config.rosterDir);
  const named = tenantFileName(fs.readdirSync(rosterDir), t.name);
  if ("refused" in named) return fail(named.refused);
  const file = path.join(rosterDir, named.file);
  const label = freshDataLabel(new Date(), t.data);
  const stack = args.stack.split("/").pop() ?? args.stack;

  const wrappers = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-restore-"));
  const engine = engineFor(to, wrappers);
  try {
    const result = await restoreTenant({ tenant: t, stack, snapshot: args.snapshot, label, to: engine, log: (line) => console.log(line) });
    fs.writeFileSync(file, rosterTextAfter(fs.readFileSync(file, "utf8"), plan, t.name, to.name, label));
    const age = snapshotAgeMs(result.snapshot, new Date());
    console.log(`restored ${t.name} on ${to.name} from snapshot ${result.snapshot.id.slice(0, 8)} taken ${result.snapshot.time} (${formatAge(age)} ago: what changed since is not in it)`);
    console.log(`  into ${result.volumes.join(", ")}: ${result.files} files, ${result.bytes} bytes, ${result.paths} paths compared with the snapshot (${result.ms.total} ms)`);
    console.log(`  kept, never overwritten: ${tenantVolumes(t.name, t.data).join(", ")} on ${t.server} (listed in retainedData after pulumi up)`);
    console.log(`  its gateway token is unchanged: it lives in the Pulumi state, not in the data`);
    console.log(`${path.relative(process.cwd(), file)} now says server: ${to.name} and data: ${label}. Commit it and run:`);
    console.log(`  pulumi up --stack ${args.stack}`);
    return 0;
  } catch (err) {
    return fail(err instanceof RestoreError ? err.message : `unexpected: ${String(err)}`);
  } finally {
    endSharedConnections([engine]);
    fs.rmSync(wrappers, { recursive: true, force: true });
  }
}

function fail(message: string): number {
  console.error(`restore: ${message}`);
  return 1;
}

main().then((code) => process.exit(code));
