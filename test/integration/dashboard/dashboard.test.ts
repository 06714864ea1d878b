/**
 * `npm run dashboard` against the real engine, seen through Debian's Chromium (playwright-core):
 * the program's own tenants (run under Pulumi's mock engine, its Docker resources and process
 * limits created on the engine by ../support/programTenants.ts, image replaced by the stand-in),
 * the real CLI started as a process.
 *
 *   ds-ok     running, healthy; a planted secret in its log    -> live figures; detail redacts it
 *   ds-fill   64 MiB (TEST-ONLY) limit; /tmp filled to ~94 %    -> highlighted (hot-memory)
 *   ds-stop   running, then `docker stop`                       -> shown as down
 *   ds-gone   suspended: volumes, no container                  -> "no container (data kept)"
 *
 * Own names (ds-*), ports (18970-18979) and subnets (10.232.16.0/24), plus a test label on every
 * object; everything is removed in afterAll (and leftovers of an earlier run in beforeAll).
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Docker from "dockerode";
import { Page } from "playwright-core";
import { DISK_BUDGET_LABEL } from "../../../core/labels";
import { StatsSchema, formatBytes, memoryUsedBytes } from "../../../tools/shared/status";
import { LaunchedBrowser, launchChromium } from "../../support/browser";
import { npmScriptFile } from "../../support/cli";
import { baseConfig, fakeKey, runProgram } from "../../support/program";
import { parsePrometheusText } from "../../support/prometheus";
import { writeRoster } from "../../support/roster";
import { TestHealthTiming, httpRequest, tcpListeners } from "../support/docker";
import { SuiteTenants, containerInputs, containerLabel, createSuiteTenants, suiteTenants } from "../support/programTenants";
import { applyProcessLimits, removeProcessLimits } from "../support/serverCommands";

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const DOCKER_HOST = process.env.DOCKER_HOST ?? "unix:///run/openclaw-test/docker.sock";
const docker = new Docker({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, "") });
const IMAGE = process.env.OPENCLAW_STANDIN_TAG ?? "openclaw-standin:test";
const TEST_LABEL = "openclaw-hosting.test";
const TEST_LABEL_VALUE = "dashboard-integration";
const ARTIFACTS = path.join(REPO_ROOT, "test-artifacts");
const MiB = 1024 * 1024;
const PORT = { dashboard: 18975, public: 18976, refused: 18977 };
/** Bound on "the page shows it": a few refreshes (2 s each here) plus the stats call. */
const SHOWN_WITHIN_MS = 30000;

/** The roster the program runs with (ports pinned, inside the suite's own range). */
const ROSTER = [
  { name: "ds-ok", port: 18970 },
  { name: "ds-fill", port: 18971 },
  { name: "ds-stop", port: 18972 },
  { name: "ds-gone", port: 18973, state: "suspended" as const },
];
const VOLUME_ONLY = "ds-gone";
const ALL = ROSTER.map((t) => t.name);
/** The tenants with a container. */
const RUNNING = ALL.filter((t) => t !== VOLUME_ONLY);
/** TEST-ONLY (see ../support/programTenants.ts): ds-fill's limit, small enough to fill through its 64 MiB /tmp. */
const SMALL_MEMORY_MB = 64;
/**
 * TEST-ONLY health timing: the program's 30 s interval would make the suite wait minutes. The
 * program's own 5 s timeout stays (a 1 s one failed the node probe on this 2-core machine under load).
 */
const HEALTH: TestHealthTiming = { interval: "2s", startPeriod: "20s" };
/** The program's objects for the roster, as created on the engine (filled in beforeAll). */
let tenants: SuiteTenants;
const inputsOf = (tenant: string): Record<string, unknown> => containerInputs(tenants, tenant);
const labelOf = (tenant: string, label: string): string => containerLabel(tenants, tenant, label);

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline || i > 10000) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function execIn(name: string, cmd: string[]): Promise<number> {
  const exec = await docker.getContainer(name).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`exec ${cmd.join(" ")} timed out`)), 30000);
    stream.on("end", () => { clearTimeout(timer); resolve(); });
    stream.on("error", (e) => { clearTimeout(timer); reject(e); });
    stream.resume();
  });
  const info = await waitFor("exec to finish", 10000, async () => {
    const i = await exec.inspect();
    return i.Running ? undefined : i;
  });
  return info.ExitCode ?? -1;
}

async function cleanup(): Promise<void> {
  const filters = { label: [`${TEST_LABEL}=${TEST_LABEL_VALUE}`] };
  const ours = (name: string) => ALL.some((t) => name === `openclaw-${t}` || name.startsWith(`openclaw-${t}-`));
  for (const c of await docker.listContainers({ all: true, filters })) {
    const name = (c.Names[0] ?? "").replace(/^\//, "");
    if (ours(name)) await docker.getContainer(c.Id).remove({ force: true, v: false }).catch(() => undefined);
  }
  for (const n of await docker.listNetworks({ filters })) if (ours(n.Name)) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) if (ours(v.Name)) await docker.getVolume(v.Name).remove().catch(() => undefined);
}

interface Dashboard { child: ChildProcess; output: () => string; exited: Promise<number | null> }

/** The real CLI, as `npm run dashboard` runs it; resolves once it says it is listening (or has exited). */
function startDashboard(args: string[], env: Record<string, string> = {}): Promise<Dashboard> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js"), "--transpile-only", npmScriptFile("dashboard"), ...args], {
    cwd: REPO_ROOT, env: { ...process.env, DOCKER_HOST, OPENCLAW_DASHBOARD_TOKEN: "", ...env }, stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill("SIGKILL"), 600000);
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => {
    clearTimeout(killer);
    resolve(code);
  }));
  const d: Dashboard = { child, output: () => out, exited };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dashboard did not start within 60 s:\n${out}`)), 60000);
    const poll = setInterval(() => {
      if (out.includes("listening on") || child.exitCode !== null) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(d);
      }
    }, 100);
  });
}

async function stopDashboard(d: Dashboard | undefined): Promise<void> {
  if (d === undefined || d.child.exitCode !== null) return;
  d.child.kill("SIGTERM");
  const timer = setTimeout(() => d.child.kill("SIGKILL"), 10000);
  await d.exited;
  clearTimeout(timer);
}

/** A row's classes and cells, read from the page. */
async function row(page: Page, tenant: string): Promise<{ classes: string; state: string; memory: string; cpu: string } | undefined> {
  // Read in one step inside the page: a refresh between separate reads can replace the row, and
  // mix an old row's class with a new row's state (seen once: state "exited", classes "").
  // (A string, run in the page: this project's TypeScript has no DOM types.)
  const read = await page.evaluate(`(() => {
    const tr = document.querySelector('#tenants tbody tr[data-tenant=${JSON.stringify(tenant)}]');
    if (tr === null) return null;
    const text = (sel) => { const e = tr.querySelector(sel); return e === null ? "" : e.innerText; };
    return { classes: tr.className, state: tr.dataset.state || "", memory: text("td.memory"), cpu: text("td.cpu") };
  })()`);
  return (read ?? undefined) as { classes: string; state: string; memory: string; cpu: string } | undefined;
}

let dash: Dashboard | undefined;
let browser: LaunchedBrowser | undefined;
let stateDir = "";
const planted = { bearer: `Bearer ${"dashtest".repeat(4)}`, key: ["sk", "dashboardtest", "0123456789abcdef"].join("-") };

beforeAll(async () => {
  await docker.ping();
  await docker.getImage(IMAGE).inspect(); // the image must be built: test/machinery/runtime-env.sh build-image
  await cleanup();
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ds-state-"));
  const run = await runProgram(baseConfig(writeRoster(ROSTER), {
    domain: "claw.example.test",
    apiKeys: Object.fromEntries(RUNNING.map((t) => [t, fakeKey(t)])),
    portPool: { start: 18970, end: 18974 },
    tenantNetworks: "10.232.16.0/24",
    // The test engine runs without systemd, so Docker uses cgroupfs (docker info: CgroupDriver).
    cgroupDriver: "cgroupfs",
  }));
  tenants = suiteTenants(run, {
    image: IMAGE, extraLabels: { [TEST_LABEL]: TEST_LABEL_VALUE }, healthTiming: HEALTH,
    departures: { "ds-fill": { memoryMb: SMALL_MEMORY_MB, noHealthcheck: true } },
  });
  await applyProcessLimits(run); // each tenant's limited parent cgroup, before its container
  await createSuiteTenants(docker, tenants, 60000); // ds-ok and ds-stop healthy
  // A secret-looking line in ds-ok's own log (written to PID 1's stdout, which is the container's log).
  expect(await execIn("openclaw-ds-ok", ["sh", "-c", `echo "upstream call failed: Authorization: ${planted.bearer} key=${planted.key}" > /proc/1/fd/1`])).toBe(0);
  dash = await startDashboard(["--listen", `127.0.0.1:${PORT.dashboard}`, "--refresh", "2", "--sample", "5", "--disk", "10", "--state-dir", stateDir]);
  expect(dash.output()).toContain(`listening on http://127.0.0.1:${PORT.dashboard}/ (loopback only (127.0.0.1), no token: reach it through an SSH tunnel)`);
  browser = await launchChromium();
}, 240000);

afterAll(async () => {
  await browser?.close();
  await stopDashboard(dash);
  await cleanup();
  await removeProcessLimits(); // after the containers that ran under them
  if (stateDir !== "") fs.rmSync(stateDir, { recursive: true, force: true });
}, 120000);

describe("npm run dashboard against the real engine, in Chromium", () => {
  let page: Page;

  test("the page lists every tenant with live figures", async () => {
    page = await browser!.context.newPage();
    const t0 = Date.now();
    await page.goto(`http://127.0.0.1:${PORT.dashboard}/`);
    await page.fill("#filter", "ds-");
    // ds-ok's limit as the program set it (standard tier), in the page's units (the same as status's).
    const limit = formatBytes(Number(inputsOf("ds-ok").memory) * MiB);
    const rows = await waitFor("every ds- tenant on the page with figures", SHOWN_WITHIN_MS, async () => {
      const r = await Promise.all(ALL.map((t) => row(page, t)));
      return r.every((x) => x !== undefined) && r[0]!.memory.includes(` / ${limit} (`) ? r : undefined;
    });
    console.log(`page showed ${ALL.length} tenants with figures ${Date.now() - t0} ms after navigation`);
    const [ok, fill, stop, gone] = rows;
    expect(ok!.state).toBe("running");
    expect(ok!.memory).toMatch(new RegExp(`^[\\d.]+ MiB / ${limit.replace(".", "\\.")} \\([\\d.]+%\\)$`));
    expect(ok!.cpu).toMatch(/^[\d.]+%$/);
    expect(ok!.classes).not.toMatch(/flagged|down|hot-memory/);
    expect(fill!.memory).toMatch(/MiB \/ 64\.0 MiB/);
    expect(stop!.state).toBe("running");
    expect(gone!.state).toBe("no container");
    // The figures are the engine's: ds-ok's memory on the page comes near what docker stats says.
    // A gateway that just started still grows, so compare again on each live update, within a bound.
    let lastGap = { pageMiB: 0, engineMiB: 0 };
    const close = await waitFor("ds-ok's memory on the page near docker stats'", SHOWN_WITHIN_MS, async () => {
      const current = await row(page, "ds-ok");
      const stats = StatsSchema.parse(await docker.getContainer("openclaw-ds-ok").stats({ stream: false }));
      const engineMiB = memoryUsedBytes(stats)! / MiB;
      const pageMiB = Number(/^([\d.]+) MiB/.exec(current?.memory ?? "")?.[1] ?? NaN);
      lastGap = { pageMiB, engineMiB };
      return Math.abs(pageMiB - engineMiB) < Math.max(8, engineMiB * 0.25) ? true : undefined;
    }).catch(() => false);
    expect({ close, ...lastGap }).toEqual({ close: true, ...lastGap });
    // Live: the header's time moves without a reload.
    const first = await page.getAttribute("body", "data-checked-at");
    await waitFor("a live update", SHOWN_WITHIN_MS, async () => ((await page.getAttribute("body", "data-checked-at")) !== first ? true : undefined));
  });

  test("a tenant driven close to its memory limit is highlighted within a bounded time", async () => {
    const stats = StatsSchema.parse(await docker.getContainer("openclaw-ds-fill").stats({ stream: false }));
    const fillMb = Math.floor((0.94 * SMALL_MEMORY_MB * MiB - (memoryUsedBytes(stats) ?? 0)) / MiB);
    expect(fillMb).toBeGreaterThan(4);
    expect(fillMb).toBeLessThan(64);
    const t0 = Date.now();
    expect(await execIn("openclaw-ds-fill", ["dd", "if=/dev/zero", "of=/tmp/fill", "bs=1048576", `count=${fillMb}`])).toBe(0);
    const r = await waitFor("ds-fill highlighted", SHOWN_WITHIN_MS, async () => {
      const x = await row(page, "ds-fill");
      return x !== undefined && x.classes.split(" ").includes("hot-memory") ? x : undefined;
    });
    console.log(`ds-fill (${fillMb} MiB written into a 64 MiB tenant) highlighted ${Date.now() - t0} ms after the write`);
    expect(r.classes.split(" ")).toContain("flagged");
    expect(Number(/\(([\d.]+)%\)/.exec(r.memory)![1])).toBeGreaterThanOrEqual(90);
  });

  test("a stopped tenant shows as down", async () => {
    const t0 = Date.now();
    await docker.getContainer("openclaw-ds-stop").stop({ t: 10 });
    const r = await waitFor("ds-stop down", SHOWN_WITHIN_MS, async () => {
      const x = await row(page, "ds-stop");
      return x !== undefined && x.state === "exited" ? x : undefined;
    });
    console.log(`ds-stop shown as down ${Date.now() - t0} ms after docker stop returned`);
    expect(r.classes.split(" ")).toEqual(expect.arrayContaining(["down", "flagged"]));
    expect(r.memory).toBe("-");
  });

  test("the detail view: redacted logs, health-check history, volumes; then the screenshot", async () => {
    await page.click('#tenants tbody tr[data-tenant="ds-ok"]');
    await page.waitForSelector('#detail[data-tenant="ds-ok"][data-loaded="true"]', { timeout: SHOWN_WITHIN_MS });
    const logs = await page.locator("#detail-logs").innerText();
    expect(logs).toContain("gateway listening");
    expect(logs).toContain("upstream call failed: Authorization: Bearer [redacted] key=[redacted]");
    expect(logs).not.toContain(planted.bearer.split(" ")[1]);
    expect(logs).not.toContain(planted.key);
    expect(logs.split("\n").length).toBeLessThanOrEqual(50);
    expect(await page.locator("#detail-health tbody tr").count()).toBeGreaterThan(0);
    expect(await page.locator("#detail-health tbody tr").first().innerText()).toMatch(/\s0\s/);
    expect(await page.locator("#detail-volumes tbody").innerText()).toContain("openclaw-ds-ok-state");
    await page.waitForSelector("#plot-memory .u-wrap", { timeout: SHOWN_WITHIN_MS });
    await page.fill("#filter", "");
    await page.fill("#filter", "ds-");
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard.png"), fullPage: true });
    expect(fs.statSync(path.join(ARTIFACTS, "dashboard.png")).size).toBeGreaterThan(10000);
  });

  test("/metrics parses as Prometheus text and matches the containers", async () => {
    // One more refresh after the stop, so the figures are current.
    const text = await waitFor("metrics with ds-stop down", SHOWN_WITHIN_MS, async () => {
      const r = await httpRequest("127.0.0.1", PORT.dashboard, "/metrics");
      return r.status === 200 && /openclaw_tenant_up\{tenant="ds-stop",server="local",tier="standard"\} 0/.test(r.body) ? r.body : undefined;
    });
    const f = parsePrometheusText(text);
    const value = (name: string, tenant: string) => f.get(name)?.samples.find((s) => s.labels.tenant === tenant);
    for (const ds of RUNNING) {
      const info = await docker.getContainer(`openclaw-${ds}`).inspect();
      expect(value("openclaw_tenant_memory_limit_bytes", ds)).toMatchObject({ labels: { tenant: ds, server: "local", tier: "standard" }, value: info.HostConfig.Memory });
      expect(value("openclaw_tenant_up", ds)?.value).toBe(info.State.Running ? 1 : 0);
      expect(value("openclaw_tenant_restarts", ds)?.value).toBe(info.RestartCount);
      expect(value("openclaw_tenant_disk_budget_bytes", ds)?.value).toBe(Number(labelOf(ds, DISK_BUDGET_LABEL)) * MiB);
      expect(value("openclaw_tenant_disk_used_bytes", ds)?.value).toBeGreaterThanOrEqual(0);
    }
    expect(value("openclaw_tenant_healthy", "ds-ok")?.value).toBe(1);
    expect(value("openclaw_tenant_memory_used_bytes", "ds-ok")?.value).toBeGreaterThan(0);
    expect(value("openclaw_tenant_memory_used_bytes", "ds-stop")).toBeUndefined();
    expect(value("openclaw_tenant_memory_used_bytes", "ds-fill")!.value / (SMALL_MEMORY_MB * MiB)).toBeGreaterThanOrEqual(0.9);
    expect(value("openclaw_tenant_flagged", "ds-fill")?.value).toBe(1);
    expect(value("openclaw_tenant_up", "ds-gone")?.value).toBe(0);
  });

  test("history survives a restart of the dashboard", async () => {
    const before = JSON.parse((await httpRequest("127.0.0.1", PORT.dashboard, "/api/history?tenant=ds-ok")).body) as { t: number[] };
    expect(before.t.length).toBeGreaterThan(0);
    await stopDashboard(dash);
    dash = await startDashboard(["--listen", `127.0.0.1:${PORT.dashboard}`, "--refresh", "2", "--sample", "5", "--disk", "10", "--state-dir", stateDir]);
    expect(dash.output()).toMatch(/\(\d+ samples kept, 26 h window\)/);
    const after = JSON.parse((await waitFor("history served", SHOWN_WITHIN_MS, async () => {
      const r = await httpRequest("127.0.0.1", PORT.dashboard, "/api/history?tenant=ds-ok").catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    })).body) as { t: number[] };
    expect(after.t.slice(0, before.t.length)).toEqual(before.t);
  });

  test("a public bind without a token is refused: exit 64, nothing listening", async () => {
    const d = await startDashboard(["--listen", `0.0.0.0:${PORT.refused}`]);
    expect(await d.exited).toBe(64);
    expect(d.output()).toContain(`refusing to listen on 0.0.0.0, which is not loopback, without an access token`);
    expect(tcpListeners().some((l) => l.port === PORT.refused)).toBe(false);
  });

  test("a public bind with a token: says so; a wrong token gets 401, the right one signs in", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ds-token-"));
    const token = `ds-${"k3y".repeat(8)}`;
    const file = path.join(dir, "token");
    fs.writeFileSync(file, token, { mode: 0o600 });
    let d: Dashboard | undefined;
    try {
      d = await startDashboard(["--listen", `0.0.0.0:${PORT.public}`, "--token-file", file, "--state-dir", path.join(dir, "state")]);
      expect(d.output()).toContain(`PUBLIC bind on 0.0.0.0: access token required on every request (from file ${file})`);
      expect(d.output()).not.toContain(token);
      expect((await httpRequest("127.0.0.1", PORT.public, "/metrics")).status).toBe(401);
      expect((await httpRequest("127.0.0.1", PORT.public, "/metrics", { headers: { Authorization: "Bearer not-the-token-at-all" } })).status).toBe(401);
      expect((await httpRequest("127.0.0.1", PORT.public, "/api/status", { headers: { Authorization: `Bearer ${token}x` } })).status).toBe(401);
      const ok = await httpRequest("127.0.0.1", PORT.public, "/metrics", { headers: { Authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(() => parsePrometheusText(ok.body)).not.toThrow();
      // The browser: the login form, a wrong token refused, the right one shows the tenants.
      const p = await browser!.context.newPage();
      await p.goto(`http://127.0.0.1:${PORT.public}/`);
      await p.fill('input[name="token"]', "wrong-token-wrong-token");
      const refused = await Promise.all([p.waitForNavigation(), p.click('button[type="submit"]')]);
      expect(refused[0]?.status()).toBe(401);
      await p.fill('input[name="token"]', token);
      await Promise.all([p.waitForNavigation(), p.click('button[type="submit"]')]);
      await p.waitForSelector('#tenants tbody tr[data-tenant="ds-ok"]', { timeout: SHOWN_WITHIN_MS });
      await p.close();
    } finally {
      await stopDashboard(d);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
