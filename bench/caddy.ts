// BEFORE routes moved into files: measures the per-site Caddyfile that reloaded Caddy on every roster change (bench/legacyCaddyfile.ts); bench/edgeChanges.ts compares it with today's edge.
// Caddy reload with the real Caddy: reload time at 100 and 1,000 sites, and failed requests while the
// program's own install script (components/edge.ts installCommand) reloads Caddy under load.
// Everything is on 127.0.0.1; every process and temp dir is removed at the end, also on failure.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as path from "path";
import { performance } from "perf_hooks";
import { EdgeSite } from "../core/caddyfile";
import { renderPerSiteCaddyfile as renderCaddyfile } from "./legacyCaddyfile";
import { INSTALL_SCRIPT_PATH, installCommand } from "../components/edge";
import { DOMAIN, makeTempDir, median, round, tenantName } from "./fixtures";

export interface CaddyOptions {
  sizes: number[];
  reps: number;
  /** Load test bounds. */
  clients: number;
  maxRequests: number;
  maxSeconds: number;
  reloadsUnderLoad: number;
  log: (line: string) => void;
  /** A caddy binary to use instead of the one on PATH (its folder goes first on PATH, for the install script too). */
  caddyBin?: string;
}

export interface CaddyResult {
  skipped?: string;
  caddyVersion?: string;
  /** Median wall time of `caddy reload` (CLI start, adapt, POST /load until done), per site count. */
  reloadMs: Record<string, number>;
  reloadRunsMs: Record<string, number[]>;
  /** Wall time of the program's edge command (install script: validate, swap, reload) under load. */
  installMs: number[];
  /** Time for Caddy to hold a certificate for every site after the first load of the biggest config. */
  certsReadyMs?: number;
  loadSites: number;
  totalRequests: number;
  /** Requests that got no 200 with the expected body (no retries). */
  failedRequests: number;
  failedDuringReload: number;
  /** Per client kind: keep-alive clients reuse connections, fresh clients open one per request. */
  byClient: Record<"keepAlive" | "fresh", { requests: number; failed: number }>;
  /**
   * Failures left after one retry of a request that failed on a reused keep-alive connection before
   * any response (what browsers do, and what Node documents for req.reusedSocket).
   */
  failedAfterRetry: number;
  errors: Record<string, number>;
  loadSeconds: number;
  /** Lines the program's Caddyfile needed changed for this Caddy version (found, not hidden). */
  compatibilityEdits: string[];
}

const LOAD_HOST = `bench-load.${DOMAIN}`;

/** What is running right now, so an interrupted run can still stop it (see cleanupCaddySync). */
const live = { children: new Set<ChildProcess>(), dirs: new Set<string>() };

/** Kills every process this module started and removes its temp dirs; safe to call from an exit handler. */
export function cleanupCaddySync(): void {
  for (const child of live.children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const dir of live.dirs) fs.rmSync(dir, { recursive: true, force: true });
}

export function findOnPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = path.join(dir, cmd);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A free loopback port (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Run {
  code: number | null;
  ms: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion with a hard time limit; the child is tracked so it can be killed on failure. */
export function runCommand(tracker: Set<ChildProcess>, cmd: string, args: string[], env: NodeJS.ProcessEnv, stdin: string | undefined, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    tracker.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      tracker.delete(child);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      tracker.delete(child);
      resolve({ code, ms: performance.now() - start, stdout, stderr });
    });
    child.stdin!.on("error", () => undefined);
    child.stdin!.end(stdin ?? "");
  });
}

export function killAndWait(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const hard = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(hard);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

function countIssuedCerts(storage: string): number {
  const dir = path.join(storage, "certificates", "local");
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const host of fs.readdirSync(dir)) if (fs.existsSync(path.join(dir, host, `${host}.crt`))) n++;
  return n;
}

function httpsGet(agent: https.Agent, port: number, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: "127.0.0.1", port, path: "/healthz", method: "GET", servername: LOAD_HOST, headers: { host: LOAD_HOST }, agent, rejectUnauthorized: false, timeout: timeoutMs },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err: Error & { reusedSocket?: boolean }) => {
      err.reusedSocket = req.reusedSocket;
      reject(err);
    });
    req.end();
  });
}

export async function benchCaddy(opts: CaddyOptions): Promise<CaddyResult> {
  const empty: CaddyResult = {
    reloadMs: {}, reloadRunsMs: {}, installMs: [], loadSites: 0, totalRequests: 0, failedRequests: 0, failedDuringReload: 0,
    byClient: { keepAlive: { requests: 0, failed: 0 }, fresh: { requests: 0, failed: 0 } }, failedAfterRetry: 0,
    errors: {}, loadSeconds: 0, compatibilityEdits: [],
  };
  const caddyBin = opts.caddyBin ?? findOnPath("caddy");
  if (caddyBin === undefined) return { ...empty, skipped: "caddy is not on PATH: reload and load measurements skipped" };

  const tmp = makeTempDir("caddy");
  live.dirs.add(tmp);
  const tracker = live.children;
  let caddy: ChildProcess | undefined;
  let backend: http.Server | undefined;
  const result: CaddyResult = { ...empty };
  try {
    const home = path.join(tmp, "home");
    const storage = path.join(tmp, "storage");
    const etc = path.join(tmp, "etc");
    for (const d of [home, storage, etc]) fs.mkdirSync(d, { recursive: true });
    const env: NodeJS.ProcessEnv = {
      PATH: `${path.dirname(caddyBin)}:${process.env.PATH ?? ""}`, HOME: home, XDG_DATA_HOME: path.join(home, ".local", "share"), XDG_CONFIG_HOME: path.join(home, ".config"),
    };
    const version = await runCommand(tracker, caddyBin, ["version"], env, undefined, 10_000);
    result.caddyVersion = version.stdout.trim();

    const [adminPort, httpPort, httpsPort, backendPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const admin = `127.0.0.1:${adminPort}`;

    // The tenant backend: a tiny HTTP server answering like the gateway's health endpoint.
    backend = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"ok":true,"status":"live"}');
    });
    await new Promise<void>((resolve) => backend!.listen(backendPort, "127.0.0.1", resolve));

    // Caddyfiles from the core's renderer, with the test options the field notes give. Variant "b" has
    // one more tenant: each reload is a real config change (Caddy skips a reload of identical config).
    const probe = renderCaddyfile([{ host: LOAD_HOST, port: backendPort, state: "active" }], { adminAddress: admin, localCerts: true });
    const compat = await adaptsOn(tracker, caddyBin, env, tmp, probe);
    result.compatibilityEdits = compat.edits;
    const render = (sites: number, variant: "a" | "b"): string => {
      const list: EdgeSite[] = [{ host: LOAD_HOST, port: backendPort, state: "active" }];
      for (let i = 0; i < sites - 1 + (variant === "b" ? 1 : 0); i++) {
        list.push({ host: `${tenantName(i)}.${DOMAIN}`, port: 20000 + i, state: i % 10 === 9 ? "suspended" : "active" });
      }
      const text = renderCaddyfile(list, { adminAddress: admin, localCerts: true, httpPort, httpsPort, storageDir: storage });
      // Loopback only: bind every listener to 127.0.0.1.
      return compat.fix(text.replace(/^\{\n/m, "{\n\tdefault_bind 127.0.0.1\n"));
    };
    const files = new Map<string, string>();
    for (const size of opts.sizes) {
      for (const v of ["a", "b"] as const) {
        const file = path.join(tmp, `Caddyfile.${size}.${v}`);
        fs.writeFileSync(file, render(size, v));
        files.set(`${size}.${v}`, file);
      }
    }

    const logFd = fs.openSync(path.join(tmp, "caddy.log"), "a");
    caddy = spawn(caddyBin, ["run", "--config", files.get(`${opts.sizes[0]}.a`)!, "--adapter", "caddyfile"], { env, stdio: ["ignore", logFd, logFd] });
    tracker.add(caddy);
    fs.closeSync(logFd);
    const caddyExit = new Promise<void>((resolve) => caddy!.once("exit", () => resolve()));
    const probeAgent = new https.Agent({ keepAlive: false });
    const readyBy = performance.now() + 30_000;
    for (;;) {
      if (caddy.exitCode !== null) throw new Error(`caddy exited early; log:\n${fs.readFileSync(path.join(tmp, "caddy.log"), "utf8").slice(-2000)}`);
      const ok = await httpsGet(probeAgent, httpsPort, 2000).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (performance.now() > readyBy) {
        const last = await httpsGet(probeAgent, httpsPort, 2000).then((r) => `HTTP ${r.status}`, (e: Error) => e.message);
        throw new Error(`caddy did not serve the load site within 30 s (${last}); log:\n${fs.readFileSync(path.join(tmp, "caddy.log"), "utf8").slice(-3000)}`);
      }
      await sleep(100);
    }

    const reload = async (file: string): Promise<number> => {
      const run = await runCommand(tracker, caddyBin, ["reload", "--config", file, "--adapter", "caddyfile", "--address", admin], env, undefined, 60_000);
      if (run.code !== 0) throw new Error(`caddy reload failed (${run.code}): ${run.stderr.slice(-1000)}`);
      return run.ms;
    };

    let current = "a";
    for (const size of opts.sizes) {
      // Arrive at this size, then let Caddy finish issuing its local certificates: the steady state of
      // a running edge, where a reload re-uses stored certificates.
      const arriveStart = performance.now();
      await reload(files.get(`${size}.b`)!);
      current = "b";
      const certBy = performance.now() + 120_000;
      while (countIssuedCerts(storage) < size + 1 && performance.now() < certBy) await sleep(200);
      if (size === Math.max(...opts.sizes)) result.certsReadyMs = round(performance.now() - arriveStart, 0);
      const runs: number[] = [];
      for (let i = 0; i < opts.reps; i++) {
        current = current === "a" ? "b" : "a";
        runs.push(await reload(files.get(`${size}.${current}`)!));
      }
      result.reloadRunsMs[String(size)] = runs.map((ms) => round(ms, 0));
      result.reloadMs[String(size)] = round(median(runs), 0);
      opts.log(`caddy reload at ${size} sites: median ${round(median(runs), 0)} ms (${runs.map((r) => round(r, 0)).join(", ")})`);
    }

    // Load: bounded concurrent clients against one site, while the program's edge command reloads Caddy.
    const loadSize = Math.max(...opts.sizes);
    result.loadSites = loadSize;
    const livePath = path.join(etc, "Caddyfile");
    fs.copyFileSync(files.get(`${loadSize}.${current}`)!, livePath);
    const create = installCommand(fs.readFileSync(INSTALL_SCRIPT_PATH, "utf8"), livePath, admin);
    let stop = false;
    let total = 0;
    let failed = 0;
    let failedDuringReload = 0;
    let failedAfterRetry = 0;
    const byClient: CaddyResult["byClient"] = { keepAlive: { requests: 0, failed: 0 }, fresh: { requests: 0, failed: 0 } };
    let reloading = false;
    const errors: Record<string, number> = {};
    const loadStart = performance.now();
    const deadline = loadStart + opts.maxSeconds * 1000;
    // Paced so the request budget spreads over the reloads (about 1 s each with the pauses around
    // them) instead of being spent in the first second.
    const expectedWindowMs = Math.min(opts.maxSeconds * 1000, 1500 + opts.reloadsUnderLoad * 1000);
    const pauseMs = Math.max(0, Math.round((opts.clients * expectedWindowMs) / opts.maxRequests) - 2);
    const client = async (kind: "keepAlive" | "fresh"): Promise<void> => {
      const agent = new https.Agent({ keepAlive: kind === "keepAlive", maxSockets: 1 });
      try {
        while (!stop && total < opts.maxRequests && performance.now() < deadline) {
          total++;
          byClient[kind].requests++;
          const during = reloading;
          try {
            const r = await httpsGet(agent, httpsPort, 5000);
            if (r.status !== 200 || !r.body.includes('"ok":true')) throw new Error(`HTTP ${r.status}`);
          } catch (err) {
            failed++;
            byClient[kind].failed++;
            if (during || reloading) failedDuringReload++;
            const e = err as NodeJS.ErrnoException & { reusedSocket?: boolean };
            const key = `${e.code ?? e.message}${e.reusedSocket === true ? " on a reused keep-alive connection" : ""}`;
            errors[key] = (errors[key] ?? 0) + 1;
            const retried = e.reusedSocket === true ? await httpsGet(agent, httpsPort, 5000).then((r) => r.status === 200, () => false) : false;
            if (!retried) failedAfterRetry++;
          }
          await sleep(pauseMs);
        }
      } finally {
        agent.destroy();
      }
    };
    const clients = Array.from({ length: opts.clients }, (_, i) => client(i % 2 === 0 ? "keepAlive" : "fresh"));
    await sleep(1000);
    for (let i = 0; i < opts.reloadsUnderLoad && performance.now() < deadline - 1000; i++) {
      current = current === "a" ? "b" : "a";
      reloading = true;
      const run = await runCommand(tracker, "/bin/bash", ["-c", create], env, fs.readFileSync(files.get(`${loadSize}.${current}`)!, "utf8"), 60_000);
      reloading = false;
      if (run.code !== 0) throw new Error(`edge install command failed (${run.code}): ${run.stderr.slice(-1500)}`);
      result.installMs.push(round(run.ms, 0));
      opts.log(`edge command (validate + swap + reload) at ${loadSize} sites under load: ${round(run.ms, 0)} ms`);
      await sleep(500);
    }
    await sleep(500);
    stop = true;
    await Promise.all(clients);
    Object.assign(result, {
      totalRequests: total, failedRequests: failed, failedDuringReload, byClient, failedAfterRetry, errors, loadSeconds: round((performance.now() - loadStart) / 1000, 1),
    });
    probeAgent.destroy();
    await killAndWait(caddy, 5000);
    await caddyExit;
    tracker.delete(caddy);
    return result;
  } finally {
    for (const child of tracker) await killAndWait(child, 5000);
    if (backend !== undefined) await new Promise<void>((resolve) => backend!.close(() => resolve()));
    // For a closer look at a failure: BENCH_CADDY_LOG=FILE keeps Caddy's log.
    if (process.env.BENCH_CADDY_LOG !== undefined && fs.existsSync(path.join(tmp, "caddy.log"))) fs.copyFileSync(path.join(tmp, "caddy.log"), process.env.BENCH_CADDY_LOG);
    fs.rmSync(tmp, { recursive: true, force: true });
    live.dirs.delete(tmp);
  }
}

/**
 * Checks the program's site block on this Caddy. Caddy before 2.7 does not know `stream_close_delay`
 * (reverse_proxy); if this Caddy rejects it, the benchmark drops that line and reports the edit.
 */
async function adaptsOn(tracker: Set<ChildProcess>, caddyBin: string, env: NodeJS.ProcessEnv, tmp: string, caddyfile: string): Promise<{ edits: string[]; fix: (text: string) => string }> {
  const file = path.join(tmp, "Caddyfile.probe");
  fs.writeFileSync(file, caddyfile);
  const first = await runCommand(tracker, caddyBin, ["adapt", "--config", file, "--adapter", "caddyfile"], env, undefined, 20_000);
  if (first.code === 0) return { edits: [], fix: (t) => t };
  if (!/unrecognized subdirective stream_close_delay/.test(first.stderr)) {
    throw new Error(`caddy rejects the program's Caddyfile: ${first.stderr.slice(-800)}`);
  }
  const fix = (t: string) => t.replace(/^\t\tstream_close_delay .*\n/gm, "");
  fs.writeFileSync(file, fix(caddyfile));
  const second = await runCommand(tracker, caddyBin, ["adapt", "--config", file, "--adapter", "caddyfile"], env, undefined, 20_000);
  if (second.code !== 0) throw new Error(`caddy rejects the program's Caddyfile: ${second.stderr.slice(-800)}`);
  return {
    edits: [`removed "stream_close_delay" from every site: this Caddy rejects it (${first.stderr.trim().split("\n").pop()})`],
    fix,
  };
}
