/**
 * Three servers for real: each a network namespace with its own dockerd, sshd and Caddy, set up by
 * test/machinery/servers-env.sh (test/machinery/run.sh runs it). The program runs under Pulumi's mock engine with
 * a `servers` map pointing at them over SSH; its captured Docker resources are replayed on the
 * engine of the server whose provider registered them, over SSH (dockerode's ssh transport runs
 * `docker system dial-stdio` on the server, like the Docker provider), and each server's edge
 * command runs over SSH exactly as command.remote would: the create string, the routes or Caddyfile on stdin.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Docker from "dockerode";
import { npmScriptFile } from "../../support/cli";
import { ProgramFailure, ProgramRun, REPO_ROOT, TYPES, fakeKey, ofType, runProgram, baseConfig } from "../../support/program";
import { writeRoster, projectTempDir } from "../../support/roster";
import { TEST_LABEL, TestHealthTiming, removeLabelled, sleep, waitHealthy } from "../support/docker";
import { createSuiteTenants, overSsh, suiteTenants } from "../support/programTenants";
import { Engine, MoveError, moveTenantData } from "../../../tools/move/transfer";
import { Shell, run } from "../support/run";

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
/** What moveTenantData needs of a tenant's plan: the suite's tenants have no disk budget enforced. */
const offDisk = (name: string) => ({ name, diskMb: 2048, diskQuota: "off" as const });
/** The tenant's own uid, as the program gave it (its files belong to it, on the old server and the new). */
const uidOf = (name: string): number => (program.outputs.tenants as Record<string, { uid: number }>)[name].uid;

// Under load (2 cores, a health check per container every second) one move over SSH took 140 s.
jest.setTimeout(300_000);

/** ssh through the suite's wrapper (key auth, known hosts, batch mode), with stdin; bounded in time. */
function ssh(address: string, command: string, stdin = "", timeoutMs = 60_000): Promise<Shell> {
  return run([path.join(SSH_BIN, "ssh"), address, "--", command], stdin, timeoutMs);
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
    throw new Error("the three servers are not up: run this suite through test/machinery/run.sh (it runs test/machinery/servers-env.sh up)");
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
function programFor(roster: readonly { name: string; server: string }[], previous: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<ProgramRun> {
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
    ...extra,
  }), previous, undefined, SERVER_CHECK);
}
/** The program's own server check, for real: each engine asked over SSH (the suite's known hosts) before anything is registered. */
const SERVER_CHECK = {
  OPENCLAW_SERVER_CHECK: "on", OPENCLAW_SERVER_CHECK_TIMEOUT: "30", OPENCLAW_STATUS_SSH: path.join(SSH_BIN, "ssh"),
  // The remote commands' host keys, from the suite's known hosts (scanned at setup), as from an operator's.
  OPENCLAW_KNOWN_HOSTS: path.join(path.dirname(KEY), "known_hosts"),
};

/** Creates on `server`'s engine what the program registered there (only `tenant`'s, if given), as the provider would. */
async function replay(run: ProgramRun, server: string, tenant?: string): Promise<void> {
  const objects = suiteTenants(run, { image: IMAGE, extraLabels: LABELS, healthTiming: HEALTH }, { server, tenants: tenant === undefined ? undefined : [tenant] });
  // Docker's volume create returns the volume that exists by that name: the moved copy is adopted.
  await createSuiteTenants(engines.get(server) as Docker, objects, 60_000, overSsh(server, (command) => ssh(address(server), command, "", 120_000)));
}

/** Each server's edge commands (the routes, then the Caddyfile), over SSH, as command.remote runs them. */
async function installEdge(run: ProgramRun, server: string): Promise<void> {
  for (const part of ["routes", "caddyfile"]) {
    const edge = ofType(run, TYPES.remoteCommand).find((c) => c.name === `edge-${server}-${part}`);
    if (edge === undefined) throw new Error(`no edge ${part} command for ${server}`);
    const r = await ssh(address(server), String(edge.inputs.create), String(edge.inputs.stdin));
    if (r.code !== 0) throw new Error(`edge ${part} command on ${server} failed (${r.code}): ${r.stderr}`);
    console.log(`edge ${part} command on ${server} over SSH: ${r.ms} ms`);
  }
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
/** Generous: a cold ssh connection plus `docker system dial-stdio` took 0.9 s here when idle and over 5 s while the suite's tenants started. */
const STATUS_TIMEOUT_MS = 20000;
let statusStack: string | undefined;
/** The ssh command lines the last statusOfStack started (every argument, space-joined). */
let sshLines: string[] = [];
/** The `docker stats` status ran on each server over ssh (see collect's sampleAll): host and the IDs it sampled. */
function statsRuns(): { host: string; ids: string[] }[] {
  return sshLines.flatMap((l) => {
    const m = / -- (\S+) 'docker' 'stats' '--no-stream' '--no-trunc' '--format' '\{\{json \.\}\}'((?: '[0-9a-f]{64}')+)$/.exec(l);
    return m === null ? [] : [{ host: m[1], ids: m[2].trim().split(" ").map((w) => w.replace(/'/g, "")) }];
  });
}
async function statusOfStack(): Promise<Shell & { report: StatusJson }> {
  if (statusStack === undefined) {
    statusStack = `test-three-servers-${process.pid}`;
    const servers = Object.fromEntries(SERVER_NAMES.map((name, i) => [name, { ssh: { host: ADDRESSES[i], user: "root", privateKeyPath: KEY }, publicIp: ADDRESSES[i], memoryMb: 4096, cpus: 2, tenantNetworks: "10.252.0.0/16" }]));
    const config = baseConfig(rosterDir, { domain: DOMAIN, image: IMAGE, servers, caddy: { caddyfilePath: "/run/openclaw-edge/Caddyfile", localCerts: true } });
    fs.writeFileSync(path.join(REPO_ROOT, `Pulumi.${statusStack}.yaml`), `config: ${JSON.stringify(Object.fromEntries(Object.entries(config).map(([k, v]) => [`openclaw-hosting:${k}`, v])))}\n`);
  }
  // The servers' ssh behind a wrapper that logs each command line (the commands status runs on them).
  const wrapper = path.join(os.tmpdir(), `status-ssh-${process.pid}`);
  fs.writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> ${wrapper}.log\nexec ${path.join(SSH_BIN, "ssh")} "$@"\n`, { mode: 0o755 });
  fs.writeFileSync(`${wrapper}.log`, "");
  const r = await run(["npx", "ts-node", "--transpile-only", npmScriptFile("status"), "--stack", statusStack, "--json", "--timeout", String(STATUS_TIMEOUT_MS)], "", 120_000,
    { ...process.env, OPENCLAW_STATUS_SSH: wrapper, DOCKER_HOST: undefined });
  sshLines = fs.readFileSync(`${wrapper}.log`, "utf8").split("\n").filter((l) => l !== "");
  fs.rmSync(wrapper, { force: true });
  fs.rmSync(`${wrapper}.log`, { force: true });
  console.log(`npm run status --stack across three servers: exit ${r.code}, ${r.ms} ms (whole process)`);
  return { ...r, report: JSON.parse(r.stdout) as StatusJson };
}
interface StatusJson {
  tenants: { tenant: string; server: string; state: string; container: string | null; memoryUsedBytes: number | null; cpuPercent: number | null; notes: string[] }[];
  servers: { server: string; reachable: boolean; error: string | null; tenants: number }[];
  elapsedMs: number;
}
afterAll(async () => {
  if (statusStack !== undefined) fs.rmSync(path.join(REPO_ROOT, `Pulumi.${statusStack}.yaml`), { force: true });
  // The servers as the next suite expects them: s3 running again (a test stops it), and none of
  // this suite's tenants left behind (their names are the next suites' names too).
  for (const n of [1, 2, 3]) await run(["bash", path.join(__dirname, "..", "..", "machinery", "servers-env.sh"), "start-server", String(n)], "", 120_000);
  for (const server of SERVER_NAMES) await removeLabelled(new Docker({ socketPath: path.join(RUN, server, "docker.sock") }), `${TEST_LABEL}=three-servers`).catch(() => undefined);
}, 300_000);
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

  const moved = await moveTenantData(offDisk("alice"), IMAGE, cliEngine("s1"), cliEngine("s2"));
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
  expect(uidOf("alice")).toBeGreaterThan(2_097_151); // beyond what a ustar header (busybox's tar) can hold
  expect(copied.stdout).toContain(`1048576 ${uidOf("alice")} `);
  const viaNew = await viaEdge(address("s2"), "alice");
  expect(viaNew.stdout.split("\n").pop()).toBe("200");
  expect((await viaEdge(address("s1"), "alice")).stdout.split("\n").pop()).not.toBe("200");

  // A copy that cannot be made: s2 already holds a volume by bob's name. Bob stays on s1, running.
  await (engines.get("s2") as Docker).createVolume({ Name: "openclaw-bob-state", Labels: LABELS });
  await expect(moveTenantData(offDisk("bob"), IMAGE, cliEngine("s1"), cliEngine("s2"))).rejects.toThrow(MoveError);
  await expect(moveTenantData(offDisk("bob"), IMAGE, cliEngine("s1"), cliEngine("s2"))).rejects.toThrow(/server s2 already has a volume openclaw-bob-state/);
  expect((await (engines.get("s1") as Docker).getContainer("openclaw-bob").inspect()).State.Running).toBe(true);
  expect((await viaEdge(address("s1"), "bob")).stdout.split("\n").pop()).toBe("200");
});

/**
 * A move that fails mid-copy, for real: bob (s1) to s3 with 128 MB of random bytes. The sending
 * helper on s1 is paused as soon as it runs, so the test (not the link's speed) decides when the
 * copy is interrupted: then part of the big file is on s3 and the rest not, and the test acts.
 */
test("a tenant whose volumes bind into its disk image (diskQuota: image) is refused before anything changes: no volume on the new server", async () => {
  const s1 = engines.get("s1") as Docker;
  const s2 = engines.get("s2") as Docker;
  // zed's volumes as the program makes them with diskQuota: image (the config here says off).
  for (const key of ["state", "credentials"]) {
    await s1.createVolume({ Name: `openclaw-zed-${key}`, Labels: LABELS, Driver: "local", DriverOpts: { type: "none", o: "bind", device: `/var/lib/openclaw-hosting/disks/zed/${key}` } });
  }
  try {
    await expect(moveTenantData(offDisk("zed"), IMAGE, cliEngine("s1"), cliEngine("s2"))).rejects.toThrow(/zed's data is in its own disk image \(diskQuota: image\), which npm run move cannot create on server s2; .*Nothing was changed/);
    const onS2 = (await s2.listVolumes()).Volumes?.map((v) => v.Name) ?? [];
    expect(onS2.filter((n) => n.startsWith("openclaw-zed-"))).toEqual([]);
  } finally {
    for (const key of ["state", "credentials"]) await s1.getVolume(`openclaw-zed-${key}`).remove();
  }
});

const BIG_BYTES = 128 * 1024 * 1024;
const BOB_FILES = "/home/node/.openclaw/move-test";
const HELPER = "openclaw-bob-move";
async function bobData(): Promise<string> {
  const write = await cli("s1", ["exec", "openclaw-bob", "sh", "-c",
    `mkdir -p ${BOB_FILES}/notes && [ -s ${BOB_FILES}/big.bin ] || head -c ${BIG_BYTES} /dev/urandom > ${BOB_FILES}/big.bin; echo '{"n":2}' > ${BOB_FILES}/notes/n.json`]);
  expect(write.code).toBe(0);
  const sums = await cli("s1", ["exec", "openclaw-bob", "sh", "-c", `cd ${BOB_FILES} && for f in big.bin notes/n.json; do echo "$(stat -c '%s %u' "$f") $(sha256sum "$f" | cut -d' ' -f1) $f"; done`]);
  expect(sums.stdout).toContain(`${BIG_BYTES} ${uidOf("bob")} `);
  return sums.stdout;
}
const mountpoint = async (server: string, volume: string) => (await (engines.get(server) as Docker).getVolume(volume).inspect()).Mountpoint;
/** Bytes of big.bin that have reached s3's copy of bob's state volume (0 while it does not exist). */
async function arrivedOnS3(): Promise<number> {
  const mp = await mountpoint("s3", "openclaw-bob-state").catch(() => undefined);
  if (mp === undefined) return 0;
  const r = await ssh(address("s3"), `stat -c %s ${mp}/move-test/big.bin 2>/dev/null || echo 0`);
  return Number(r.stdout.trim());
}
/** Pauses the container as soon as it runs; false if the move ended first or the deadline passed. */
async function pauseWhenRunning(docker: Docker, name: string, deadlineMs: number, ended: () => boolean): Promise<boolean> {
  for (let i = 0; i < 3000 && Date.now() < deadlineMs && !ended(); i++) {
    if (await docker.getContainer(name).pause().then(() => true, () => false)) return true;
    await sleep(20);
  }
  return false;
}
/** Starts bob's move to s3 and returns once the sender is frozen with part (not all) of big.bin on s3. */
async function moveFrozenMidCopy(): Promise<{ moving: Promise<unknown>; arrived: number; t0: number; phases: string[] }> {
  const s1 = engines.get("s1") as Docker;
  const t0 = Date.now();
  const phases: string[] = [];
  const moving = moveTenantData(offDisk("bob"), IMAGE, cliEngine("s1"), cliEngine("s3"), (line) => phases.push(`${Date.now() - t0} ms ${line}`))
    .then(() => "the move succeeded", (err: unknown) => err);
  movingBob = moving;
  let ended = false;
  void moving.then(() => (ended = true));
  const deadline = Date.now() + 240_000;
  expect(await pauseWhenRunning(s1, HELPER, deadline, () => ended)).toBe(true);
  let arrived = await arrivedOnS3();
  // Paused before the first bytes of big.bin went out: let the stream run in short steps.
  for (let i = 0; i < 100 && arrived === 0 && Date.now() < deadline; i++) {
    await s1.getContainer(HELPER).unpause();
    await sleep(50);
    await s1.getContainer(HELPER).pause();
    await sleep(200); // what was in flight lands
    arrived = await arrivedOnS3();
  }
  return { moving, arrived, t0, phases };
}
/**
 * Whatever a test's assertions did, the move it started must be over before the next test: a frozen
 * sender is released and a receiver still there is killed, so the move fails and bob runs on s1 again.
 */
let movingBob: Promise<unknown> | undefined;
afterEach(async () => {
  if (movingBob === undefined) return;
  await (engines.get("s3") as Docker).getContainer(HELPER).kill().catch(() => undefined);
  await (engines.get("s1") as Docker).getContainer(HELPER).unpause().catch(() => undefined);
  await movingBob;
  movingBob = undefined;
});

/** After a failed move: bob runs on s1 and answers through s1's Caddy; s3 holds nothing of bob's. */
async function bobStayedOnS1(): Promise<number> {
  const t0 = Date.now();
  await waitHealthy(engines.get("s1") as Docker, "openclaw-bob", 60_000);
  expect((await viaEdge(address("s1"), "bob")).stdout.split("\n").pop()).toBe("200");
  const answeredMs = Date.now() - t0;
  const s3 = engines.get("s3") as Docker;
  expect(((await s3.listVolumes({ filters: { name: ["openclaw-bob"] } })).Volumes ?? []).map((v) => v.Name)).toEqual([]);
  expect((await s3.listContainers({ all: true, filters: { name: ["openclaw-bob"] } })).map((c) => c.Names[0])).toEqual([]);
  expect((await (engines.get("s1") as Docker).listContainers({ all: true, filters: { name: [HELPER] } })).map((c) => c.Names[0])).toEqual([]);
  return answeredMs;
}

test("a move that fails mid-copy (s3's receiving helper killed after bytes arrived): MoveError naming both servers, bob runs again on s1 and answers, s3 holds nothing, bob's files unchanged", async () => {
  const before = await bobData();
  const { moving, arrived, t0, phases } = await moveFrozenMidCopy();
  // Mid-copy for real: the old container is stopped, s3's helper is receiving, part of big.bin is there.
  expect((await (engines.get("s1") as Docker).getContainer("openclaw-bob").inspect()).State.Running).toBe(false);
  expect((await (engines.get("s3") as Docker).getContainer(HELPER).inspect()).State.Running).toBe(true);
  expect(arrived).toBeGreaterThan(0);
  expect(arrived).toBeLessThan(BIG_BYTES);
  const killed = Date.now();
  await (engines.get("s3") as Docker).getContainer(HELPER).kill();
  const err = await moving;
  const failedMs = Date.now() - killed;
  expect(err).toBeInstanceOf(MoveError);
  // The cause is named: the receiving side on s3, killed (the sender it then stopped is not the cause).
  expect((err as MoveError).message).toMatch(/^moving bob from s1 to s3 stopped: copying the volumes from s1 to s3 failed: the receiving side on s3: exit 137 \(killed\)/);
  expect((err as MoveError).message).toMatch(/\. bob runs again on s1; its roster file was not changed$/);
  expect((err as MoveError).message).not.toContain("already has");
  const answeredMs = await bobStayedOnS1();
  const after = await cli("s1", ["exec", "openclaw-bob", "sh", "-c", `cd ${BOB_FILES} && for f in big.bin notes/n.json; do echo "$(stat -c '%s %u' "$f") $(sha256sum "$f" | cut -d' ' -f1) $f"; done`]);
  expect(after.stdout).toBe(before);
  console.log(`move killed mid-copy: ${arrived} of ${BIG_BYTES} bytes of big.bin on s3 when its helper was killed (${killed - t0} ms after the move began); ` +
    `MoveError ${failedMs} ms after the kill, bob answered through s1's Caddy ${answeredMs} ms later; 2 checksums compared, unchanged; phases: ${phases.join(" | ")}; error: ${(err as MoveError).message}`);
}, 480_000);

test("a copy that differs from the source (another writer on s1 rewrites a file not sent yet, mid-copy): the verification refuses it, bob runs again on s1, s3 holds nothing", async () => {
  await bobData();
  const { moving, arrived, phases } = await moveFrozenMidCopy();
  expect(arrived).toBeGreaterThan(0);
  expect(arrived).toBeLessThan(BIG_BYTES / 2);
  // The source manifest was taken before the copy. The stream is sorted by name, so notes/n.json
  // goes out after big.bin: rewritten now (same size, other bytes), tar sends the new bytes without
  // noticing anything, and only the comparison with the manifest can refuse the copy. (A write into
  // the file tar is reading, big.bin, GNU tar refuses itself: "file changed as we read it".)
  const mp = await mountpoint("s1", "openclaw-bob-state");
  const write = await ssh(address("s1"), `printf '{"n":3}\\n' > ${mp}/move-test/notes/n.json`);
  expect(write.code).toBe(0);
  await (engines.get("s1") as Docker).getContainer(HELPER).unpause();
  const err = await moving;
  expect(err).toBeInstanceOf(MoveError);
  expect((err as MoveError).message).toBe(
    "moving bob from s1 to s3 stopped: the copy on s3 differs from s1: ./state/move-test/notes/n.json has a different SHA-256 in the copy. bob runs again on s1; its roster file was not changed");
  const answeredMs = await bobStayedOnS1();
  console.log(`move with a changed source: refused by the SHA-256 comparison; ${arrived} of ${BIG_BYTES} bytes of big.bin had arrived before the change; bob answered through s1's Caddy ${answeredMs} ms after the error; phases: ${phases.join(" | ")}`);
}, 480_000);

test("deleteData: [alice@s1] after alice's move: one deletion, on s1, run over SSH: s1's alice volumes gone; s2's alice untouched and answering", async () => {
  const moved = await programFor(AFTER_MOVE, { tenants: program.outputs.tenants, retainedData: [] });
  expect(moved.outputs.retainedData).toEqual([{ tenant: "alice", server: "s1", volumes: ["openclaw-alice-state", "openclaw-alice-credentials"] }]);
  const deleting = await programFor(AFTER_MOVE, { tenants: moved.outputs.tenants, retainedData: moved.outputs.retainedData }, { deleteData: ["alice@s1"] });
  expect(deleting.outputs.retainedData).toEqual([]);
  const deletions = [...ofType(deleting, TYPES.localCommand), ...ofType(deleting, TYPES.remoteCommand)].filter((c) => c.options.parentName === "TenantDataDeletion");
  expect(deletions.map((c) => [c.type, c.name])).toEqual([[TYPES.remoteCommand, "alice-on-s1-volumes"]]);
  const conn = deletions[0].inputs.connection as { host: string };
  expect(conn.host).toBe(address("s1"));

  const s1 = engines.get("s1") as Docker;
  const s2 = engines.get("s2") as Docker;
  const volumesOf = async (docker: Docker, prefix: string) => ((await docker.listVolumes({ filters: { name: [prefix] } })).Volumes ?? []).map((v) => v.Name).sort();
  expect(await volumesOf(s1, "openclaw-alice")).toEqual(["openclaw-alice-credentials", "openclaw-alice-state"]);
  const s2Before = (await s2.getContainer("openclaw-alice").inspect()).Id;
  const r = await ssh(conn.host, String(deletions[0].inputs.create));
  expect(r.code).toBe(0);
  console.log(`deleteData alice@s1 over SSH on s1: ${r.ms} ms`);
  expect(await volumesOf(s1, "openclaw-alice")).toEqual([]);
  expect(await volumesOf(s1, "openclaw-bob")).toEqual(["openclaw-bob-credentials", "openclaw-bob-state"]);
  expect(await volumesOf(s2, "openclaw-alice")).toEqual(["openclaw-alice-credentials", "openclaw-alice-state"]);
  const s2After = await s2.getContainer("openclaw-alice").inspect();
  expect([s2After.Id, s2After.State.Running]).toEqual([s2Before, true]);
  expect((await cli("s2", ["exec", "openclaw-alice", "sh", "-c", "stat -c %s ~/.openclaw/agents/main/sessions/s1.jsonl"])).stdout.trim()).toBe("1048576");
  expect((await viaEdge(address("s2"), "alice")).stdout.split("\n").pop()).toBe("200");
  // Run again (as a re-created command would): nothing left to delete, and it says so.
  const again = await ssh(conn.host, String(deletions[0].inputs.create));
  expect([again.code, again.stdout.trim()]).toEqual([0, "already gone: openclaw-alice-state\nalready gone: openclaw-alice-credentials"]);
});

test("npm run status --stack: every server asked, each tenant running on its own server, exit 0", async () => {
  const r = await statusOfStack();
  expect(r.stderr).not.toContain("cannot reach");
  expect(r.report.servers.map((s) => [s.server, s.reachable, s.error])).toEqual(SERVER_NAMES.map((n) => [n, true, null]));
  expect(runningRows(r.report)).toEqual(AFTER_MOVE.map((t) => `${t.server}/${t.name}`).sort());
  console.log(`status across three servers: ${r.report.elapsedMs} ms for the report`);
  // Each server's tenants sampled by ONE `docker stats` run on it (full IDs only on its command
  // line), not a stats call each: every running row has its figures, none sampled on its own.
  const runs = statsRuns();
  expect(runs.map((x) => x.host).sort()).toEqual([...ADDRESSES].sort());
  for (const server of SERVER_NAMES) {
    const rows = r.report.tenants.filter((t) => t.server === server && t.state === "running");
    const ids = runs.find((x) => x.host === address(server))?.ids ?? [];
    expect(ids.length).toBeGreaterThanOrEqual(rows.length);
    const engine = new Docker({ socketPath: path.join(RUN, server, "docker.sock") });
    const inspected = await Promise.all(rows.map(async (t) => (await engine.getContainer(t.container ?? "").inspect()).Id));
    expect(ids).toEqual(expect.arrayContaining(inspected));
    for (const t of rows) {
      expect(`${t.tenant}: ${typeof t.memoryUsedBytes} ${typeof t.cpuPercent}`).toBe(`${t.tenant}: number number`);
      expect(t.notes.filter((n) => n.startsWith("sampled on its own"))).toEqual([]);
    }
  }
  expect(r.code).toBe(0);
});

test("a stopped server fails with an error naming it, while the others keep serving", async () => {
  const stop = await run(["bash", path.join(__dirname, "..", "..", "machinery", "servers-env.sh"), "stop-server", "3"], "", 120_000);
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
  expect(message).toContain(`config servers.s3.ssh: server s3 does not answer at ssh://root@${address("s3")}:22 within 30 s (`);
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
