/**
 * The dashboard's HTTP server (node's http): the page and its assets, the JSON it polls, server-sent
 * events for live updates, /metrics. Read-only: GET and HEAD only, except the login form's POST.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { TenantName } from "../../core/names";
import { COOKIE, authorized, isLoopback, sessionValue, tokenMatches } from "./auth";
import { History } from "./history";
import { TenantMetrics } from "./metrics";
import { Source } from "./source";

const PAGE_DIR = path.join(__dirname, "page");
/** A server's name as stack config allows it (and as --server does). */
const SERVER_NAME = /^[a-z0-9][a-z0-9.-]*$/;

interface Asset { type: string; body: Buffer }

function loadAssets(): Map<string, Asset> {
  const uplot = path.dirname(require.resolve("uplot/dist/uPlot.iife.min.js"));
  const files: [string, string, string][] = [
    ["/", path.join(PAGE_DIR, "index.html"), "text/html; charset=utf-8"],
    ["/app.js", path.join(PAGE_DIR, "app.js"), "text/javascript; charset=utf-8"],
    ["/style.css", path.join(PAGE_DIR, "style.css"), "text/css; charset=utf-8"],
    ["/vendor/uPlot.iife.min.js", path.join(uplot, "uPlot.iife.min.js"), "text/javascript; charset=utf-8"],
    ["/vendor/uPlot.min.css", path.join(uplot, "uPlot.min.css"), "text/css; charset=utf-8"],
  ];
  return new Map(files.map(([url, file, type]) => [url, { type, body: fs.readFileSync(file) }]));
}

const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

const LOGIN_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>openclaw dashboard: sign in</title><link rel="stylesheet" href="/style.css"></head>
<body class="login"><form method="post" action="/login"><h1>openclaw dashboard</h1>
<p>This dashboard needs its access token.</p><label>Access token <input type="password" name="token" autocomplete="current-password" autofocus></label>
<button type="submit">Sign in</button></form></body></html>`;

export interface ServerOptions {
  /** The access token; null = open (loopback only). */
  token: string | null;
  listenHost: string;
  source: Source;
  history: History;
  metrics: TenantMetrics;
  /** At most this many live (SSE) connections at once. */
  maxStreams?: number;
}

/** Host names a loopback dashboard answers to: stops DNS rebinding from a page the operator visits. */
function hostAllowed(hostHeader: string | undefined, listenHost: string): boolean {
  if (hostHeader === undefined) return false;
  const name = hostHeader.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
  return isLoopback(name) || name === listenHost;
}

export function createDashboardServer(opts: ServerOptions): http.Server {
  const assets = loadAssets();
  const streams = new Set<http.ServerResponse>();
  const maxStreams = opts.maxStreams ?? 32;

  const send = (res: http.ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": type, ...extra });
    res.end(res.req.method === "HEAD" ? undefined : body);
  };
  const json = (res: http.ServerResponse, status: number, value: unknown): void => send(res, status, "application/json; charset=utf-8", JSON.stringify(value));

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://dashboard");
    const method = req.method ?? "GET";
    if (opts.token === null && !hostAllowed(req.headers.host, opts.listenHost)) {
      return send(res, 421, "text/plain; charset=utf-8", "unexpected Host header\n");
    }
    if (opts.token !== null && method === "POST" && url.pathname === "/login") {
      const body = await readBody(req, 4096);
      const given = new URLSearchParams(body ?? "").get("token") ?? "";
      if (body !== null && tokenMatches(opts.token, given)) {
        return send(res, 303, "text/plain; charset=utf-8", "signed in\n", {
          Location: "/",
          "Set-Cookie": `${COOKIE}=${sessionValue(opts.token)}; HttpOnly; SameSite=Strict; Path=/`,
        });
      }
      return send(res, 401, "text/html; charset=utf-8", LOGIN_PAGE);
    }
    if (method !== "GET" && method !== "HEAD") {
      return send(res, 405, "text/plain; charset=utf-8", "read-only: tenants change in the roster (git), not here\n", { Allow: "GET, HEAD" });
    }
    if (opts.token !== null && !authorized(opts.token, req.headers)) {
      const wantsHtml = (req.headers.accept ?? "").includes("text/html");
      return send(res, 401, wantsHtml ? "text/html; charset=utf-8" : "text/plain; charset=utf-8", wantsHtml ? LOGIN_PAGE : "access token required\n", {
        "WWW-Authenticate": 'Bearer realm="openclaw-dashboard"',
      });
    }

    if (url.pathname === "/favicon.ico") return send(res, 204, "image/x-icon", "");
    const asset = assets.get(url.pathname);
    if (asset !== undefined) return send(res, 200, asset.type, asset.body);

    switch (url.pathname) {
      case "/metrics":
        return send(res, 200, opts.metrics.contentType, await opts.metrics.text());
      case "/api/status": {
        const report = opts.source.current();
        if (report === null) return json(res, 503, { error: "first refresh still running" });
        return json(res, 200, { report, desired: opts.source.desired });
      }
      case "/api/events":
        return events(req, res);
      case "/api/history": {
        const hours = Math.min(Math.max(Number(url.searchParams.get("hours") ?? "24"), 0.1), 24 * 31);
        const since = Date.now() - hours * 3600e3;
        const tenant = url.searchParams.get("tenant");
        const server = url.searchParams.get("server");
        if (tenant !== null && TenantName.safeParse(tenant).success) return json(res, 200, opts.history.series("tenant", tenant, since));
        if (server !== null && SERVER_NAME.test(server)) return json(res, 200, opts.history.series("server", server, since));
        return json(res, 400, { error: "give ?tenant=NAME or ?server=NAME" });
      }
      default: {
        const m = /^\/api\/tenants\/([^/]+)$/.exec(url.pathname);
        if (m !== null) {
          const name = decodeURIComponent(m[1]);
          if (!TenantName.safeParse(name).success) return json(res, 400, { error: "not a tenant name" });
          // ?server=S: the row of that server, when a tenant shows on two (its old server keeps its volumes after a move).
          const server = url.searchParams.get("server");
          if (server !== null && !SERVER_NAME.test(server)) return json(res, 400, { error: "not a server name" });
          const detail = await opts.source.detail(name, server ?? undefined);
          return detail === null ? json(res, 404, { error: `no tenant ${name}` }) : json(res, 200, detail);
        }
        return send(res, 404, "text/plain; charset=utf-8", "not found\n");
      }
    }
  };

  const events = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (streams.size >= maxStreams) {
      send(res, 503, "text/plain; charset=utf-8", "too many live connections\n");
      return;
    }
    res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": "text/event-stream", Connection: "keep-alive" });
    streams.add(res);
    const push = (report: unknown): void => {
      res.write(`event: status\ndata: ${JSON.stringify(report)}\n\n`);
    };
    const current = opts.source.current();
    if (current !== null) push(current);
    const unsubscribe = opts.source.subscribe(push);
    const beat = setInterval(() => res.write(": keep-alive\n\n"), 15000);
    req.on("close", () => {
      clearInterval(beat);
      unsubscribe();
      streams.delete(res);
    });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", `error: ${err instanceof Error ? err.message : String(err)}\n`);
      else res.end();
    });
  });
  server.on("close", () => {
    for (const s of streams) s.end();
  });
  // Bounded: a slow or idle client cannot hold a connection forever (SSE keeps its own heartbeat).
  server.headersTimeout = 10000;
  server.requestTimeout = 15000;
  return server;
}

/** The request body as text, or null when it exceeds `limit` bytes. */
function readBody(req: http.IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on("end", () => resolve(size > limit ? null : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
