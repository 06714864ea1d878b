// Helpers for integration tests against the real Caddy binary: sandboxed environment, free ports,
// start/stop with bounded waits, HTTPS requests with SNI (the equivalent of `curl --resolve`),
// an HTTP + WebSocket echo backend, and running the edge's install command exactly as Pulumi does.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import { WebSocket, WebSocketServer } from "ws";

export const CADDY_BIN = process.env.CADDY_BIN ?? "/usr/bin/caddy";

/** Runs registered clean-up steps in reverse order; every step runs even if another one throws. */
export class Cleanup {
  private readonly steps: { label: string; run: () => Promise<void> | void }[] = [];

  add(label: string, run: () => Promise<void> | void): void {
    this.steps.push({ label, run });
  }

  async run(): Promise<void> {
    const errors: string[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop();
      if (step === undefined) break;
      try {
        await step.run();
      } catch (err) {
        errors.push(`${step.label}: ${(err as Error).message}`);
      }
    }
    if (errors.length > 0) throw new Error(`clean-up failed:\n${errors.join("\n")}`);
  }
}

export function makeTempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `openclaw-it-${label}-`));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** A port nobody listens on right now (the kernel's choice on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("no port"));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** True when `port` can be bound on 127.0.0.1 right now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A directory tree for one Caddy: its own HOME, XDG dirs and certificate storage, nothing shared. */
export interface CaddySandbox {
  dir: string;
  storageDir: string;
  /** Where the live Caddyfile goes (stands in for /etc/caddy/Caddyfile). */
  caddyfilePath: string;
  /** The route folder the program derives from caddyfilePath (`routes` beside it). */
  routesDir: string;
  /** A clean environment: only PATH (with caddy on it), HOME and XDG dirs inside the sandbox. */
  env: NodeJS.ProcessEnv;
}

export function caddySandbox(dir: string): CaddySandbox {
  const sub = (name: string): string => {
    const p = path.join(dir, name);
    fs.mkdirSync(p, { recursive: true });
    return p;
  };
  const env: NodeJS.ProcessEnv = {
    PATH: [path.dirname(CADDY_BIN), "/usr/local/bin", "/usr/bin", "/bin"].join(":"),
    HOME: sub("home"),
    XDG_DATA_HOME: sub("xdg-data"),
    XDG_CONFIG_HOME: sub("xdg-config"),
    XDG_CACHE_HOME: sub("xdg-cache"),
    TMPDIR: sub("tmp"),
    LANG: "C.UTF-8",
  };
  const etc = sub("etc-caddy");
  return { dir, storageDir: sub("storage"), caddyfilePath: path.join(etc, "Caddyfile"), routesDir: path.join(etc, "routes"), env };
}

export interface ValidateResult {
  exitCode: number | null;
  output: string;
}

/** `caddy validate --config F --adapter caddyfile`, bounded to 30 s. */
export function caddyValidate(configPath: string, env: NodeJS.ProcessEnv): ValidateResult {
  const r = spawnSync(CADDY_BIN, ["validate", "--config", configPath, "--adapter", "caddyfile"], { env, encoding: "utf8", timeout: 30_000 });
  return { exitCode: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error !== undefined ? String(r.error) : ""}` };
}

/** `caddy adapt`: the JSON config Caddy would run, or the adapter's error. */
export function caddyAdapt(configPath: string, env: NodeJS.ProcessEnv): { exitCode: number | null; json: string; stderr: string } {
  const r = spawnSync(CADDY_BIN, ["adapt", "--config", configPath, "--adapter", "caddyfile"], { env, encoding: "utf8", timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  return { exitCode: r.status, json: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Whether the installed Caddy's Caddyfile adapter accepts a reverse_proxy subdirective. */
export function caddySupportsProxySubdirective(line: string, sandboxDir: string): boolean {
  const file = path.join(sandboxDir, `probe-${process.pid}-${Date.now()}.Caddyfile`);
  fs.writeFileSync(file, `{\n\tadmin off\n\tauto_https off\n}\n:0 {\n\treverse_proxy 127.0.0.1:9 {\n\t\t${line}\n\t}\n}\n`);
  try {
    return caddyAdapt(file, { PATH: process.env.PATH, HOME: sandboxDir }).exitCode === 0;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

export function caddyVersion(): string {
  const r = spawnSync(CADDY_BIN, ["version"], { encoding: "utf8", timeout: 10_000 });
  return (r.stdout ?? "").trim();
}

/** Polls `probe` until it returns a value, at most `attempts` times and `timeoutMs` in total. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 10_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const attempts = Math.max(1, Math.ceil(timeoutMs / intervalMs));
  let last = "no attempt";
  for (let i = 0; i < attempts && Date.now() < deadline; i++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = "not yet";
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`'s value, or "timeout" after `ms`; the timer is cleared either way (no stray handle). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Ends a child process by its pid: SIGTERM, then SIGKILL, each wait bounded. */
export async function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<true>((resolve) => child.once("exit", () => resolve(true)));
  if (child.pid !== undefined) process.kill(child.pid, "SIGTERM");
  if ((await within(exited, graceMs)) === true) return;
  if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
  if ((await within(exited, 2_000)) !== true) throw new Error(`process ${child.pid} did not exit after SIGKILL`);
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A plain HTTP GET (for the admin API), bounded by `timeoutMs`. */
export function httpGet(address: string, urlPath: string, timeoutMs = 5_000): Promise<HttpResult> {
  const [host, port] = splitAddress(address);
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: urlPath, method: "GET", timeout: timeoutMs, agent: false }, (res) => collect(res, resolve, reject));
    req.on("timeout", () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

export interface HttpsTarget {
  /** The virtual host: sent as SNI and as the Host header. */
  host: string;
  /** Caddy's HTTPS port on 127.0.0.1. */
  port: number;
  path?: string;
  /** PEM of the CA to trust (Caddy's local root); the certificate is verified against it. */
  ca: string;
  agent?: https.Agent;
  timeoutMs?: number;
  /** Another Host header than `host` (SNI stays `host`). */
  hostHeader?: string;
}

/** A failed request; `reusedSocket` tells whether it went out on a kept-alive connection. */
export interface RequestFailure extends Error {
  code?: string;
  reusedSocket?: boolean;
}

/**
 * True for the one failure HTTP/1.1 clients are allowed to retry without knowing whether the
 * server saw the request (RFC 9112 section 9.3.1): an idempotent request sent on a reused idle
 * connection that the server closed at the same moment, before any byte of a response. Browsers
 * and curl retry these once, transparently; Node's http client does not.
 */
export function isStaleKeepAliveReset(err: unknown): boolean {
  const e = err as RequestFailure;
  return e.reusedSocket === true && (e.code === "ECONNRESET" || e.code === "EPIPE");
}

/** GET https://host/path, connecting to 127.0.0.1:port (like `curl --resolve host:port:127.0.0.1`). */
export function httpsGet(target: HttpsTarget): Promise<HttpResult> {
  const { host, port, ca, agent } = target;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        path: target.path ?? "/",
        method: "GET",
        servername: host,
        headers: { host: target.hostHeader ?? host },
        ca,
        agent: agent ?? false,
        timeout: target.timeoutMs ?? 5_000,
      },
      (res) => collect(res, resolve, reject),
    );
    req.on("timeout", () => req.destroy(new Error(`GET https://${host}${target.path ?? "/"} timed out`)));
    req.on("error", (err: RequestFailure) => {
      err.reusedSocket = req.reusedSocket;
      reject(err);
    });
    req.end();
  });
}

function collect(res: http.IncomingMessage, resolve: (r: HttpResult) => void, reject: (e: Error) => void): void {
  const chunks: Buffer[] = [];
  res.on("data", (c: Buffer) => chunks.push(c));
  res.on("error", reject);
  res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(":");
  return [address.slice(0, i).replace(/^\[|\]$/g, ""), Number(address.slice(i + 1))];
}

/** Caddy's local CA root (written to storage when Caddy provisions `local_certs`). */
export function localRootCaPath(storageDir: string): string {
  return path.join(storageDir, "pki", "authorities", "local", "root.crt");
}

export interface RunningCaddy {
  child: ChildProcess;
  pid: number;
  adminAddress: string;
  logFile: string;
  /** The last `lines` lines of Caddy's log, for failure messages. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** `caddy run --config F --adapter caddyfile`, then waits (bounded) until its admin API answers. */
export async function startCaddy(options: { configPath: string; adminAddress: string; env: NodeJS.ProcessEnv; logFile: string }): Promise<RunningCaddy> {
  const log = fs.openSync(options.logFile, "a");
  const child = spawn(CADDY_BIN, ["run", "--config", options.configPath, "--adapter", "caddyfile"], {
    env: options.env,
    stdio: ["ignore", log, log],
  });
  fs.closeSync(log);
  if (child.pid === undefined) throw new Error("caddy did not start");
  const logTail = (lines = 40): string => fs.readFileSync(options.logFile, "utf8").split("\n").slice(-lines).join("\n");
  const running: RunningCaddy = {
    child,
    pid: child.pid,
    adminAddress: options.adminAddress,
    logFile: options.logFile,
    logTail,
    stop: () => stopProcess(child),
  };
  try {
    await waitUntil(
      "Caddy's admin API",
      async () => {
        if (child.exitCode !== null) throw new Error(`caddy exited with ${child.exitCode}`);
        const r = await httpGet(options.adminAddress, "/config/", 1_000);
        return r.status === 200 ? true : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  } catch (err) {
    await running.stop();
    throw new Error(`${(err as Error).message}\n--- caddy log ---\n${logTail()}`);
  }
  return running;
}

/** What the echo backend reports about a request it served. */
export interface EchoReply {
  backend: string;
  host: string;
  path: string;
  forwardedProto: string;
}

export interface EchoBackend {
  name: string;
  port: number;
  /** WebSocket connections currently open on the backend. */
  openSockets(): number;
  /** Errors seen on the backend's side of WebSocket connections (e.g. invalid frames from the proxy). */
  socketErrors(): string[];
  /** Every HTTP request path it answered, in order. */
  requests(): { path: string }[];
  close(): Promise<void>;
}

/**
 * A stand-in for one tenant's gateway on 127.0.0.1:port: HTTP answers JSON naming the backend, and
 * WebSocket messages are echoed as `<name>:<message>` (one port for both, like OpenClaw's gateway).
 */
export function startEchoBackend(name: string, port: number): Promise<EchoBackend> {
  const seen: { path: string }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ path: req.url ?? "" });
    const reply: EchoReply = {
      backend: name,
      host: req.headers.host ?? "",
      path: req.url ?? "",
      forwardedProto: String(req.headers["x-forwarded-proto"] ?? ""),
    };
    const body = JSON.stringify(reply);
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  const wss = new WebSocketServer({ server });
  const socketErrors: string[] = [];
  wss.on("connection", (socket) => {
    // A protocol error from the proxy side must not crash the test run; it is recorded instead.
    socket.on("error", (err: Error & { code?: string }) => socketErrors.push(err.code ?? err.message));
    socket.on("message", (data, isBinary) => {
      socket.send(isBinary ? data : `${name}:${data.toString()}`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      server.off("error", reject);
      resolve({
        name,
        port,
        openSockets: () => wss.clients.size,
        requests: () => [...seen],
        socketErrors: () => [...socketErrors],
        close: async () => {
          for (const client of wss.clients) client.terminate();
          await within(new Promise<void>((r) => wss.close(() => r())), 2_000);
          server.closeAllConnections();
          await within(new Promise<void>((r) => server.close(() => r())), 2_000);
        },
      });
    });
  });
}

/** Opens a WebSocket to wss://host/path through Caddy at 127.0.0.1:port, bounded by `timeoutMs`. */
export function openWebSocket(target: HttpsTarget, timeoutMs = 5_000): Promise<WebSocket> {
  const socket = new WebSocket(`wss://${target.host}:${target.port}${target.path ?? "/"}`, {
    handshakeTimeout: timeoutMs,
    // Connect to 127.0.0.1 whatever the name resolves to; SNI and certificate check use the name.
    createConnection: () => tls.connect({ host: "127.0.0.1", port: target.port, servername: target.host, ca: target.ca }),
  });
  return new Promise((resolve, reject) => {
    socket.once("open", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** Sends `text` and waits (bounded) for the next message; rejects if the socket closes first. */
export function echo(socket: WebSocket, text: string, timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no echo for "${text}" within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (data: Buffer): void => done(undefined, data.toString());
    const onClose = (code: number): void => done(new Error(`socket closed (code ${code}) before the echo of "${text}"`));
    const onError = (err: Error): void => done(err);
    function done(err: Error | undefined, value?: string): void {
      clearTimeout(timer);
      socket.off("message", onMessage);
      socket.off("close", onClose);
      socket.off("error", onError);
      if (err !== undefined) reject(err);
      else resolve(value ?? "");
    }
    socket.on("message", onMessage);
    socket.on("close", onClose);
    socket.on("error", onError);
    if (socket.readyState !== WebSocket.OPEN) {
      done(new Error(`socket is not open (readyState ${socket.readyState}) before sending "${text}"`));
      return;
    }
    socket.send(text);
  });
}

export interface ShellRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs `command` the way @pulumi/command's local.Command does: `interpreter... command`, with
 * `stdin` piped in. Asynchronous, so the test's event loop (load clients, sockets) keeps running.
 */
export function runCommand(interpreter: readonly string[], command: string, stdin: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ShellRun> {
  const started = process.hrtime.bigint();
  const child = spawn(interpreter[0], [...interpreter.slice(1), command], { env, stdio: ["pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stderr.on("data", (c: Buffer) => err.push(c));
  child.stdin.on("error", () => undefined); // the script may exit before reading all of stdin
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopProcess(child, 1_000).finally(() => reject(new Error(`command timed out after ${timeoutMs} ms:\n${Buffer.concat(err).toString()}`)));
    }, timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        exitCode: code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      });
    });
  });
}
