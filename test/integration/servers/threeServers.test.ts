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
import { ProgramRun, TYPES, fakeKey, ofType, runProgram, baseConfig } from "../../support/program";
import { writeRoster, projectTempDir } from "../../support/roster";
import { TEST_LABEL, TestHealthTiming, translateContainer, translateNetwork, translateVolume, waitHealthy } from "../support/docker";

const ADDRESSES = (process.env.OPENCLAW_SERVERS ?? "").split(",").filter((a) => a !== "");
const KEY = process.env.OPENCLAW_SERVERS_KEY ?? "";
const SSH_BIN = process.env.OPENCLAW_SERVERS_SSH_BIN ?? "";
const RUN = process.env.OPENCLAW_SERVERS_RUN ?? "/run/openclaw-servers";
const IMAGE = "openclaw-standin:test";
const LABELS = { [TEST_LABEL]: "three-servers" };
/** TEST-ONLY, as in the other real-runtime suites: the program's 30 s health interval would make every wait 30 s. */
const HEALTH: TestHealthTiming = { interval: "1s", startPeriod: "10s" };
const SERVER_NAMES = ["s1", "s2", "s3"] as const;
const ROSTER = [
  { name: "alice", server: "s1" }, { name: "bob", server: "s1" },
  { name: "carol", server: "s2" }, { name: "dave", server: "s2" },
  { name: "erin", server: "s3" }, { name: "frank", server: "s3" },
];
const DOMAIN = "claw.test";

jest.setTimeout(240_000);

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
  const rosterDir = writeRoster(ROSTER.map(({ name, server }) => ({ name, tier: "light" as const, extra: `server: ${server}` })), projectTempDir("three-servers"));
  const servers = Object.fromEntries(SERVER_NAMES.map((name, i) => [name, {
    ssh: { host: ADDRESSES[i], user: "root", privateKeyPath: KEY },
    publicIp: ADDRESSES[i],
    memoryMb: 4096,
    cpus: 2,
    tenantNetworks: "10.252.0.0/16",
  }]));
  program = await runProgram(baseConfig(rosterDir, {
    domain: DOMAIN,
    image: "openclaw-standin:test",
    apiKeys: Object.fromEntries(ROSTER.map((t) => [t.name, fakeKey(t.name)])),
    servers,
    caddy: { caddyfilePath: "/run/openclaw-edge/Caddyfile", adminAddress: "localhost:2019", localCerts: true, storageDir: "/run/openclaw-edge/data" },
  }));
  for (const [i, name] of SERVER_NAMES.entries()) engines.set(name, engineOverSsh(ADDRESSES[i]));

  // Replay each server's share of the program on that server's engine, over SSH.
  const t0 = Date.now();
  await Promise.all(SERVER_NAMES.map(async (server) => {
    const docker = engines.get(server) as Docker;
    const mine = program.resources.filter((r) => r.provider?.split("::")[3] === `server-${server}`);
    for (const r of mine.filter((x) => x.type === TYPES.volume)) await docker.createVolume(translateVolume(r.inputs, LABELS));
    for (const r of mine.filter((x) => x.type === TYPES.network)) await docker.createNetwork(translateNetwork(r.inputs, LABELS));
    for (const r of mine.filter((x) => x.type === TYPES.container)) {
      const t = translateContainer(r.inputs, { image: IMAGE, extraLabels: LABELS, healthTiming: HEALTH });
      const c = await docker.createContainer(t.create);
      await c.start();
      await waitHealthy(docker, t.name, 60_000);
    }
  }));
  console.log(`three servers: replayed ${program.resources.filter((r) => r.type.startsWith("docker:")).length} Docker resources over SSH in ${Date.now() - t0} ms`);

  // Each server's edge command, over SSH, as command.remote runs it.
  for (const server of SERVER_NAMES) {
    const edge = ofType(program, TYPES.remoteCommand).find((c) => c.name === `edge-${server}-caddyfile`);
    if (edge === undefined) throw new Error(`no edge command for ${server}`);
    const r = await ssh(address(server), String(edge.inputs.create), String(edge.inputs.stdin));
    if (r.code !== 0) throw new Error(`edge command on ${server} failed (${r.code}): ${r.stderr}`);
    console.log(`edge command on ${server} over SSH: ${r.ms} ms`);
  }
});

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

test("a stopped server fails with an error naming it, while the others keep serving", async () => {
  const stop = await run(["bash", path.join(__dirname, "..", "..", "..", "scripts", "servers-env.sh"), "stop-server", "3"], "", 120_000);
  expect(stop.code).toBe(0);
  const lost = await ssh(address("s3"), "docker info", "", 20_000);
  expect(lost.code).not.toBe(0);
  expect(lost.stderr).toContain(address("s3"));
  for (const t of ROSTER.filter((x) => x.server !== "s3")) {
    const r = await viaEdge(address(t.server), t.name);
    expect(`${t.name}: ${r.stdout.split("\n").pop()}`).toBe(`${t.name}: 200`);
  }
  expect(fs.existsSync(path.join(RUN, "s3", "dockerd.pid"))).toBe(false);
});
