// npm run pin: every tenant's server and port written into its file, so later roster edits move nobody.
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { runTsScript } from "../../../support/cli";
import { REPO_ROOT } from "../../../support/program";
import { outsideTempDir, writeRoster } from "../../../support/roster";
import { THREE_SERVERS, serversStack, throwawayStacks } from "../support/stackFiles";

const writeStack = throwawayStacks("test-pin");
const stackFile = (servers: string): string => writeStack(serversStack(servers));
const THREE = THREE_SERVERS;
const FOUR = THREE.replace("}}", "}, d: {ssh: {host: d.example.net, user: deploy}, memoryMb: 65536, cpus: 32}}");
const read = (dir: string) => Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f.replace(/\.yaml$/, ""), parse(fs.readFileSync(path.join(dir, f), "utf8")) as Record<string, unknown>]));
const table = (stdout: string) => stdout.split("\n").filter((l) => /^tenant\d/.test(l)).map((l) => l.split(/\s+/)).map((c) => `${c[0]} ${c[2]} ${c[8]}`);

describe("npm run pin with several servers", () => {
  test("writes each tenant's server and port, keeps what was there, and afterwards a new server moves nobody", () => {
    const dir = writeRoster(Array.from({ length: 12 }, (_, i) => ({ name: `tenant${i}`, extra: i === 0 ? "server: b\n# keep me" : undefined })), outsideTempDir());
    const three = stackFile(THREE);
    const before = runTsScript(path.join(REPO_ROOT, "tools", "check", "main.ts"), ["--stack", three, "--roster", dir]);
    expect(before.status).toBe(0);
    expect(table(before.stdout).every((row) => / [abc]$/.test(row))).toBe(true);
    const four = stackFile(FOUR);
    // Without pins, the same bigger server would take some tenants: the property pin protects.
    expect(table(runTsScript(path.join(REPO_ROOT, "tools", "check", "main.ts"), ["--stack", four, "--roster", dir]).stdout)).not.toEqual(table(before.stdout));
    const pin = runTsScript(path.join(REPO_ROOT, "tools", "pin", "main.ts"), ["--stack", three, "--roster", dir]);
    expect(pin.status).toBe(0);
    expect(pin.stdout).toContain("12 tenant(s) pinned; every tenant in");
    const files = read(dir);
    for (const [name, doc] of Object.entries(files)) expect(`${name} ${typeof doc.server} ${typeof doc.port} ${typeof doc.uid}`).toBe(`${name} string number number`);
    expect(new Set(Object.values(files).map((doc) => doc.uid)).size).toBe(12); // each its own
    expect(files.tenant0.server).toBe("b");
    expect(fs.readFileSync(path.join(dir, "tenant0.yaml"), "utf8")).toContain("# keep me");
    const after = runTsScript(path.join(REPO_ROOT, "tools", "check", "main.ts"), ["--stack", three, "--roster", dir]);
    expect(table(after.stdout)).toEqual(table(before.stdout));
    expect(table(after.stdout).length).toBe(12);
    // A fourth, much bigger server would attract unpinned tenants; pinned ones stay.
    const pinnedFour = runTsScript(path.join(REPO_ROOT, "tools", "check", "main.ts"), ["--stack", four, "--roster", dir]);
    expect(pinnedFour.status).toBe(0);
    expect(table(pinnedFour.stdout)).toEqual(table(before.stdout));
  });
});
