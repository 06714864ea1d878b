// npm run pin [-- --stack dev] [-- --roster DIR] (alias: npm run pin-ports): writes every tenant's
// current port and uid, and with several servers its server, into its roster file, so that no later
// edit (a new tenant, a new server) can move anyone or change whose files are whose. Comments and
// field order are kept. The uid written is the plan's; a deployed tenant runs as the uid in the
// stack's outputs (`tenants.<name>.uid`), the same unless a hash collision placed it elsewhere: pin
// that one by hand if they differ (a pinned other uid is safe too: the next update re-owns its files).
import * as fs from "fs";
import * as path from "path";
import { ROSTER_FILE } from "../../core/roster";
import { STACK_FLAGS, StackArgs, parseToolArgs } from "../shared/args";
import { REPO, loadPlan } from "../shared/load";
import { pinSummary, pinText } from "./pins";

function main(): number {
  // Unknown arguments are ignored, as they always were.
  const args = parseToolArgs(process.argv.slice(2), { flags: STACK_FLAGS, schema: StackArgs, lenient: true }).values;
  const override = args.roster;
  const checked = loadPlan("pin", args);
  if ("error" in checked) {
    // Missing API keys do not matter for ports; anything else does.
    if (checked.error !== "") console.error(checked.error);
    return 1;
  }
  const rosterDir = path.resolve(REPO, override ?? checked.config.rosterDir);
  const ports = new Map(checked.plan.tenants.map((t) => [t.name, t.port]));
  const uids = new Map(checked.plan.tenants.map((t) => [t.name, t.uid]));
  // A single-server stack has nowhere else to put a tenant: its files stay as they are.
  const servers = checked.config.servers !== undefined ? new Map(checked.plan.tenants.map((t) => [t.name, t.server])) : new Map<string, string>();
  let pinned = 0;
  for (const file of fs.readdirSync(rosterDir).filter((f) => ROSTER_FILE.test(f)).sort()) {
    const name = ROSTER_FILE.exec(file)?.[1] ?? "";
    const full = path.join(rosterDir, file);
    const { text, written } = pinText(fs.readFileSync(full, "utf8"), { server: servers.get(name), port: ports.get(name), uid: uids.get(name) });
    if (written.length === 0) continue;
    fs.writeFileSync(full, text);
    console.log(`pinned ${name} to ${written.join(", ")}`);
    pinned++;
  }
  console.log(pinSummary(pinned, path.relative(process.cwd(), rosterDir), servers.size > 0));
  return 0;
}

process.exit(main());
