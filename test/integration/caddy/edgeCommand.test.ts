// A real Caddy, started by the test in a sandbox, configured only through the program's own edge
// command (the install script wrapped by installCommand, run with /bin/bash -c, Caddyfile on stdin).
import * as fs from "fs";
import * as net from "net";
import * as https from "https";
import * as path from "path";
import { projectTempDir } from "../../support/roster";
import { WebSocket } from "ws";
import { renderCaddyfile } from "../../../core/caddyfile";
import { INSTALL_SCRIPT_PATH, installCommand } from "../../../components/edge";
import { runProgram } from "../../support/program";
import {
  CaddySandbox,
  Cleanup,
  EchoBackend,
  EchoReply,
  HttpResult,
  RequestFailure,
  RunningCaddy,
  ShellRun,
  caddySandbox,
  caddySupportsProxySubdirective,
  caddyVersion,
  echo,
  freePort,
  httpGet,
  httpsGet,
  isStaleKeepAliveReset,
  localRootCaPath,
  makeTempDir,
  openWebSocket,
  removeDir,
  runCommand,
  sleep,
  startCaddy,
  startEchoBackend,
  waitUntil,
} from "../support/caddy";
import {
  EdgeCommand,
  EdgePorts,
  TEST_DOMAIN,
  choosePortPool,
  copySampleRoster,
  defaultPortPool,
  edgeCommandOf,
  planFor,
  planPortsFree,
  testStackConfig,
  writeTenant,
} from "./fixtures";

jest.setTimeout(60_000);

/** Tenants the tests add, one per reload, so every reload is a real change. */
const ADDED = ["dave", "erin", "frank"] as const;
const ACTIVE = ["alice", "bob", ...ADDED];
const SUSPENDED_TEXT = (host: string): string => `${host} is suspended. Its data is kept; ask your operator to resume it.`;

const cleanup = new Cleanup();
const backends = new Map<string, EchoBackend>();
const reloadFigures: string[] = [];
let dir: string;
let sandbox: CaddySandbox;
let ports: EdgePorts;
let rosterDir: string;
let pool: { start: number; end: number };
let edge: EdgeCommand;
let caddy: RunningCaddy;
let ca: string;

/** The test stack's config; API keys for the active tenants the roster folder has now. */
const config = (rosterFolder = rosterDir, portPool = pool): Record<string, unknown> =>
  testStackConfig({
    rosterDir: rosterFolder,
    sandbox,
    ports,
    portPool,
    activeTenants: ACTIVE.filter((name) => fs.existsSync(path.join(rosterFolder, `${name}.yaml`))),
  });

/** The Caddyfile the program renders for the roster folder as it is now. */
function rendered(): string {
  return planFor(config()).caddyfile;
}

function portOf(name: string): number {
  const tenant = planFor(config()).tenants.find((t) => t.name === name);
  if (tenant === undefined) throw new Error(`${name} is not in the plan`);
  return tenant.port;
}

async function startBackend(name: string): Promise<EchoBackend> {
  const backend = await startEchoBackend(name, portOf(name));
  backends.set(name, backend);
  cleanup.add(`close backend ${name}`, () => backend.close());
  return backend;
}

/** Runs the edge command exactly as local.Command does: interpreter + create string, Caddyfile on stdin. */
async function install(caddyfile: string, command = edge.create): Promise<ShellRun> {
  const run = await runCommand(edge.interpreter, command, caddyfile, sandbox.env, 60_000);
  reloadFigures.push(`exit ${run.exitCode} in ${run.ms.toFixed(0)} ms`);
  return run;
}

const get = (name: string, urlPath = "/", agent?: https.Agent): Promise<HttpResult> =>
  httpsGet({ host: `${name}.${TEST_DOMAIN}`, port: ports.https, path: urlPath, ca, agent });

async function expectRoutedTo(name: string, urlPath = "/probe"): Promise<void> {
  const res = await get(name, urlPath);
  expect(res.status).toBe(200);
  const reply = JSON.parse(res.body) as EchoReply;
  expect(reply).toEqual({ backend: name, host: `${name}.${TEST_DOMAIN}`, path: urlPath, forwardedProto: "https" });
}

/** Waits (bounded) until the tenant's new site has its certificate and reaches its backend. */
function waitRoutable(name: string): Promise<true> {
  return waitUntil(
    `https://${name}.${TEST_DOMAIN} to reach its backend`,
    async () => {
      const res = await get(name, "/ready");
      return res.status === 200 && (JSON.parse(res.body) as EchoReply).backend === name ? true : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );
}

const liveConfigJson = async (): Promise<string> => (await httpGet(caddy.adminAddress, "/config/")).body;
const liveFile = (): string => fs.readFileSync(sandbox.caddyfilePath, "utf8");
/** Files the script leaves next to the live Caddyfile (temporaries must never stay behind). */
const filesBesideLive = (): string[] => fs.readdirSync(path.dirname(sandbox.caddyfilePath)).sort();

beforeAll(async () => {
  dir = makeTempDir("live");
  cleanup.add(`remove ${dir}`, () => removeDir(dir));
  sandbox = caddySandbox(dir);
  ports = { http: await freePort(), https: await freePort(), admin: await freePort() };
  // The edge needs Caddy >= 2.7 (test/machinery/runtime-env.sh installs one); an older one fails here, loudly.
  if (!caddySupportsProxySubdirective("stream_close_delay 5m", dir)) {
    throw new Error(`${caddyVersion()} rejects stream_close_delay (added in Caddy 2.7.0): run test/machinery/runtime-env.sh install`);
  }

  // The sample roster, moved (pins included) to a pool whose ports are free for the whole final
  // roster; adding a tenant moves no pinned tenant and an unpinned one only on a hash collision.
  // Inside the project: the program reads no roster folder outside it.
  rosterDir = projectTempDir("live-roster");
  const everyone = projectTempDir("live-final");
  const sample = defaultPortPool();
  pool = await choosePortPool(async (candidate) => {
    for (const d of [rosterDir, everyone]) removeDir(d);
    copySampleRoster(rosterDir, candidate.start - sample.start);
    copySampleRoster(everyone, candidate.start - sample.start);
    for (const name of ADDED) writeTenant(everyone, name, "tier: light\n");
    return planPortsFree(planFor(config(everyone, candidate)), ACTIVE);
  });

  const run = await runProgram(config());
  edge = edgeCommandOf(run);

  // Caddy as a package installs it: running already, with a Caddyfile that has no tenant yet.
  const bootstrap = renderCaddyfile([], {
    adminAddress: `127.0.0.1:${ports.admin}`,
    localCerts: true,
    httpPort: ports.http,
    httpsPort: ports.https,
    storageDir: sandbox.storageDir,
  });
  fs.writeFileSync(sandbox.caddyfilePath, bootstrap);
  caddy = await startCaddy({ configPath: sandbox.caddyfilePath, adminAddress: `127.0.0.1:${ports.admin}`, env: sandbox.env, logFile: path.join(dir, "caddy.log") });
  cleanup.add(`stop caddy (pid ${caddy.pid})`, () => caddy.stop());

  await startBackend("alice");
  await startBackend("bob");
});

afterAll(async () => {
  if (reloadFigures.length > 0) console.log(`install-caddyfile runs: ${reloadFigures.join("; ")}`);
  await cleanup.run();
});

describe("the program's edge command against a live Caddy", () => {
  test("is the install script in a here-document, run by /bin/bash -c, with the rendered Caddyfile on stdin", () => {
    expect(edge.interpreter).toEqual(["/bin/bash", "-c"]);
    expect(edge.create).toBe(installCommand(fs.readFileSync(INSTALL_SCRIPT_PATH, "utf8"), sandbox.caddyfilePath, `127.0.0.1:${ports.admin}`));
    expect(edge.stdin).toBe(planFor(config()).caddyfile);
  });

  test("first apply installs the sample roster's Caddyfile and reloads Caddy", async () => {
    const next = rendered();
    const run = await install(next);
    expect({ exitCode: run.exitCode, stderr: run.stderr }).toEqual({ exitCode: 0, stderr: expect.any(String) });
    expect(run.stdout).toContain("Caddy reloaded");
    expect(liveFile()).toBe(next);
    ca = await waitUntil(
      "Caddy's local root CA",
      async () => (fs.existsSync(localRootCaPath(sandbox.storageDir)) ? fs.readFileSync(localRootCaPath(sandbox.storageDir), "utf8") : undefined),
      { timeoutMs: 10_000 },
    );
    await waitRoutable("alice");
  });

  test("routes https://alice.<domain> to alice's backend and bob's to bob's, with certificates from the local CA", async () => {
    await expectRoutedTo("alice", "/some/path?x=1");
    await expectRoutedTo("bob");
  });

  test("answers a suspended tenant with 503 and the suspended text, without proxying", async () => {
    const host = `carol.${TEST_DOMAIN}`;
    const res = await get("carol", "/anything");
    expect(res.status).toBe(503);
    expect(res.body).toBe(SUSPENDED_TEXT(host));
    expect(res.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(res.headers["retry-after"]).toBe("3600");
  });

  test("an invalid Caddyfile fails the command and changes nothing: live file, Caddy's config, routes", async () => {
    const before = liveFile();
    const beforeFiles = filesBesideLive();
    const beforeConfig = await liveConfigJson();
    const broken = `${before}\nbroken.${TEST_DOMAIN} {\n\treverse_proxy 127.0.0.1:1 {\n\t\tno_such_subdirective on\n\t}\n}\n`;

    const run = await install(broken);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("the new Caddyfile is invalid; the live file and Caddy were not touched");
    expect(run.stderr).toContain("no_such_subdirective");
    expect(liveFile()).toBe(before);
    expect(filesBesideLive()).toEqual(beforeFiles);
    expect(await liveConfigJson()).toBe(beforeConfig);
    await expectRoutedTo("alice");
  });

  test("a valid Caddyfile whose reload fails (admin API not listening) is rolled back to the previous file", async () => {
    writeTenant(rosterDir, "dave", "tier: light\n");
    await startBackend("dave");
    const before = liveFile();
    const beforeConfig = await liveConfigJson();
    const deadAdmin = `127.0.0.1:${await freePort()}`;
    const command = installCommand(fs.readFileSync(INSTALL_SCRIPT_PATH, "utf8"), sandbox.caddyfilePath, deadAdmin);

    const run = await install(rendered(), command);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("caddy reload failed or took over 60s; restored the previous Caddyfile");
    expect(liveFile()).toBe(before);
    expect(await liveConfigJson()).toBe(beforeConfig);
    await expectRoutedTo("alice");
    await expect(get("dave")).rejects.toThrow(); // no site, so no certificate for dave's name
  });

  test("a reload against an admin API that accepts and never answers times out and is rolled back", async () => {
    // A fake admin address on loopback: accepts connections, never says a word.
    const held: net.Socket[] = [];
    const hung = net.createServer((s) => held.push(s.on("error", () => undefined)));
    await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
    try {
      const before = liveFile();
      const command = installCommand(fs.readFileSync(INSTALL_SCRIPT_PATH, "utf8"), sandbox.caddyfilePath, `127.0.0.1:${(hung.address() as net.AddressInfo).port}`);
      const run = await runCommand(edge.interpreter, command, rendered(), { ...sandbox.env, OPENCLAW_CADDY_RELOAD_TIMEOUT: "3" }, 60_000);
      reloadFigures.push(`hung admin: exit ${run.exitCode} in ${run.ms.toFixed(0)} ms`);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain("caddy reload failed or took over 3s; restored the previous Caddyfile");
      expect(run.ms).toBeLessThan(30_000); // bounded by the timeout (+5 s kill), not by the hung API
      expect(held.length).toBeGreaterThan(0); // the reload really went to the hung API
      expect(liveFile()).toBe(before);
      await expectRoutedTo("alice");
    } finally {
      for (const s of held) s.destroy();
      hung.close();
    }
  });

  test("the installed Caddyfile keeps the owner and mode of the file it replaces", async () => {
    fs.chmodSync(sandbox.caddyfilePath, 0o640);
    fs.chownSync(sandbox.caddyfilePath, 0, 4321);
    const run = await install(liveFile());
    expect(run.exitCode).toBe(0);
    const st = fs.statSync(sandbox.caddyfilePath);
    expect({ mode: st.mode & 0o777, uid: st.uid, gid: st.gid }).toEqual({ mode: 0o640, uid: 0, gid: 4321 });
    fs.chmodSync(sandbox.caddyfilePath, 0o644);
    fs.chownSync(sandbox.caddyfilePath, 0, 0);
  });

  test("a valid Caddyfile that Caddy fails to load (HTTPS port taken) is rolled back; Caddy keeps serving", async () => {
    const busyPort = await freePort();
    const squatter = await startEchoBackend("squatter", busyPort);
    try {
      const before = liveFile();
      const beforeConfig = await liveConfigJson();
      const next = planFor({ ...config(), caddy: { ...(config().caddy as Record<string, unknown>), ports: { http: ports.http, https: busyPort } } }).caddyfile;
      const run = await install(next);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain("address already in use");
      expect(run.stderr).toContain("restored the previous Caddyfile");
      expect(liveFile()).toBe(before);
      expect(await liveConfigJson()).toBe(beforeConfig);
      await expectRoutedTo("alice");
    } finally {
      await squatter.close();
    }
  });

  test("a valid change is applied: a new tenant becomes routable, the others keep their routes", async () => {
    const before = liveFile();
    const next = rendered();
    expect(next).toContain(`dave.${TEST_DOMAIN} {`);
    const run = await install(next);
    expect({ exitCode: run.exitCode, stderr: run.stderr }).toEqual({ exitCode: 0, stderr: expect.any(String) });
    expect(liveFile()).toBe(next);
    expect(fs.readFileSync(`${sandbox.caddyfilePath}.previous`, "utf8")).toBe(before);
    expect(filesBesideLive()).toEqual(["Caddyfile", "Caddyfile.lock", "Caddyfile.previous"]);
    await waitRoutable("dave");
    await expectRoutedTo("dave");
    await expectRoutedTo("alice");
    expect((await get("carol")).status).toBe(503);
  });

  test("no request fails while a reload happens under concurrent keep-alive load", async () => {
    writeTenant(rosterDir, "erin", "tier: light\n");
    await startBackend("erin");
    const next = rendered();

    const CLIENTS = 8;
    const MAX_REQUESTS = 3_000;
    const deadline = Date.now() + 20_000;
    const agents = Array.from({ length: CLIENTS }, () => new https.Agent({ keepAlive: true, maxSockets: 1, ca }));
    interface Sample {
      start: number;
      end: number;
      /** The first attempt hit a stale keep-alive connection and was retried once, as a browser does. */
      retried: boolean;
      error?: string;
    }
    const samples: Sample[] = [];
    let stop = false;
    const attempt = async (tenant: string, i: number): Promise<void> => {
      const res = await get(tenant, `/load/${i}`, agents[i]);
      const backend = res.status === 200 ? (JSON.parse(res.body) as EchoReply).backend : undefined;
      if (backend !== tenant) throw new Error(`status ${res.status}, backend ${backend ?? "-"}`);
    };
    const client = async (i: number): Promise<void> => {
      const tenant = i % 2 === 0 ? "alice" : "bob";
      while (!stop && samples.length < MAX_REQUESTS && Date.now() < deadline) {
        const start = performance.now();
        let retried = false;
        let error: string | undefined;
        try {
          await attempt(tenant, i);
        } catch (first) {
          if (isStaleKeepAliveReset(first)) {
            retried = true;
            error = await attempt(tenant, i).then(
              () => undefined,
              (err: Error) => `retry failed: ${err.message}`,
            );
          } else {
            error = `${(first as RequestFailure).code ?? ""} ${(first as Error).message}`.trim();
          }
        }
        samples.push({ start, end: performance.now(), retried, error });
      }
    };
    let run: ShellRun | undefined;
    let reloadStart = 0;
    let reloadEnd = 0;
    const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));
    try {
      await waitUntil("warm-up load", async () => (samples.length >= 300 ? true : undefined), { timeoutMs: 10_000, intervalMs: 10 });
      reloadStart = performance.now();
      run = await install(next);
      reloadEnd = performance.now();
      const afterReload = samples.length;
      await waitUntil("load after the reload", async () => (samples.length >= afterReload + 300 || samples.length >= MAX_REQUESTS ? true : undefined), {
        timeoutMs: 5_000,
        intervalMs: 10,
      }).catch(() => undefined);
    } finally {
      stop = true;
      await Promise.all(clients);
      for (const agent of agents) agent.destroy();
    }
    const failed = samples.filter((s) => s.error !== undefined);
    const retried = samples.filter((s) => s.retried).length;
    const during = samples.filter((s) => s.start < reloadEnd && s.end > reloadStart).length;
    console.log(
      `reload under load: install+reload ${(reloadEnd - reloadStart).toFixed(0)} ms; ${samples.length} requests from ${CLIENTS} keep-alive clients, ` +
        `${during} overlapping the reload; ${retried} hit a keep-alive connection Caddy closed at that moment (retried once, as browsers and curl do); ` +
        `${failed.length} failed` + (failed.length > 0 ? ` (first: ${failed.slice(0, 5).map((f) => f.error).join(" | ")})` : ""),
    );
    expect(run?.exitCode).toBe(0);
    expect(during).toBeGreaterThan(0);
    expect(samples.length).toBeLessThanOrEqual(MAX_REQUESTS + CLIENTS);
    expect(failed.map((f) => f.error)).toEqual([]);
    // Each kept-alive connection is closed by the old server at most once.
    expect(retried).toBeLessThanOrEqual(CLIENTS);
    await waitRoutable("erin");
  });

  test("an open WebSocket through Caddy survives a reload (stream_close_delay)", async () => {
    writeTenant(rosterDir, "frank", "tier: light\n");
    await startBackend("frank");
    const next = rendered();
    const socket = await openWebSocket({ host: `alice.${TEST_DOMAIN}`, port: ports.https, path: "/ws", ca });
    let closed: { code: number; atMs: number } | undefined;
    const opened = performance.now();
    socket.on("close", (code) => {
      closed = { code, atMs: performance.now() - opened };
    });
    socket.on("error", () => undefined); // reported through "close" and the echo
    try {
      expect(await echo(socket, "before")).toBe("alice:before");
      expect(backends.get("alice")?.openSockets()).toBe(1);
      const run = await install(next);
      expect(run.exitCode).toBe(0);
      await waitRoutable("frank");
      await sleep(200); // let a close that the reload triggered arrive before the next send
      const after = await echo(socket, "after").catch((err: Error) => `failed: ${err.message}`);
      const backendErrors = backends.get("alice")?.socketErrors() ?? [];
      console.log(
        `websocket across reload (${caddyVersion()}, stream_close_delay rendered): ` +
          (closed === undefined ? "stayed open" : `closed with code ${closed.code} ${closed.atMs.toFixed(0)} ms after opening; reload took ${run.ms.toFixed(0)} ms`) +
          `; echo after reload: ${after}; errors on the backend's side: ${backendErrors.join(", ") || "none"}`,
      );
      expect({ closed, after, backendErrors }).toEqual({ closed: undefined, after: "alice:after", backendErrors: [] });
    } finally {
      socket.terminate();
      await waitUntil("socket to close", async () => (socket.readyState === WebSocket.CLOSED ? true : undefined), { timeoutMs: 2_000, intervalMs: 20 }).catch(() => undefined);
    }
  });

  test("Caddy is still the process the test started (no restart hid a failure)", async () => {
    expect(caddy.child.exitCode).toBeNull();
    const res = await httpGet(caddy.adminAddress, "/config/");
    expect(res.status).toBe(200);
  });
});
