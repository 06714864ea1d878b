// npm run move, before any engine is touched: the refusals (the copy itself is the three-server integration suite's).
import * as fs from "fs";
import * as path from "path";
import { runTsScript } from "../../../support/cli";
import { REPO_ROOT } from "../../../support/program";
import { outsideTempDir, writeRoster } from "../../../support/roster";
import { THREE_SERVERS, serversStack, throwawayStacks } from "../support/stackFiles";

const writeStack = throwawayStacks("test-move");
const stackFile = (servers: string): string => writeStack(serversStack(servers));
const THREE = THREE_SERVERS;

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
