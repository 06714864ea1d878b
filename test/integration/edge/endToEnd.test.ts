/**
 * The whole path, for real: the program (under Pulumi's mock engine) for a small roster → its
 * Docker volumes, networks and containers created on the private engine (translated field by field
 * by ../support/docker.ts, image replaced by the stand-in gateway) → its edge command (the exact
 * `installCommand` string, run by /bin/bash -c with the rendered Caddyfile on stdin) installing the
 * Caddyfile into a live, sandboxed Caddy → HTTPS requests and a WebSocket through Caddy into the
 * tenants' containers, and a reload (another tenant added) that an open WebSocket survives.
 *
 *   DOCKER_HOST=unix:///run/openclaw-test/docker.sock npx jest --selectProjects integration --runInBand test/integration/edge
 *
 * Engine objects carry openclaw-hosting.test=edge-end-to-end (removed at start and in afterAll); the
 * port pool 28730-28739 and the block 10.238.0.0/24 are this suite's alone.
 */
import Docker from "dockerode";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { WebSocket } from "ws";
import { INSTALL_SCRIPT_PATH, ROUTES_SCRIPT_PATH, installCommand, routesCommand } from "../../../components/edge";
import { CapturedResource, ProgramRun, fakeKey, ofType, runProgram, TYPES } from "../../support/program";
import { projectTempDir, writeRoster, TestTenant } from "../../support/roster";
import { EdgeApply, EdgeCommand, EdgePorts, TEST_DOMAIN, applyEdge, edgeCommandOf, testCaddyfile, testStackConfig } from "../caddy/fixtures";
import {
  CaddySandbox, Cleanup, RunningCaddy, caddySandbox, caddySupportsProxySubdirective, caddyVersion, echo, freePort,
  httpGet, httpsGet, localRootCaPath, makeTempDir, openWebSocket, portIsFree, removeDir, sleep, startCaddy, waitUntil,
} from "../support/caddy";
import {
  TEST_LABEL, TestHealthTiming, TranslatedContainer, createAndStart, dockerClient, execNode, httpRequest, removeLabelled, translateContainer,
  translateNetwork, translateVolume, waitHealthy,
} from "../support/docker";
import { RunStateFile, httpsGetWithHeaders, summarise } from "./helpers";
import { applyOwnership, applyProcessLimits, removeProcessLimits } from "../support/serverCommands";

jest.setTimeout(30_000);

const IMAGE = process.env.OPENCLAW_STANDIN_TAG ?? "openclaw-standin:test";
const LABEL_VALUE = "edge-end-to-end";
const LABELS = { [TEST_LABEL]: LABEL_VALUE };
const LABEL_FILTER = `${TEST_LABEL}=${LABEL_VALUE}`;
/** This suite's own: the docker suite uses 28710-28719 and 10.237.0.0/24. */
const PORT_POOL = { start: 28730, end: 28739 };
const TENANT_NETWORKS = "10.238.0.0/24";
/** TEST-ONLY (as in the docker suite): the program's 30 s health interval would make every wait 30 s. */
const TEST_ONLY_HEALTH_TIMING: TestHealthTiming = { interval: "1s", startPeriod: "10s" };
const HEALTHY_WITHIN_MS = 45_000;
const SUSPENDED_TEXT = (host: string): string => `${host} is suspended. Its data is kept; ask your operator to resume it.`;

const ROSTER: TestTenant[] = [
  { name: "alice", tier: "light" },
  { name: "bob", tier: "light" },
  { name: "carol", tier: "light", state: "suspended" },
];
const ADDED: TestTenant = { name: "dave", tier: "light" };

interface Tenant {
  name: string;
  container: string;
  port: number;
  token: string;
  trustedProxies: string[];
  /** The container's hostname (Docker sets it to the short id): what `whoami` reports. */
  hostname: string;
  /** Written straight into the container (not through Caddy) before any request through Caddy. */
  marker: string;
}

interface WhoAmI {
  remoteAddress: string;
  trusted: boolean;
  trustedProxies: string[];
  tokenValid: boolean;
  hostname: string;
  remotePort: number;
  headers: Record<string, string | undefined>;
}

const docker: Docker = dockerClient();
const cleanup = new Cleanup();
const stateFile = new RunStateFile("openclaw-it-edge-e2e", "openclaw-it-edge-e2e-");
const tenants = new Map<string, Tenant>();
const figures: Record<string, unknown> = {};
let dir = "";
let sandbox: CaddySandbox;
let ports: EdgePorts;
let rosterDir: string;
let run1: ProgramRun;
let edge: EdgeCommand;
let caddy: RunningCaddy | undefined;
let ca: string;

function tenant(name: string): Tenant {
  const t = tenants.get(name);
  if (t === undefined) throw new Error(`tenant ${name} was not set up`);
  return t;
}

const labelsOf = (r: CapturedResource): Record<string, string> =>
  Object.fromEntries((r.inputs.labels as Array<{ label: string; value: string }>).map((l) => [l.label, l.value]));

/** The test stack's config: the edge on loopback high ports, API keys for the roster's active tenants. */
function stackConfig(): Record<string, unknown> {
  const active = [...ROSTER, ADDED].filter((t) => t.state !== "suspended" && fs.existsSync(path.join(rosterDir, `${t.name}.yaml`))).map((t) => t.name);
  return { ...testStackConfig({ rosterDir, sandbox, ports, portPool: PORT_POOL, activeTenants: active }), tenantNetworks: TENANT_NETWORKS, cgroupDriver: "cgroupfs" };
}

/** Runs the edge's commands exactly as local.Command does, only those whose inputs changed since `previous` (as `pulumi up`). */
function install(command: EdgeCommand, previous?: EdgeCommand): Promise<EdgeApply> {
  return applyEdge(command, sandbox.env, previous);
}

/**
 * Creates what `run` registers on the engine and is not there yet (volumes, networks, containers),
 * as the provider would, then waits for healthy (the provider's `wait`). Refuses to adopt or clobber
 * an object of the same name that is not this suite's.
 */
async function applyDocker(run: ProgramRun): Promise<{ created: string[]; healthyMs: Record<string, number> }> {
  const created: string[] = [];
  const mine = (labels: Record<string, string> | undefined | null): boolean => labels?.[TEST_LABEL] === LABEL_VALUE;
  // Translate everything first: an unknown field fails before anything is created.
  const volumes = ofType(run, TYPES.volume).map((r) => translateVolume(r.inputs, LABELS));
  const networks = ofType(run, TYPES.network).map((r) => translateNetwork(r.inputs, LABELS));
  const containers: TranslatedContainer[] = ofType(run, TYPES.container).map((r) =>
    translateContainer(r.inputs, { image: IMAGE, extraLabels: LABELS, healthTiming: TEST_ONLY_HEALTH_TIMING }),
  );
  await applyProcessLimits(run); // each tenant's limited parent cgroup, before its container
  for (const v of volumes) {
    const existing = await docker.getVolume(String(v.Name)).inspect().catch(() => undefined);
    if (existing !== undefined && !mine(existing.Labels)) throw new Error(`volume ${String(v.Name)} exists and is not this suite's`);
    if (existing === undefined) {
      await docker.createVolume(v);
      created.push(`volume ${String(v.Name)}`);
    }
  }
  for (const n of networks) {
    const existing = (await docker.getNetwork(n.Name).inspect().catch(() => undefined)) as Docker.NetworkInspectInfo | undefined;
    if (existing !== undefined && !mine(existing.Labels)) throw new Error(`network ${n.Name} exists and is not this suite's`);
    if (existing === undefined) {
      await docker.createNetwork(n);
      created.push(`network ${n.Name}`);
    }
  }
  await applyOwnership(run, IMAGE); // each tenant's volumes its own uid's, before its container
  const fresh: TranslatedContainer[] = [];
  for (const c of containers) {
    const existing = await docker.getContainer(c.name).inspect().catch(() => undefined);
    if (existing !== undefined && !mine(existing.Config.Labels)) throw new Error(`container ${c.name} exists and is not this suite's`);
    if (existing === undefined) fresh.push(c);
  }
  for (const c of fresh) {
    const bindings = Object.values((c.create.HostConfig?.PortBindings ?? {}) as Record<string, Array<{ HostPort?: string }>>);
    const port = Number(bindings[0]?.[0]?.HostPort);
    if (!(await portIsFree(port))) throw new Error(`127.0.0.1:${port} (this suite's pool) is taken by something else`);
  }
  await Promise.all(fresh.map((c) => createAndStart(docker, c)));
  created.push(...fresh.map((c) => `container ${c.name}`));
  const times = await Promise.all(fresh.map((c) => waitHealthy(docker, c.name, Math.min(c.wait.timeoutSeconds * 1000, HEALTHY_WITHIN_MS))));
  return { created, healthyMs: Object.fromEntries(fresh.map((c, i) => [c.name, times[i]])) };
}

/** Records what a tenant's container is, from the program's inputs and the engine. */
async function learnTenant(run: ProgramRun, name: string): Promise<Tenant> {
  const c = ofType(run, TYPES.container).find((r) => labelsOf(r)["openclaw.tenant"] === name);
  if (c === undefined) throw new Error(`the program made no container for ${name}`);
  const env = new Map((c.inputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  const settings = JSON.parse(env.get("OPENCLAW_HOSTING_SETTINGS") ?? "[]") as Array<{ path: string; value: unknown }>;
  const container = String(c.inputs.name);
  const port = (c.inputs.ports as Array<{ external: number }>)[0].external;
  const info = await docker.getContainer(container).inspect();
  const marker = `${name}-marker-${process.pid}-${Date.now()}`;
  // Straight into the container through its published port: the identity the edge must lead to.
  const w = await httpRequest("127.0.0.1", port, "/__standin/write?name=edge-identity.txt", { method: "POST", body: marker });
  if (w.status !== 200) throw new Error(`writing ${name}'s marker: ${w.status} ${w.body}`);
  const t: Tenant = {
    name,
    container,
    port,
    token: env.get("OPENCLAW_GATEWAY_TOKEN") ?? "",
    trustedProxies: (settings.find((s) => s.path === "gateway.trustedProxies")?.value as string[] | undefined) ?? [],
    hostname: info.Config.Hostname,
    marker,
  };
  tenants.set(name, t);
  return t;
}

const host = (name: string): string => `${name}.${TEST_DOMAIN}`;

function viaCaddy(name: string, urlPath: string, headers?: Record<string, string>, agent?: https.Agent): ReturnType<typeof httpsGetWithHeaders> {
  return httpsGetWithHeaders({ host: host(name), port: ports.https, path: urlPath, ca, headers, agent });
}

async function whoamiViaCaddy(name: string, headers?: Record<string, string>): Promise<WhoAmI> {
  const res = await viaCaddy(name, "/__standin/whoami", headers);
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as WhoAmI;
}

/** Waits (bounded) until https://name.<domain> reaches the container whose hostname is `hostname`. */
function waitRoutable(name: string, hostname: string): Promise<true> {
  return waitUntil(
    `https://${host(name)} to reach ${name}'s container`,
    async () => {
      const res = await httpsGet({ host: host(name), port: ports.https, path: "/__standin/whoami", ca, timeoutMs: 2_000 });
      return res.status === 200 && (JSON.parse(res.body) as WhoAmI).hostname === hostname ? true : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );
}

beforeAll(async () => {
  const t0 = Date.now();
  // Leftovers of an earlier run of THIS suite that crashed: its Caddy and temp dir, its engine objects.
  const hostLeft = stateFile.clearLeftovers();
  await docker.ping();
  await docker.getImage(IMAGE).inspect(); // built by test/machinery/runtime-env.sh build-image
  const engineLeft = await removeLabelled(docker, LABEL_FILTER);
  if (hostLeft.length + engineLeft.length > 0) console.log(`removed leftovers of an earlier run: ${[...hostLeft, ...engineLeft].join("; ")}`);

  // Clean-up steps are registered before what they undo is created, so a failure half-way is covered.
  cleanup.add("remove the state file", () => stateFile.remove());
  // Steps run last-in first-out: the limits go after the containers that ran under them.
  cleanup.add("remove the tenants' process limits", () => removeProcessLimits());
  cleanup.add("remove labelled engine objects", async () => {
    await removeLabelled(docker, LABEL_FILTER);
  });
  dir = makeTempDir("edge-e2e");
  stateFile.write({ dir });
  cleanup.add(`remove ${dir}`, () => removeDir(dir));
  sandbox = caddySandbox(dir);
  if (!caddySupportsProxySubdirective("stream_close_delay 5m", dir)) {
    throw new Error(`${caddyVersion()} rejects stream_close_delay (added in Caddy 2.7.0): run test/machinery/runtime-env.sh install`);
  }
  ports = { http: await freePort(), https: await freePort(), admin: await freePort() };
  // Inside the project: the program reads no roster folder outside it.
  rosterDir = projectTempDir("e2e-roster");
  writeRoster(ROSTER, rosterDir);

  // 1. The program under mocks.
  const p0 = Date.now();
  run1 = await runProgram(stackConfig());
  figures.programRunMs = Date.now() - p0;
  edge = edgeCommandOf(run1);

  // 2. Its Docker resources on the real engine.
  const d0 = Date.now();
  const applied = await applyDocker(run1);
  figures.createToHealthyMs = { ...applied.healthyMs, all: Date.now() - d0 };
  for (const name of ["alice", "bob"]) await learnTenant(run1, name);

  // 3. Caddy as a package leaves it: running, with a Caddyfile that routes nothing yet.
  fs.writeFileSync(
    sandbox.caddyfilePath,
    testCaddyfile(sandbox, ports),
  );
  const started = await startCaddy({ configPath: sandbox.caddyfilePath, adminAddress: `127.0.0.1:${ports.admin}`, env: sandbox.env, logFile: path.join(dir, "caddy.log") });
  caddy = started;
  stateFile.write({ dir, caddyPid: started.pid });
  cleanup.add(`stop caddy (pid ${started.pid})`, () => started.stop());

  // 4. The program's edge command installs the program's Caddyfile.
  const r = await install(edge);
  figures.firstInstallMs = Math.round(r.ms);
  if (r.exitCode !== 0) throw new Error(`edge command failed (${r.exitCode}):\n${r.stderr}\n--- caddy log ---\n${started.logTail()}`);
  ca = await waitUntil(
    "Caddy's local root CA",
    async () => (fs.existsSync(localRootCaPath(sandbox.storageDir)) ? fs.readFileSync(localRootCaPath(sandbox.storageDir), "utf8") : undefined),
    { timeoutMs: 10_000 },
  );
  await waitRoutable("alice", tenant("alice").hostname);
  await waitRoutable("bob", tenant("bob").hostname);
  figures.setupMs = Date.now() - t0;
  console.log(`setup: ${JSON.stringify(figures)} (${caddyVersion()})`);
}, 120_000);

afterAll(async () => {
  const left = async (): Promise<number> => (await docker.listContainers({ all: true, filters: JSON.stringify({ label: [LABEL_FILTER] }) })).length;
  let failure: unknown;
  try {
    await cleanup.run();
  } catch (err) {
    failure = err;
  }
  console.log(`end-to-end figures: ${JSON.stringify(figures)}; labelled containers left: ${await left()}; temp dir left: ${dir !== "" && fs.existsSync(dir)}`);
  if (failure !== undefined) throw failure;
}, 60_000);

describe("roster → program → engine → edge command → live Caddy → tenant containers", () => {
  test("the edge commands are the program's install scripts run by /bin/bash -c, and route each host to its container's port", () => {
    expect(edge.interpreter).toEqual(["/bin/bash", "-c"]);
    expect(edge.create).toBe(installCommand(fs.readFileSync(INSTALL_SCRIPT_PATH, "utf8"), sandbox.caddyfilePath, `127.0.0.1:${ports.admin}`));
    expect(edge.routes.create).toBe(routesCommand(fs.readFileSync(ROUTES_SCRIPT_PATH, "utf8"), sandbox.routesDir));
    expect(fs.readFileSync(sandbox.caddyfilePath, "utf8")).toBe(edge.stdin);
    for (const t of tenants.values()) {
      expect(t.port).toBeGreaterThanOrEqual(PORT_POOL.start);
      expect(t.port).toBeLessThanOrEqual(PORT_POOL.end);
      expect(edge.routes.stdin).toContain(`${host(t.name)} port-${t.port}\n`);
      expect(fs.readdirSync(path.join(sandbox.routesDir, host(t.name)))).toEqual([`port-${t.port}`]);
    }
    expect(edge.routes.stdin).toContain(`${host("carol")} suspended\n`);
    expect(ofType(run1, TYPES.container).map((c) => String(c.inputs.name)).sort()).toEqual(["openclaw-alice", "openclaw-bob"]);
  });

  test("https://alice.<domain> reaches alice's container, from one of her trusted proxies, with X-Forwarded-*; her token opens the gate", async () => {
    const alice = tenant("alice");
    // A client that claims to be someone else: Caddy (which trusts no client) must not pass it on.
    const who = await whoamiViaCaddy("alice", { "x-forwarded-for": "203.0.113.66" });
    expect(who.hostname).toBe(alice.hostname);
    expect(alice.trustedProxies.length).toBeGreaterThan(0);
    expect(alice.trustedProxies).toContain(who.remoteAddress); // exactly as the gateway reports it
    expect(who.trusted).toBe(true);
    expect(who.trustedProxies).toEqual(alice.trustedProxies); // the container's own config, written at start
    expect(who.headers.host).toBe(host("alice"));
    expect(who.headers["x-forwarded-proto"]).toBe("https");
    expect(who.headers["x-forwarded-host"]).toBe(host("alice"));
    expect(who.headers["x-forwarded-for"]).toBe("127.0.0.1");
    // The file written straight into alice's container reads back through Caddy.
    const read = JSON.parse((await viaCaddy("alice", "/__standin/read?name=edge-identity.txt")).body) as { state: { content: string } };
    expect(read.state.content).toBe(alice.marker);
    const cfg = JSON.parse((await viaCaddy("alice", "/__standin/config")).body) as { config: { gateway: { controlUi: { allowedOrigins: string[] } } } };
    // The origin a browser sends: Caddy's https port is part of it (it is not 443 here).
    expect(cfg.config.gateway.controlUi.allowedOrigins).toEqual([`https://${host("alice")}:${ports.https}`]);

    // The gateway's gate, through Caddy (X-Forwarded-For present): her token → 200, none → 401, bob's → 401.
    const withToken = await viaCaddy("alice", "/__standin/protected", { authorization: `Bearer ${alice.token}` });
    expect({ status: withToken.status, body: withToken.body }).toEqual({ status: 200, body: JSON.stringify({ ok: true }) });
    expect((await viaCaddy("alice", "/__standin/protected")).status).toBe(401);
    expect((await viaCaddy("alice", "/__standin/protected", { authorization: `Bearer ${tenant("bob").token}` })).status).toBe(401);
    const whoWithToken = await whoamiViaCaddy("alice", { authorization: `Bearer ${alice.token}` });
    expect(whoWithToken.tokenValid).toBe(true);

    // Control: the same forwarded request from a proxy alice does NOT trust (a process inside her
    // container, 127.0.0.1) is refused, so the 200 above is the trusted-proxy configuration at work.
    const script =
      `fetch('http://127.0.0.1:18789/__standin/protected',{headers:{'x-forwarded-for':'127.0.0.1',authorization:'Bearer '+process.env.OPENCLAW_GATEWAY_TOKEN},signal:AbortSignal.timeout(3000)})` +
      `.then(async r=>console.log(r.status+' '+(await r.text()))).catch(e=>console.log('error '+e.message)).finally(()=>process.exit(0))`;
    const out = (await execNode(alice.container, script, 15_000)).stdout;
    expect(out).toContain(`403 ${JSON.stringify({ ok: false, error: "proxy_attribution_required" })}`);
    figures.remoteAddressThroughCaddy = who.remoteAddress;
  });

  test("latency through Caddy (HTTPS, keep-alive) against the container's published port", async () => {
    const alice = tenant("alice");
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
    const through: number[] = [];
    const direct: number[] = [];
    const fresh: number[] = [];
    try {
      for (let i = 0; i < 60; i++) {
        const s = performance.now();
        const res = await viaCaddy("alice", "/healthz", undefined, agent);
        if (i >= 10) through.push(performance.now() - s); // the first ones warm up the connection
        expect(res.status).toBe(200);
      }
      for (let i = 0; i < 10; i++) {
        const s = performance.now();
        expect((await viaCaddy("alice", "/healthz")).status).toBe(200); // new TCP + TLS each time
        fresh.push(performance.now() - s);
      }
      for (let i = 0; i < 50; i++) {
        const s = performance.now();
        expect((await httpRequest("127.0.0.1", alice.port, "/healthz")).status).toBe(200);
        direct.push(performance.now() - s);
      }
    } finally {
      agent.destroy();
    }
    figures.latencyMs = { viaCaddyKeepAlive: summarise(through), viaCaddyNewTlsConnection: summarise(fresh), directPublishedPort: summarise(direct) };
    console.log(`latency (ms): ${JSON.stringify(figures.latencyMs)}`);
    expect(summarise(through).p50).toBeLessThan(250);
  });

  test("bob's host reaches bob's container, never alice's; carol (suspended) answers 503 with the suspended text", async () => {
    const alice = tenant("alice");
    const bob = tenant("bob");
    expect(bob.hostname).not.toBe(alice.hostname);
    for (let i = 0; i < 5; i++) {
      const who = await whoamiViaCaddy("bob");
      expect(who.hostname).toBe(bob.hostname);
      expect(bob.trustedProxies).toContain(who.remoteAddress);
      expect(alice.trustedProxies).not.toContain(who.remoteAddress);
      expect(who.headers.host).toBe(host("bob"));
    }
    const read = JSON.parse((await viaCaddy("bob", "/__standin/read?name=edge-identity.txt")).body) as { state: { content: string } };
    expect(read.state.content).toBe(bob.marker);
    expect((await viaCaddy("bob", "/__standin/protected", { authorization: `Bearer ${bob.token}` })).status).toBe(200);
    expect((await viaCaddy("bob", "/__standin/protected", { authorization: `Bearer ${alice.token}` })).status).toBe(401);
    expect(bob.token).not.toBe(alice.token);

    const carol = await viaCaddy("carol", "/__standin/whoami");
    expect(carol.status).toBe(503);
    expect(carol.body).toBe(SUSPENDED_TEXT(host("carol")));
    // Suspended: no container; its data volumes are kept.
    await expect(docker.getContainer("openclaw-carol").inspect()).rejects.toMatchObject({ statusCode: 404 });
    const carolVolumes = ofType(run1, TYPES.volume).filter((v) => labelsOf(v)["openclaw.tenant"] === "carol");
    expect(carolVolumes).toHaveLength(2);
    for (const v of carolVolumes) expect((await docker.getVolume(String(v.inputs.name)).inspect()).Name).toBe(v.inputs.name);
    // A name with no site gets no certificate (the TLS handshake fails), not someone else's gateway.
    await expect(viaCaddy("nobody", "/__standin/whoami")).rejects.toThrow();
  });

  test("a WebSocket through Caddy to alice's container stays open while dave is added (routes only, no reload), and echoes after it", async () => {
    const alice = tenant("alice");
    const socket: WebSocket = await openWebSocket({ host: host("alice"), port: ports.https, path: "/ws", ca });
    let closed: { code: number; atMs: number } | undefined;
    const opened = performance.now();
    socket.on("close", (code) => {
      closed = { code, atMs: performance.now() - opened };
    });
    socket.on("error", () => undefined); // shows up as "close" and a failed echo
    try {
      const before = JSON.parse(await echo(socket, "__standin:whoami")) as WhoAmI;
      expect(before.hostname).toBe(alice.hostname);
      expect(alice.trustedProxies).toContain(before.remoteAddress);
      expect(before.trusted).toBe(true);
      expect(before.headers["x-forwarded-proto"]).toBe("https");
      expect(await echo(socket, "before-reload")).toBe("before-reload");

      // The roster changes: dave joins. The program runs again; only dave's objects are new.
      writeRoster([...ROSTER, ADDED], rosterDir);
      const run2 = await runProgram(stackConfig());
      const edge2 = edgeCommandOf(run2);
      for (const name of ["alice", "bob"]) {
        const inputsOf = (run: ProgramRun): unknown => ofType(run, TYPES.container).find((c) => labelsOf(c)["openclaw.tenant"] === name)?.inputs;
        expect(inputsOf(run2)).toEqual(inputsOf(run1)); // no replacement of a running tenant
      }
      expect(edge2.create).toBe(edge.create);
      expect(edge2.stdin).toBe(edge.stdin); // the Caddyfile names no tenant
      expect(edge2.routes.stdin).not.toBe(edge.routes.stdin);
      const configBefore = (await httpGet(`127.0.0.1:${ports.admin}`, "/config/")).body;
      const applied = await applyDocker(run2);
      const names = (run: ProgramRun, type: string): string[] => ofType(run, type).map((r) => String(r.inputs.name));
      const added = [TYPES.volume, TYPES.network, TYPES.container].flatMap((type) =>
        names(run2, type).filter((n) => !names(run1, type).includes(n)).map((n) => `${type.split(":")[2].toLowerCase()} ${n}`),
      );
      expect(added.length).toBe(4); // dave's two volumes, his network, his container
      expect(added.every((a) => a.includes("dave"))).toBe(true);
      expect([...applied.created].sort()).toEqual([...added].sort());
      const dave = await learnTenant(run2, "dave");

      const r0 = performance.now();
      const run = await install(edge2, edge);
      const installMs = performance.now() - r0;
      expect({ exitCode: run.exitCode, stderr: run.stderr }).toEqual({ exitCode: 0, stderr: expect.any(String) });
      expect(run.caddyfile).toBeUndefined(); // Pulumi runs only the routes command
      expect(run.stdout).toContain("Caddy not reloaded");
      await waitRoutable("dave", dave.hostname);
      const routableMs = performance.now() - r0;
      await sleep(200); // let a close (there should be none) arrive before the next send

      const after = await echo(socket, "after-reload").catch((err: Error) => `failed: ${err.message}`);
      const whoAfter = JSON.parse(await echo(socket, "__standin:whoami").catch(() => "{}")) as Partial<WhoAmI>;
      const change = {
        routesInstallMs: Math.round(installMs),
        caddyConfigUnchanged: (await httpGet(`127.0.0.1:${ports.admin}`, "/config/")).body === configBefore,
        toDaveRoutableMs: Math.round(routableMs),
        daveCreateToHealthyMs: applied.healthyMs,
        websocket: closed === undefined ? "stayed open" : `closed ${closed.code} after ${closed.atMs.toFixed(0)} ms`,
        sameUpstreamConnection: whoAfter.remotePort === before.remotePort,
      };
      figures.daveAdded = change;
      console.log(`dave added (routes only): ${JSON.stringify(change)}`);
      expect(change.caddyConfigUnchanged).toBe(true);
      expect({ closed, after }).toEqual({ closed: undefined, after: "after-reload" });
      expect(whoAfter.hostname).toBe(alice.hostname);
      expect(whoAfter.remotePort).toBe(before.remotePort); // the same connection into the container

      // After the change: dave through his own trusted proxy; alice and bob unchanged; carol still 503.
      const whoDave = await whoamiViaCaddy("dave");
      expect(dave.trustedProxies).toContain(whoDave.remoteAddress);
      expect((await viaCaddy("dave", "/__standin/protected", { authorization: `Bearer ${dave.token}` })).status).toBe(200);
      expect((await whoamiViaCaddy("alice")).hostname).toBe(alice.hostname);
      expect((await whoamiViaCaddy("bob")).hostname).toBe(tenant("bob").hostname);
      expect((await viaCaddy("carol", "/")).status).toBe(503);
      expect(fs.readFileSync(sandbox.caddyfilePath, "utf8")).toBe(edge2.stdin);
    } finally {
      socket.terminate();
      await waitUntil("socket to close", async () => (socket.readyState === WebSocket.CLOSED ? true : undefined), { timeoutMs: 2_000, intervalMs: 20 }).catch(() => undefined);
    }
  });

  test("each container has its own API key from the stack's apiKeys; Caddy is still the process the test started", async () => {
    for (const name of ["alice", "bob", "dave"]) {
      const info = await docker.getContainer(`openclaw-${name}`).inspect();
      expect(info.Config.Env).toContain(`ANTHROPIC_API_KEY=${fakeKey(name)}`);
    }
    expect(caddy?.child.exitCode).toBeNull();
  });
});
