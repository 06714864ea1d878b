/**
 * Three servers for real: each a network namespace with its own dockerd, sshd and Caddy, set up by
 * scripts/servers-env.sh (scripts/test.sh runs it). The program runs under Pulumi's mock engine with
 * a `servers` map pointing at them over SSH; its captured Docker resources are replayed on the
 * engine of the server whose provider registered them, over SSH (dockerode's ssh transport runs
 * `docker system dial-stdio` on the server, like the Docker provider), and each server's edge
 * command runs over SSH exactly as command.remote would: the create string, the Caddyfile on stdin.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import Docker from "dockerode";
import { ProgramFailure, ProgramRun, REPO_ROOT, TYPES, fakeKey, ofType, runProgram, baseConfig } from "../../support/program";
import { writeRoster, projectTempDir } from "../../support/roster";
import { TEST_LABEL, TestHealthTiming, translateContainer, translateNetwork, translateVolume, waitHealthy } from "../support/docker";
import { Engine, MoveError, moveTenantData } from "../../../scripts/moveTenant";

const ADDRESSES = (process.env.OPENCLAW_SERVERS ?? "").split(",").filter((a) => a !== "");
const KEY = process.env.OPENCLAW_SERVERS_KEY ?? "";
const SSH_BIN = process.env.OPENCLAW_SERVERS_SSH_BIN ?? "";
const RUN = process.env.OPENCLAW_SERVERS_RUN ?? "/run/openclaw-servers";
const IMAGE = "openclaw-standin:test";
const LABELS = { [TEST_LABEL]: "three-servers" };
/**
 * TEST-ONLY, as in the other real-runtime suites: the program's 30 s health interval would make every
 * wait 30 s. Not 1 s here: each check starts a node process, and six tenants checked every second
 * kept this 2-core machine busy enough to slow every SSH call of the suite tenfold.
 */
const HEALTH: TestHealthTiming = { interval: "5s", startPeriod: "10s" };
const SERVER_NAMES = ["s1", "s2", "s3"] as const;
const ROSTER = [
  { name: "alice", server: "s1" }, { name: "bob", server: "s1" },
  { name: "carol", server: "s2" }, { name: "dave", server: "s2" },
  { name: "erin", server: "s3" }, { name: "frank", server: "s3" },
];
const DOMAIN = "claw.test";

jest.setTimeout(180_000);

interface Shell { code: number | null; stdout: string; stderr: string; ms: number }
/** ssh through the suite's wrapper (key auth, known hosts, batch mode), with stdin; bounded in time. */
function ssh(address: string, command: string, stdin = "", timeoutMs = 60_000): Promise<Shell> {
  return run([path.join(SSH_BIN, "ssh"), address, "--", command], stdin, timeoutMs);
}
function run(argv: string[], stdin: string, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<Shell> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (d) => (stdout += String(d)));
    child.stderr.on("data", (d) => (stderr += String(d)));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
    child.stdin.on("error", () => undefined); // a command that does not read its stdin may close it first
    child.stdin.end(stdin);
  });
}

/** A Docker client for one server, over SSH, that refuses a host key other than the one scanned at setup. */
function engineOverSsh(address: string): Docker {
  const known = fs.readFileSync(path.join(path.dirname(KEY), "known_hosts"), "utf8").split("\n").find((l) => l.startsWith(`${address} `))?.split(" ")[2];
  return new Docker({
    protocol: "ssh",
    host: address,
    port: 22,
    username: "root",
    sshOptions: { privateKey: fs.readFileSync(KEY), hostVerifier: (key: Buffer) => key.toString("base64") === known, readyTimeout: 10_000 },
  } as Docker.DockerOptions);
}

/** curl from the host to one server's Caddy, for one tenant's host name (local CA: -k; the route is what is tested). */
function viaEdge(address: string, tenant: string, urlPath = "/__standin/whoami"): Promise<Shell> {
  const host = `${tenant}.${DOMAIN}`;
  return run(["curl", "-sk", "--max-time", "5", "--resolve", `${host}:443:${address}`, "-o", "-", "-w", "\n%{http_code}", `https://${host}${urlPath}`], "", 10_000);
}

let program: ProgramRun;
const engines = new Map<string, Docker>();
const address = (server: string) => ADDRESSES[SERVER_NAMES.indexOf(server as (typeof SERVER_NAMES)[number])];

beforeAll(async () => {
  if (ADDRESSES.length !== 3 || KEY === "" || SSH_BIN === "") {
    throw new Error("the three servers are not up: run this suite through scripts/test.sh (it runs scripts/servers-env.sh up)");
  }
  rosterDir = projectTempDir("three-servers");
  program = await programFor(ROSTER);
  for (const [i, name] of SERVER_NAMES.entries()) engines.set(name, engineOverSsh(ADDRESSES[i]));

  // Replay each server's share of the program on that server's engine, over SSH.
  const t0 = Date.now();
  await Promise.all(SERVER_NAMES.map((server) => replay(program, server)));
  console.log(`three servers: replayed ${program.resources.filter((r) => r.type.startsWith("docker:")).length} Docker resources over SSH in ${Date.now() - t0} ms`);
  for (const server of SERVER_NAMES) await installEdge(program, server);
});

let rosterDir: string;
/** The program under mocks for this roster, with the three servers over SSH. */
function programFor(roster: readonly { name: string; server: string }[], previous: Record<string, unknown> = {}): Promise<ProgramRun> {
  writeRoster(roster.map(({ name, server }) => ({ name, tier: "light" as const, extra: `server: ${server}` })), rosterDir);
  const servers = Object.fromEntries(SERVER_NAMES.map((name, i) => [name, {
    ssh: { host: ADDRESSES[i], user: "root", privateKeyPath: KEY },
    publicIp: ADDRESSES[i],
    memoryMb: 4096,
    cpus: 2,
    tenantNetworks: "10.252.0.0/16",
  }]));
  return runProgram(baseConfig(rosterDir, {
    domain: DOMAIN,
    image: "openclaw-standin:test",
    apiKeys: Object.fromEntries(roster.map((t) => [t.name, fakeKey(t.name)])),
    servers,
    caddy: { caddyfilePath: "/run/openclaw-edge/Caddyfile", adminAddress: "localhost:2019", localCerts: true, storageDir: "/run/openclaw-edge/data" },
  }), previous, undefined, SERVER_CHECK);
}
/** The program's own server check, for real: each engine asked over SSH (the suite's known hosts) before anything is registered. */
const SERVER_CHECK = { OPENCLAW_SERVER_CHECK: "on", OPENCLAW_SERVER_CHECK_TIMEOUT: "10", OPENCLAW_STATUS_SSH: path.join(SSH_BIN, "ssh") };

/** Creates on `server`'s engine what the program registered there (only `tenant`'s, if given), as the provider would. */
async function replay(run: ProgramRun, server: string, tenant?: string): Promise<void> {
  const docker = engines.get(server) as Docker;
  const mine = run.resources.filter((r) => r.provider?.split("::")[3] === `server-${server}` && (tenant === undefined || r.name.startsWith(`${tenant}-`)));
  // Docker's volume create returns the volume that exists by that name: the moved copy is adopted.
  for (const r of mine.filter((x) => x.type === TYPES.volume)) await docker.createVolume(translateVolume(r.inputs, LABELS));
  for (const r of mine.filter((x) => x.type === TYPES.network)) await docker.createNetwork(translateNetwork(r.inputs, LABELS));
  for (const r of mine.filter((x) => x.type === TYPES.container)) {
    const t = translateContainer(r.inputs, { image: IMAGE, extraLabels: LABELS, healthTiming: HEALTH });
    const c = await docker.createContainer(t.create);
    await c.start();
    await waitHealthy(docker, t.name, 60_000);
  }
}

/** Each server's edge command, over SSH, as command.remote runs it. */
async function installEdge(run: ProgramRun, server: string): Promise<void> {
  const edge = ofType(run, TYPES.remoteCommand).find((c) => c.name === `edge-${server}-caddyfile`);
  if (edge === undefined) throw new Error(`no edge command for ${server}`);
  const r = await ssh(address(server), String(edge.inputs.create), String(edge.inputs.stdin));
  if (r.code !== 0) throw new Error(`edge command on ${server} failed (${r.code}): ${r.stderr}`);
  console.log(`edge command on ${server} over SSH: ${r.ms} ms`);
}

/** The Docker CLI's view of a server: DOCKER_HOST=ssh://, with the suite's ssh wrapper first on PATH. */
function cliEngine(server: string): Engine {
  return { name: server, env: { ...process.env, DOCKER_HOST: `ssh://root@${address(server)}:22`, PATH: `${SSH_BIN}:${process.env.PATH ?? ""}` } };
}
function cli(server: string, args: string[]): Promise<Shell> {
  return run(["docker", ...args], "", 120_000, cliEngine(server).env);
}

/**
 * `npm run status -- --stack <a throw-away stack file naming the three servers>`, as an operator runs
 * it: ssh through the suite's wrapper (its known hosts), each server with a 5 s timeout.
 */
const STATUS_TIMEOUT_MS = 5000;
let statusStack: string | undefined;
async function statusOfStack(): Promise<Shell & { report: StatusJson }> {
  if (statusStack === undefined) {
    statusStack = `test-three-servers-${process.pid}`;
    const servers = Object.fromEntries(SERVER_NAMES.map((name, i) => [name, { ssh: { host: ADDRESSES[i], user: "root", privateKeyPath: KEY }, publicIp: ADDRESSES[i], memoryMb: 4096, cpus: 2, tenantNetworks: "10.252.0.0/16" }]));
    const config = baseConfig(rosterDir, { domain: DOMAIN, image: IMAGE, servers, caddy: { caddyfilePath: "/run/openclaw-edge/Caddyfile", localCerts: true } });
    fs.writeFileSync(path.join(REPO_ROOT, `Pulumi.${statusStack}.yaml`), `config: ${JSON.stringify(Object.fromEntries(Object.entries(config).map(([k, v]) => [`openclaw-hosting:${k}`, v])))}\n`);
  }
  const r = await run(["npx", "ts-node", "--transpile-only", "scripts/status.ts", "--stack", statusStack, "--json", "--timeout", String(STATUS_TIMEOUT_MS)], "", 120_000,
    { ...process.env, OPENCLAW_STATUS_SSH: path.join(SSH_BIN, "ssh"), DOCKER_HOST: undefined });
  console.log(`npm run status --stack across three servers: exit ${r.code}, ${r.ms} ms (whole process)`);
  return { ...r, report: JSON.parse(r.stdout) as StatusJson };
}
interface StatusJson {
  tenants: { tenant: string; server: string; state: string }[];
  servers: { server: string; reachable: boolean; error: string | null; tenants: number }[];
  elapsedMs: number;
}
afterAll(() => {
  if (statusStack !== undefined) fs.rmSync(path.join(REPO_ROOT, `Pulumi.${statusStack}.yaml`), { force: true });
});
/** The roster after the move test: alice on s2. */
const AFTER_MOVE = ROSTER.map((x) => (x.name === "alice" ? { ...x, server: "s2" } : x));
const runningRows = (report: StatusJson) => report.tenants.filter((t) => t.state === "running").map((t) => `${t.server}/${t.tenant}`).sort();

test("every tenant's container is on its named server's engine and on no other", async () => {
  const seen: Record<string, string[]> = {};
  for (const server of SERVER_NAMES) {
    const list = await (engines.get(server) as Docker).listContainers({ all: true, filters: { label: ["managed-by=openclaw-hosting"] } });
    seen[server] = list.map((c) => c.Names[0].replace(/^\//, "")).sort();
  }
  expect(seen).toEqual(Object.fromEntries(SERVER_NAMES.map((s) => [s, ROSTER.filter((t) => t.server === s).map((t) => `openclaw-${t.name}`).sort()])));
});

test("the Docker CLI reaches each engine over ssh:// (DOCKER_HOST), and each is its own engine", async () => {
  const env = { ...process.env, PATH: `${SSH_BIN}:${process.env.PATH ?? ""}`, DOCKER_HOST: undefined as string | undefined };
  const roots = new Set<string>();
  for (const server of SERVER_NAMES) {
    const r = await run(["docker", "-H", `ssh://root@${address(server)}`, "info", "--format", "{{.DockerRootDir}}"], "", 60_000, env);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toContain(`/var/lib/openclaw-servers/s${SERVER_NAMES.indexOf(server) + 1}/`);
    roots.add(r.stdout.trim());
  }
  expect(roots.size).toBe(3);
});

test("each server's Caddy routes exactly its own tenants", async () => {
  for (const server of SERVER_NAMES) {
    for (const t of ROSTER) {
      const r = await viaEdge(address(server), t.name);
      const status = r.stdout.split("\n").pop();
      if (t.server === server) {
        expect(`${t.name} via ${server}: ${status}`).toBe(`${t.name} via ${server}: 200`);
        expect(r.stdout).toContain(`"hostname"`);
      } else {
        expect(`${t.name} via ${server}: ${status}`).not.toBe(`${t.name} via ${server}: 200`);
      }
    }
  }
});

test("moving a tenant: old container stops first, every file copied and verified, same token, answers on the new server; a failed copy leaves it where it was", async () => {
  // Data worth keeping: a megabyte of random bytes, nested folders, an empty file, the credentials.
  const write = await cli("s1", ["exec", "openclaw-alice", "sh", "-c",
    "mkdir -p ~/.openclaw/agents/main/sessions && head -c 1048576 /dev/urandom > ~/.openclaw/agents/main/sessions/s1.jsonl && " +
    "mkdir -p ~/.openclaw/notes && echo '{\"n\":1}' > ~/.openclaw/notes/n.json && : > ~/.openclaw/empty && head -c 4096 /dev/urandom > ~/.config/openclaw/auth-profiles.json"]);
  expect(write.code).toBe(0);
  // The files this test wrote (the gateway rewrites its own openclaw.json for its new address on start).
  const written = ["home/node/.openclaw/agents/main/sessions/s1.jsonl", "home/node/.openclaw/notes/n.json", "home/node/.openclaw/empty", "home/node/.config/openclaw/auth-profiles.json"];
  const sums = `cd / && for f in ${written.join(" ")}; do echo "$(stat -c '%s %u' "$f") $(sha256sum "$f" | cut -d' ' -f1) $f"; done`;
  const before = await cli("s1", ["exec", "openclaw-alice", "sh", "-c", sums]);
  expect(before.stdout.split("\n").filter((l) => l !== "").length).toBe(4);
  const tokenOf = async (server: string) => ((await (engines.get(server) as Docker).getContainer("openclaw-alice").inspect()).Config.Env ?? []).find((e) => e.startsWith("OPENCLAW_GATEWAY_TOKEN="));
  const token = await tokenOf("s1");
  expect(token).toMatch(/^OPENCLAW_GATEWAY_TOKEN=.+/);

  const moved = await moveTenantData("alice", IMAGE, cliEngine("s1"), cliEngine("s2"));
  console.log(`move alice s1 -> s2: ${moved.files} files, ${moved.bytes} bytes, ${moved.checked} byte counts and SHA-256 compared, ${moved.ms} ms`);
  expect(moved.files).toBeGreaterThanOrEqual(4);
  expect(moved.bytes).toBeGreaterThan(1_048_576);
  // The old container is stopped (never two writers) and the old volumes are still there.
  const old = await (engines.get("s1") as Docker).getContainer("openclaw-alice").inspect();
  expect(old.State.Running).toBe(false);
  for (const v of ["openclaw-alice-state", "openclaw-alice-credentials"]) await expect((engines.get("s1") as Docker).getVolume(v).inspect()).resolves.toBeDefined();

  // The roster edit the move ends in, and what `pulumi up` then does: old container gone, new one on s2.
  const after = await programFor(ROSTER.map((t) => (t.name === "alice" ? { ...t, server: "s2" } : t)), { tenants: program.outputs.tenants, retainedData: [] });
  expect(after.outputs.retainedData).toEqual([{ tenant: "alice", server: "s1", volumes: ["openclaw-alice-state", "openclaw-alice-credentials"] }]);
  await (engines.get("s1") as Docker).getContainer("openclaw-alice").remove();
  await (engines.get("s1") as Docker).getNetwork("openclaw-alice").remove();
  await replay(after, "s2", "alice");
  await installEdge(after, "s1");
  await installEdge(after, "s2");
  expect(await tokenOf("s2")).toBe(token);
  const copied = await cli("s2", ["exec", "openclaw-alice", "sh", "-c", sums]);
  expect(copied.stdout).toBe(before.stdout);
  expect(copied.stdout.split("\n").filter((l) => l !== "").length).toBe(4);
  expect(copied.stdout).toContain("1048576 1000 ");
  const viaNew = await viaEdge(address("s2"), "alice");
  expect(viaNew.stdout.split("\n").pop()).toBe("200");
  expect((await viaEdge(address("s1"), "alice")).stdout.split("\n").pop()).not.toBe("200");

  // A copy that cannot be made: s2 already holds a volume by bob's name. Bob stays on s1, running.
  await (engines.get("s2") as Docker).createVolume({ Name: "openclaw-bob-state", Labels: LABELS });
  await expect(moveTenantData("bob", IMAGE, cliEngine("s1"), cliEngine("s2"))).rejects.toThrow(MoveError);
  await expect(moveTenantData("bob", IMAGE, cliEngine("s1"), cliEngine("s2"))).rejects.toThrow(/server s2 already has a volume openclaw-bob-state/);
  expect((await (engines.get("s1") as Docker).getContainer("openclaw-bob").inspect()).State.Running).toBe(true);
  expect((await viaEdge(address("s1"), "bob")).stdout.split("\n").pop()).toBe("200");
});

test("npm run status --stack: every server asked, each tenant running on its own server, exit 0", async () => {
  const r = await statusOfStack();
  expect(r.stderr).not.toContain("cannot reach");
  expect(r.report.servers.map((s) => [s.server, s.reachable, s.error])).toEqual(SERVER_NAMES.map((n) => [n, true, null]));
  expect(runningRows(r.report)).toEqual(AFTER_MOVE.map((t) => `${t.server}/${t.name}`).sort());
  console.log(`status across three servers: ${r.report.elapsedMs} ms for the report`);
  expect(r.code).toBe(0);
});

test("a stopped server fails with an error naming it, while the others keep serving", async () => {
  const stop = await run(["bash", path.join(__dirname, "..", "..", "..", "scripts", "servers-env.sh"), "stop-server", "3"], "", 120_000);
  expect(stop.code).toBe(0);
  const lost = await ssh(address("s3"), "docker info", "", 20_000);
  expect(lost.code).not.toBe(0);
  expect(lost.stderr).toContain(address("s3"));
  // alice was moved to s2 by the test above.
  for (const t of ROSTER.map((x) => (x.name === "alice" ? { ...x, server: "s2" } : x)).filter((x) => x.server !== "s3")) {
    const r = await viaEdge(address(t.server), t.name);
    expect(`${t.name}: ${r.stdout.split("\n").pop()}`).toBe(`${t.name}: 200`);
  }
  expect(fs.existsSync(path.join(RUN, "s3", "dockerd.pid"))).toBe(false);
});

test("the program with s3 stopped: its own error names s3, how it was reached and its tenants, before anything is registered", async () => {
  const t0 = Date.now();
  const failure = await programFor(AFTER_MOVE, { tenants: program.outputs.tenants, retainedData: [] }).then(() => undefined, (err: unknown) => err);
  expect(failure).toBeInstanceOf(ProgramFailure);
  const { message, registered } = failure as ProgramFailure;
  console.log(`program with s3 down: stopped by its server check in ${Date.now() - t0} ms:\n${message}`);
  expect(message).toContain("found 1 problem(s); nothing was changed");
  expect(message).toContain(`config servers.s3.ssh: server s3 does not answer at ssh://root@${address("s3")}:22 within 10 s (`);
  expect(message).toContain("Its 2 tenant(s) (erin, frank) are down until it is back or they are moved; the other servers were not touched either");
  expect(message).not.toMatch(/server s[12] does not answer/);
  expect(registered.map((r) => r.type)).toEqual(["pulumi:pulumi:StackReference"]);
});

test("npm run status --stack with s3's dockerd stopped: exactly s3 unreachable (with why), its tenants unknown, the others listed, exit 2", async () => {
  const r = await statusOfStack();
  expect(r.report.servers.map((s) => [s.server, s.reachable])).toEqual([["s1", true], ["s2", true], ["s3", false]]);
  const s3 = r.report.servers[2];
  expect(s3.error).toEqual(expect.stringMatching(/\S/));
  expect(r.stderr).toContain(`cannot reach server s3 at ssh://root@${address("s3")}:22`);
  expect(runningRows(r.report)).toEqual(AFTER_MOVE.filter((t) => t.server !== "s3").map((t) => `${t.server}/${t.name}`).sort());
  expect(r.report.tenants.filter((t) => t.server === "s3").map((t) => [t.tenant, t.state])).toEqual([["erin", "unknown"], ["frank", "unknown"]]);
  console.log(`status with s3 down: ${r.report.elapsedMs} ms for the report; s3: ${s3.error ?? ""}`);
  expect(r.code).toBe(2);
});
