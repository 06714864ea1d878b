// Shared by the real-gateway suite (realGateway.test.ts) and `npm run bench:gateway`: the real
// image's tag, a Gateway-protocol WebSocket client through Caddy, the container's memory, and an
// `openclaw` command run inside the container.
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import * as tls from "tls";
import Docker from "dockerode";
import { WebSocket } from "ws";
import { dockerCli, ExecResult } from "../support/docker";

const IMAGE_DIR = path.resolve(__dirname, "..", "..", "machinery", "openclaw-image");

/** The OpenClaw version the test image pins (its package.json), and the image's tag. */
export const REAL_VERSION: string = (JSON.parse(fs.readFileSync(path.join(IMAGE_DIR, "package.json"), "utf8")) as { dependencies: Record<string, string> })
  .dependencies.openclaw;
export const REAL_IMAGE = process.env.OPENCLAW_REAL_TAG ?? `openclaw-real:${REAL_VERSION}`;

export interface ConnectOutcome {
  /** `hello-ok` when the gateway accepted the connect request. */
  ok: boolean;
  /** The gateway's error code (details.code, else code) when it refused. */
  code?: string;
  message?: string;
  /** The WebSocket close code when the gateway closed the socket. */
  closeCode?: number;
  /** The open socket after `hello-ok` (the caller closes it). */
  socket?: WebSocket;
  /** The hello-ok payload's server version. */
  serverVersion?: string;
}

interface Frame {
  type?: string;
  event?: string;
  id?: string;
  ok?: boolean;
  payload?: { server?: { version?: string } };
  error?: { code?: string; message?: string; details?: { code?: string } };
}

/**
 * Opens wss://host through Caddy at 127.0.0.1:port with the browser origin `origin` and performs
 * the Gateway protocol's connect handshake (protocol 4, client `cli`, role operator, read scope),
 * with `token` when given. Bounded by `timeoutMs`; never throws for a refusal.
 */
export interface GatewayTarget {
  host: string;
  /** Caddy's https port. */
  port: number;
  /** The address Caddy is reached at (default 127.0.0.1). */
  address?: string;
  ca: string;
  origin: string;
  token?: string;
  timeoutMs?: number;
  /**
   * Instead of Caddy: the tenant's published port, plain ws://, with the headers a proxy adds. The
   * gateway sees the bridge address (a trusted proxy) and this forwarded client (bench load only).
   */
  direct?: { port: number; forwardedFor: string };
}

export function connectGateway(target: GatewayTarget): Promise<ConnectOutcome> {
  const timeoutMs = target.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const socket =
      target.direct === undefined
        ? new WebSocket(`wss://${target.host}:${target.port}/`, {
            origin: target.origin,
            handshakeTimeout: timeoutMs,
            createConnection: () => tls.connect({ host: target.address ?? "127.0.0.1", port: target.port, servername: target.host, ca: target.ca }),
          })
        : new WebSocket(`ws://127.0.0.1:${target.direct.port}/`, {
            origin: target.origin,
            handshakeTimeout: timeoutMs,
            headers: { host: target.host, "x-forwarded-for": target.direct.forwardedFor, "x-forwarded-proto": "https", "x-forwarded-host": target.host },
          });
    let settled = false;
    const finish = (outcome: ConnectOutcome | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome instanceof Error) {
        socket.terminate();
        reject(outcome);
      } else resolve(outcome);
    };
    const timer = setTimeout(() => finish(new Error(`no connect answer within ${timeoutMs} ms`)), timeoutMs);
    let refusal: ConnectOutcome | undefined;
    socket.on("unexpected-response", (_req, res) => finish({ ok: false, code: `HTTP ${res.statusCode ?? 0}` }));
    socket.on("error", (err) => finish(err));
    socket.on("close", (code) => finish({ ...(refusal ?? { ok: false }), closeCode: code }));
    socket.on("message", (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.type === "event" && frame.event === "connect.challenge") {
        const params: Record<string, unknown> = {
          minProtocol: 4,
          maxProtocol: 4,
          client: { id: "cli", version: "1.0.0", platform: "linux", mode: "cli" },
          role: "operator",
          scopes: ["operator.read"],
          caps: [],
          commands: [],
          permissions: {},
          locale: "en-US",
          userAgent: "openclaw-hosting-test/1",
        };
        if (target.token !== undefined) params.auth = { token: target.token };
        socket.send(JSON.stringify({ type: "req", id: "connect-1", method: "connect", params }));
      } else if (frame.type === "res" && frame.id === "connect-1") {
        if (frame.ok === true) finish({ ok: true, socket, serverVersion: frame.payload?.server?.version });
        else refusal = { ok: false, code: frame.error?.details?.code ?? frame.error?.code, message: frame.error?.message };
      }
    });
  });
}

export interface MemoryFigures {
  /** What `docker stats` shows: the cgroup's usage minus inactive page cache, MB. */
  usedMb: number;
  /** Resident anonymous memory of every process in the container, MB. */
  rssMb: number;
  /** The cgroup's high-water mark since start (or the last reset), MB. */
  peakMb: number;
  limitMb: number;
}

const MB = 1024 * 1024;

/** One sample of the container's memory from the engine (cgroup v1 and v2 field names). */
export async function memoryOf(docker: Docker, container: string): Promise<MemoryFigures> {
  const s = (await docker.getContainer(container).stats({ stream: false })) as unknown as {
    memory_stats: { usage?: number; max_usage?: number; limit?: number; stats?: Record<string, number> };
  };
  const m = s.memory_stats;
  const stats = m.stats ?? {};
  const inactive = stats.total_inactive_file ?? stats.inactive_file ?? 0;
  const rss = stats.total_rss ?? stats.anon ?? 0;
  const round = (n: number): number => Math.round(n / MB);
  return { usedMb: round((m.usage ?? 0) - inactive), rssMb: round(rss), peakMb: round(m.max_usage ?? 0), limitMb: round(m.limit ?? 0) };
}

/** `docker exec CONTAINER node dist/index.js ARGS...`: the gateway's own CLI, as an operator runs it. */
export function openclawCli(container: string, args: readonly string[], timeoutMs = 90_000): Promise<ExecResult> {
  return dockerCli(["exec", container, "node", "dist/index.js", ...args], timeoutMs);
}

/** The JSON object a `--json` command printed (its last line that parses as an object). */
export function jsonOut<T>(r: ExecResult): T {
  const lines = r.stdout.trim().split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const start = lines.slice(i).join("\n");
    if (!/^[[{]/.test(start.trim())) continue;
    try {
      return JSON.parse(start) as T;
    } catch {
      // a longer tail may parse
    }
  }
  throw new Error(`no JSON in the output (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
}

/** Sends one Gateway request on an open socket and waits (bounded) for its response; true when ok. */
export function request(socket: WebSocket, id: string, method: string, params: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const onMessage = (data: Buffer): void => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.type === "res" && frame.id === id) done(frame.ok === true);
    };
    const onClose = (): void => done(false);
    function done(ok: boolean): void {
      clearTimeout(timer);
      socket.off("message", onMessage);
      socket.off("close", onClose);
      resolve(ok);
    }
    socket.on("message", onMessage);
    socket.on("close", onClose);
    socket.send(JSON.stringify({ type: "req", id, method, params }));
  });
}

/** GET https://host/path at address:port (SNI and Host = host), trusting `ca`; bounded. */
export function httpsGetAt(t: { address: string; port: number; host: string; path: string; ca: string; headers?: Record<string, string>; timeoutMs?: number }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: t.address, port: t.port, path: t.path, method: "GET", servername: t.host, headers: { ...t.headers, host: t.host }, ca: t.ca, agent: false, timeout: t.timeoutMs ?? 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET https://${t.host}${t.path} via ${t.address} timed out`)));
    req.on("error", reject);
    req.end();
  });
}
