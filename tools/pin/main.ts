// npm run pin [-- --stack dev] [-- --roster DIR] (alias: npm run pin-ports): writes every tenant's
// current port, and with several servers its server, into its roster file, so that no later edit
// (a new tenant, a new server) can move anyone. Comments and field order are kept.
import * as fs from "fs";
import * as path from "path";
import { formatProblem } from "../../core/problems";
import { ROSTER_FILE } from "../../core/roster";
import { STACK_FLAGS, StackArgs, parseToolArgs } from "../shared/args";
import { Loaded, NoStackFile, REPO, loadStack, problemsWithoutKeys } from "../shared/load";
import { pinSummary, pinText } from "./pins";

function main(): number {
  // Unknown arguments are ignored, as they always were.
  const args = parseToolArgs(process.argv.slice(2), { flags: STACK_FLAGS, schema: StackArgs, lenient: true }).values;
  const override = args.roster;
  let checked: Loaded;
  try {
    checked = loadStack(args.stack, { roster: override !== undefined ? path.resolve(REPO, override) : undefined });
  } catch (err) {
    if (!(err instanceof NoStackFile)) throw err;
    console.error(`pin: ${err.message}`);
    return 1;
  }
  // Missing API keys do not matter for ports; anything else does.
  const problems = problemsWithoutKeys(checked);
  if (checked.plan === undefined || checked.config === undefined || problems.length > 0) {
    for (const p of problems) console.error(`  - ${formatProblem(p)}`);
    return 1;
  }
  const rosterDir = path.resolve(REPO, override ?? checked.config.rosterDir);
  const ports = new Map(checked.plan.tenants.map((t) => [t.name, t.port]));
  // A single-server stack has nowhere else to put a tenant: its files stay as they are.
  const servers = checked.config.servers !== undefined ? new Map(checked.plan.tenants.map((t) => [t.name, t.server])) : new Map<string, string>();
  let pinned = 0;
  for (const file of fs.readdirSync(rosterDir).filter((f) => ROSTER_FILE.test(f)).sort()) {
    const name = ROSTER_FILE.exec(file)?.[1] ?? "";
    const full = path.join(rosterDir, file);
    const { text, written } = pinText(fs.readFileSync(full, "utf8"), { server: servers.get(name), port: ports.get(name) });
    if (written.length === 0) continue;
    fs.writeFileSync(full, text);
    console.log(`pinned ${name} to ${written.join(", ")}`);
    pinned++;
  }
  console.log(pinSummary(pinned, path.relative(process.cwd(), rosterDir), servers.size > 0));
  return 0;
}

process.exit(main());
