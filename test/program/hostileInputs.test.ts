// The program under Pulumi's mock engine refuses hostile input with the same problems as
// `npm run check`, before registering anything.
import * as fs from "fs";
import * as path from "path";
import { ProgramFailure, PROJECT, REPO_ROOT, baseConfig, fakeKey, runProgram } from "../support/program";
import { runTsScript } from "../support/cli";
import { writeRoster } from "../support/roster";

const sampleRoster = path.join(REPO_ROOT, "tenants");
const apiKeys = { alice: fakeKey("alice"), bob: fakeKey("bob") };

async function refusal(config: Record<string, unknown>, secretKeys?: string[]): Promise<ProgramFailure> {
  const failure = await runProgram(config, {}, secretKeys).then(() => undefined, (err: unknown) => err);
  expect(failure).toBeInstanceOf(ProgramFailure);
  expect((failure as ProgramFailure).registered).toEqual([]);
  return failure as ProgramFailure;
}

describe("the program refuses hostile input before registering anything", () => {
  test("a plaintext API key says how to set it as a secret", async () => {
    const failure = await refusal(baseConfig(sampleRoster, { apiKeys }), []);
    expect(failure.message).toContain("config apiKeys.alice: is stored in plaintext, readable by anyone with the stack file; remove it and set it as a secret: pulumi config set --secret --path 'apiKeys.alice' (no value on the command line: pulumi asks for it, or reads it from standard input, e.g. `< key.txt`)");
    expect(failure.message).toContain("config apiKeys.bob: is stored in plaintext");
    expect(failure.message).not.toContain(fakeKey("alice"));
  });

  test("a plaintext Cloudflare token", async () => {
    const config = baseConfig(sampleRoster, { apiKeys, "cloudflare:apiToken": "plain-token" });
    const failure = await refusal(config, [`${PROJECT}:apiKeys`]);
    expect(failure.message).toContain("config cloudflare:apiToken: is stored in plaintext");
    expect(failure.message).not.toContain("plain-token");
  });

  test("the same keys set as secrets pass", async () => {
    const run = await runProgram(baseConfig(sampleRoster, { apiKeys, "cloudflare:apiToken": "t" }), {}, [`${PROJECT}:apiKeys`, "cloudflare:apiToken"]);
    expect(run.resources.length).toBeGreaterThan(0);
  });

  test("a newline in a Caddy path", async () => {
    const failure = await refusal(baseConfig(sampleRoster, { apiKeys, caddy: { acmeEmail: "ops@example.com", storageDir: "/srv\n}\nevil.example.com {" } }));
    expect(failure.message).toContain("config caddy.storageDir: must be an absolute path");
  });

  test("a rosterDir outside the project", async () => {
    const failure = await refusal({ ...baseConfig(sampleRoster, { apiKeys }), rosterDir: "/etc" });
    expect(failure.message).toContain("config rosterDir: must be relative to the project");
  });

  test("a tenant file that is a symbolic link, a mis-cased extension and a loader variable", async () => {
    const dir = writeRoster([{ name: "alice", extra: "env:\n  LD_PRELOAD: /tmp/x.so" }]);
    fs.symlinkSync(path.join(REPO_ROOT, "package.json"), path.join(dir, "bob.yaml"));
    fs.writeFileSync(path.join(dir, "carol.YML"), "tier: light\n");
    const failure = await refusal(baseConfig(dir, { apiKeys }));
    expect(failure.message).toContain('tenant "alice", field env.LD_PRELOAD: changes how programs are loaded');
    expect(failure.message).toContain('tenant "bob", field (file): bob.yaml is a symbolic link');
    expect(failure.message).toContain('tenant "carol", field (file): carol.YML: a tenant file must end in lowercase');
  });

  test("a tenant pinned on Caddy's admin port", async () => {
    const dir = writeRoster([{ name: "alice", port: 18810 }]);
    const failure = await refusal(baseConfig(dir, { apiKeys, caddy: { acmeEmail: "ops@example.com", adminAddress: "localhost:18810" } }));
    expect(failure.message).toContain("tenant \"alice\", field port: 18810 is Caddy's adminAddress port (caddy.adminAddress)");
  });
});

describe("npm run check and the program list the same problems", () => {
  test("one hostile roster, through both", async () => {
    const dir = writeRoster([
      { name: "alice", extra: 'env:\n  LD_PRELOAD: /tmp/x.so\n  OPENCLAW_TZ: "a\\nb"' },
      { name: "erin", port: 18810, state: "suspended" },
      { name: "bob", extra: "image: ghcr.io/openclaw/openclaw@sha256:0123" },
    ]);
    fs.symlinkSync(path.join(REPO_ROOT, "package.json"), path.join(dir, "carol.yaml"));
    fs.writeFileSync(path.join(dir, "dave.Yaml"), "tier: light\n");
    const caddy = { acmeEmail: "ops@example.com", adminAddress: "localhost:18810" };

    const failure = await refusal(baseConfig(dir, { apiKeys, caddy }));
    const fromProgram = failure.message.split("\n").filter((l) => l.startsWith("  - ")).sort();

    const stack = `test-input-same-${process.pid}`;
    const stackFile = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(
      stackFile,
      [
        "config:",
        "  openclaw-hosting:domain: claw.example.com",
        "  openclaw-hosting:image: ghcr.io/openclaw/openclaw:2026.8.1-r20260820",
        "  openclaw-hosting:caddy:",
        "    acmeEmail: ops@example.com",
        "    adminAddress: localhost:18810",
        "  openclaw-hosting:apiKeys:",
        "    alice: {secure: v1:AAAA}",
        "    bob: {secure: v1:BBBB}",
        "",
      ].join("\n"),
    );
    try {
      const run = runTsScript(path.join(REPO_ROOT, "tools", "check", "main.ts"), ["--stack", stack, "--roster", dir]);
      expect(run.status).toBe(1);
      const fromCheck = run.stderr.split("\n").filter((l) => l.startsWith("  - ")).sort();
      expect(fromCheck.length).toBeGreaterThanOrEqual(6);
      expect(fromCheck).toEqual(fromProgram);
    } finally {
      fs.rmSync(stackFile, { force: true });
    }
  });
});
