/**
 * `npm run dashboard -- --stack` on the three stand-in servers (test/machinery/servers-env.sh): four
 * tenants placed by the program (run under Pulumi's mock engine, its Docker resources replayed on
 * each server's engine over SSH, as threeServers.test.ts does), the real CLI watching the three
 * engines over ssh://, its JSON, /metrics and page (Debian's Chromium) showing each tenant on its
 * server; then s2's dockerd and sshd stopped: s2 unreachable (with why), its tenants unknown, while
 * s1's and s3's keep updating; then s2 started again.
 *
 * The files of this folder share one jest process in any order, and threeServers.test.ts stops s3:
 * this file starts every server first, restores any it stopped, and removes every object it made
 * (own tenant names dsh-*, own test label, own ports 18930-18939 and subnets 10.253.0.0/16).
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Docker from "dockerode";
import { Page } from "playwright-core";
import { npmScriptFile } from "../../support/cli";
import { ProgramRun, REPO_ROOT, baseConfig, fakeKey, runProgram } from "../../support/program";
import { projectTempDir, writeRoster } from "../../support/roster";
import { LaunchedBrowser, launchChromium } from "../../support/browser";
import { parsePrometheusText } from "../../support/prometheus";
import { TEST_LABEL, TestHealthTiming, httpRequest } from "../support/docker";
import { createSuiteTenants, overSsh, suiteTenants } from "../support/programTenants";

const ADDRESSES = (process.env.OPENCLAW_SERVERS ?? "").split(",").filter((a) => a !== "");
const KEY = process.env.OPENCLAW_SERVERS_KEY ?? "";
const SSH_BIN = process.env.OPENCLAW_SERVERS_SSH_BIN ?? "";
const SERVERS_ENV = path.join(REPO_ROOT, "test", "machinery", "servers-env.sh");
const IMAGE = "openclaw-standin:test";
const LABEL_VALUE = "dashboard-servers";
const LABELS = { [TEST_LABEL]: LABEL_VALUE };
/** TEST-ONLY: the program's 30 s health interval would make every wait 30 s; 5 s, as in threeServers.test.ts (checks every second saturate two cores). */
const HEALTH: TestHealthTiming = { interval: "5s", startPeriod: "10s" };
const SERVER_NAMES = ["s1", "s2", "s3"] as const;
const ROSTER = [
  { name: "dsh-s1a", server: "s1" },
  { name: "dsh-s2a", server: "s2" }, { name: "dsh-s2b", server: "s2" },
  { name: "dsh-s3a", server: "s3" },
];
const OURS = ROSTER.map((t) => t.name);
const LOST = "s2";
const PORT = 18986;
/** Generous: a cold ssh connection took 0.9 s here when idle and over 5 s while the suite's tenants started. */
const TIMEOUT_MS = 20000;
const REFRESH_S = 2;
/** Bound on "the dashboard shows it": a few refreshes, each at most a few per-server timeouts. */
const SHOWN_WITHIN_MS = 150_000;
const ARTIFACTS = path.join(REPO_ROOT, "test-artifacts");

jest.setTimeout(240_000);

interface Shell { code: number | null; stdout: string; stderr: string; ms: number }
function run(argv: string[], timeoutMs: number): Promise<Shell> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (d) => (stdout += String(d)));
    child.stderr.on("data", (d) => (stderr += String(d)));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}
async function serversEnv(command: "start-server" | "stop-server", server: string): Promise<Shell> {
  const r = await run(["bash", SERVERS_ENV, command, server.slice(1)], 120_000);
  if (r.code !== 0) throw new Error(`servers-env.sh ${command} ${server} failed (${r.code}): ${r.stderr}`);
  console.log(`servers-env.sh ${command} ${server}: ${r.ms} ms`);
  return r;
}

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000; i++) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A Docker client for one server over SSH that refuses a host key other than the one scanned at setup. */
function engineOverSsh(address: string): Docker {
  const known = fs.readFileSync(path.join(path.dirname(KEY), "known_hosts"), "utf8").split("\n").find((l) => l.startsWith(`${address} `))?.split(" ")[2];
  return new Docker({
    protocol: "ssh", host: address, port: 22, username: "root",
    sshOptions: { privateKey: fs.readFileSync(KEY), hostVerifier: (key: Buffer) => key.toString("base64") === known, readyTimeout: 10_000 },
  } as Docker.DockerOptions);
}
const address = (server: string): string => ADDRESSES[SERVER_NAMES.indexOf(server as (typeof SERVER_NAMES)[number])];

/** Every object this file made on one server (by its label and names), leftovers of an earlier run included. */
async function cleanup(docker: Docker): Promise<void> {
  const filters = { label: [`${TEST_LABEL}=${LABEL_VALUE}`] };
  const ours = (name: string) => OURS.some((t) => name === `openclaw-${t}` || name.startsWith(`openclaw-${t}-`));
  for (const c of await docker.listContainers({ all: true, filters })) {
    if (ours((c.Names[0] ?? "").replace(/^\//, ""))) await docker.getContainer(c.Id).remove({ force: true, v: false });
  }
  for (const n of await docker.listNetworks({ filters })) if (ours(n.Name)) await docker.getNetwork(n.Id).remove();
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) if (ours(v.Name)) await docker.getVolume(v.Name).remove();
}

/** Creates on `server`'s engine what the program registered there, as the Docker provider would. */
async function replay(program: ProgramRun, server: string, docker: Docker): Promise<void> {
  await createSuiteTenants(docker, suiteTenants(program, { image: IMAGE, extraLabels: LABELS, healthTiming: HEALTH }, { server }), 60_000,
    overSsh(server, (command) => run([path.join(SSH_BIN, "ssh"), address(server), "--", command], 120_000)));
}

interface Dashboard { child: ChildProcess; output: () => string; exited: Promise<number | null> }
const SSH_WRAPPER = path.join(os.tmpdir(), `dsh-ssh-${process.pid}`);
/** How many `docker stats` the dashboard ran on each server address so far (one per refresh: collect's sampleAll). */
function statsRunsByHost(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of fs.readFileSync(`${SSH_WRAPPER}.log`, "utf8").split("\n")) {
    const m = / -- (\S+) 'docker' 'stats' '--no-stream' '--no-trunc' '--format' '\{\{json \.\}\}'(?: '[0-9a-f]{64}')+$/.exec(l);
    if (m !== null) out[m[1]] = (out[m[1]] ?? 0) + 1;
  }
  return out;
}
/** The real CLI as `npm run dashboard -- --stack` runs it; ssh through the servers' wrapper (their known hosts). */
function startDashboard(args: string[]): Promise<Dashboard> {
  // The servers' ssh behind a wrapper that logs each command line (the commands run on the servers).
  fs.writeFileSync(SSH_WRAPPER, `#!/bin/sh\nprintf '%s\\n' "$*" >> ${SSH_WRAPPER}.log\nexec ${path.join(SSH_BIN, "ssh")} "$@"\n`, { mode: 0o755 });
  fs.writeFileSync(`${SSH_WRAPPER}.log`, "");
  const env: NodeJS.ProcessEnv = { ...process.env, OPENCLAW_STATUS_SSH: SSH_WRAPPER, OPENCLAW_DASHBOARD_TOKEN: "" };
  delete env.DOCKER_HOST;
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js"), "--transpile-only", npmScriptFile("dashboard"), ...args], {
    cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill("SIGKILL"), 900_000);
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => {
    clearTimeout(killer);
    resolve(code);
  }));
  return waitFor("the dashboard to listen", 60_000, async () => (out.includes("listening on") || child.exitCode !== null ? true : undefined))
    .then(() => ({ child, output: () => out, exited }));
}

interface StatusJson {
  report: {
    checkedAt: string;
    elapsedMs: number;
    tenants: { tenant: string; server: string; state: string; memoryUsedBytes: number | null; cpuPercent: number | null; notes: string[] }[];
    servers: { server: string; reachable: boolean; error: string | null; tenants: number; running: number; elapsedMs: number | null; cpus: number | null; memoryCapacityBytes: number | null }[];
  };
}
async function status(): Promise<StatusJson["report"] | undefined> {
  const r = await httpRequest("127.0.0.1", PORT, "/api/status").catch(() => undefined);
  return r?.status === 200 ? (JSON.parse(r.body) as StatusJson).report : undefined;
}
/** Our tenants as server/tenant=state, in name order. */
const ourRows = (report: StatusJson["report"]): string[] =>
  report.tenants.filter((t) => OURS.includes(t.tenant)).map((t) => `${t.server}/${t.tenant}=${t.state}`).sort();
const expected = (state: (server: string) => string): string[] => ROSTER.map((t) => `${t.server}/${t.name}=${state(t.server)}`).sort();
async function metrics(): Promise<ReturnType<typeof parsePrometheusText>> {
  const r = await httpRequest("127.0.0.1", PORT, "/metrics");
  expect(r.status).toBe(200);
  return parsePrometheusText(r.body);
}
const byServer = (f: ReturnType<typeof parsePrometheusText>, name: string): Record<string, number> =>
  Object.fromEntries((f.get(name)?.samples ?? []).map((s) => [s.labels.server, s.value]));

const engines = new Map<string, Docker>();
const stopped = new Set<string>();
let stack = "";
let stateDir = "";
let dash: Dashboard | undefined;
let browser: LaunchedBrowser | undefined;
let page: Page;

beforeAll(async () => {
  if (ADDRESSES.length !== 3 || KEY === "" || SSH_BIN === "") {
    throw new Error("the three servers are not up: run this suite through test/machinery/run.sh (it runs test/machinery/servers-env.sh up)");
  }
  // Another file of this folder may have stopped one (threeServers.test.ts stops s3).
  for (const server of SERVER_NAMES) await serversEnv("start-server", server);
  for (const server of SERVER_NAMES) engines.set(server, engineOverSsh(address(server)));
  for (const server of SERVER_NAMES) await waitFor(`${server}'s engine over SSH`, 60_000, () => engines.get(server)!.ping().then(() => true, () => undefined));
  await Promise.all(SERVER_NAMES.map((s) => cleanup(engines.get(s)!)));

  const rosterDir = projectTempDir("dashboard-servers");
  writeRoster(ROSTER.map(({ name, server }) => ({ name, tier: "light" as const, extra: `server: ${server}` })), rosterDir);
  const servers = Object.fromEntries(SERVER_NAMES.map((name, i) => [name, {
    ssh: { host: ADDRESSES[i], user: "root", privateKeyPath: KEY }, publicIp: ADDRESSES[i], memoryMb: 4096, cpus: 2,
    tenantNetworks: "10.253.0.0/16", portPool: { start: 18930, end: 18939 },
  }]));
  const config = baseConfig(rosterDir, {
    domain: "claw.test", image: IMAGE, apiKeys: Object.fromEntries(ROSTER.map((t) => [t.name, fakeKey(t.name)])), servers,
    caddy: { caddyfilePath: "/run/openclaw-edge/Caddyfile", adminAddress: "localhost:2019", localCerts: true, storageDir: "/run/openclaw-edge/data" },
  });
  const program = await runProgram(config, {}, undefined, { OPENCLAW_KNOWN_HOSTS: path.join(path.dirname(KEY), "known_hosts") });
  const t0 = Date.now();
  await Promise.all(SERVER_NAMES.map((s) => replay(program, s, engines.get(s)!)));
  console.log(`dashboard servers: ${ROSTER.length} tenants placed on three servers over SSH in ${Date.now() - t0} ms`);

  // The stack the dashboard reads: the same servers map and roster, in a throw-away stack file.
  stack = `test-dashboard-servers-${process.pid}`;
  fs.writeFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), `config: ${JSON.stringify(Object.fromEntries(Object.entries(config).map(([k, v]) => [`openclaw-hosting:${k}`, v])))}\n`);
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "dsh-state-"));
  dash = await startDashboard(["--stack", stack, "--listen", `127.0.0.1:${PORT}`, "--refresh", String(REFRESH_S), "--sample", "5", "--disk", "10",
    "--timeout", String(TIMEOUT_MS), "--state-dir", stateDir]);
  expect(dash.output()).toContain(`servers of stack ${stack}, each asked in parallel (timeout ${TIMEOUT_MS} ms per call): s1=ssh://root@${address("s1")}:22`);
  browser = await launchChromium();
  fs.mkdirSync(ARTIFACTS, { recursive: true });
}, 420_000);

afterAll(async () => {
  console.log(`the dashboard's log (last lines):\n${(dash?.output() ?? "").split("\n").slice(-25).join("\n")}`);
  await browser?.close();
  if (dash !== undefined && dash.child.exitCode === null) {
    dash.child.kill("SIGTERM");
    await dash.exited;
  }
  // Servers back first (the next file may need them), then everything this file made.
  for (const server of stopped) await serversEnv("start-server", server);
  for (const server of SERVER_NAMES) {
    const docker = engines.get(server);
    if (docker !== undefined) await waitFor(`${server}'s engine`, 60_000, () => docker.ping().then(() => true, () => undefined)).then(() => cleanup(docker));
  }
  if (stack !== "") fs.rmSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), { force: true });
  if (stateDir !== "") fs.rmSync(stateDir, { recursive: true, force: true });
  for (const f of [SSH_WRAPPER, `${SSH_WRAPPER}.log`]) fs.rmSync(f, { force: true });
}, 300_000);

test("the JSON API and /metrics: every server answering, each tenant running on its own server", async () => {
  const t0 = Date.now();
  let seen: StatusJson["report"] | undefined;
  const report = await waitFor("every tenant running on its server", SHOWN_WITHIN_MS, async () => {
    seen = await status();
    return seen !== undefined && ourRows(seen).join() === expected(() => "running").join() ? seen : undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}; last seen: ${JSON.stringify({ rows: seen && ourRows(seen), servers: seen?.servers })}`);
  });
  console.log(`dashboard over three servers: report ${report.elapsedMs} ms (per server: ${report.servers.map((s) => `${s.server} ${s.elapsedMs} ms`).join(", ")}), shown ${Date.now() - t0} ms after start`);
  expect(report.servers.map((s) => [s.server, s.reachable, s.error, s.cpus, s.memoryCapacityBytes])).toEqual(SERVER_NAMES.map((s) => [s, true, null, 2, 4096 * 1024 * 1024]));
  expect(report.tenants.filter((t) => OURS.includes(t.tenant)).every((t) => (t.memoryUsedBytes ?? 0) > 0)).toBe(true);
  // Each server's tenants sampled by one `docker stats` on it per refresh, none on its own.
  expect(report.tenants.filter((t) => OURS.includes(t.tenant)).every((t) => t.cpuPercent !== null && !t.notes.some((n) => n.startsWith("sampled on its own")))).toBe(true);
  const runs = statsRunsByHost();
  console.log(`docker stats runs per server so far: ${JSON.stringify(runs)}`);
  expect(Object.keys(runs).sort()).toEqual([...ADDRESSES].sort());

  const f = await waitFor("metrics of every tenant", SHOWN_WITHIN_MS, async () => {
    const m = await metrics();
    return (m.get("openclaw_tenant_up")?.samples ?? []).filter((s) => OURS.includes(s.labels.tenant) && s.value === 1).length === OURS.length ? m : undefined;
  });
  expect(byServer(f, "openclaw_server_up")).toEqual({ s1: 1, s2: 1, s3: 1 });
  expect(byServer(f, "openclaw_server_cpus")).toEqual({ s1: 2, s2: 2, s3: 2 });
  const up = (f.get("openclaw_tenant_up")?.samples ?? []).filter((s) => OURS.includes(s.labels.tenant));
  expect(up.map((s) => `${s.labels.server}/${s.labels.tenant}=${s.value}`).sort()).toEqual(ROSTER.map((t) => `${t.server}/${t.name}=1`).sort());
});

test("the page in Chromium: each tenant on its server, a card per server", async () => {
  page = await browser!.context.newPage();
  await page.goto(`http://127.0.0.1:${PORT}/`);
  await page.fill("#filter", "dsh-");
  for (const t of ROSTER) {
    await page.waitForSelector(`#tenants tbody tr[data-tenant="${t.name}"][data-server="${t.server}"][data-state="running"]`, { timeout: SHOWN_WITHIN_MS });
    expect(await page.locator(`#tenants tbody tr[data-tenant="${t.name}"] td.server-name`).innerText()).toBe(t.server);
  }
  for (const s of SERVER_NAMES) await page.waitForSelector(`#servers .server[data-server="${s}"][data-reachable="true"]`, { timeout: SHOWN_WITHIN_MS });
  expect(await page.locator(`#servers .server[data-server="s2"] dd.cpu`).innerText()).toMatch(/% of one core \([\d.]+% of its 2 CPUs\)$/);
  expect(await page.locator("#engine").innerText()).toBe("3 servers, all answering");
});

test("s2 stopped: shown unreachable with why, its tenants unknown, while s1 and s3 keep updating", async () => {
  stopped.add(LOST);
  await serversEnv("stop-server", LOST);
  const t0 = Date.now();
  const down = await waitFor("s2 unreachable", SHOWN_WITHIN_MS, async () => {
    const r = await status();
    return r?.servers.find((s) => s.server === LOST)?.reachable === false ? r : undefined;
  });
  console.log(`s2 shown unreachable ${Date.now() - t0} ms after its dockerd and sshd stopped; report ${down.elapsedMs} ms (per server: ${down.servers.map((s) => `${s.server} ${s.elapsedMs} ms`).join(", ")}); s2: ${down.servers[1].error ?? ""}`);
  expect(down.servers.map((s) => [s.server, s.reachable])).toEqual([["s1", true], ["s2", false], ["s3", true]]);
  expect(down.servers[1].error).toEqual(expect.stringMatching(/\S/));
  expect(ourRows(down)).toEqual(expected((s) => (s === LOST ? "unknown" : "running")));

  // The others keep updating: further refreshes, each with s1's and s3's tenants running.
  let last = down.checkedAt;
  for (let i = 0; i < 3; i++) {
    const next = await waitFor("another refresh", SHOWN_WITHIN_MS, async () => {
      const r = await status();
      return r !== undefined && r.checkedAt !== last ? r : undefined;
    });
    last = next.checkedAt;
    console.log(`refresh with s2 down: ${next.elapsedMs} ms (per server: ${next.servers.map((s) => `${s.server} ${s.elapsedMs} ms`).join(", ")})`);
    expect(ourRows(next)).toEqual(expected((s) => (s === LOST ? "unknown" : "running")));
    expect(next.tenants.filter((t) => t.server !== LOST && OURS.includes(t.tenant)).every((t) => (t.memoryUsedBytes ?? 0) > 0)).toBe(true);
  }

  const f = await metrics();
  expect(byServer(f, "openclaw_server_up")).toEqual({ s1: 1, s2: 0, s3: 1 });
  const up = (f.get("openclaw_tenant_up")?.samples ?? []).filter((s) => OURS.includes(s.labels.tenant));
  expect(up.map((s) => `${s.labels.server}/${s.labels.tenant}`).sort()).toEqual(["s1/dsh-s1a", "s3/dsh-s3a"]);

  // The page: s2's card says unreachable and why; its rows unknown; the others running.
  await page.waitForSelector(`#servers .server[data-server="s2"][data-reachable="false"]`, { timeout: SHOWN_WITHIN_MS });
  expect((await page.locator(`#servers .server[data-server="s2"] dd.reason`).innerText()).trim()).not.toBe("");
  for (const t of ROSTER) {
    const state = t.server === LOST ? "unknown" : "running";
    await page.waitForSelector(`#tenants tbody tr[data-tenant="${t.name}"][data-server="${t.server}"][data-state="${state}"]`, { timeout: SHOWN_WITHIN_MS });
  }
  for (const s of ["s1", "s3"]) expect(await page.getAttribute(`#servers .server[data-server="${s}"]`, "data-reachable")).toBe("true");
  expect(await page.locator("#engine").innerText()).toBe("3 servers, 1 unreachable");
  await page.screenshot({ path: path.join(ARTIFACTS, "dashboard-servers.png"), fullPage: true });

  // History: s1's tenant sampled all along, with its server; s2's tenants have a gap, not zeros.
  const h = JSON.parse((await httpRequest("127.0.0.1", PORT, "/api/history?tenant=dsh-s1a")).body) as { t: number[]; memoryBytes: (number | null)[]; server: (string | null)[] };
  expect(h.t.length).toBeGreaterThan(1);
  expect(h.server[h.server.length - 1]).toBe("s1");
  expect(h.memoryBytes[h.memoryBytes.length - 1]).toBeGreaterThan(0);
  const lost = JSON.parse((await httpRequest("127.0.0.1", PORT, "/api/history?tenant=dsh-s2a")).body) as { memoryBytes: (number | null)[] };
  expect(lost.memoryBytes[lost.memoryBytes.length - 1]).toBeNull();
  expect(dash!.output()).toContain("server s2 unreachable:");
});

test("s2 started again: the dashboard finds it, its tenants running again", async () => {
  const runsBefore = statsRunsByHost()[address(LOST)] ?? 0;
  await serversEnv("start-server", LOST);
  stopped.delete(LOST);
  const t0 = Date.now();
  const back = await waitFor("s2 answering with its tenants running", SHOWN_WITHIN_MS * 2, async () => {
    const r = await status();
    return r !== undefined && ourRows(r).join() === expected(() => "running").join() ? r : undefined;
  });
  console.log(`s2 and its tenants shown running ${Date.now() - t0} ms after start-server (its containers restart with their policy)`);
  expect(back.servers.map((s) => s.reachable)).toEqual([true, true, true]);
  // Its new connection samples by one command again.
  expect(statsRunsByHost()[address(LOST)] ?? 0).toBeGreaterThan(runsBefore);
  expect(dash!.output()).toContain("server s2 answers again");
});
