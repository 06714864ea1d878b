// npm run move -- TENANT --to SERVER [--stack dev] [--roster DIR]: moves a tenant to another server
// as one explicit act. It stops the tenant's container, copies its volumes to the new server and
// compares every file's byte count and SHA-256, and only then writes `server: SERVER` into the
// tenant's file. `pulumi up` then starts the tenant there (on the copied volumes) and switches its
// DNS record once it is healthy; the old server's volumes stay and are listed in retainedData.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseDocument } from "yaml";
import { checkHosting } from "../../core/check";
import { readRoster, readRosterFolder } from "../../core/load";
import { formatProblem } from "../../core/problems";
import { readStackFile } from "../shared/stackFile";
import { MoveError, engineFor, moveTenantData } from "./transfer";

const REPO = path.resolve(__dirname, "..", "..");
const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

async function main(): Promise<number> {
  const tenant = process.argv[2];
  const target = option("to");
  if (tenant === undefined || tenant.startsWith("--") || target === undefined) {
    console.error("usage: npm run move -- TENANT --to SERVER [--stack NAME] [--roster DIR]");
    return 2;
  }
  const stack = option("stack") ?? "dev";
  const stackFile = `Pulumi.${stack}.yaml`;
  const { raw, problems: fileProblems } = readStackFile(fs.readFileSync(path.join(REPO, stackFile), "utf8"), stackFile);
  const override = option("roster");
  const read = (dir: string) => (override !== undefined ? readRosterFolder(path.resolve(REPO, override)) : readRoster(REPO, dir));
  const checked = checkHosting(raw, read);
  const problems = [...fileProblems, ...checked.problems.filter((p) => p.field !== "apiKeys")];
  if (checked.plan === undefined || checked.config === undefined || problems.length > 0) {
    for (const p of problems) console.error(`  - ${formatProblem(p)}`);
    return 1;
  }
  const plan = checked.plan;
  const t = plan.tenants.find((x) => x.name === tenant);
  const from = plan.servers.find((s) => s.name === t?.server);
  const to = plan.servers.find((s) => s.name === target);
  if (t === undefined || from === undefined) return fail(`tenant ${tenant} is not in the roster`);
  if (to === undefined) return fail(`server ${target} is not in the stack's servers (${plan.servers.map((s) => s.name).join(", ")})`);
  if (to.name === from.name) return fail(`tenant ${tenant} is already on server ${to.name}`);

  const wrappers = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-move-"));
  try {
    const result = await moveTenantData(tenant, t.image, engineFor(from, wrappers), engineFor(to, wrappers), (line) => console.log(line));
    const rosterDir = path.resolve(REPO, override ?? checked.config.rosterDir);
    const file = path.join(rosterDir, `${tenant}.yaml`);
    const doc = parseDocument(fs.readFileSync(file, "utf8"));
    doc.set("server", to.name);
    // A port pinned on the old server may be taken on the new one: let the pool choose, then pin.
    if (doc.get("port") !== undefined && plan.tenants.some((x) => x.server === to.name && x.port === doc.get("port"))) doc.delete("port");
    fs.writeFileSync(file, doc.toString());
    console.log(`moved ${tenant}'s data from ${from.name} to ${to.name}: ${result.files} files, ${result.bytes} bytes, every byte count and SHA-256 equal (${result.ms} ms)`);
    console.log(`${path.relative(process.cwd(), file)} now says server: ${to.name}. Commit it and run pulumi up now: ${tenant} is stopped until then.`);
    return 0;
  } catch (err) {
    return fail(err instanceof MoveError ? err.message : `unexpected: ${String(err)}`);
  } finally {
    fs.rmSync(wrappers, { recursive: true, force: true });
  }
}

function fail(message: string): number {
  console.error(`move: ${message}`);
  return 1;
}

main().then((code) => process.exit(code));
