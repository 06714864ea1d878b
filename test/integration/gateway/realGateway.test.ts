/**
 * The REAL OpenClaw gateway behind the program: the program (under Pulumi's mock engine) for one
 * `standard` tenant → its volumes, network and container created on the private engine exactly as
 * the provider would (../support/docker.ts translates every field; only the image is swapped, for
 * the real one built from the npm registry by test/machinery/runtime-env.sh build-openclaw-image) → the
 * program's edge command installing its Caddyfile into a live Caddy → HTTPS, WebSockets and a real
 * browser (Debian's chromium, driven by playwright-core) through Caddy.
 *
 *   DOCKER_HOST=unix:///run/openclaw-test/docker.sock npx jest --selectProjects integration --runInBand test/integration/gateway
 *
 * One real gateway at a time (about 800 MB each). Engine objects carry
 * openclaw-hosting.test=real-gateway (removed at start and in afterAll); the port pool 28750-28759
 * and the block 10.236.0.0/24 are this suite's alone.
 */
import Docker from "dockerode";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { chromium, BrowserContext } from "playwright-core";
import { CACHE_DIR, CONFIG_DIR, CREDENTIALS_DIR, STATE_DIR, WRITABLE_PATHS, writableTmpfs } from "../../../core/gateway";
import { LEGACY_UID, UID_POOL, ownerOf } from "../../../core/tenantIdentity";
import { CapturedResource, ProgramRun, ofType, runProgram, TYPES } from "../../support/program";
import { projectTempDir, writeRoster, TestTenant } from "../../support/roster";
import { applyOwnership, applyProcessLimits, removeProcessLimits } from "../support/serverCommands";
import { EdgeApply, EdgeCommand, EdgePorts, TEST_DOMAIN, applyEdge, edgeCommandOf, testCaddyfile, testStackConfig } from "../caddy/fixtures";
import { RunStateFile } from "../edge/helpers";
import {
  CaddySandbox, Cleanup, RunningCaddy, caddySandbox, freePort, localRootCaPath, makeTempDir, portIsFree, removeDir, runCommand, sleep,
  startCaddy, waitUntil,
} from "../support/caddy";
import {
  TEST_LABEL, TranslatedContainer, createAndStart, dockerCli, dockerClient, durationNs, httpRequest, removeLabelled, translateContainer,
  translateNetwork, translateVolume, waitHealthy,
} from "../support/docker";
import { GatewayTarget, REAL_IMAGE, REAL_VERSION, connectGateway, httpsGetAt, jsonOut, memoryOf, openclawCli } from "./realGatewaySupport";
import { hostAddressOnBridge } from "../support/bridgeAddress";
import { restoreTenant } from "../../../tools/restore/restore";

jest.setTimeout(120_000);

const LABEL_VALUE = "real-gateway";
const LABELS = { [TEST_LABEL]: LABEL_VALUE };
const LABEL_FILTER = `${TEST_LABEL}=${LABEL_VALUE}`;
/** This suite's own: docker uses 28710-28719 / 10.237.0.0/24, edge 28730-28739 / 10.238.0.0/24. */
const PORT_POOL = { start: 28750, end: 28759 };
const TENANT_NETWORKS = "10.236.0.0/24";
/** carol: a second real gateway, for what one tenant's uid can reach of another's. */
const ROSTER: TestTenant[] = [{ name: "alice", tier: "standard" }, { name: "carol", tier: "standard" }];
/** TEST-ONLY: probe every second instead of every 30 s; the start period stays the program's own. */
const TEST_INTERVAL = "1s";
const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";

interface Alice {
  name: string;
  uid: number;
  inputs: Record<string, unknown>;
  translated: TranslatedContainer;
  container: string;
  port: number;
  token: string;
  settings: Array<{ path: string; value: unknown }>;
  startPeriodMs: number;
}

const docker: Docker = dockerClient();
const cleanup = new Cleanup();
const stateFile = new RunStateFile("openclaw-it-real-gateway", "openclaw-it-real-gateway-");
const figures: Record<string, unknown> = { image: REAL_IMAGE };
let dir = "";
let sandbox: CaddySandbox;
let ports: EdgePorts;
let rosterDir: string;
let run: ProgramRun;
let edge: EdgeCommand;
let caddy: RunningCaddy | undefined;
let ca = "";
let alice: Alice;
let carol: Alice;
/** What alice's volumes held before and after she switched from the shared uid 1000 to her own. */
let switchedFrom: { before: string; after: string; ownersBefore: string; ownersAfter: string; stepLog: string; legacyStopped: boolean };
let browserContext: BrowserContext | undefined;
/** The browser's device, paired in the Control UI test; its pairing must survive a replacement. */
let pairedDeviceId: string | undefined;

const host = `alice.${TEST_DOMAIN}`;
/** The origin a browser sends for alice's site (Caddy's https port is not 443 here). */
const origin = (): string => `https://${host}:${ports.https}`;

/**
 * The client's address. The gateway refuses a forwarded client that is loopback (it could be anyone
 * on the proxy's host: "proxy_attribution_required"), so the test's client reaches Caddy at the
 * engine's default bridge address, an address of this host that is not loopback, as a remote
 * browser would arrive from its own address. (A browser on the Caddy host itself is refused.)
 */
let clientAddress = "";

const viaCaddy = (urlPath: string, headers?: Record<string, string>, address = clientAddress): Promise<{ status: number; body: string }> =>
  httpsGetAt({ address, port: ports.https, host, path: urlPath, ca, headers });
const wsTarget = (): GatewayTarget => ({ host, port: ports.https, address: clientAddress, ca, origin: origin() });

/** Runs the edge's commands as `pulumi up` does (only those whose inputs changed since `previous`). */
function install(command: EdgeCommand, previous?: EdgeCommand): Promise<EdgeApply> {
  return applyEdge(command, sandbox.env, previous);
}

function stackConfig(names: readonly string[]): Record<string, unknown> {
  return { ...testStackConfig({ rosterDir, sandbox, ports, portPool: PORT_POOL, activeTenants: names }), tenantNetworks: TENANT_NETWORKS, cgroupDriver: "cgroupfs" };
}

function learnAlice(r: ProgramRun, name = "alice"): Alice {
  const c: CapturedResource | undefined = ofType(r, TYPES.container).find((x) => x.inputs.name === `openclaw-${name}`);
  if (c === undefined) throw new Error(`the program made no container for ${name}`);
  const health = c.inputs.healthcheck as { startPeriod: string };
  const translated = translateContainer(c.inputs, { image: REAL_IMAGE, extraLabels: LABELS, healthTiming: { interval: TEST_INTERVAL, startPeriod: health.startPeriod } });
  const env = new Map((c.inputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  return {
    name,
    uid: Number(String(c.inputs.user).split(":")[0]),
    inputs: c.inputs,
    translated,
    container: translated.name,
    port: (c.inputs.ports as Array<{ external: number }>)[0].external,
    token: env.get("OPENCLAW_GATEWAY_TOKEN") ?? "",
    settings: JSON.parse(env.get("OPENCLAW_HOSTING_SETTINGS") ?? "[]") as Alice["settings"],
    startPeriodMs: durationNs(health.startPeriod) / 1e6,
  };
}

/** Every file of a tenant's two volumes, `<sha256> <path>` each, and apart `<uid>:<gid> <path>` of every entry (read as root, no network). */
async function volumeFiles(tenant: string): Promise<{ sums: string; owners: string }> {
  const r = await dockerCli([
    "run", "--rm", "--network", "none", "--user", "0:0", "--label", `${TEST_LABEL}=${LABEL_VALUE}`, "--entrypoint", "sh",
    "--mount", `type=volume,src=openclaw-${tenant}-state,dst=/v/state,volume-nocopy,readonly`,
    "--mount", `type=volume,src=openclaw-${tenant}-credentials,dst=/v/credentials,volume-nocopy,readonly`, REAL_IMAGE,
    "-c", "cd /v && find state credentials -type f | sort | xargs sha256sum && echo --- && find state credentials | sort | xargs stat -c '%u:%g %n'",
  ], 60_000);
  if (r.code !== 0) throw new Error(`reading ${tenant}'s volumes failed: ${r.stderr}`);
  const [sums, owners] = r.stdout.split("---\n");
  return { sums, owners };
}

/**
 * TEST-ONLY: alice as the program ran her before tenants had their own uid: the shared 1000:1000,
 * its tmpfs, and plain volume binds (Docker copies the image's folders, owned by 1000, into them).
 */
function legacyCreate(t: Alice): Docker.ContainerCreateOptions {
  const host = { ...t.translated.create.HostConfig };
  const binds = (host.Mounts ?? []).map((m) => `${m.Source}:${m.Target}`);
  delete host.Mounts;
  // Its tmpfs mounts: /tmp and the cache (~/.config came with tenants' own uids).
  const { [CONFIG_DIR]: _config, ...tmpfs } = writableTmpfs(LEGACY_UID);
  return { ...t.translated.create, User: ownerOf(LEGACY_UID), HostConfig: { ...host, Binds: binds, Tmpfs: tmpfs } };
}

/** Starts alice's container from `create` and waits for healthy (bounded by the provider's waitTimeout). */
async function startAlice(create: Docker.ContainerCreateOptions = alice.translated.create): Promise<number> {
  await createAndStart(docker, { ...alice.translated, create });
  return waitHealthy(docker, alice.container, alice.translated.wait.timeoutSeconds * 1000);
}

/**
 * Waits (bounded) until the gateway reports ready through Caddy. Healthy (/healthz: the process
 * is live) comes first; ready (/readyz: channels and sidecars started) a few seconds later.
 */
function waitReady(): Promise<true> {
  return waitUntil(
    "https://alice.<domain>/readyz to report ready",
    async () => {
      const r = await viaCaddy("/readyz");
      return r.status === 200 && (JSON.parse(r.body) as { ready?: boolean }).ready === true ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}

/** As the provider destroys it (stop with destroyGraceSeconds, then remove keeping volumes); reports how it ended. */
async function destroyAlice(): Promise<{ stopMs: number; exitCode: number; oomKilled: boolean; logTail: string }> {
  const c = docker.getContainer(alice.container);
  const t0 = Date.now();
  await c.stop({ t: alice.translated.destroy.graceSeconds }).catch((e: { statusCode?: number }) => {
    if (e.statusCode !== 304) throw e;
  });
  const stopMs = Date.now() - t0;
  const info = await c.inspect();
  const logs = await dockerCli(["logs", "--tail", "15", alice.container]);
  await c.remove({ v: alice.translated.destroy.removeVolumes });
  return { stopMs, exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled, logTail: logs.stdout + logs.stderr };
}

beforeAll(async () => {
  const t0 = Date.now();
  const hostLeft = stateFile.clearLeftovers();
  await docker.ping();
  await docker.getImage(REAL_IMAGE).inspect(); // built by test/machinery/runtime-env.sh build-openclaw-image
  const engineLeft = await removeLabelled(docker, LABEL_FILTER);
  if (hostLeft.length + engineLeft.length > 0) console.log(`removed leftovers of an earlier run: ${[...hostLeft, ...engineLeft].join("; ")}`);
  cleanup.add("remove the state file", () => stateFile.remove());
  // Runs after the containers are gone (clean-up runs last-added first): they live in those cgroups.
  cleanup.add("remove the tenants' process limits", () => removeProcessLimits());
  cleanup.add("remove labelled engine objects", async () => {
    await removeLabelled(docker, LABEL_FILTER);
  });
  dir = makeTempDir("real-gateway");
  stateFile.write({ dir });
  cleanup.add(`remove ${dir}`, () => removeDir(dir));
  sandbox = caddySandbox(dir);
  // A host address that is not loopback (docker0's), so Caddy sees a client that is not 127.0.0.1.
  clientAddress = (await hostAddressOnBridge(docker)).address;
  ports = { http: await freePort(), https: await freePort(), admin: await freePort() };
  rosterDir = projectTempDir("real-gateway-roster"); // the program reads rosters inside the project only
  writeRoster(ROSTER, rosterDir);

  run = await runProgram(stackConfig(["alice", "carol"]));
  await applyProcessLimits(run); // the tenants' limited parent cgroups, before their containers
  edge = edgeCommandOf(run);
  alice = learnAlice(run);
  carol = learnAlice(run, "carol");
  for (const t of [alice, carol]) if (!(await portIsFree(t.port))) throw new Error(`127.0.0.1:${t.port} (this suite's pool) is taken by something else`);
  for (const v of ofType(run, TYPES.volume)) await docker.createVolume(translateVolume(v.inputs, LABELS));
  for (const n of ofType(run, TYPES.network)) await docker.createNetwork(translateNetwork(n.inputs, LABELS));

  // An existing stack's alice: deployed as the shared 1000 and written to by the real gateway,
  // then switched to her own uid as the program does it (her ownership step, then her container).
  const l0 = Date.now();
  await startAlice(legacyCreate(alice));
  figures.legacyHealthyMs = Date.now() - l0;
  // Stopped as a replacement stops it (the state is at rest: SQLite checkpoints at shutdown), then compared.
  await docker.getContainer(alice.container).stop({ t: alice.translated.destroy.graceSeconds });
  const before = await volumeFiles("alice");
  // TEST-ONLY stand-in for the old container still running as 1000 when the step comes (the real one
  // would rewrite its state while stopping, so the byte comparison uses the one stopped above).
  await docker.getContainer(alice.container).remove();
  await dockerCli(["run", "-d", "--init", "--name", alice.container, "--user", ownerOf(LEGACY_UID), "--network", "none", "--label", `${TEST_LABEL}=${LABEL_VALUE}`, "--entrypoint", "sleep", REAL_IMAGE, "300"]);
  const stepLog = (await applyOwnership(run, REAL_IMAGE, ["alice"])).join("");
  const legacyStopped = (await docker.getContainer(alice.container).inspect()).State.Running === false;
  await docker.getContainer(alice.container).remove(); // the provider's delete of the replaced container
  const after = await volumeFiles("alice");
  switchedFrom = { before: before.sums, after: after.sums, ownersBefore: before.owners, ownersAfter: after.owners, stepLog, legacyStopped };
  figures.switchStep = stepLog.trim().split("\n").slice(-1)[0];
  figures.switchMs = Date.now() - l0 - (figures.legacyHealthyMs as number);

  const s0 = Date.now();
  figures.healthyMs = await startAlice();
  figures.createToHealthyMs = Date.now() - s0;
  figures.idleAfterReady = await memoryOf(docker, alice.container);
  // carol starts now (not waited for): a second tenant whose environment and files alice's uid tries to read.
  await applyOwnership(run, REAL_IMAGE, ["carol"]);
  await createAndStart(docker, carol.translated);

  fs.writeFileSync(
    sandbox.caddyfilePath,
    testCaddyfile(sandbox, ports),
  );
  const started = await startCaddy({ configPath: sandbox.caddyfilePath, adminAddress: `127.0.0.1:${ports.admin}`, env: sandbox.env, logFile: path.join(dir, "caddy.log") });
  caddy = started;
  stateFile.write({ dir, caddyPid: started.pid });
  cleanup.add(`stop caddy (pid ${started.pid})`, () => started.stop());
  const r = await install(edge);
  if (r.exitCode !== 0) throw new Error(`edge command failed (${r.exitCode}):\n${r.stderr}\n--- caddy log ---\n${started.logTail()}`);
  ca = await waitUntil(
    "Caddy's local root CA",
    async () => (fs.existsSync(localRootCaPath(sandbox.storageDir)) ? fs.readFileSync(localRootCaPath(sandbox.storageDir), "utf8") : undefined),
    { timeoutMs: 10_000 },
  );
  await waitReady();
  figures.createToReadyMs = Date.now() - s0;
  figures.setupMs = Date.now() - t0;
  console.log(`real gateway setup: ${JSON.stringify(figures)}`);
}, 300_000);

afterAll(async () => {
  let failure: unknown;
  try {
    await browserContext?.close();
    await cleanup.run();
  } catch (err) {
    failure = err;
  }
  const left = (await docker.listContainers({ all: true, filters: JSON.stringify({ label: [LABEL_FILTER] }) })).length;
  console.log(`real gateway figures: ${JSON.stringify(figures)}; labelled containers left: ${left}; caddy ${caddy?.pid}`);
  if (failure !== undefined) throw failure;
}, 120_000);

describe(`the real OpenClaw ${REAL_VERSION} gateway, in the container the program makes`, () => {
  test("it runs the real gateway and becomes healthy within the program's health-check start period", async () => {
    const version = await openclawCli(alice.container, ["--version"]);
    expect(version.stdout).toContain(REAL_VERSION);
    expect(alice.startPeriodMs).toBeGreaterThan(0);
    expect(figures.healthyMs as number).toBeLessThan(alice.startPeriodMs);
    // Ready through Caddy, counted from the container's creation (Caddy's start included).
    expect(figures.createToReadyMs as number).toBeLessThan(alice.startPeriodMs);
    const info = await docker.getContainer(alice.container).inspect();
    expect(info.State.Health?.Status).toBe("healthy");
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.CapDrop).toEqual(["ALL"]);
    expect(info.Config.User).toBe(ownerOf(alice.uid));
  });

  /** Runs `argv` on this host as `uid` (and gid), no supplementary groups, no capabilities: any local process of that uid. */
  const catAs = (uid: number, file: string) =>
    runCommand(["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--inh-caps=-all", "--", "cat"], file, "", process.env, 10_000);

  test("each tenant its own host identity (issue 19): an existing tenant switched from the shared uid 1000 to its own keeps every file, byte for byte, and its gateway answers", async () => {
    const files = switchedFrom.before.trim().split("\n");
    figures.switchedFiles = files.length;
    expect(switchedFrom.before).toContain(" state/state/openclaw.sqlite"); // real gateway state was written
    expect(switchedFrom.after).toBe(switchedFrom.before);
    // Before: every entry the gateway wrote is 1000's; after: every entry (the volume roots too) is alice's.
    const owners = (text: string): string[] => [...new Set(text.trim().split("\n").map((l) => l.split(" ")[0]))];
    expect(owners(switchedFrom.ownersBefore)).toEqual(["1000:1000"]);
    expect(owners(switchedFrom.ownersAfter)).toEqual([ownerOf(alice.uid)]);
    expect(switchedFrom.ownersAfter.replace(/^\S+ /gm, "")).toBe(switchedFrom.ownersBefore.replace(/^\S+ /gm, "")); // nothing added or lost
    expect(switchedFrom.legacyStopped).toBe(true); // the step stopped the container still running as 1000 first
    expect(switchedFrom.stepLog).toContain(`stopping ${alice.container} (runs as 1000:1000)`);
    expect(switchedFrom.stepLog).toMatch(new RegExp(`belong to ${ownerOf(alice.uid)} \\(\\d+ files re-owned from 1000\\)`));
    // Running the step again changes nothing and leaves the running gateway alone.
    const again = (await applyOwnership(run, REAL_IMAGE, ["alice"])).join("");
    expect(again).toContain(`belong to ${ownerOf(alice.uid)} (0 files re-owned from 1000)`);
    expect((await docker.getContainer(alice.container).inspect()).State.Running).toBe(true);
    // The gateway's own uid reaches and writes both state folders (the credentials one sits in ~/.config).
    for (const dir of [STATE_DIR, CREDENTIALS_DIR]) {
      const w = await dockerCli(["exec", alice.container, "sh", "-c", `touch ${dir}/.probe && rm ${dir}/.probe && echo writable`]);
      expect({ dir, out: w.stdout.trim(), err: w.stderr.trim() }).toEqual({ dir, out: "writable", err: "" });
    }
    const ready = await viaCaddy("/readyz");
    expect({ status: ready.status, ready: (JSON.parse(ready.body) as { ready?: boolean }).ready }).toEqual({ status: 200, ready: true });
  });

  test("each tenant its own host identity (issue 19): two tenants run as distinct uids of the pool; a process of one's uid cannot read the other's environment or files", async () => {
    expect(alice.uid).not.toBe(carol.uid);
    for (const uid of [alice.uid, carol.uid]) expect(uid >= UID_POOL.start && uid <= UID_POOL.end).toBe(true);
    // carol's real gateway, started in beforeAll under her own uid, healthy (it has written its state).
    figures.carolHealthyMs = await waitHealthy(docker, carol.container, carol.translated.wait.timeoutSeconds * 1000);
    const info = await docker.getContainer(carol.container).inspect();
    expect(info.Config.User).toBe(ownerOf(carol.uid));
    // carol's gateway processes on this host: the container's init and its children.
    const pid = info.State.Pid;
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter((p) => p !== "");
    const environ = (p: string): string => `/proc/${p}/environ`;
    for (const p of [String(pid), ...children]) {
      const denied = await catAs(alice.uid, environ(p));
      expect({ code: denied.exitCode, token: denied.stdout.includes(carol.token) }).toEqual({ code: 1, token: false });
      expect(denied.stderr).toMatch(/Permission denied/);
    }
    // Control: the same probe as carol's own uid reads it (what every tenant could do to every other at uid 1000).
    const own = await catAs(carol.uid, environ(String(pid)));
    expect(own.stdout).toContain(`OPENCLAW_GATEWAY_TOKEN=${carol.token}`);

    // carol's files, with her volume mounted in a process of alice's uid (Docker's own folders out of the way).
    const read = (uid: number) => dockerCli([
      "run", "--rm", "--network", "none", "--user", ownerOf(uid), "--label", `${TEST_LABEL}=${LABEL_VALUE}`, "--entrypoint", "sh",
      "--mount", "type=volume,src=openclaw-carol-state,dst=/carol,volume-nocopy", REAL_IMAGE,
      "-c", "ls /carol && cat /carol/openclaw.json >/dev/null && echo read; touch /carol/planted && echo wrote",
    ], 30_000);
    const foreign = await read(alice.uid);
    expect(foreign.stdout).not.toMatch(/read|wrote/);
    expect(foreign.stderr).toMatch(/Permission denied/);
    const mine = await read(carol.uid);
    expect(mine.stdout).toContain("read");
    await dockerCli(["run", "--rm", "--network", "none", "--user", ownerOf(carol.uid), "--mount", "type=volume,src=openclaw-carol-state,dst=/carol,volume-nocopy", "--entrypoint", "rm", REAL_IMAGE, "-f", "/carol/planted"], 30_000);
  });

  test("a request through Caddy is attributed to a trusted proxy; the same proxy address without forwarding headers is refused", async () => {
    const ready = await viaCaddy("/readyz");
    expect(ready.body).not.toContain("proxy_attribution_required");
    expect({ status: ready.status, ready: (JSON.parse(ready.body) as { ready?: boolean }).ready }).toEqual({ status: 200, ready: true });
    // Control: straight to the published port, the gateway sees the same bridge address (a trusted
    // proxy) but no forwarded client, and refuses: the 200 above is the proxy configuration at work.
    const direct = await httpRequest("127.0.0.1", alice.port, "/readyz", { timeoutMs: 10_000 });
    expect(direct.body).toContain("proxy_attribution_required");
    // And a client on the proxy's own host (Caddy forwards 127.0.0.1) is refused by design.
    const loopbackClient = await viaCaddy("/readyz", undefined, "127.0.0.1");
    expect(loopbackClient.body).toContain("proxy_attribution_required");
  });

  test("over HTTP through Caddy the gateway token is required: none and a wrong one are refused, the right one accepted", async () => {
    const none = await viaCaddy("/control-ui-config.json");
    const wrong = await viaCaddy("/control-ui-config.json", { authorization: `Bearer ${alice.token.slice(0, -4)}zzzz` });
    const right = await viaCaddy("/control-ui-config.json", { authorization: `Bearer ${alice.token}` });
    expect([none.status, wrong.status, right.status]).toEqual([401, 401, 200]);
    expect(none.body).toContain("unauthorized");
    expect(JSON.parse(right.body)).toHaveProperty("basePath");
    for (const r of [none, wrong, right]) expect(r.body).not.toContain(alice.token);
  });

  test("over the WebSocket through Caddy the token is required too, and only the tenant's own origin is accepted", async () => {
    const target = wsTarget();
    const none = await connectGateway(target);
    const wrong = await connectGateway({ ...target, token: `${alice.token.slice(0, -4)}zzzz` });
    const foreign = await connectGateway({ ...target, origin: "https://evil.example.com", token: alice.token });
    const right = await connectGateway({ ...target, token: alice.token });
    right.socket?.close();
    expect({ ok: none.ok, code: none.code, closeCode: none.closeCode }).toEqual({ ok: false, code: "DEVICE_IDENTITY_REQUIRED", closeCode: 1008 });
    expect({ ok: wrong.ok, code: wrong.code, closeCode: wrong.closeCode }).toEqual({ ok: false, code: "AUTH_TOKEN_MISMATCH", closeCode: 1008 });
    expect({ ok: foreign.ok, code: foreign.code }).toEqual({ ok: false, code: "CONTROL_UI_ORIGIN_NOT_ALLOWED" });
    expect({ ok: right.ok, serverVersion: right.serverVersion }).toEqual({ ok: true, serverVersion: REAL_VERSION });
  });

  test("the managed settings are in the config file the gateway reads, and its own diagnostics find no problem with them", async () => {
    const file = jsonOut<{ path: string }>(await openclawCli(alice.container, ["config", "file", "--json"]));
    expect(file.path).toBe(`${STATE_DIR}/openclaw.json`); // on the state volume
    const gateway = jsonOut<Record<string, unknown>>(await openclawCli(alice.container, ["config", "get", "gateway", "--json"]));
    const at = (p: string): unknown => p.split(".").slice(1).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], gateway);
    for (const s of alice.settings) expect({ path: s.path, value: at(s.path) }).toEqual(s);
    expect(JSON.stringify(gateway)).not.toContain(alice.token); // the token lives in the env only
    const validate = await openclawCli(alice.container, ["config", "validate", "--json"]);
    expect({ code: validate.code, out: validate.code === 0 ? "" : validate.stdout + validate.stderr }).toEqual({ code: 0, out: "" });
    const doctor = jsonOut<{ ok: boolean; findings: Array<{ checkId: string; path?: string; message: string }> }>(await openclawCli(alice.container, ["doctor", "--lint", "--json"]));
    figures.doctorFindings = doctor.findings.map((f) => `${f.checkId} ${f.path ?? ""}: ${f.message}`);
    expect(doctor.findings.filter((f) => (f.path ?? "").startsWith("gateway"))).toEqual([]);
    // The one finding is the bind itself: inside its container the gateway must listen beyond
    // loopback for Docker's port publishing to reach it; the host publishes it on 127.0.0.1 only.
    expect(figures.doctorFindings).toEqual(['core/doctor/security : WARNING: Gateway bound to "lan" (0.0.0.0) (network-accessible).']);
  }, 240_000);

  test("the Control UI loads from the tenant's own https origin, connects its WebSocket once the browser is paired, and stays connected across a roster change (routes rewritten, no reload)", async () => {
    const context = await chromium.launchPersistentContext(path.join(dir, "chromium-profile"), {
      executablePath: CHROMIUM,
      ignoreHTTPSErrors: true, // Caddy's local CA
      args: [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", `--host-resolver-rules=MAP ${host} ${clientAddress}`,
      ],
    });
    browserContext = context;
    const page = await context.newPage();
    const helloOk: string[] = [];
    const closed: string[] = [];
    let frames = 0;
    page.on("websocket", (ws) => {
      ws.on("framereceived", (f) => {
        frames++;
        const text = typeof f.payload === "string" ? f.payload : f.payload.toString();
        if (text.includes('"hello-ok"')) helloOk.push(ws.url());
      });
      ws.on("close", () => closed.push(ws.url()));
    });
    // The token goes in the fragment (never sent to a server), as `openclaw dashboard` links do.
    const response = await page.goto(`${origin()}/#token=${alice.token}`, { waitUntil: "load", timeout: 60_000 });
    expect(response?.status()).toBe(200);
    expect(new URL(page.url()).origin).toBe(origin());

    // A new browser must be paired by the operator (gateway auth passed; pairing is the second gate).
    const pending = await waitUntil(
      "the browser's pairing request",
      async () => {
        const list = jsonOut<{ pending?: Array<{ requestId: string; deviceId?: string; clientId?: string }> }>(await openclawCli(alice.container, ["devices", "list", "--json"]));
        return list.pending?.[0];
      },
      { timeoutMs: 60_000, intervalMs: 2_000 },
    );
    const approved = await openclawCli(alice.container, ["devices", "approve", pending.requestId, "--json"]);
    expect(approved.code).toBe(0);
    pairedDeviceId = pending.deviceId;
    await waitUntil("the Control UI's hello-ok", async () => (helloOk.length > 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
    figures.afterControlUi = await memoryOf(docker, alice.container);
    const closedBefore = closed.length;
    const framesBefore = frames;

    // A roster change (another tenant added, suspended: its route is a 503 page): the routes change, Caddy does not reload.
    writeRoster([...ROSTER, { name: "bob", tier: "light", state: "suspended" }], rosterDir);
    const reloaded = await install(edgeCommandOf(await runProgram(stackConfig(["alice", "carol"]))), edge);
    expect(reloaded.exitCode).toBe(0);
    expect(reloaded.routes?.exitCode).toBe(0);
    expect(reloaded.caddyfile).toBeUndefined();
    // The gateway ticks every 15 s: a frame after the roster change on the same socket proves it is open.
    await waitUntil("a frame on the Control UI's socket after the roster change", async () => (frames > framesBefore ? true : undefined), { timeoutMs: 40_000, intervalMs: 500 });
    expect(closed.length).toBe(closedBefore);
    await context.close();
  }, 300_000);

  test("the read-only root holds: nothing failed to write, and the root's only changes are Docker's own", async () => {
    const logs = await dockerCli(["logs", alice.container]);
    expect(`${logs.stdout}${logs.stderr}`).not.toMatch(/EROFS|read-only file system|EACCES/i);
    const diff = await dockerCli(["diff", alice.container]);
    const changed = diff.stdout.trim().split("\n").filter((l) => l !== "");
    // Mount points Docker itself creates (the init, the tmpfs mount points) are all that may show.
    const allowed = new Set(["C /sbin", "A /sbin/docker-init", "C /home", "C /home/node", `A ${CACHE_DIR}`, "C /home/node/.config"]);
    expect(changed.filter((l) => !allowed.has(l))).toEqual([]);
  });

  test("a replacement under the program's stop grace keeps the state (config, database, paired browser, credentials) and the token", async () => {
    const snapshot = async (): Promise<string> =>
      (await dockerCli(["exec", alice.container, "sh", "-c", `cd ${STATE_DIR} && sha256sum openclaw.json config-journal-fingerprint.key && ls state && ls -la ${CREDENTIALS_DIR} | tail -n +2 | awk '{print $1, $3, $NF}'`])).stdout;
    const before = await snapshot();
    expect(before).toContain("openclaw.sqlite");
    expect(pairedDeviceId).toBeDefined();
    // A client stays connected through the stop: the gateway drains active work (agent runs), not
    // connections, so an open session does not hold the upgrade up; it is closed ("service restart").
    const held = await connectGateway({ ...wsTarget(), token: alice.token });
    expect(held.ok).toBe(true);
    const heldClosed = new Promise<number>((resolve) => held.socket?.once("close", (code: number) => resolve(code)));
    const destroyed = await destroyAlice();
    figures.stopMs = destroyed.stopMs;
    figures.heldSessionCloseCode = await waitUntil("the held session to close", async () => Promise.race([heldClosed, sleep(500).then(() => undefined)]), {
      timeoutMs: 10_000,
      intervalMs: 10,
    });
    // It ended by itself within the grace (143 = SIGTERM honoured), not by Docker's SIGKILL (137) or the OOM killer.
    expect(destroyed.oomKilled).toBe(false);
    expect(destroyed.exitCode).not.toBe(137);
    expect(destroyed.stopMs).toBeLessThan(alice.translated.destroy.graceSeconds * 1000);
    figures.replacementHealthyMs = await startAlice();
    await waitReady();
    expect(await snapshot()).toBe(before);
    const paired = jsonOut<{ paired?: Array<{ deviceId: string }> }>(await openclawCli(alice.container, ["devices", "list", "--json"]));
    expect((paired.paired ?? []).map((d) => d.deviceId)).toContain(pairedDeviceId);
    const again = await connectGateway({ ...wsTarget(), token: alice.token });
    again.socket?.close();
    expect(again.ok).toBe(true);
  }, 240_000);

  test("a snapshot of the running gateway (the installed snapshot script) restores in place (npm run restore's code), keeping the paired browser, the stored credentials and the token", async () => {
    expect(pairedDeviceId).toBeDefined();
    const credentialsBefore = (await dockerCli(["exec", alice.container, "sh", "-c", `cd ${CREDENTIALS_DIR} && find . -type f | sort | xargs -r sha256sum`])).stdout;
    const stack = `real-gateway-${process.pid}`;
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-real-restore-repo-"));
    const etc = "/etc/openclaw/backup";
    const saved = fs.existsSync(path.join(etc, "restic.env")) ? fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-real-etc-")) : undefined;
    if (saved !== undefined) fs.cpSync(etc, saved, { recursive: true });
    cleanup.add("the restore test's repository and backup files", () => {
      for (const f of ["restic.env", "password"]) fs.rmSync(path.join(etc, f), { force: true });
      if (saved !== undefined) fs.cpSync(saved, etc, { recursive: true });
      for (const d of [repo, ...(saved === undefined ? [] : [saved]), "/var/lib/openclaw/backup/staging/alice", "/var/lib/openclaw/backup/status/alice.json", "/var/lib/openclaw/backup/status/alice.last-good"]) fs.rmSync(d, { recursive: true, force: true });
    });
    fs.mkdirSync(etc, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(etc, "password"), crypto.randomBytes(24).toString("base64url"), { mode: 0o600 });
    fs.writeFileSync(path.join(etc, "restic.env"), `RESTIC_REPOSITORY='${repo}'\nRESTIC_PASSWORD_FILE='${etc}/password'\nOPENCLAW_RESTIC_OPTS=''\nOPENCLAW_BACKUP_SERVER='default'\nOPENCLAW_BACKUP_STACK='${stack}'\n`, { mode: 0o600 });
    const init = await runCommand(["bash", "-c"], "set -a; . /etc/openclaw/backup/restic.env; set +a; restic init -q", "", process.env, 60_000);
    expect(`${init.exitCode} ${init.stderr}`).toBe("0 ");

    // The snapshot the timer takes, of the gateway as it runs: SQLite's online backup from a one-shot
    // container of alice's own image, while a client holds a session open and the health endpoint is
    // asked every 100 ms (what the tenant notices).
    const held = await connectGateway({ ...wsTarget(), token: alice.token });
    expect(held.ok).toBe(true);
    let heldClosedDuringSnapshot = false;
    held.socket?.once("close", () => { heldClosedDuringSnapshot = true; });
    const probes: number[] = [];
    let probing = true;
    const prober = (async () => {
      for (let i = 0; probing && i < 3000; i++) {
        const t0 = Date.now();
        const r = await viaCaddy("/healthz").then((x) => x.status, () => 0);
        probes.push(r === 200 ? Date.now() - t0 : -1);
        await sleep(100);
      }
    })();
    const snap = await runCommand(["bash", "-c"], `bash '${path.resolve(__dirname, "../../../server-scripts/tenant-backup.sh")}' tenant alice manual`, "", process.env, 240_000);
    probing = false;
    await prober;
    held.socket?.close();
    expect(`${snap.exitCode} ${snap.stderr}`).toBe("0 ");
    expect(heldClosedDuringSnapshot).toBe(false);
    expect(probes.filter((ms) => ms < 0)).toEqual([]);
    const copy = JSON.parse(/copy (\{.*\})/.exec(snap.stdout)?.[1] ?? "{}") as { files?: number; dbs?: number; bytes?: number; leases?: number; maxRssKb?: number };
    expect(copy.dbs).toBeGreaterThanOrEqual(1);
    // The running gateway's owner lease was in its database; the copy drops it (and the lock folder),
    // else the restored gateway would wait for the lease to expire (seen: "Another Gateway owner lease
    // is still active for this state directory" for minutes).
    expect(copy.leases).toBeGreaterThanOrEqual(1);
    const status = JSON.parse(fs.readFileSync("/var/lib/openclaw/backup/status/alice.json", "utf8")) as { ok: boolean; durationMs: number; totalBytes: number };
    expect(status.ok).toBe(true);
    figures.liveSnapshot = { ms: status.durationMs, bytes: status.totalBytes, files: copy.files, dbs: copy.dbs, leases: copy.leases, copyPeakRssMb: Math.round((copy.maxRssKb ?? 0) / 1024), healthProbes: probes.length, slowestHealthMs: Math.max(...probes) };
    // What pulumi up does with `data: r1` starts with the container's replacement.
    await destroyAlice();

    const restored = await restoreTenant({
      tenant: { name: "alice", diskMb: 5120, diskQuota: "off", image: REAL_IMAGE }, stack, snapshot: "latest", label: "r1", to: { name: "default", env: process.env },
    });
    figures.restore = { files: restored.files, bytes: restored.bytes, paths: restored.paths, ms: restored.ms };
    const fresh = restored.volumes;
    expect(fresh).toEqual(["openclaw-alice-state.r1", "openclaw-alice-credentials.r1"]);
    cleanup.add("alice's restored volumes", async () => {
      await docker.getContainer(alice.container).remove({ force: true }).catch(() => undefined);
      for (const v of fresh) await docker.getVolume(v).remove().catch(() => undefined);
    });
    // The replacement's new container: on the fresh volumes, same token.
    const hostConfig = alice.translated.create.HostConfig ?? {};
    const mounts = (hostConfig.Mounts ?? []).map((m) => ({ ...m, Source: String(m.Source).replace(/^openclaw-alice-(state|credentials)$/, "openclaw-alice-$1.r1") }));
    expect(mounts.filter((m) => String(m.Source).endsWith(".r1")).length).toBe(2);
    alice.translated = { ...alice.translated, create: { ...alice.translated.create, HostConfig: { ...hostConfig, Mounts: mounts } } };
    const restoredState = (await dockerCli(["volume", "inspect", "-f", "{{.Mountpoint}}", fresh[0]])).stdout.trim();
    const restoredTmp = path.join(restoredState, "tmp");
    expect(fs.existsSync(restoredTmp) ? fs.readdirSync(restoredTmp).filter((d) => d.startsWith("openclaw")) : []).toEqual([]);
    figures.restoredHealthyMs = await startAlice().catch(async (e: unknown) => {
      // What the gateway said, to tell why (tokens masked), and what of its state dir it found.
      const logs = await dockerCli(["logs", "--tail", "80", alice.container]).catch(() => ({ stdout: "", stderr: "" }));
      const found = await runCommand(["bash", "-c"], `cd '${restoredState}' && find . -maxdepth 3 | sort | head -80`, "", process.env, 30_000);
      throw new Error(`${String(e)}\n--- logs ---\n${(logs.stdout + logs.stderr).split(alice.token).join("<token>")}\n--- state ---\n${found.stdout}`);
    });
    await waitReady();
    const paired = jsonOut<{ paired?: Array<{ deviceId: string }> }>(await openclawCli(alice.container, ["devices", "list", "--json"]));
    expect((paired.paired ?? []).map((d) => d.deviceId)).toContain(pairedDeviceId);
    expect((await dockerCli(["exec", alice.container, "sh", "-c", `cd ${CREDENTIALS_DIR} && find . -type f | sort | xargs -r sha256sum`])).stdout).toBe(credentialsBefore);
    const freshState = (await dockerCli(["volume", "inspect", "-f", "{{.Mountpoint}}", fresh[0]])).stdout.trim();
    const check = await runCommand(["bash", "-c"], `sqlite3 -readonly '${freshState}/state/openclaw.sqlite' 'PRAGMA integrity_check;'`, "", process.env, 60_000);
    expect(check.stdout.trim()).toBe("ok");
    const again = await connectGateway({ ...wsTarget(), token: alice.token });
    again.socket?.close();
    expect(again.ok).toBe(true);
  }, 300_000);

  test("with a writable root, every path the gateway writes is one the program declares writable", async () => {
    await destroyAlice();
    // TEST-ONLY variant: the same container with a writable root and only the tmpfs mounts of the
    // tenant's own uid (~/.cache, ~/.config), so `docker diff` shows every other write outside the
    // volumes. Those stay: /home/node is the image's (uid 1000), which the tenant's own uid cannot
    // write, and the gateway does not start without its cache dir (core/gateway.ts CACHE_DIR).
    const { "/tmp": _tmp, ...ownTmpfs } = alice.translated.create.HostConfig?.Tmpfs ?? {};
    const create = { ...alice.translated.create, HostConfig: { ...alice.translated.create.HostConfig, ReadonlyRootfs: false, Tmpfs: ownTmpfs } };
    await startAlice(create);
    await waitReady();
    const seen = await connectGateway({ ...wsTarget(), token: alice.token });
    seen.socket?.close();
    expect(seen.ok).toBe(true);
    await sleep(5_000);
    const diff = await dockerCli(["diff", alice.container]);
    const added = diff.stdout.trim().split("\n").filter((l) => /^[AD] /.test(l)).map((l) => l.slice(2));
    figures.writableRootWrites = added.filter((p) => !p.startsWith("/tmp/"));
    const declared = [...WRITABLE_PATHS, STATE_DIR, CREDENTIALS_DIR];
    const outside = added.filter((p) => p !== "/sbin/docker-init" && !declared.some((d) => p === d || p.startsWith(`${d}/`)));
    expect(outside).toEqual([]);
    // The reason the cache tmpfs exists: the gateway wrote into it.
    const cache = await dockerCli(["exec", alice.container, "ls", "-A", CACHE_DIR]);
    expect(cache.stdout.trim()).not.toBe("");
  }, 240_000);
});
