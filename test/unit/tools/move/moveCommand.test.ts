// npm run move, before any engine is touched: the refusals (the copy itself is the three-server integration suite's).
import * as fs from "fs";
import * as path from "path";
import { runTsScript } from "../../../support/cli";
import { REPO_ROOT } from "../../../support/program";
import { outsideTempDir, writeRoster } from "../../../support/roster";

const stacks: string[] = [];
function stackFile(servers: string): string {
  const name = `test-move-${process.pid}-${stacks.length}`;
  fs.writeFileSync(path.join(REPO_ROOT, `Pulumi.${name}.yaml`), [
    "config:",
    "  openclaw-hosting:domain: claw.example.com",
    "  openclaw-hosting:image: ghcr.io/openclaw/openclaw:2026.8.1-r20260820",
    "  openclaw-hosting:caddy: {acmeEmail: ops@example.com}",
    servers,
  ].join("\n") + "\n");
  stacks.push(name);
  return name;
}
afterAll(() => {
  for (const name of stacks) fs.rmSync(path.join(REPO_ROOT, `Pulumi.${name}.yaml`), { force: true });
});
const THREE = "  openclaw-hosting:servers: {a: {local: true, memoryMb: 8192, cpus: 4}, b: {ssh: {host: b.example.net, user: deploy}, memoryMb: 8192, cpus: 4}, c: {ssh: {host: c.example.net, user: deploy}, memoryMb: 16384, cpus: 8}}";

describe("npm run move refuses before touching any engine", () => {
  const move = (...args: string[]) => runTsScript(path.join(REPO_ROOT, "tools", "move", "main.ts"), args);
  test("an unknown server, the tenant's own server, an unknown tenant, and a missing --to", () => {
    const dir = writeRoster([{ name: "alice", extra: "server: a" }], outsideTempDir());
    const stack = stackFile(THREE);
    const unknown = move("alice", "--to", "zz", "--stack", stack, "--roster", dir);
    expect([unknown.status, unknown.stderr.trim()]).toEqual([1, "move: server zz is not in the stack's servers (a, b, c)"]);
    const same = move("alice", "--to", "a", "--stack", stack, "--roster", dir);
    expect([same.status, same.stderr.trim()]).toEqual([1, "move: tenant alice is already on server a"]);
    const nobody = move("bob", "--to", "b", "--stack", stack, "--roster", dir);
    expect([nobody.status, nobody.stderr.trim()]).toEqual([1, "move: tenant bob is not in the roster"]);
    expect(move("alice", "--stack", stack).status).toBe(2);
    expect(fs.readFileSync(path.join(dir, "alice.yaml"), "utf8")).toContain("server: a");
  });
});
