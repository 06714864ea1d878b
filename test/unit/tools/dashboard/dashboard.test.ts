// The dashboard without an engine: options, the access rule, history on disk, and the HTTP server
// serving a synthetic model (pages, 401s, /metrics in Prometheus' format, read-only methods).
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { AddressInfo } from "net";
import { UsageError } from "../../../../core/dockerHost";
import { parseDashboardArgs } from "../../../../tools/dashboard/args";
import { COOKIE, accessPolicy, authorized, readToken, sessionValue, tokenMatches } from "../../../../tools/dashboard/auth";
import Docker from "dockerode";
import { History, sampleOf } from "../../../../tools/dashboard/history";
import { EngineSource } from "../../../../tools/dashboard/source";
import { TenantMetrics } from "../../../../tools/dashboard/metrics";
import { createDashboardServer } from "../../../../tools/dashboard/server";
import { StaticSource, modelFrom, syntheticEngine } from "../../../support/dashboard";
import { parsePrometheusText } from "../../../support/prometheus";

const TOKEN = "unit-test-token-0123456789";
const dirs: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "dash-unit-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe("options (zod)", () => {
  test("defaults: loopback port 3000, 10 s refresh, 60 s samples, 26 h kept", () => {
    const a = parseDashboardArgs([], { OPENCLAW_DASHBOARD_STATE: "/tmp/x" });
    expect(a).toMatchObject({ listen: { host: "127.0.0.1", port: 3000 }, refresh: 10, sample: 60, disk: 300, retention: 26, server: "local", stateDir: "/tmp/x" });
  });

  test("--listen forms, and every value checked", () => {
    expect(parseDashboardArgs(["--listen", "0.0.0.0:8080"]).listen).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(parseDashboardArgs(["--listen=[::1]:3001"]).listen).toEqual({ host: "::1", port: 3001 });
    expect(() => parseDashboardArgs(["--listen", "3000"])).toThrow(new UsageError("--listen: must be HOST:PORT, e.g. 127.0.0.1:3000 or [::1]:3000"));
    expect(() => parseDashboardArgs(["--listen", "a:70000"])).toThrow(UsageError);
    expect(() => parseDashboardArgs(["--retention", "12"])).toThrow(/--retention/);
    expect(() => parseDashboardArgs(["--bogus", "1"])).toThrow(new UsageError("unknown option --bogus"));
    expect(() => parseDashboardArgs(["--stack"])).toThrow(new UsageError("--stack needs a value"));
  });

  test("a token on the command line is refused, whatever its spelling", () => {
    for (const argv of [["--token", "abc"], ["--token=abc"], ["--access-token", "abc"]]) {
      expect(() => parseDashboardArgs(argv)).toThrow(/not accepted: a token on the command line is visible to every user/);
    }
  });
});

describe("the access rule", () => {
  test("loopback without a token is open; anything else without one is refused", () => {
    expect(accessPolicy("127.0.0.1", null).token).toBeNull();
    expect(accessPolicy("::1", null).token).toBeNull();
    for (const host of ["0.0.0.0", "::", "10.0.0.5", "example.com"]) {
      expect(() => accessPolicy(host, null)).toThrow(/refusing to listen on .* which is not loopback, without an access token/);
    }
    const pub = accessPolicy("0.0.0.0", { token: TOKEN, from: "file /x" });
    expect(pub.token).toBe(TOKEN);
    expect(pub.banner).toContain("PUBLIC bind on 0.0.0.0: access token required");
    expect(pub.banner).not.toContain(TOKEN);
  });

  test("the token comes from a file or the environment, and must be long enough", () => {
    const dir = tmp();
    const file = path.join(dir, "token");
    fs.writeFileSync(file, `${TOKEN}\n`);
    expect(readToken(file, {})).toEqual({ token: TOKEN, from: `file ${file}` });
    expect(readToken(undefined, { OPENCLAW_DASHBOARD_TOKEN: TOKEN })).toEqual({ token: TOKEN, from: "environment OPENCLAW_DASHBOARD_TOKEN" });
    expect(readToken(undefined, {})).toBeNull();
    fs.writeFileSync(file, "short");
    expect(() => readToken(file, {})).toThrow(/at least 16 characters/);
    expect(() => readToken(path.join(dir, "missing"), {})).toThrow(/ENOENT/);
  });

  test("constant-time comparison; bearer or session cookie", () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN, `${TOKEN}x`)).toBe(false);
    expect(tokenMatches(TOKEN, "")).toBe(false);
    expect(tokenMatches(TOKEN, undefined)).toBe(false);
    expect(authorized(TOKEN, { authorization: `Bearer ${TOKEN}` })).toBe(true);
    expect(authorized(TOKEN, { authorization: "Bearer wrong-token-wrong-token" })).toBe(false);
    expect(authorized(TOKEN, { cookie: `a=b; ${COOKIE}=${sessionValue(TOKEN)}` })).toBe(true);
    expect(authorized(TOKEN, { cookie: `${COOKIE}=${TOKEN}` })).toBe(false); // the cookie never carries the token itself
    expect(authorized(TOKEN, {})).toBe(false);
  });
});

describe("history on disk", () => {
  const report = modelFrom(syntheticEngine(5));

  test("samples survive a restart; old and torn lines are dropped at start", () => {
    const dir = tmp();
    const now = Date.now();
    const h = new History({ dir, retentionMs: 24 * 3600e3, sampleMs: 60e3, now: () => now });
    h.append(sampleOf(report, now - 25 * 3600e3)); // outside the window
    for (let i = 0; i < 10; i++) h.append(sampleOf(report, now - (10 - i) * 60e3));
    fs.appendFileSync(h.file, '{"t": 12, "n": {"t0'); // a write cut short by a crash
    const again = new History({ dir, retentionMs: 24 * 3600e3, sampleMs: 60e3, now: () => now });
    expect(again.samples).toBe(10);
    const s = again.series("tenant", "t0000");
    expect(s.t).toHaveLength(10);
    expect(s.memoryBytes[0]).toBeCloseTo(report.tenants[0].memoryUsedBytes!, -5);
    expect(again.series("server", "local").cpuPercent[9]).toBeCloseTo(report.servers[0].cpuPercent, 1);
    expect(fs.readFileSync(h.file, "utf8").trim().split("\n")).toHaveLength(10);
  });

  test("a ring: bounded by the window, compacted as it grows; a tenant absent from a sample is a gap", () => {
    const dir = tmp();
    let now = 0;
    const h = new History({ dir, retentionMs: 3600e3, sampleMs: 60e3, now: () => now });
    for (let i = 0; i < 200; i++) {
      now = i * 60e3;
      const line = sampleOf(report, now);
      if (i === 199) delete line.n.t0001;
      h.append(line);
    }
    expect(h.samples).toBeLessThanOrEqual(60 + 16);
    expect(fs.readFileSync(h.file, "utf8").trim().split("\n").length).toBeLessThanOrEqual(2 * (60 + 16));
    const s = h.series("tenant", "t0001");
    expect(s.memoryBytes[s.memoryBytes.length - 1]).toBeNull();
    expect(s.t[s.t.length - 1]).toBe(199 * 60);
  });
});

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string }
function request(port: number, urlPath: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: urlPath, method: opts.method ?? "GET", headers: opts.headers, agent: false, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

describe("the server", () => {
  const report = modelFrom(syntheticEngine(12));
  const metrics = new TenantMetrics();
  metrics.update(report, undefined);
  let open: http.Server;
  let locked: http.Server;
  let openPort = 0;
  let lockedPort = 0;

  beforeAll(async () => {
    const history = new History({ dir: tmp(), retentionMs: 24 * 3600e3, sampleMs: 60e3 });
    history.append(sampleOf(report, Date.now()));
    const source = new StaticSource(report);
    open = createDashboardServer({ token: null, listenHost: "127.0.0.1", source, history, metrics });
    locked = createDashboardServer({ token: TOKEN, listenHost: "127.0.0.1", source, history, metrics });
    await new Promise<void>((r) => open.listen(0, "127.0.0.1", r));
    await new Promise<void>((r) => locked.listen(0, "127.0.0.1", r));
    openPort = (open.address() as AddressInfo).port;
    lockedPort = (locked.address() as AddressInfo).port;
  });
  afterAll(() => {
    for (const s of [open, locked]) {
      s.close();
      s.closeAllConnections();
    }
  });

  test("the page, its assets (uPlot from node_modules) and a strict CSP", async () => {
    const page = await request(openPort, "/");
    expect(page.status).toBe(200);
    expect(page.body).toContain('<table id="tenants">');
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    const uplot = await request(openPort, "/vendor/uPlot.iife.min.js");
    expect(uplot.status).toBe(200);
    expect(uplot.body).toContain("uPlot");
  });

  test("read-only: only GET and HEAD", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const r = await request(openPort, "/api/status", { method });
      expect(r.status).toBe(405);
      expect(r.body).toContain("tenants change in the roster (git)");
    }
  });

  test("a loopback dashboard answers only to loopback Host names (DNS rebinding)", async () => {
    expect((await request(openPort, "/api/status", { headers: { Host: "evil.example.com" } })).status).toBe(421);
    expect((await request(openPort, "/api/status", { headers: { Host: "localhost:3000" } })).status).toBe(200);
  });

  test("with a token: 401 without it or with a wrong one, 200 with it; the login form sets a session cookie", async () => {
    expect((await request(lockedPort, "/api/status")).status).toBe(401);
    expect((await request(lockedPort, "/metrics", { headers: { Authorization: "Bearer wrong-token-0123456789" } })).status).toBe(401);
    const html = await request(lockedPort, "/", { headers: { Accept: "text/html" } });
    expect(html.status).toBe(401);
    expect(html.body).toContain('name="token"');
    expect(html.body).not.toContain(TOKEN);
    expect((await request(lockedPort, "/metrics", { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const bad = await request(lockedPort, "/login", { method: "POST", body: "token=nope", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    expect(bad.status).toBe(401);
    const login = await request(lockedPort, "/login", { method: "POST", body: `token=${TOKEN}`, headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    expect(login.status).toBe(303);
    const cookie = String(login.headers["set-cookie"]);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(";")[0];
    expect((await request(lockedPort, "/api/status", { headers: { Cookie: session } })).status).toBe(200);
  });

  test("/metrics: Prometheus text that parses and matches the model", async () => {
    const r = await request(openPort, "/metrics");
    expect(r.headers["content-type"]).toContain("text/plain");
    const families = parsePrometheusText(r.body);
    const mem = families.get("openclaw_tenant_memory_used_bytes")!;
    expect(mem.type).toBe("gauge");
    const running = report.tenants.filter((t) => t.memoryUsedBytes !== null);
    expect(mem.samples).toHaveLength(running.length);
    for (const t of running) {
      const s = mem.samples.find((x) => x.labels.tenant === t.tenant)!;
      expect(s.labels).toEqual({ tenant: t.tenant, server: "local", tier: t.tier });
      expect(s.value).toBe(t.memoryUsedBytes);
    }
    const up = families.get("openclaw_tenant_up")!.samples;
    expect(up.filter((s) => s.value === 0).map((s) => s.labels.tenant)).toEqual(report.tenants.filter((t) => t.state !== "running").map((t) => t.tenant));
    for (const name of ["openclaw_tenant_memory_limit_bytes", "openclaw_tenant_cpu_percent", "openclaw_tenant_restarts", "openclaw_tenant_healthy", "openclaw_tenant_disk_used_bytes", "openclaw_tenant_disk_budget_bytes", "openclaw_tenant_flagged"]) {
      expect(families.get(name)?.samples.length).toBeGreaterThan(0);
    }
    expect(() => parsePrometheusText("metric_without_type 1\n")).toThrow(/without a TYPE/);
  });

  test("tenant detail: logs redacted; unknown tenant 404; history as series", async () => {
    const d = JSON.parse((await request(openPort, "/api/tenants/t0003")).body) as { logs: string[] };
    expect(d.logs).toEqual(["t0003 gateway listening", "OPENCLAW_GATEWAY_TOKEN=[redacted]"]);
    expect((await request(openPort, "/api/tenants/nobody")).status).toBe(404);
    expect((await request(openPort, "/api/tenants/..%2Fetc")).status).toBe(400);
    const h = JSON.parse((await request(openPort, "/api/history?tenant=t0001")).body) as { t: number[]; memoryBytes: number[] };
    expect(h.t).toHaveLength(1);
    expect(h.memoryBytes[0]).toBeGreaterThan(0);
  });
});

describe("an unreachable server", () => {
  test("a refresh that cannot reach the engine: the page's report marks the server unreachable with why, roster tenants unknown, no history sample", async () => {
    const refused = (): Promise<never> => Promise.reject(new Error("connect ECONNREFUSED /run/gone/docker.sock"));
    const docker = { listContainers: refused, listVolumes: refused, df: refused, ping: refused } as unknown as Docker;
    const history = new History({ dir: tmp(), retentionMs: 24 * 3600e3, sampleMs: 60e3 });
    const lines: string[] = [];
    const desired = [{ tenant: "alice", server: "s3", tier: "light", state: "active" as const, memoryMb: 512, diskMb: 1024 }];
    const source = new EngineSource({
      servers: [{ name: "s3", target: { kind: "unix", socketPath: "/run/gone/docker.sock", display: "unix:///run/gone/docker.sock" }, tenants: desired }],
      timeoutMs: 1000, refreshMs: 60e3, sampleMs: 0, diskMs: 60e3, where: "tenants/",
      rules: { memoryThresholdPercent: 90, diskThresholdPercent: 90 }, connect: () => ({ docker, close: () => undefined, failure: async () => undefined }),
    }, history, new TenantMetrics(), (l) => lines.push(l));
    const report = await source.refresh();
    expect(report.servers).toEqual([expect.objectContaining({ server: "s3", reachable: false, error: "connect ECONNREFUSED /run/gone/docker.sock", tenants: 1 })]);
    expect(report.tenants.map((t) => [t.tenant, t.state])).toEqual([["alice", "unknown"]]);
    expect(source.current()).toBe(report);
    expect(history.series("server", "s3").t).toHaveLength(0);
    expect(lines.some((l) => l.startsWith("server s3 unreachable:"))).toBe(true);
    // The page is served and its report says so, rather than failing.
    const srv = createDashboardServer({ token: null, listenHost: "127.0.0.1", source, history, metrics: new TenantMetrics() });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    try {
      const r = await request((srv.address() as AddressInfo).port, "/api/status");
      expect(r.status).toBe(200);
      expect((JSON.parse(r.body) as { report: { servers: { reachable: boolean }[] } }).report.servers[0].reachable).toBe(false);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });
});
