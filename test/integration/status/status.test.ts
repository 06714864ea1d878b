/**
 * `npm run status` against the real engine: tenant containers built like the program builds them
 * (stand-in image, hardened profile, the program's labels, own bridge, loopback port, two volumes),
 * then the real CLI (ts-node) is run and its JSON, table and exit codes are checked.
 *
 *   st-ok       running, healthy                         -> not flagged
 *   st-hung     healthy, then its gateway is frozen      -> unhealthy, flagged
 *                (SIGSTOP; the container stays "running")
 *   st-full     /tmp (tmpfs, charged to the container)   -> >= 90 % of its limit, flagged
 *                filled to ~94 % of a small (64 MiB) limit
 *   st-stopped  stopped by hand (`docker stop`)          -> exited, flagged
 *   st-gone     volumes only (removed tenant)            -> "no container", not flagged
 *   st-disk     3.75 MiB written into its state volume   -> >= 90 % of its 4 MiB disk budget, flagged
 *                (label openclaw.disk-budget-mb=4)
 *
 * Own names (st-*), ports (18950-18960) and subnets (10.232.x.0/28), plus a test label on every
 * object, so it never touches what other suites create on the same engine. Everything is removed
 * in afterAll (and any leftovers of an earlier run in beforeAll).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import Docker from "dockerode";
import { GATEWAY_PORT, GATEWAY_UID, HEALTHCHECK_TEST, START_COMMAND, gatewaySettings, heapCapMb, trustedProxies } from "../../../core/gateway";
import { DISK_BUDGET_LABEL } from "../../../core/labels";
import { StatsSchema, StatusReport, memoryUsedBytes } from "../../../tools/shared/status";

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const DOCKER_HOST = process.env.DOCKER_HOST ?? "unix:///run/openclaw-test/docker.sock";
const SOCKET = DOCKER_HOST.replace(/^unix:\/\//, "");
const IMAGE = process.env.OPENCLAW_STANDIN_TAG ?? "openclaw-standin:test";
const TEST_LABEL = "openclaw-hosting.test";
const TEST_LABEL_VALUE = "status-integration";
const MiB = 1024 * 1024;
/** Ports no other suite uses; 18959/18960 stay closed (the "unreachable" cases). */
const CLOSED_PORT = 18959;

interface Tenant {
  name: string;
  port: number;
  octet: number;
  memoryMb: number;
  /** TEST-ONLY health timing (the program's 30 s interval would make the suite wait minutes); null = no check. */
  health: "fast" | null;
  /** The disk budget label (MB), as the program sets it from the tier's diskMb. */
  diskBudgetMb?: number;
}

const TENANTS: Tenant[] = [
  { name: "st-ok", port: 18950, octet: 0, memoryMb: 512, health: "fast" },
  { name: "st-hung", port: 18951, octet: 1, memoryMb: 512, health: "fast" },
  // No health check here: its exec'd `node` (~30 MiB) would be charged to this small cgroup and
  // could push a deliberately full container over its limit.
  { name: "st-full", port: 18952, octet: 2, memoryMb: 64, health: null },
  { name: "st-stopped", port: 18953, octet: 3, memoryMb: 512, health: "fast" },
  { name: "st-disk", port: 18954, octet: 4, memoryMb: 512, health: null, diskBudgetMb: 4 },
];
/** What st-disk writes into its state volume: 60 x 64 KiB = 3.75 MiB, 94 % of its 4 MiB budget. */
const DISK_FILL = { bs: 65536, count: 60 };
const VOLUME_ONLY = "st-gone";
const ALL = [...TENANTS.map((t) => t.name), VOLUME_ONLY];

const docker = new Docker({ socketPath: SOCKET });

function labels(tenant: string, extra: Record<string, string> = {}): Record<string, string> {
  return { "openclaw.tenant": tenant, "managed-by": "openclaw-hosting", [TEST_LABEL]: TEST_LABEL_VALUE, ...extra };
}

/** Polls `check` every `everyMs` until it returns a value, at most `timeoutMs`. */
async function waitFor<T>(what: string, timeoutMs: number, everyMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function healthOf(name: string): Promise<string | undefined> {
  const info = await docker.getContainer(name).inspect();
  return info.State.Health?.Status;
}

function getJson(port: number, urlPath: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: urlPath, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => {
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.on("error", reject);
  });
}

/** Runs a command in the container as the gateway's user; resolves with its exit code (bounded). */
async function execIn(name: string, cmd: string[]): Promise<number> {
  const exec = await docker.getContainer(name).exec({ Cmd: cmd, User: GATEWAY_UID, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`exec ${cmd.join(" ")} timed out`)), 30000);
    stream.on("end", () => { clearTimeout(timer); resolve(); });
    stream.on("error", (e) => { clearTimeout(timer); reject(e); });
    stream.resume();
  });
  const info = await waitFor("exec to finish", 10000, 100, async () => {
    const i = await exec.inspect();
    return i.Running ? undefined : i;
  });
  return info.ExitCode ?? -1;
}

async function createTenant(t: Tenant): Promise<void> {
  const subnet = `10.232.${t.octet}.0/28`;
  const gateway = `10.232.${t.octet}.1`;
  const url = `https://${t.name}.claw.example.test`;
  await docker.createNetwork({ Name: `openclaw-${t.name}`, Driver: "bridge", IPAM: { Config: [{ Subnet: subnet, Gateway: gateway }] }, Labels: labels(t.name) });
  for (const key of ["state", "credentials"]) await docker.createVolume({ Name: `openclaw-${t.name}-${key}`, Labels: labels(t.name) });
  const healthcheck = t.health === "fast"
    ? { Test: HEALTHCHECK_TEST, Interval: 1e9, Timeout: 1e9, StartPeriod: 20e9, Retries: 2 }
    : { Test: ["NONE"] };
  const container = await docker.createContainer({
    name: `openclaw-${t.name}`,
    Image: IMAGE,
    Cmd: START_COMMAND,
    User: GATEWAY_UID,
    Env: [
      `OPENCLAW_GATEWAY_TOKEN=status-test-${t.name}`,
      "ANTHROPIC_API_KEY=sk-ant-status-test",
      `NODE_OPTIONS=--max-old-space-size=${heapCapMb(t.memoryMb)}`,
      "OPENCLAW_DISABLE_BONJOUR=1",
      `OPENCLAW_HOSTING_SETTINGS=${JSON.stringify(gatewaySettings(url, trustedProxies(gateway)))}`,
    ],
    Labels: labels(t.name, {
      "openclaw.tier": "standard", "openclaw.url": url,
      ...(t.diskBudgetMb === undefined ? {} : { [DISK_BUDGET_LABEL]: String(t.diskBudgetMb) }),
    }),
    ExposedPorts: { [`${GATEWAY_PORT}/tcp`]: {} },
    Healthcheck: healthcheck,
    HostConfig: {
      NetworkMode: `openclaw-${t.name}`,
      PortBindings: { [`${GATEWAY_PORT}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(t.port) }] },
      Memory: t.memoryMb * MiB,
      MemoryReservation: Math.floor(t.memoryMb * 0.75) * MiB,
      MemorySwap: t.memoryMb * MiB,
      NanoCpus: 1e9,
      ReadonlyRootfs: true,
      Tmpfs: { "/tmp": "rw,nosuid,nodev,size=64m,mode=1777" },
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges:true"],
      Init: true,
      RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 },
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
      Binds: [`openclaw-${t.name}-state:/home/node/.openclaw`, `openclaw-${t.name}-credentials:/home/node/.config/openclaw`],
    },
  });
  await container.start();
}

/** Removes what this suite creates (and only that: name prefix and test label both must match). */
async function cleanup(): Promise<void> {
  const filters = { label: [`${TEST_LABEL}=${TEST_LABEL_VALUE}`] };
  const ours = (name: string) => ALL.some((t) => name === `openclaw-${t}` || name.startsWith(`openclaw-${t}-`));
  for (const c of await docker.listContainers({ all: true, filters })) {
    const name = (c.Names[0] ?? "").replace(/^\//, "");
    if (ours(name)) await docker.getContainer(c.Id).remove({ force: true, v: false }).catch(() => undefined);
  }
  for (const n of await docker.listNetworks({ filters })) {
    if (ours(n.Name)) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  }
  const vols = (await docker.listVolumes({ filters })).Volumes ?? [];
  for (const v of vols) if (ours(v.Name)) await docker.getVolume(v.Name).remove().catch(() => undefined);
}

interface Run { code: number | null; stdout: string; stderr: string; ms: number }

/** The real CLI, as `npm run status` runs it (ts-node --transpile-only scripts/status.ts). */
function status(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js"), "--transpile-only", path.join(REPO_ROOT, "scripts", "status.ts"), ...args],
      { cwd: REPO_ROOT, env: { ...process.env, DOCKER_HOST, ...env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function parse(run: Run): StatusReport {
  try {
    return JSON.parse(run.stdout) as StatusReport;
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

const ONLY = `--only=${ALL.join(",")}`;

beforeAll(async () => {
  await docker.ping();
  await docker.getImage(IMAGE).inspect(); // the image must be built: scripts/runtime-env.sh build-image
  await cleanup();
  for (const key of ["state", "credentials"]) await docker.createVolume({ Name: `openclaw-${VOLUME_ONLY}-${key}`, Labels: labels(VOLUME_ONLY) });
  await Promise.all(TENANTS.map(createTenant));

  // st-ok, st-hung, st-stopped: healthy first (the health check runs every second here).
  await Promise.all(["st-ok", "st-hung", "st-stopped"].map((n) =>
    waitFor(`${n} healthy`, 60000, 250, async () => ((await healthOf(`openclaw-${n}`)) === "healthy" ? true : undefined))));

  // st-hung: freeze the gateway process (not PID 1: init is); the container keeps running.
  const info = (await getJson(18951, "/__standin/info")) as { pid: number };
  expect(await execIn("openclaw-st-hung", ["kill", "-STOP", String(info.pid)])).toBe(0);

  // st-stopped: stopped by hand; restart unless-stopped leaves it exited.
  await docker.getContainer("openclaw-st-stopped").stop({ t: 10 });

  // st-full: wait until the gateway answers, then fill /tmp (tmpfs pages are charged to the
  // container's memory and cannot be reclaimed without swap) up to ~94 % of its 64 MiB limit.
  await waitFor("st-full gateway up", 30000, 250, async () => getJson(18952, "/healthz").then(() => true, () => undefined));
  const stats = StatsSchema.parse(await docker.getContainer("openclaw-st-full").stats({ stream: false }));
  const used = memoryUsedBytes(stats) ?? 0;
  const fillMb = Math.floor((0.94 * 64 * MiB - used) / MiB);
  expect(fillMb).toBeGreaterThan(4);
  expect(fillMb).toBeLessThan(64); // the program's /tmp is 64 MiB
  expect(await execIn("openclaw-st-full", ["dd", "if=/dev/zero", "of=/tmp/fill", "bs=1048576", `count=${fillMb}`])).toBe(0);

  // st-disk: a bounded write into its state volume (the gateway's own data lives there).
  expect(await execIn("openclaw-st-disk", ["dd", "if=/dev/zero", "of=/home/node/.openclaw/fill", `bs=${DISK_FILL.bs}`, `count=${DISK_FILL.count}`])).toBe(0);

  await waitFor("st-hung unhealthy", 30000, 250, async () => ((await healthOf("openclaw-st-hung")) === "unhealthy" ? true : undefined));
}, 180000);

afterAll(async () => {
  await cleanup();
}, 120000);

describe("npm run status against the real engine", () => {
  test("--json: flags the unhealthy, the near-limit and the stopped tenant, not the healthy one; exit 1", async () => {
    const run = await status(["--json", ONLY]);
    expect(run.code).toBe(1);
    const report = parse(run);
    const by = new Map(report.tenants.map((t) => [t.tenant, t]));
    expect(report.tenants.map((t) => t.tenant)).toEqual(ALL);
    expect(report.flagged.map((f) => f.tenant).sort()).toEqual(["st-disk", "st-full", "st-hung", "st-stopped"]);

    const ok = by.get("st-ok")!;
    expect(ok).toMatchObject({
      container: "openclaw-st-ok", state: "running", health: "healthy", restartCount: 0, flags: [],
      url: "https://st-ok.claw.example.test", tier: "standard", memoryLimitBytes: 512 * MiB, cpuLimit: 1,
      volumes: ["openclaw-st-ok-credentials", "openclaw-st-ok-state"],
    });

    const hung = by.get("st-hung")!;
    expect(hung).toMatchObject({ state: "running", health: "unhealthy", flags: ["unhealthy"] });

    const full = by.get("st-full")!;
    expect(full.state).toBe("running");
    expect(full.memoryPercent).toBeGreaterThanOrEqual(90);
    expect(full.flags).toEqual([expect.stringMatching(/^memory at (9\d|100)% of its 64.0 MiB limit \(>= 90%\)$/)]);

    for (const t of [ok, hung, full]) {
      expect(t.memoryUsedBytes).toBeGreaterThan(0);
      expect(t.memoryUsedBytes!).toBeLessThanOrEqual(t.memoryLimitBytes!);
      expect(t.memoryPercent).toBeGreaterThan(0);
      expect(t.memoryPercent!).toBeLessThanOrEqual(100);
      expect(t.cpuPercent).toBeGreaterThanOrEqual(0);
    }
    expect(ok.memoryPercent!).toBeLessThan(90);

    const disk = by.get("st-disk")!;
    const written = DISK_FILL.bs * DISK_FILL.count;
    expect(disk.diskBudgetBytes).toBe(4 * MiB);
    expect(disk.diskUsedBytes!).toBeGreaterThanOrEqual(written);
    expect(disk.diskUsedBytes!).toBeLessThan(written + 256 * 1024); // the write, plus what the gateway keeps there
    expect(disk.flags).toEqual([expect.stringMatching(/^disk at (9\d|1\d\d)% of its 4.0 MiB budget \(>= 90%\)$/)]);
    expect(ok.diskBudgetBytes).toBeNull();
    expect(ok.diskUsedBytes).not.toBeNull();
    expect(report.servers.map((s) => s.server)).toEqual(["local"]);
    const t0 = Date.now();
    await docker.df();
    console.log(`GET /system/df (sizes every volume on the engine): ${Date.now() - t0} ms`);
    console.log(`st-disk: ${written} bytes written, status reports ${disk.diskUsedBytes} of ${disk.diskBudgetBytes} (${disk.diskPercent!.toFixed(1)}%)`);

    expect(by.get("st-stopped")).toMatchObject({ state: "exited", health: "none", exitCode: 0, memoryUsedBytes: null, flags: ["exited (exit code 0)"] });
    expect(by.get("st-gone")).toMatchObject({
      state: "no container", container: null, flags: [], volumes: ["openclaw-st-gone-credentials", "openclaw-st-gone-state"],
    });
    console.log(`status --json for ${ALL.length} tenants: ${run.ms} ms wall (CLI start included), ${report.elapsedMs} ms of Docker calls`);
  });

  test("the table: a row per tenant, the flagged ones listed with their reasons; exit 1", async () => {
    const run = await status([ONLY]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^TENANT\s+STATE\s+HEALTH\s+MEMORY\s+MEM%\s+CPU%\s+RESTARTS\s+DISK\s+URL$/m);
    expect(run.stdout).toMatch(/^st-ok\s+running\s+healthy\s+[\d.]+ MiB \/ 512\.0 MiB\s+[\d.]+%\s+[\d.]+%\s+0\s+[\d.]+ MiB\s+https:\/\/st-ok\.claw\.example\.test$/m);
    expect(run.stdout).toMatch(/^st-disk\s+running\s+none\s+.*\s+3\.\d MiB \/ 4\.0 MiB\s+https:\/\/st-disk\.claw\.example\.test\s+FLAGGED$/m);
    expect(run.stdout).toMatch(/^ {2}FLAGGED st-disk: disk at (9\d|1\d\d)% of its 4\.0 MiB budget \(>= 90%\)$/m);
    expect(run.stdout).toMatch(/^st-hung\s+running\s+unhealthy\s+.*FLAGGED$/m);
    expect(run.stdout).toMatch(/^st-stopped\s+exited\s+.*FLAGGED$/m);
    expect(run.stdout).toMatch(/^st-gone\s+no container - data kept\s+none/m);
    expect(run.stdout).toContain("6 tenant(s), 4 running, 1 without a container, 4 flagged");
    expect(run.stdout).toContain("  FLAGGED st-hung: unhealthy");
    expect(run.stdout).toContain("  FLAGGED st-stopped: exited (exit code 0)");
    expect(run.stdout).toMatch(/^ {2}FLAGGED st-full: memory at \d+% of its 64.0 MiB limit/m);
  });

  test("only healthy tenants (and a volume-only one): exit 0, nothing flagged", async () => {
    const json = await status(["--json", "--only", "st-ok,st-gone"]);
    expect(json.code).toBe(0);
    expect(parse(json).flagged).toEqual([]);
    const plain = await status(["--only", "st-ok"]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain("1 tenant(s), 1 running, 0 without a container, 0 flagged");
  });

  test("a tenant asked for by name that is not on the engine is flagged", async () => {
    const run = await status(["--json", "--only", "st-ok,st-nowhere"]);
    expect(run.code).toBe(1);
    expect(parse(run).flagged).toEqual([{ tenant: "st-nowhere", reasons: ["not found on the engine (no container, no volumes)"] }]);
  });

  test("without --only every managed tenant on the engine is reported, ours included", async () => {
    const run = await status(["--json"]);
    expect([0, 1]).toContain(run.code); // other suites' tenants may be on the engine too
    const names = parse(run).tenants.map((t) => t.tenant);
    for (const n of ALL) expect(names).toContain(n);
  });

  test("ssh://: the same report through `ssh ... docker system dial-stdio` (a stand-in ssh that dials the local engine)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "st-ssh-"));
    try {
      const argsFile = path.join(dir, "args");
      const fakeSsh = path.join(dir, "ssh");
      fs.writeFileSync(fakeSsh, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argsFile}'\nDOCKER_HOST='${DOCKER_HOST}' exec docker system dial-stdio\n`, { mode: 0o755 });
      const run = await status(["--json", "--only", "st-ok,st-hung"], { DOCKER_HOST: "ssh://deploy@status-test.invalid:2222", OPENCLAW_STATUS_SSH: fakeSsh });
      expect(run.code).toBe(1);
      const report = parse(run);
      expect(report.engine).toBe("ssh://deploy@status-test.invalid:2222");
      expect(report.flagged.map((f) => f.tenant)).toEqual(["st-hung"]);
      expect(report.tenants[0].memoryUsedBytes).toBeGreaterThan(0);
      const calls = fs.readFileSync(argsFile, "utf8").trim().split("\n");
      expect(new Set(calls)).toEqual(new Set(["-T -o BatchMode=yes -o ConnectTimeout=10 -l deploy -p 2222 -- status-test.invalid docker system dial-stdio"]));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    ["a missing socket", "unix:///run/openclaw-test/no-such-engine.sock", /ENOENT/],
    ["a closed TCP port", `tcp://127.0.0.1:${CLOSED_PORT}`, /ECONNREFUSED/],
    ["an ssh host that refuses", `ssh://nobody@127.0.0.1:${CLOSED_PORT}`, /ssh|ENOENT|refused/i],
  ])("engine unreachable (%s): exit 2 and a message naming DOCKER_HOST", async (_what, host, detail) => {
    const run = await status(["--timeout", "5000"], { DOCKER_HOST: host });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`status: cannot reach the Docker engine at`);
    expect(run.stderr).toContain(`(DOCKER_HOST=${host})`);
    expect(run.stderr).toMatch(detail);
    expect(run.stdout).toBe("");
  });
});
