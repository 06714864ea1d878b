// npm run move -- TENANT --to SERVER [--stack dev] [--roster DIR]: moves a tenant to another server
// as one explicit act. It stops the tenant's container, copies its volumes to the new server and
// compares every file's byte count, SHA-256 and numeric owner, and only then writes `server: SERVER` into the
// tenant's file. `pulumi up` then starts the tenant there (on the copied volumes) and switches its
// DNS record once it is healthy; the old server's volumes stay and are listed in retainedData.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { STACK_FLAGS, StackArgs, parseToolArgs } from "../shared/args";
import { REPO, loadPlan } from "../shared/load";
import { chooseMove, rosterTextAfterMove, tenantFileName } from "./decide";
import { MoveError, endSharedConnections, engineFor, moveTenantData } from "./transfer";

const MoveArgs = StackArgs.extend({ to: z.string().optional() });

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const tenant = argv[0];
  // TENANT comes first; unknown arguments after it are ignored, as they always were.
  const args = parseToolArgs(argv.slice(1), { flags: { ...STACK_FLAGS, to: { type: "string" } }, schema: MoveArgs, lenient: true }).values;
  const target = args.to;
  if (tenant === undefined || tenant.startsWith("--") || target === undefined) {
    console.error("usage: npm run move -- TENANT --to SERVER [--stack NAME] [--roster DIR]");
    return 2;
  }
  const override = args.roster;
  const checked = loadPlan("move", args);
  if ("error" in checked) {
    if (checked.error !== "") console.error(checked.error);
    return 1;
  }
  const plan = checked.plan;
  const choice = chooseMove(plan, tenant, target);
  if ("refused" in choice) return fail(choice.refused);
  const { tenant: t, from, to } = choice;
  const rosterDir = path.resolve(REPO, override ?? checked.config.rosterDir);
  const named = tenantFileName(fs.readdirSync(rosterDir), tenant);
  if ("refused" in named) return fail(named.refused);
  const file = path.join(rosterDir, named.file);

  const wrappers = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-move-"));
  const engines = [engineFor(from, wrappers), engineFor(to, wrappers)];
  try {
    const result = await moveTenantData(t, t.image, engines[0], engines[1], (line) => console.log(line));
    fs.writeFileSync(file, rosterTextAfterMove(fs.readFileSync(file, "utf8"), plan, to.name));
    console.log(`moved ${tenant}'s data from ${from.name} to ${to.name}: ${result.files} files, ${result.bytes} bytes, every byte count, SHA-256 and owner equal (${result.ms} ms)`);
    console.log(`${path.relative(process.cwd(), file)} now says server: ${to.name}. Commit it and run pulumi up now: ${tenant} is stopped until then.`);
    return 0;
  } catch (err) {
    return fail(err instanceof MoveError ? err.message : `unexpected: ${String(err)}`);
  } finally {
    endSharedConnections(engines);
    fs.rmSync(wrappers, { recursive: true, force: true });
  }
}

function fail(message: string): number {
  console.error(`move: ${message}`);
  return 1;
}

main().then((code) => process.exit(code));
