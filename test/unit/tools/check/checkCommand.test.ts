import * as fs from "fs";
import * as path from "path";
import { ScriptRun, runTsScript } from "../../../support/cli";
import { REPO_ROOT } from "../../../support/program";
import { outsideTempDir, writeRoster } from "../../../support/roster";
import { throwawayStacks } from "../support/stackFiles";

function check(...args: string[]): ScriptRun {
  return runTsScript(path.join(REPO_ROOT, "tools", "check", "main.ts"), args);
}

describe("npm run check", () => {
  test("prints the sample roster's table with totals and exits 0", () => {
    const { status, stdout } = check();
    expect(status).toBe(0);
    expect(stdout).toMatch(/TENANT\s+URL\s+PORT\s+TIER\s+STATE\s+MEMORY\s+CPUS/);
    expect(stdout).toMatch(/alice\s+https:\/\/alice\.claw\.localhost:8443\s+18879\s+standard\s+active\s+2048 MB\s+1\.0/);
    expect(stdout).toMatch(/carol\s+.*heavy\s+suspended\s+4096 MB\s+2\.0/);
    expect(stdout).toMatch(/TOTAL 3\s+2 active\s+3584 MB\s+1\.5/);
    // The sample stack has no backup block: said plainly.
    expect(stdout).toContain("backups: NONE. This stack has no backup block, so its tenants have no backups");
  });

  test("checks the prod stack file too", () => {
    const { status, stdout } = check("--stack", "prod");
    expect(status).toBe(0);
    expect(stdout).toContain("https://alice.claw.example.com");
  });

  test("a bad roster exits 1 and names every tenant and field at fault", () => {
    const dir = writeRoster([
      { name: "alice", tier: "huge" as never },
      { name: "bob", port: 18879 },
      { name: "carol", port: 18879 },
      { name: "admin" },
    ]);
    const { status, stderr } = check("--roster", dir);
    expect(status).toBe(1);
    expect(stderr).toContain('tenant "alice", field tier: must be one of light, standard, heavy');
    expect(stderr).toContain('tenant "bob", field port: 18879 is pinned by more than one tenant: bob, carol');
    expect(stderr).toContain('tenant "carol", field port');
    expect(stderr).toContain('tenant "admin", field name: is a reserved name');
  });
});

describe("npm run check on hostile input: the same problems as the core, no stack trace", () => {
  const stackFile = throwawayStacks("test-input");
  const base = [
    "config:",
    "  openclaw-hosting:domain: claw.example.com",
    "  openclaw-hosting:image: ghcr.io/openclaw/openclaw:2026.8.1-r20260820",
  ];

  function expectRefusal(run: ScriptRun, line: string): void {
    expect(run.stderr).toContain(line);
    expect(run.status).toBe(1);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  }

  test.each([
    [
      "a plaintext API key",
      [...base, "  openclaw-hosting:caddy:", "    acmeEmail: ops@example.com", "  openclaw-hosting:apiKeys:", "    alice: plain-key", "    bob: {secure: v1:AAAA}"],
      "config apiKeys.alice: is stored in plaintext, readable by anyone with the stack file; remove it and set it as a secret: pulumi config set --secret --path 'apiKeys.alice' (no value on the command line: pulumi asks for it, or reads it from standard input, e.g. `< key.txt`)",
    ],
    [
      "a plaintext Cloudflare token",
      [...base, "  openclaw-hosting:caddy:", "    acmeEmail: ops@example.com", "  cloudflare:apiToken: plain-token"],
      "config cloudflare:apiToken: is stored in plaintext",
    ],
    ["duplicate keys", [...base, "  openclaw-hosting:domain: evil.example.com"], 'config (stack file): Pulumi.NAME.yaml has the key "openclaw-hosting:domain" twice'],
    ["an alias bomb", ["config:", "  a: &a [x, x, x, x]", "  b: &b [*a, *a, *a, *a]", "  openclaw-hosting:domain: *b"], "uses a YAML alias"],
    ["a NaN CPU share", [...base, "  openclaw-hosting:caddy:", "    acmeEmail: ops@example.com", "  openclaw-hosting:tiers:", "    light:", "      cpus: .nan"], "config tiers.light.cpus: must be a number, but it is NaN (not a number)"],
    ["a newline in a Caddy path", [...base, "  openclaw-hosting:caddy:", "    acmeEmail: ops@example.com", '    storageDir: "/srv/caddy\\n}\\nevil.example.com {"'], "config caddy.storageDir: must be an absolute path"],
    ["a rosterDir outside the project", [...base, "  openclaw-hosting:caddy:", "    acmeEmail: ops@example.com", "  openclaw-hosting:rosterDir: ../../etc"], "config rosterDir: must not contain .."],
  ])("%s", (_label, lines, line) => {
    const name = stackFile(lines.join("\n") + "\n");
    expectRefusal(check("--stack", name), line.replace("NAME", name));
  });

  test("a roster folder with a mis-cased extension, a folder and a dangling link", () => {
    const dir = writeRoster([{ name: "alice" }], outsideTempDir());
    fs.writeFileSync(path.join(dir, "bob.YAML"), "tier: light\n");
    fs.mkdirSync(path.join(dir, "carol.yaml"));
    fs.symlinkSync(path.join(dir, "gone.yaml"), path.join(dir, "dave.yaml"));
    fs.writeFileSync(path.join(dir, "README.md"), "# ignored\n");
    const run = check("--roster", dir);
    expectRefusal(run, 'tenant "bob", field (file): bob.YAML: a tenant file must end in lowercase .yaml or .yml');
    expect(run.stderr).toContain('tenant "carol", field (file): carol.yaml is a folder');
    expect(run.stderr).toContain('tenant "dave", field (file): dave.yaml is a symbolic link');
    expect(run.stderr).not.toContain("README");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("a tenant file with a loader variable and a control character", () => {
    const dir = writeRoster([{ name: "alice", extra: 'env:\n  LD_PRELOAD: /tmp/x.so\n  OPENCLAW_TZ: "a\\u0000b"' }], outsideTempDir());
    const run = check("--roster", dir);
    expectRefusal(run, 'tenant "alice", field env.LD_PRELOAD: changes how programs are loaded');
    expect(run.stderr).toContain('tenant "alice", field env.OPENCLAW_TZ: contains a control character');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
