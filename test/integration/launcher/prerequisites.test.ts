// npm start's prerequisite checks against the real-runtime suite's engine and Caddy: what passes,
// what fails and what the user is told; then the launcher itself, as a user runs it, up to the
// point this machine allows (no Pulumi CLI can be downloaded here).
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import Docker from "dockerode";
import { checkCaddy, checkDocker, checkImage, checkPorts } from "../../../tools/launcher/prerequisites";
import { caddyAdminAnswers, probeCaddyVersion, probeDocker, probeImage, probePorts } from "../../../tools/launcher/probes";
import { Cleanup, freePort, makeTempDir, removeDir } from "../support/caddy";
import { DOCKER_SOCKET } from "../support/docker";
import { REPO, runLauncher } from "../support/launcher";

const ENGINE = `unix://${DOCKER_SOCKET}`;
const STANDIN = "openclaw-standin:test";
const LABEL = { "openclaw-hosting.test": "launcher" };

function listen(port: number, host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });
}

describe("npm start's prerequisite checks on the real engine and Caddy", () => {
  const cleanup = new Cleanup();
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir("launcher");
    cleanup.add("temp dir", () => removeDir(dir));
  });
  afterAll(() => cleanup.run());

  it("the engine answers: ok, naming where and which version", async () => {
    const { facts } = await probeDocker(ENGINE, "/nonexistent");
    const r = checkDocker(facts);
    expect(r.ok).toBe(true);
    expect(r.message).toMatch(new RegExp(`^Docker engine: answers at ${ENGINE} \\(Docker \\d+\\.\\d+`));
  });

  it.each([["unix:///nonexistent/docker.sock"], ["tcp://127.0.0.1:PORT"]])("a bogus DOCKER_HOST (%s): the named fix, quickly", async (template) => {
    const host = template.replace("PORT", String(await freePort()));
    const started = Date.now();
    const { facts } = await probeDocker(host, "/nonexistent");
    const r = checkDocker(facts);
    expect(r.ok).toBe(false);
    expect(r.fix).toBe(`DOCKER_HOST=${host} points at an engine that does not answer: start that engine, correct DOCKER_HOST, or unset it to use the local one`);
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it("the installed Caddy passes the version check; an old one does not", () => {
    const version = probeCaddyVersion();
    expect(version).toBeDefined();
    expect(checkCaddy({ versionText: version })).toMatchObject({ ok: true, message: expect.stringMatching(/^Caddy: v?2\.\d+\.\d+ \(>= 2\.7\)$/) });
    const fake = path.join(dir, "caddy-2.6");
    fs.writeFileSync(fake, "#!/bin/sh\necho 'v2.6.2 h1:mxmyrO2mlPanGDpnnB5Nj8YR7mGNnDMEqA4ZvdF15W8='\n", { mode: 0o755 });
    // An old Caddy is the machine's: --install never replaces it.
    expect(checkCaddy({ versionText: probeCaddyVersion(fake) })).toMatchObject({ ok: false, installable: false });
    expect(checkCaddy({ versionText: probeCaddyVersion(path.join(dir, "no-such-caddy")) }).message).toBe("Caddy: not installed (no `caddy` on PATH)");
  });

  it("a Caddy admin API is recognised (so its ports count as the stack's Caddy)", async () => {
    const admin = `127.0.0.1:${await freePort()}`;
    expect(await caddyAdminAnswers(admin)).toBe(false);
    const config = path.join(dir, "admin.Caddyfile");
    fs.writeFileSync(config, `{\n\tadmin ${admin}\n}\n`);
    const child = spawn("caddy", ["run", "--config", config, "--adapter", "caddyfile"], { stdio: "ignore", env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir } });
    cleanup.add("caddy", () => void child.kill());
    let answers = false;
    for (let i = 0; i < 100 && !answers; i++) {
      answers = await caddyAdminAnswers(admin);
      if (!answers) await new Promise((r) => setTimeout(r, 100));
    }
    expect(answers).toBe(true);
    child.kill();
  });

  it("a port someone holds is reported busy with its purpose; a tenant's own container's port is not", async () => {
    const taken = await freePort();
    const server = await listen(taken, "127.0.0.1");
    cleanup.add("listener", () => new Promise<void>((r) => server.close(() => r())));
    const docker = new Docker({ socketPath: DOCKER_SOCKET });
    const own = await freePort();
    const container = await docker.createContainer({
      name: "openclaw-launchertest", Image: STANDIN, Labels: LABEL,
      HostConfig: { PortBindings: { "18789/tcp": [{ HostIp: "127.0.0.1", HostPort: String(own) }] } },
      ExposedPorts: { "18789/tcp": {} },
    });
    cleanup.add("container", () => container.remove({ force: true }));
    await container.start();
    const free = await freePort();
    const facts = await probePorts([
      { port: taken, purpose: "tenant alice", host: "127.0.0.1", ownHolder: "openclaw-alice" },
      { port: own, purpose: "tenant launchertest", host: "127.0.0.1", ownHolder: "openclaw-launchertest" },
      { port: free, purpose: "Caddy https", host: "0.0.0.0" },
    ], docker);
    expect(facts).toEqual([
      { port: taken, purpose: "tenant alice", busy: true },
      { port: own, purpose: "tenant launchertest", busy: true, heldByOwn: "openclaw-launchertest" },
      { port: free, purpose: "Caddy https", busy: false },
    ]);
    const r = checkPorts(facts);
    expect(r.ok).toBe(false);
    expect(r.message).toBe(`Ports: in use by another program: ${taken} (tenant alice)`);
    expect(r.fix).toContain(`give alice another port`);
  });

  it("the image: present on the engine, or the registry's refusal (a loopback registry nobody serves)", async () => {
    const docker = new Docker({ socketPath: DOCKER_SOCKET });
    expect(checkImage(await probeImage(docker, STANDIN))).toMatchObject({ ok: true, message: `Image: ${STANDIN} is on the engine` });
    const ref = `127.0.0.1:${await freePort()}/openclaw/openclaw:2026.8.1-r20260820`;
    const r = checkImage(await probeImage(docker, ref, 15_000));
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(new RegExp(`^Image: ${ref.replace(/[.]/g, "\\.")} is not on the engine and cannot be pulled \\(.+\\)$`));
  });
});

describe("npm start as a user runs it", () => {
  const cleanup = new Cleanup();
  let home: string;
  beforeAll(() => {
    home = makeTempDir("launcher-home");
    cleanup.add("home", () => removeDir(home));
  });
  afterAll(() => cleanup.run());

  const baseEnv = (): NodeJS.ProcessEnv => ({
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", // no pulumi on it
    HOME: home,
    LANG: "C.UTF-8",
    OPENCLAW_TEST_STATE: "/nonexistent", // never start the shared engine from here
  });

  it("a bogus DOCKER_HOST: exit 1, the failure and its fix, nothing changed", () => {
    const r = runLauncher([], { ...baseEnv(), DOCKER_HOST: "unix:///nonexistent/docker.sock" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("npm start: 1 prerequisite(s) missing; nothing was changed:");
    expect(r.stderr).toContain("  x Docker engine: no answer at unix:///nonexistent/docker.sock");
    expect(r.stderr).toContain("    fix: DOCKER_HOST=unix:///nonexistent/docker.sock points at an engine that does not answer");
    expect(r.stdout).not.toContain("Pulumi:");
  });

  it("a bad option: exit 64 and the usage", () => {
    const r = runLauncher(["--stack"], baseEnv());
    expect(r.status).toBe(64);
    expect(r.stderr).toContain("npm start: --stack needs a name");
    expect(r.stderr).toContain("usage: npm start");
  });

  it("the dev stack on this engine: every check passes, then no CLI on PATH -> installing it, and an offline download fails clearly", async () => {
    const docker = new Docker({ socketPath: DOCKER_SOCKET });
    // The dev stack's image, stood in for by the local gateway image (tagging sends nothing anywhere).
    await docker.getImage(STANDIN).tag({ repo: "ghcr.io/openclaw/openclaw", tag: "2026.9.6-r20260923" });
    cleanup.add("tag", () => docker.getImage("ghcr.io/openclaw/openclaw:2026.9.6-r20260923").remove());
    const stateBefore = fs.existsSync(path.join(REPO, ".pulumi-state"));
    const devFileBefore = fs.readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8");
    const started = Date.now();
    const r = runLauncher([], { ...baseEnv(), DOCKER_HOST: ENGINE, NODE_OPTIONS: `--require ${path.join(__dirname, "offline-fetch.js")}` });
    const elapsed = Date.now() - started;
    console.log(`npm start (dev, offline CLI download): exit ${r.status} in ${elapsed} ms\n--- stdout ---\n${r.stdout}--- stderr ---\n${r.stderr}`);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`  ok Docker engine: answers at ${ENGINE} \\(Docker `));
    expect(r.stdout).toMatch(/  ok Caddy: v?2\.\d+\.\d+ \(>= 2\.7\)/);
    expect(r.stdout).toContain("  ok Ports: free on 127.0.0.1: 8080, 8443, 2019, 18879, 18844");
    expect(r.stdout).toContain("  ok Image: ghcr.io/openclaw/openclaw:2026.9.6-r20260923 is on the engine");
    expect(r.stdout).toContain(`Pulumi: no pulumi on PATH: installing Pulumi CLI 3.270.0 (the SDK's version) into ${home}/.pulumi/versions/3.270.0`);
    expect(r.stderr).toContain(`npm start: could not install the Pulumi CLI 3.270.0 into ${home}/.pulumi/versions/3.270.0: Failed to download https://get.pulumi.com/install.sh: fetch failed`);
    expect(r.stderr).toContain("fix: this needs the internet (get.pulumi.com)");
    // Nothing was changed: no state folder, no passphrase, no stack file edit, no Caddy.
    expect(fs.existsSync(path.join(REPO, ".pulumi-state"))).toBe(stateBefore);
    expect(fs.readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8")).toBe(devFileBefore);
    expect(await caddyAdminAnswers("localhost:2019")).toBe(false);
  });
});

describe("npm start past its checks, with a stand-in Pulumi CLI on PATH", () => {
  const cleanup = new Cleanup();
  let dir: string;
  let fakeDir: string;
  beforeAll(async () => {
    dir = makeTempDir("launcher-fake");
    cleanup.add("dir", () => removeDir(dir));
    fakeDir = path.join(dir, "bin");
    fs.mkdirSync(fakeDir);
    fs.writeFileSync(path.join(fakeDir, "pulumi"), `#!/bin/sh\nexec '${process.execPath}' '${path.join(__dirname, "fake-pulumi.js")}' "$@"\n`, { mode: 0o755 });
    const docker = new Docker({ socketPath: DOCKER_SOCKET });
    await docker.getImage(STANDIN).tag({ repo: "ghcr.io/openclaw/openclaw", tag: "2026.9.6-r20260923" });
    cleanup.add("tag", () => docker.getImage("ghcr.io/openclaw/openclaw:2026.9.6-r20260923").remove());
    // The Caddy the dev stack reloads, already running (so the launcher starts none of its own).
    const config = path.join(dir, "admin.Caddyfile");
    fs.writeFileSync(config, "{\n\tadmin localhost:2019\n}\n");
    const child = spawn("caddy", ["run", "--config", config, "--adapter", "caddyfile"], { stdio: "ignore", env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir } });
    cleanup.add("caddy", () => void child.kill());
    for (let i = 0; i < 100 && !(await caddyAdminAnswers("localhost:2019")); i++) await new Promise((r) => setTimeout(r, 100));
  });
  afterAll(() => cleanup.run());

  const run = (state: string, extra: NodeJS.ProcessEnv = {}, args: string[] = []) => {
    const stateDir = path.join(dir, state);
    fs.mkdirSync(stateDir);
    fs.writeFileSync(path.join(stateDir, "passphrase"), "test passphrase\n", { mode: 0o600 });
    const env = {
      PATH: `${fakeDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      HOME: dir, LANG: "C.UTF-8", OPENCLAW_TEST_STATE: "/nonexistent", DOCKER_HOST: ENGINE, FAKE_PULUMI_DIR: stateDir,
      // The user's own backend and passphrase, so nothing is written into the project here.
      PULUMI_BACKEND_URL: `file://${stateDir}`, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(stateDir, "passphrase"),
      ...extra,
    };
    const r = runLauncher(args, env);
    const calls = fs.readFileSync(path.join(stateDir, "calls.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { args: string[]; env: Record<string, string> });
    return { ...r, calls, stateDir };
  };

  it("creates the dev stack, sets the placeholder keys as secrets, runs up with readable progress and prints the tenants", () => {
    const r = run("ok");
    console.log(`npm start with a stand-in CLI:\n--- stdout ---\n${r.stdout}--- stderr ---\n${r.stderr}`);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("  ok Ports: free on 127.0.0.1: 8080, 8443, 2019, 18879, 18844; in use by this stack already: 2019 (caddy)");
    expect(r.stdout).toContain("Pulumi: using the pulumi on PATH (v3.200.0)");
    expect(r.stdout).toContain(`  backend file://${r.stateDir} (from PULUMI_BACKEND_URL)`);
    expect(r.stdout).toContain("  dev stack: alice, bob got a placeholder model key");
    // Progress from engine events, not raw logs.
    expect(r.stdout).toContain("  tenant alice: creating\n  tenant alice: creating its container (waits until the gateway is healthy)\n");
    expect(r.stdout).toContain("  edge: installing the Caddyfile and reloading Caddy");
    expect(r.stdout).toContain("  done in 42 s: 9 create");
    expect(r.stdout).toContain("alice   https://alice.claw.localhost:8443  18879  standard  active");
    expect(r.stdout).toContain("carol   https://carol.claw.localhost:8443  18862  heavy     suspended (answers 503)");
    expect(r.stdout).toContain("A tenant's gateway token (give each tenant only its own):\n  pulumi stack output --show-secrets gatewayTokens --stack dev\n");
    expect(r.stdout).toContain("caddy trust --address 'localhost:2019'");
    expect(`${r.stdout}${r.stderr}`).not.toContain("fake-token");

    // `pulumi version` (the launcher's look at PATH, then the SDK's own check), then create-or-select.
    const sequence = r.calls.map((c) => c.args.slice(0, 2).join(" ")).filter((c) => c !== "version");
    expect(sequence.slice(0, 2)).toEqual(["stack select", "stack init"]);
    const keys = r.calls.filter((c) => c.args[0] === "config" && c.args[1] === "set");
    expect(keys.map((c) => c.args)).toEqual(["alice", "bob"].map((t) => [
      "config", "set", "--path", `openclaw-hosting:apiKeys.${t}`, "--stack", "dev", "--secret", "--non-interactive", "--", "openclaw-dev-placeholder-not-a-real-key",
    ]));
    const up = r.calls.find((c) => c.args[0] === "up");
    expect(up?.args).toEqual(expect.arrayContaining(["--yes", "--skip-preview", "--event-log", "--stack", "dev"]));
    for (const c of r.calls.filter((x) => x.args[0] !== "version")) {
      expect(c.env).toEqual({ PULUMI_BACKEND_URL: `file://${r.stateDir}`, PULUMI_CONFIG_PASSPHRASE_FILE: `${r.stateDir}/passphrase`, DOCKER_HOST: ENGINE });
    }
  });

  it("--preview: says what would happen, changes nothing", () => {
    const r = run("preview", {}, ["--preview"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("npm start: stack dev: up, preview only");
    expect(r.stdout).toContain("  tenant alice: would create\n  tenant alice: would create its container\n");
    expect(r.stdout).toContain("  edge: would create the Caddyfile (and reload Caddy)");
    expect(r.calls.map((c) => c.args[0])).toContain("preview");
    expect(r.calls.map((c) => c.args[0])).not.toContain("up");
  });

  it("--destroy on dev: runs destroy (volumes are the program's retainOnDelete), sets no placeholder keys", () => {
    const r = run("destroy", {}, ["--destroy"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("npm start: stack dev: destroy");
    expect(r.stdout).toContain("  tenant alice: deleting\n");
    expect(r.calls.some((c) => c.args[0] === "destroy" && c.args.includes("--yes"))).toBe(true);
    expect(r.calls.some((c) => c.args[0] === "config")).toBe(false);
  });

  it("a failed update: exit 1 with the engine's own message, naming the tenant", () => {
    const r = run("fail", { FAKE_PULUMI_FAIL: "1" });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("  ! create failed: bob-gateway (tenant bob)");
    expect(r.stderr).toContain("npm start: up failed on stack dev:\ncontainer bob-gateway did not become healthy within 180s");
    expect(r.stdout).not.toContain("TENANT  URL");
  });
});
