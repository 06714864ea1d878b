// npm run move with a tenant file named <tenant>.yml, through the whole command, with a stand-in
// `docker` on PATH that records each call (the copy itself is the three-server integration suite's).
// Before the fix the move stopped alice, copied her data, then failed to open alice.yaml: exit 1,
// alice left stopped. And it stopped her with a 30 s grace while the gateway drains for up to 330 s.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { STOP_GRACE_SECONDS } from "../../../../core/gateway";
import { STOP_FOR_MOVE, tenantFileName } from "../../../../tools/move/decide";
import { REPO_ROOT } from "../../../support/program";
import { outsideTempDir } from "../../../support/roster";
import { THREE_SERVERS, serversStack, throwawayStacks } from "../support/stackFiles";

const writeStack = throwawayStacks("test-move-yml");

// Answers as both engines would for a tenant running on a (plain volumes: no driver options),
// with nothing of hers on b yet.
const FAKE_DOCKER = `#!/bin/sh
printf '%s\\t%s\\n' "\${DOCKER_HOST:-local}" "$*" >> "$FAKE_DOCKER_LOG"
case "$*" in
  "container inspect -f {{.State.Running}} openclaw-alice") echo true ;;
  "volume inspect -f {{json .Options}} "*) echo null ;;
  "container inspect openclaw-alice"|"volume inspect "*) exit 1 ;;
  *" -c "*) echo "DIR ." ;;
  *" -xf -") cat >/dev/null ;;
esac
exit 0
`;

function runMove(rosterDir: string, stack: string, log: string, bin: string) {
  return spawnSync(process.execPath, [path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js"), "--transpile-only", path.join(REPO_ROOT, "tools", "move", "main.ts"),
    "alice", "--to", "b", "--stack", stack, "--roster", rosterDir], {
    cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, FAKE_DOCKER_LOG: log, DOCKER_HOST: "" },
  });
}

/** A roster folder holding alice.yml, and the stand-in docker. */
function scratch(): { dir: string; rosterDir: string; bin: string; log: string } {
  const dir = outsideTempDir("move-yml");
  const rosterDir = path.join(dir, "roster");
  const bin = path.join(dir, "bin");
  fs.mkdirSync(rosterDir);
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, "docker"), FAKE_DOCKER, { mode: 0o755 });
  fs.writeFileSync(path.join(rosterDir, "alice.yml"), "tier: light\nserver: a\nport: 18801\n");
  return { dir, rosterDir, bin, log: path.join(dir, "docker.log") };
}

describe("npm run move with a .yml tenant file", () => {
  test("moves the tenant and writes server: b into alice.yml; the stop uses the gateway's own grace", () => {
    const { dir, rosterDir, bin, log } = scratch();
    try {
      const r = runMove(rosterDir, writeStack(serversStack(THREE_SERVERS)), log, bin);
      const calls = fs.readFileSync(log, "utf8").trim().split("\n").map((l) => l.split("\t")[1]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(fs.readFileSync(path.join(rosterDir, "alice.yml"), "utf8")).toBe("tier: light\nserver: b\nport: 18801\n");
      expect(fs.existsSync(path.join(rosterDir, "alice.yaml"))).toBe(false);
      expect(r.stdout).toContain("alice.yml now says server: b");
      expect(calls).toContain(`stop -t ${STOP_GRACE_SECONDS} openclaw-alice`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a tenant with no file, or two, is refused before any engine is asked", () => {
    const { dir, rosterDir, bin, log } = scratch();
    try {
      expect(tenantFileName(["alice.yml", "bob.yaml"], "alice")).toEqual({ file: "alice.yml" });
      expect(tenantFileName(["alice.yaml", "alice.yml"], "alice")).toEqual({ refused: "tenant alice has two roster files (alice.yaml, alice.yml); keep one; nothing was changed" });
      expect(tenantFileName(["bob.yaml"], "alice")).toEqual({ refused: "tenant alice has no roster file (alice.yaml or alice.yml) in the roster folder; nothing was changed" });
      // Both names in the folder: the roster check itself refuses (one tenant, two files); no engine asked.
      fs.writeFileSync(path.join(rosterDir, "alice.yaml"), "tier: light\nserver: a\nport: 18801\n");
      const r = runMove(rosterDir, writeStack(serversStack(THREE_SERVERS)), log, bin);
      expect(r.status).toBe(1);
      expect(fs.existsSync(log)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the stop waits as long as the gateway drains, and the CLI call outlasts it", () => {
    expect(STOP_FOR_MOVE.args("openclaw-alice")).toEqual(["stop", "-t", "330", "openclaw-alice"]);
    expect(STOP_FOR_MOVE.timeoutMs).toBeGreaterThan(STOP_GRACE_SECONDS * 1000);
  });
});
