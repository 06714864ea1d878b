// npm run pin [-- --stack dev] [-- --roster DIR] (alias: npm run pin-ports): writes every tenant's
// current port, and with several servers its server, into its roster file, so that no later edit
// (a new tenant, a new server) can move anyone. Comments and field order are kept.
import * as fs from "fs";
import * as path from "path";
import { parseDocument } from "yaml";
import { checkHosting } from "../../core/check";
import { readRoster, readRosterFolder } from "../../core/load";
import { formatProblem } from "../../core/problems";
import { ROSTER_FILE } from "../../core/roster";
import { readStackFile } from "../shared/stackFile";

const REPO = path.resolve(__dirname, "..", "..");
const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

function main(): number {
  const stack = option("stack") ?? "dev";
  const stackFile = `Pulumi.${stack}.yaml`;
  const { raw, problems: fileProblems } = readStackFile(fs.readFileSync(path.join(REPO, stackFile), "utf8"), stackFile);
  const override = option("roster");
  const checked = checkHosting(raw, (dir) => (override !== undefined ? readRosterFolder(path.resolve(REPO, override)) : readRoster(REPO, dir)));
  // Missing API keys do not matter for ports; anything else does.
  const problems = [...fileProblems, ...checked.problems.filter((p) => p.field !== "apiKeys")];
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
    const doc = parseDocument(fs.readFileSync(full, "utf8"));
    const port = ports.get(name);
    const server = servers.get(name);
    const written: string[] = [];
    if (server !== undefined && doc.get("server") === undefined) {
      doc.set("server", server);
      written.push(`server ${server}`);
    }
    if (port !== undefined && doc.get("port") === undefined) {
      doc.set("port", port);
      written.push(`port ${port}`);
    }
    if (written.length === 0) continue;
    fs.writeFileSync(full, doc.toString());
    console.log(`pinned ${name} to ${written.join(", ")}`);
    pinned++;
  }
  const what = servers.size > 0 ? "a fixed server and port" : "a fixed port";
  console.log(`${pinned} tenant(s) pinned; every tenant in ${path.relative(process.cwd(), rosterDir) || "."} now has ${what}`);
  return 0;
}

process.exit(main());
