/**
 * `npm run status` against the real engine: the program's own tenants (run under Pulumi's mock
 * engine, its Docker resources and process limits created on the engine by
 * ../support/programTenants.ts, image replaced by the stand-in), then the real CLI (ts-node) is run
 * and its JSON, table and exit codes are checked.
 *
 *   st-ok       running, healthy                         -> not flagged
 *   st-hung     healthy, then its gateway is frozen      -> unhealthy, flagged
 *                (SIGSTOP; the container stays "running")
 *   st-full     /tmp (tmpfs, charged to the container)   -> >= 90 % of its limit, flagged
 *                filled to ~94 % of a small (64 MiB, TEST-ONLY) limit
 *   st-stopped  stopped by hand (`docker stop`)          -> exited, flagged
 *   st-gone     suspended: volumes, no container         -> "no container", not flagged
 *   st-disk     ~241 MiB written into its state volume   -> >= 90 % of its disk budget, flagged
 *                (tier light with the smallest diskMb the program accepts, 256)
 *
 * Own names (st-*), ports (18950-18960) and subnets (10.232.0.0/24), plus a test label on every
 * object, so it never touches what other suites create on the same engine. Everything is removed
 * in afterAll (and any leftovers of an earlier run in beforeAll).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import Docker from "dockerode";
import { DISK_BUDGET_LABEL } from "../../../core/labels";
import { StatsSchema, StatusReport, formatBytes, memoryUsedBytes } from "../../../tools/shared/status";
import { npmScriptFile } from "../../support/cli";
import { baseConfig, fakeKey, runProgram } from "../../support/program";
import { writeRoster } from "../../support/roster";
import { TestHealthTiming } from "../support/docker";
import { SuiteTenants, containerInputs, containerLabel, createSuiteTenants, suiteTenants } from "../support/programTenants";
import { applyProcessLimits, removeProcessLimits } from "../support/serverCommands";

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const DOCKER_HOST = process.env.DOCKER_HOST ?? "unix:///run/openclaw-test/docker.sock";
const SOCKET = DOCKER_HOST.replace(/^unix:\/\//, "");
const IMAGE = process.env.OPENCLAW_STANDIN_TAG ?? "openclaw-standin:test";
const TEST_LABEL = "openclaw-hosting.test";
const TEST_LABEL_VALUE = "status-integration";
const MiB = 1024 * 1024;
/** Ports no other suite uses; 18959/18960 stay closed (the "unreachable" cases). */
const CLOSED_PORT = 18959;

/** The roster the program runs with; ports pinned so the test can reach each gateway. */
const ROSTER = [
  { name: "st-ok", port: 18950 },
  { name: "st-hung", port: 18951 },
  { name: "st-full", port: 18952 },
  { name: "st-stopped", port: 18953 },
  { name: "st-disk", port: 18954, tier: "light" as const },
  { name: "st-gone", port: 18955, state: "suspended" as const },
];
const DOMAIN = "claw.example.test";
/** The smallest disk budget the program accepts (MB), on st-disk's tier, so a bounded write reaches 90 %. */
const SMALL_DISK_MB = 256;
/** What st-disk writes into its state volume: 241 x 1 MiB, 94 % of its 256 MiB budget. */
const DISK_FILL = { bs: 1048576, count: 241 };
/** TEST-ONLY (see ../support/programTenants.ts): st-full's limit, small enough to fill through its 64 MiB /tmp. */
const SMALL_MEMORY_MB = 64;
/** TEST-ONLY health timing: the program's 30 s interval would make the suite wait minutes; its timeout and retries stay. */
const HEALTH: TestHealthTiming = { interval: "2s", startPeriod: "20s" };
const VOLUME_ONLY = "st-gone";
const ALL = ROSTER.map((t) => t.name);

const docker = new Docker({ socketPath: SOCKET });
/** The program's objects for the roster, as created on the engine (filled in beforeAll). */
let tenants: SuiteTenants;
const inputsOf = (tenant: string): Record<string, unknown> => containerInputs(tenants, tenant);
const labelOf = (tenant: string, label: string): string => containerLabel(tenants, tenant, label);

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

/** Runs a command in the container as the gateway's user (the container's own, the exec default); resolves with its exit code (bounded). */
async function execIn(name: string, cmd: string[]): Promise<number> {
  const exec = await docker.getContainer(name).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
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

/** The real CLI, as `npm run status` runs it (ts-node --transpile-only, the file package.json names). */
function status(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js"), "--transpile-only", npmScriptFile("status"), ...args],
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
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

beforeAll(async () => {
  await docker.ping();
  await docker.getImage(IMAGE).inspect(); // the image must be built: test/machinery/runtime-env.sh build-image
  await cleanup();
  const run = await runProgram(baseConfig(writeRoster(ROSTER), {
    domain: DOMAIN,
    apiKeys: Object.fromEntries(ROSTER.filter((t) => t.name !== VOLUME_ONLY).map((t) => [t.name, fakeKey(t.name)])),
    portPool: { start: 18950, end: 18958 },
    tenantNetworks: "10.232.0.0/24",
    tiers: { light: { diskMb: SMALL_DISK_MB } },
    // The test engine runs without systemd, so Docker uses cgroupfs (docker info: CgroupDriver).
    cgroupDriver: "cgroupfs",
  }));
  tenants = suiteTenants(run, {
    image: IMAGE, extraLabels: { [TEST_LABEL]: TEST_LABEL_VALUE }, healthTiming: HEALTH,
    departures: { "st-full": { memoryMb: SMALL_MEMORY_MB, noHealthcheck: true } },
  });
  await applyProcessLimits(run); // each tenant's limited parent cgroup, before its container
  // Every container with a health check healthy first (st-ok, st-hung, st-stopped, st-disk).
  await createSuiteTenants(docker, tenants, 60000);

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
  expect(fillMb).toBeLessThan(64); // the program's /tmp is 64 MiB (WRITABLE_TMPFS)
  expect(await execIn("openclaw-st-full", ["dd", "if=/dev/zero", "of=/tmp/fill", "bs=1048576", `count=${fillMb}`])).toBe(0);

  // st-disk: a bounded write into its state volume (the gateway's own data lives there).
  expect(await execIn("openclaw-st-disk", ["dd", "if=/dev/zero", "of=/home/node/.openclaw/fill", `bs=${DISK_FILL.bs}`, `count=${DISK_FILL.count}`])).toBe(0);

  // The program's health timeout (5 s) and retries (3): a frozen gateway fails three checks in about 21 s.
  await waitFor("st-hung unhealthy", 60000, 250, async () => ((await healthOf("openclaw-st-hung")) === "unhealthy" ? true : undefined));
}, 180000);

afterAll(async () => {
  await cleanup();
  await removeProcessLimits(); // after the containers that ran under them
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
      url: "https://st-ok.claw.example.test", tier: "standard",
      memoryLimitBytes: Number(inputsOf("st-ok").memory) * MiB, cpuLimit: Number(inputsOf("st-ok").cpus),
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
    expect(disk.diskBudgetBytes).toBe(Number(labelOf("st-disk", DISK_BUDGET_LABEL)) * MiB);
    expect(disk.diskBudgetBytes).toBe(SMALL_DISK_MB * MiB);
    expect(disk.diskUsedBytes!).toBeGreaterThanOrEqual(written);
    expect(disk.diskUsedBytes!).toBeLessThan(written + 256 * 1024); // the write, plus what the gateway keeps there
    expect(disk.flags).toEqual([expect.stringMatching(/^disk at (9\d|1\d\d)% of its 256.0 MiB budget \(>= 90%\)$/)]);
    expect(ok.diskBudgetBytes).toBe(Number(labelOf("st-ok", DISK_BUDGET_LABEL)) * MiB);
    expect(ok.diskUsedBytes).not.toBeNull();
    expect(report.servers.map((s) => s.server)).toEqual(["local"]);
    // The server's data filesystem, measured by df in a helper container of a tenant's image: the
    // same filesystem as this machine sees under the engine's data root (the engine is local here).
    const root = String(((await docker.info()) as { DockerRootDir: string }).DockerRootDir);
    const host = fs.statfsSync(root);
    const dataDisk = report.servers[0].dataDisk;
    console.log(`data disk: ${JSON.stringify(dataDisk)}; host statfs of ${root}: ${host.blocks * host.bsize} bytes, ${host.bavail * host.bsize} available`);
    expect(dataDisk).toMatchObject({ path: root });
    expect(Math.abs(dataDisk!.sizeBytes - host.blocks * host.bsize)).toBeLessThan(0.01 * host.blocks * host.bsize);
    expect(report.servers[0].flags).toEqual(dataDisk!.percent >= 85 ? [expect.stringMatching(/^data disk/)] : []);
    expect((await docker.listContainers({ all: true, filters: { ancestor: [IMAGE] } })).filter((c) => (c.Command ?? "").startsWith("df"))).toEqual([]); // the helper is gone
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
    // The limit and budget as the program set them (standard tier), in the table's own units.
    const limit = escapeRegExp(formatBytes(Number(inputsOf("st-ok").memory) * MiB));
    const budget = escapeRegExp(formatBytes(Number(labelOf("st-ok", DISK_BUDGET_LABEL)) * MiB));
    expect(run.stdout).toMatch(new RegExp(`^st-ok\\s+running\\s+healthy\\s+[\\d.]+ MiB / ${limit}\\s+[\\d.]+%\\s+[\\d.]+%\\s+0\\s+[\\d.]+ MiB / ${budget}\\s+https://st-ok\\.claw\\.example\\.test$`, "m"));
    expect(run.stdout).toMatch(/^st-disk\s+running\s+healthy\s+.*\s+2\d\d\.\d MiB \/ 256\.0 MiB\s+https:\/\/st-disk\.claw\.example\.test\s+FLAGGED$/m);
    expect(run.stdout).toMatch(/^ {2}FLAGGED st-disk: disk at (9\d|1\d\d)% of its 256\.0 MiB budget \(>= 90%\)$/m);
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

  test("ssh://: the same report through `ssh ... docker system dial-stdio` and one `docker stats` on the shared connection (a stand-in ssh for the local engine)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "st-ssh-"));
    try {
      const argsFile = path.join(dir, "args");
      const fakeSsh = path.join(dir, "ssh");
      // `-O exit` (status ending its shared ssh connection) has no engine call behind it; a remote
      // command (status's one `docker stats` for the server) runs as the server's shell would run it.
      fs.writeFileSync(fakeSsh, [
        "#!/bin/sh", `printf '%s\\n' "$*" >> '${argsFile}'`, `export DOCKER_HOST='${DOCKER_HOST}'`,
        `case " $* " in *" -O exit "*) exit 0;; *" docker system dial-stdio "*) exec docker system dial-stdio;; esac`,
        `cmd=\${*#* -- status-test.invalid }`, `eval "exec $cmd"`, "",
      ].join("\n"), { mode: 0o755 });
      const run = await status(["--json", "--only", "st-ok,st-hung"], { DOCKER_HOST: "ssh://deploy@status-test.invalid:2222", OPENCLAW_STATUS_SSH: fakeSsh });
      expect(run.code).toBe(1);
      const report = parse(run);
      expect(report.engine).toBe("ssh://deploy@status-test.invalid:2222");
      expect(report.flagged.map((f) => f.tenant)).toEqual(["st-hung"]);
      expect(report.tenants[0].memoryUsedBytes).toBeGreaterThan(0);
      const calls = fs.readFileSync(argsFile, "utf8").trim().split("\n");
      // Every stream on one shared connection (its socket in a private directory), reused across
      // requests (a few streams, not one per request), and the connection ended at the end.
      const dial = /^-T -o BatchMode=yes -o ConnectTimeout=10 -o ControlMaster=auto -o ControlPath=(\S+)\/%C -o ControlPersist=30 -o ServerAliveInterval=10 -o ServerAliveCountMax=3 -l deploy -p 2222 -- status-test.invalid docker system dial-stdio$/;
      const dials = calls.filter((c) => dial.test(c));
      expect(dials.length).toBeGreaterThanOrEqual(1);
      expect(dials.length).toBeLessThanOrEqual(8);
      expect(new Set(dials.map((c) => dial.exec(c)?.[1])).size).toBe(1);
      // Besides the streams: one `docker stats` for the whole server (full container ids only), on
      // the same connection, and the end of the connection. Every running row has its figures from it.
      expect(calls.filter((c) => !dial.test(c))).toEqual([
        expect.stringMatching(/^-T -o BatchMode=yes .* -- status-test\.invalid 'docker' 'stats' '--no-stream' '--no-trunc' '--format' '\{\{json \.\}\}'( '[0-9a-f]{64}')+$/),
        expect.stringMatching(/ -O exit -- status-test\.invalid$/),
      ]);
      for (const t of report.tenants) expect(t.notes.filter((n) => n.startsWith("sampled on its own"))).toEqual([]);
      const statsCall = calls.find((c) => c.includes(" 'docker' 'stats' ")) ?? "";
      expect(/ControlPath=(\S+)\/%C/.exec(statsCall)?.[1]).toBe(dial.exec(dials[0])?.[1]);
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
