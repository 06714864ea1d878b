// `npm start` itself, up to where it stops without touching this machine: options and the
// offline check of the stack file and roster.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { runTsScript } from "../../../support/cli";
import { REPO_ROOT } from "../../../support/program";
import { outsideTempDir, writeRoster } from "../../../support/roster";
import { serversStack, throwawayStacks } from "../support/stackFiles";

describe("npm start (no engine needed)", () => {
  it("--help prints the options and exits 0", () => {
    const r = runTsScript("tools/launcher/main.ts", ["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("usage: npm start [-- options]");
    expect(r.stdout).toContain("--stack NAME");
  });

  it("a bad option exits 64 with the usage", () => {
    const r = runTsScript("tools/launcher/main.ts", ["--stack", "prod", "--force"]);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain("npm start: unknown option --force");
  });

  it("a stack without a stack file says how to make one", () => {
    const r = runTsScript("tools/launcher/main.ts", ["--stack", "staging"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Pulumi.staging.yaml");
    expect(r.stderr).toContain("fix: copy Pulumi.prod.yaml to Pulumi.staging.yaml");
  });

  it("prod without its tenants' keys stops before anything changes, naming each tenant (no placeholders outside dev)", () => {
    const r = runTsScript("tools/launcher/main.ts", ["--stack", "prod"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("npm start: stack prod: up, preview only (add --yes to apply)");
    expect(r.stderr).toContain("npm start: 2 problem(s) in Pulumi.prod.yaml or the roster; nothing was changed:");
    expect(r.stderr).toContain(`tenant "alice", field apiKeys: is active but has no API key`);
    expect(r.stderr).toContain(`tenant "bob", field apiKeys: is active but has no API key`);
    expect(r.stdout).not.toContain("Checking prerequisites");
  });
});

describe("npm start on a servers map whose servers are all remote", () => {
  const writeStack = throwawayStacks("test-remote-only");
  it("checks no local engine, Caddy or port (a dead local DOCKER_HOST does not matter) and starts no local Caddy", () => {
    const dir = writeRoster([{ name: "alice", extra: "server: b" }, { name: "bob", extra: "server: c" }]);
    const stack = writeStack(serversStack(
      "  openclaw-hosting:servers: {b: {ssh: {host: b.example.net, user: deploy}, memoryMb: 8192, cpus: 4}, c: {ssh: {host: c.example.net, user: deploy}, memoryMb: 8192, cpus: 4}}\n" +
      `  openclaw-hosting:rosterDir: ${path.relative(REPO_ROOT, dir)}\n` +
      "  openclaw-hosting:apiKeys:\n    alice:\n      secure: v1:AAAA\n    bob:\n      secure: v1:AAAA",
    ));
    const home = outsideTempDir("remote-only-home");
    try {
      const r = spawnSync(process.execPath, [path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js"), "--transpile-only", "tools/launcher/main.ts", "--stack", stack, "--preview"], {
        cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000,
        env: {
          PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: home, LANG: "C.UTF-8", DOCKER_HOST: "unix:///nonexistent/docker.sock",
          // Past the checks it wants a Pulumi CLI: the download is stubbed offline, so it stops there.
          NODE_OPTIONS: `--require ${path.join(REPO_ROOT, "test", "integration", "launcher", "offline-fetch.js")}`,
        },
      });
      expect(r.stdout).toContain("  ok Server: the stack runs on ssh://deploy@b.example.net:22");
      expect(r.stdout).toContain("  ok Server: the stack runs on ssh://deploy@c.example.net:22");
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/  (ok|x) (Docker engine|Caddy|Ports|Image):/);
      expect(r.stdout).toContain("Pulumi: no pulumi on PATH");
      expect(r.stdout).not.toContain("started Caddy");
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
