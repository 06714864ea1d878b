// Benchmarks for openclaw-hosting. Run: npx ts-node --transpile-only bench/run.ts [-- --json]
//   --json        print exactly one JSON object on stdout (progress goes to stderr)
//   --reps N      timed repetitions at 10 and 100 tenants (default 3)
//   --big-reps N  timed repetitions at 1,000 tenants (default 1: one program run there takes about a minute)
//   --diagnose    also time program and floor at 1,000 tenants with Error.stackTraceLimit = 0 (the proposed fix)
//   --only LIST   run only these parts: core,limits,blast,eval,servers,caddy,dashboard (comma-separated; default all)
//   --no-caddy    skip the Caddy part
//   --caddy PATH  use this caddy binary (default: caddy on PATH)
// Every measurement of the program runs in a fresh child process (bench/evalChild.ts, bench/coreChild.ts).
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { allocatePorts } from "../core/portPool";
import { EDGE_COMMAND, BlastVerdict, diffRegistrations, judge } from "./blast";
import { CaddyResult, benchCaddy, cleanupCaddySync } from "./caddy";
import { DashboardBench, benchDashboard } from "./dashboard";
import { SERVERS_TENANTS, SERVER_COUNT, ServersVerdict, benchServers, judgeOnServers, pinnedOnServers } from "./servers";
import type { CoreJob, CoreSizeResult } from "./coreChild";
import type { LimitsJob, LimitsResult } from "./limitsChild";
import type { CapturedRegistration, EvalJob, EvalMode, EvalResult } from "./evalChild";
import {
  BenchTenant, PORT_POOL, PROJECT, generateTenants, makeTempDir, median, rawConfig, round, tenantName, withProjectPrefix, writeRoster,
} from "./fixtures";

const REPO_ROOT = path.resolve(__dirname, "..");
const EVAL_SIZES = [10, 100, 1000];
// 1,000 is the most tenants a stack may have (core/limits.ts); larger rosters are refused up front.
const CORE_SIZES = [100, 1000];
// A stack holds at most 1,000 tenants (core/limits.ts): the "add" edit takes this roster to exactly 1,000.
const BLAST_SIZE = 999;
const RELOAD_SIZES = [100, 1000];

const args = process.argv.slice(2);
const JSON_MODE = args.includes("--json");
function numArg(name: string, fallback: number): number {
  const i = args.indexOf(name);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1 || value > 20) throw new Error(`${name} must be a whole number from 1 to 20`);
  return value;
}
const REPS = numArg("--reps", 3);
const BIG_REPS = numArg("--big-reps", 1);
const DIAGNOSE = args.includes("--diagnose");
const ALL_SECTIONS = ["core", "limits", "blast", "eval", "servers", "caddy", "dashboard"] as const;
const SECTIONS = new Set<string>(args.includes("--only") ? (args[args.indexOf("--only") + 1] ?? "").split(",") : ALL_SECTIONS);
if (args.includes("--no-caddy")) SECTIONS.delete("caddy");
for (const section of SECTIONS) if (!(ALL_SECTIONS as readonly string[]).includes(section)) throw new Error(`--only takes ${ALL_SECTIONS.join(",")}`);
const CADDY_BIN = args.includes("--caddy") ? path.resolve(args[args.indexOf("--caddy") + 1] ?? "") : undefined;

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

// ---- child processes: tracked, bounded in time, killed on any exit ----
const children = new Set<ChildProcess>();
const tempDirs: string[] = [];
function cleanupSync(): void {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  cleanupCaddySync();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
}
process.on("exit", cleanupSync);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping children and removing temp dirs`);
    cleanupSync();
    process.exit(130);
  });
}

function runChild(script: string, jobPath: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), path.join(__dirname, script), jobPath], {
      cwd: REPO_ROOT,
      env: { ...process.env, TS_NODE_PROJECT: path.join(REPO_ROOT, "tsconfig.json") },
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.add(child);
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) resolve();
      else reject(new Error(`${script} ${path.basename(jobPath)} failed (${signal ?? code}${signal === "SIGKILL" ? `, time limit ${timeoutMs / 1000} s` : ""}):\n${stderr}`));
    });
  });
}

async function inPool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]();
      }
    }),
  );
  return results;
}

// ---- fixtures ----
/** As after the pin-ports command: every tenant's allocated port written into its file. */
function pinned(tenants: BenchTenant[]): BenchTenant[] {
  const { ports, problems } = allocatePorts(tenants.map((t) => ({ name: t.name, pinned: t.port })), PORT_POOL);
  if (problems.length > 0) throw new Error(`port allocation: ${JSON.stringify(problems[0])}`);
  return tenants.map((t) => ({ ...t, port: ports.get(t.name) }));
}

interface Scenario {
  label: string;
  tenants: BenchTenant[];
  rosterDir: string;
  config: Record<string, string>;
}

/** Rosters go inside the project (git-ignored .test-rosters/): the program reads no roster folder outside it. */
let rosterRoot: string | undefined;
function scenario(_root: string, label: string, tenants: BenchTenant[]): Scenario {
  if (rosterRoot === undefined) {
    fs.mkdirSync(path.join(REPO_ROOT, ".test-rosters"), { recursive: true });
    rosterRoot = fs.mkdtempSync(path.join(REPO_ROOT, ".test-rosters", "bench-"));
    tempDirs.push(rosterRoot);
  }
  const rosterDir = path.join(rosterRoot, `roster-${label}`);
  writeRoster(rosterDir, tenants);
  return { label, tenants, rosterDir, config: withProjectPrefix(rawConfig(path.relative(REPO_ROOT, rosterDir), tenants)) };
}

async function evalRun(root: string, s: Scenario, mode: EvalMode, extra: Partial<EvalJob>, timeoutMs: number): Promise<EvalResult> {
  const id = `${s.label}-${mode}-${Math.random().toString(36).slice(2, 8)}`;
  const job: EvalJob = { mode, config: s.config, secretKeys: [`${PROJECT}:apiKeys`], resultPath: path.join(root, `result-${id}.json`), ...extra };
  const jobPath = path.join(root, `job-${id}.json`);
  fs.writeFileSync(jobPath, JSON.stringify(job));
  await runChild("evalChild.ts", jobPath, timeoutMs);
  return JSON.parse(fs.readFileSync(job.resultPath, "utf8")) as EvalResult;
}

const capturePath = (root: string, s: Scenario) => path.join(root, `capture-${s.label}.json`);
const readCapture = (root: string, s: Scenario) => JSON.parse(fs.readFileSync(capturePath(root, s), "utf8")) as CapturedRegistration[];

// ---- results ----
interface EvalSize {
  evalMs: number;
  floorMs: number;
  ratio: number;
  rssMb: number;
  floorRssMb: number;
  /** The same ratio on CPU time, which other work on the machine disturbs less than wall time. */
  cpuRatio: number;
  /** The synchronous part of evalMs (index.ts returning); the rest is registrations draining. */
  syncMs: number;
  registrations: number;
  floorRegistrations: number;
  runsMs: number[];
  floorRunsMs: number[];
}

interface Target {
  name: string;
  target: string;
  measured: string;
  ok: boolean | null;
}

async function main(): Promise<void> {
  const started = performance.now();
  const root = makeTempDir("run");
  tempDirs.push(root);
  const report: Record<string, unknown> = {
    machine: {
      cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGb: round(os.totalmem() / 2 ** 30, 1), node: process.version, platform: `${os.type()} ${os.release()}`,
      // Other work on the machine skews every figure; the load averages say how much there was.
      loadAvgStart: os.loadavg().map((x) => round(x, 2)),
    },
    settings: { sections: [...SECTIONS], evalSizes: EVAL_SIZES, reps: REPS, bigReps: BIG_REPS, coreSizes: CORE_SIZES, blastSize: BLAST_SIZE, reloadSizes: RELOAD_SIZES },
  };

  // 1. The pure core, first, while nothing else runs.
  let core: Record<string, CoreSizeResult> | undefined;
  if (SECTIONS.has("core")) {
    log(`core: ${CORE_SIZES.join(", ")} tenants`);
    const coreJob: CoreJob = { sizes: CORE_SIZES, reps: 5, resultPath: path.join(root, "core.json") };
    fs.writeFileSync(path.join(root, "core-job.json"), JSON.stringify(coreJob));
    await runChild("coreChild.ts", path.join(root, "core-job.json"), 120_000);
    core = JSON.parse(fs.readFileSync(coreJob.resultPath, "utf8")) as Record<string, CoreSizeResult>;
    report.coreMs = Object.fromEntries(Object.entries(core).map(([k, v]) => [k, round(v.coreMs)]));
    report.core = Object.fromEntries(Object.entries(core).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([f, x]) => [f, round(x)]))]));
  }

  // 1b. The check at the input limits: the largest roster it accepts, and the worst it must reject.
  let limits: LimitsResult | undefined;
  if (SECTIONS.has("limits")) {
    log("limits: 1,000 tenant files at the size limit, accepted and rejected");
    const limitsJob: LimitsJob = { reps: 3, resultPath: path.join(root, "limits.json") };
    fs.writeFileSync(path.join(root, "limits-job.json"), JSON.stringify(limitsJob));
    await runChild("limitsChild.ts", path.join(root, "limits-job.json"), 300_000);
    limits = JSON.parse(fs.readFileSync(limitsJob.resultPath, "utf8")) as LimitsResult;
    report.limits = Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, round(v)]));
  }

  // 2. Scenarios: pinned rosters (the steady state after pin-ports) and the three one-tenant edits.
  const scenarios = new Map<string, Scenario>();
  const sizesNeeded = new Set<number>([...(SECTIONS.has("eval") ? EVAL_SIZES : []), ...(SECTIONS.has("blast") ? [BLAST_SIZE] : [])]);
  for (const size of [...sizesNeeded].sort((a, b) => a - b)) scenarios.set(String(size), scenario(root, String(size), pinned(generateTenants(size))));
  const edits: Edit[] = SECTIONS.has("blast") ? blastEdits(root, scenarios.get(String(BLAST_SIZE))!) : [];

  // 3. Input captures (untimed; two at a time). Inputs do not depend on stack traces, so these runs use
  //    Error.stackTraceLimit = 0, which makes them about 6x faster and changes no input.
  const captureTargets = [...scenarios.values(), ...edits.map((e) => e.s)];
  if (captureTargets.length > 0) {
    log(`capturing registrations: ${captureTargets.map((s) => s.label).join(", ")}`);
    await inPool(captureTargets.map((s) => () => evalRun(root, s, "program", { capturePath: capturePath(root, s), stackTraceLimit: 0 }, 180_000)), 2);
  }

  // 4. Blast radius.
  const blastVerdicts: Record<string, BlastVerdict> = {};
  if (SECTIONS.has("blast")) {
    const base = scenarios.get(String(BLAST_SIZE))!;
    const baseCapture = readCapture(root, base);
    for (const e of edits) {
      const names = new Set([...base.tenants, ...e.s.tenants].map((t) => t.name));
      blastVerdicts[e.edit] = judge(diffRegistrations(baseCapture, readCapture(root, e.s)), e.tenant, names, e.edgeExpected);
    }
    report.blastRadius = {
      ...Object.fromEntries(Object.entries(blastVerdicts).map(([k, v]) => [k, v.count])),
      tenants: BLAST_SIZE,
      edits: Object.fromEntries(edits.map((e) => [e.edit, e.description])),
      resources: Object.fromEntries(Object.entries(blastVerdicts).map(([k, v]) => [k, v.resources])),
      outsideTenant: Object.fromEntries(Object.entries(blastVerdicts).map(([k, v]) => [k, v.outsideTenant])),
    };
  }

  // 4b. Several servers: a 10-server roster of 1,000 pinned tenants, its program time against the
  //     floor, and what a one-tenant edit, an added tenant and a move change.
  if (SECTIONS.has("servers")) {
    const onServers = (label: string, tenants: BenchTenant[]): Scenario => {
      const s = scenario(root, label, tenants);
      delete s.config[`${PROJECT}:server`];
      s.config[`${PROJECT}:servers`] = JSON.stringify(benchServers());
      return s;
    };
    const tenants = pinnedOnServers();
    const edited = tenants[500];
    const base = onServers("servers-base", tenants);
    const from = edited.server ?? "";
    const to = `s${(Number(from.slice(1)) + 1) % SERVER_COUNT}`;
    // Adding a tenant is measured from the roster without the last one (a stack holds at most 1,000).
    const last = tenants[tenants.length - 1];
    const variants = [
      { edit: "retier", tenant: edited.name, servers: [] as string[], s: onServers("servers-retier", tenants.map((t) => (t === edited ? { ...t, tier: t.tier === "heavy" ? "light" as const : "heavy" as const } : t))) },
      { edit: "add", tenant: last.name, servers: [last.server ?? ""], s: onServers("servers-without-last", tenants.slice(0, -1)) },
      { edit: "move", tenant: edited.name, servers: [from, to].sort(), s: onServers("servers-move", tenants.map((t) => (t === edited ? { ...t, server: to, port: undefined } : t))) },
    ];
    log(`servers: capturing ${SERVERS_TENANTS} tenants on ${SERVER_COUNT} servers and three edits`);
    await inPool([base, ...variants.map((v) => v.s)].map((s) => () => evalRun(root, s, "program", { capturePath: capturePath(root, s), stackTraceLimit: 0 }, 300_000)), 2);
    const baseCapture = readCapture(root, base);
    const verdicts: Record<string, ServersVerdict> = {};
    const names = new Set(tenants.map((t) => t.name));
    for (const v of variants) {
      const other = readCapture(root, v.s);
      const diff = v.edit === "add" ? diffRegistrations(other, baseCapture) : diffRegistrations(baseCapture, other);
      verdicts[v.edit] = judgeOnServers(diff, v.tenant, names, v.servers);
    }
    const expected = baseCapture.length;
    log(`servers: program and floor, ${BIG_REPS} run(s) each`);
    const programs: EvalResult[] = [];
    const floors: EvalResult[] = [];
    for (let i = 0; i < BIG_REPS; i++) {
      programs.push(await evalRun(root, base, "program", { expectedRegistrations: expected }, 300_000));
      floors.push(await evalRun(root, base, "floor", { floorSpecPath: capturePath(root, base), expectedRegistrations: baseCapture.filter((r) => r.custom).length + 1 }, 300_000));
    }
    const evalMs = median(programs.map((r) => r.evalMs));
    const floorMs = median(floors.map((r) => r.evalMs));
    report.servers = {
      servers: SERVER_COUNT,
      tenants: SERVERS_TENANTS,
      evalMs: round(evalMs, 0),
      floorMs: round(floorMs, 0),
      ratio: round(evalMs / floorMs, 2),
      registrations: expected,
      blastRadius: Object.fromEntries(Object.entries(verdicts).map(([k, v]) => [k, { count: v.count, outside: v.outside, otherServersEdges: v.otherServersEdges, ok: v.ok, resources: v.resources }])),
    };
    log(`servers: program ${round(evalMs, 0)} ms, floor ${round(floorMs, 0)} ms, ratio ${round(evalMs / floorMs, 2)}; blast ${Object.entries(verdicts).map(([k, v]) => `${k} ${v.count}${v.ok ? "" : " (NOT OK)"}`).join(", ")}`);
  }

  // 5. Program evaluation against the floor, timed, one child at a time, program and floor interleaved.
  const evalResults: Record<string, EvalSize> = {};
  if (SECTIONS.has("eval")) {
    for (const size of EVAL_SIZES) {
      const s = scenarios.get(String(size))!;
      const capture = readCapture(root, s);
      const floorSpecPath = capturePath(root, s);
      const expectedProgram = capture.length;
      const expectedFloor = capture.filter((r) => r.custom).length + 1; // + the stack
      const reps = size >= 1000 ? BIG_REPS : REPS;
      const timeout = size >= 1000 ? 300_000 : 120_000;
      const programs: EvalResult[] = [];
      const floors: EvalResult[] = [];
      for (let i = 0; i < reps; i++) {
        log(`eval ${size} tenants, run ${i + 1}/${reps}: program`);
        programs.push(await evalRun(root, s, "program", { expectedRegistrations: expectedProgram }, timeout));
        log(`eval ${size} tenants, run ${i + 1}/${reps}: floor (${expectedFloor - 1} custom resources, flat loop)`);
        floors.push(await evalRun(root, s, "floor", { floorSpecPath, expectedRegistrations: expectedFloor }, timeout));
      }
      const evalMs = median(programs.map((r) => r.evalMs));
      const floorMs = median(floors.map((r) => r.evalMs));
      evalResults[String(size)] = {
        evalMs: round(evalMs, 0),
        floorMs: round(floorMs, 0),
        ratio: round(evalMs / floorMs, 2),
        cpuRatio: round(median(programs.map((r) => r.cpuMs)) / median(floors.map((r) => r.cpuMs)), 2),
        rssMb: round(median(programs.map((r) => r.rssMb)), 0),
        floorRssMb: round(median(floors.map((r) => r.rssMb)), 0),
        syncMs: round(median(programs.map((r) => r.syncMs)), 0),
        registrations: expectedProgram,
        floorRegistrations: expectedFloor,
        runsMs: programs.map((r) => round(r.evalMs, 0)),
        floorRunsMs: floors.map((r) => round(r.evalMs, 0)),
      };
      log(`eval ${size}: program ${round(evalMs, 0)} ms, floor ${round(floorMs, 0)} ms, ratio ${round(evalMs / floorMs, 2)}`);
    }
    report.eval = evalResults;

    if (DIAGNOSE) {
      const s = scenarios.get("1000")!;
      const capture = readCapture(root, s);
      log("diagnose: 1000 tenants with Error.stackTraceLimit = 0");
      const p = await evalRun(root, s, "program", { expectedRegistrations: capture.length, stackTraceLimit: 0 }, 300_000);
      const f = await evalRun(root, s, "floor", { floorSpecPath: capturePath(root, s), expectedRegistrations: capture.filter((r) => r.custom).length + 1, stackTraceLimit: 0 }, 300_000);
      report.diagnose = {
        stackTraceLimit0: { "1000": { evalMs: round(p.evalMs, 0), floorMs: round(f.evalMs, 0), ratio: round(p.evalMs / f.evalMs, 2), rssMb: round(p.rssMb, 0), floorRssMb: round(f.rssMb, 0) } },
      };
    }
  }

  // 6. Caddy.
  let caddy: CaddyResult | undefined;
  if (SECTIONS.has("caddy")) {
    log("caddy: reloads and load");
    caddy = await benchCaddy({ sizes: RELOAD_SIZES, reps: 5, clients: 8, maxRequests: 2000, maxSeconds: 15, reloadsUnderLoad: 5, log, caddyBin: CADDY_BIN });
    if (caddy.skipped !== undefined) log(caddy.skipped);
    report.reloadMs = caddy.reloadMs;
    report.failedRequests = caddy.skipped === undefined ? caddy.failedRequests : null;
    report.failedAfterRetry = caddy.skipped === undefined ? caddy.failedAfterRetry : null;
    report.totalRequests = caddy.skipped === undefined ? caddy.totalRequests : null;
    report.caddy = caddy;
  }

  // 7. The dashboard: sampling cost at 1,000 tenants, page load with 100 in Chromium.
  let dashboard: DashboardBench | undefined;
  if (SECTIONS.has("dashboard")) {
    dashboard = await benchDashboard(log);
    report.dashboard = dashboard;
  }

  // 8. Targets.
  const targets: Target[] = [];
  if (SECTIONS.has("servers")) {
    const sv = report.servers as { ratio: number; evalMs: number; floorMs: number; blastRadius: Record<string, { count: number; ok: boolean }> };
    targets.push(
      { name: `program/floor, ${SERVERS_TENANTS} tenants on ${SERVER_COUNT} servers`, target: "<= 1.3", measured: `${sv.ratio} (${sv.evalMs} / ${sv.floorMs} ms)`, ok: sv.ratio <= 1.3 },
      {
        name: "blast radius on several servers (re-tier, add, move)",
        target: "the tenant's own resources + its server's edge (a move: both servers' edges); nothing on other servers",
        measured: Object.entries(sv.blastRadius).map(([k, v]) => `${k} ${v.count}`).join(", "),
        ok: Object.values(sv.blastRadius).every((v) => v.ok),
      },
    );
  }
  if (SECTIONS.has("eval")) {
    const e = (n: number) => evalResults[String(n)];
    const programGrowth = e(1000).evalMs / e(100).evalMs;
    const floorGrowth = e(1000).floorMs / e(100).floorMs;
    targets.push(
      { name: "program/floor at 1,000 tenants", target: "<= 1.3", measured: `${e(1000).ratio} (${e(1000).evalMs} / ${e(1000).floorMs} ms; CPU ${e(1000).cpuRatio})`, ok: e(1000).ratio <= 1.3 },
      {
        name: "program grows no faster than the floor (100 -> 1,000)",
        target: "program x <= floor x (+15% noise)",
        measured: `program x${round(programGrowth, 2)}, floor x${round(floorGrowth, 2)}; ratio ${e(10).ratio} / ${e(100).ratio} / ${e(1000).ratio} at 10 / 100 / 1,000`,
        ok: programGrowth <= floorGrowth * 1.15,
      },
    );
  }
  if (core !== undefined) {
    targets.push({ name: "pure core at 1,000 tenants (warm median)", target: "< 100 ms", measured: `${round(core["1000"].coreMs)} ms (cold first call ${round(core["1000"].coldMs)} ms)`, ok: core["1000"].coreMs < 100 });
  }
  if (limits !== undefined) {
    targets.push({
      name: `check on the largest accepted roster (${limits.tenants} tenants x ${limits.fileBytes} B, from disk)`,
      target: "< 5000 ms",
      measured: `${round(limits.acceptedMs)} ms (cold ${round(limits.acceptedColdMs)} ms); worst rejected roster (${limits.keysPerRejectedFile} keys per file): ${round(limits.rejectedMs)} ms`,
      ok: limits.acceptedMs < 5000,
    });
  }
  for (const x of edits) {
    targets.push({
      name: `blast radius: ${x.edit}`,
      target: x.edgeExpected ? "the tenant's own resources + edge-routes (no Caddyfile change, no reload)" : "the tenant's own resources only (tier is not in the Caddyfile)",
      measured: `${blastVerdicts[x.edit].count} resources, ${blastVerdicts[x.edit].outsideTenant.length} outside the tenant, edge ${blastVerdicts[x.edit].edgeChanged ? "changed" : "unchanged"}`,
      ok: blastVerdicts[x.edit].ok,
    });
  }
  if (caddy !== undefined && caddy.skipped === undefined) {
    targets.push(
      { name: "caddy reload at 1,000 sites", target: "< 2000 ms", measured: `${caddy.reloadMs["1000"]} ms (edge command under load: ${caddy.installMs.join(", ")} ms)`, ok: caddy.reloadMs["1000"] < 2000 },
      {
        name: "failed requests during reloads",
        target: "0",
        measured: `${caddy.failedRequests} of ${caddy.totalRequests} over ${caddy.installMs.length} reloads (${caddy.failedAfterRetry} after retrying reused keep-alive connections)`,
        ok: caddy.failedRequests === 0,
      },
    );
    if (caddy.compatibilityEdits.length > 0) {
      targets.push({ name: "program's Caddyfile loads on this Caddy", target: "no edits needed", measured: caddy.compatibilityEdits.join("; "), ok: false });
    }
  } else if (caddy !== undefined) {
    targets.push({ name: "caddy", target: "reload < 2 s, 0 failed", measured: caddy.skipped ?? "", ok: null });
  }
  report.targets = targets;
  report.totalSeconds = round((performance.now() - started) / 1000, 1);
  (report.machine as Record<string, unknown>).loadAvgEnd = os.loadavg().map((x) => round(x, 2));

  if (JSON_MODE) {
    process.stdout.write(JSON.stringify(report) + "\n");
  } else {
    printHuman(report, evalResults, core, blastVerdicts, caddy, targets, dashboard);
  }
}

interface Edit {
  edit: "add" | "remove" | "retier";
  tenant: string;
  description: string;
  /** Whether the Caddyfile, and so the edge command, must change. */
  edgeExpected: boolean;
  s: Scenario;
}

function blastEdits(root: string, base: Scenario): Edit[] {
  const addName = tenantName(base.tenants.length);
  const removeName = tenantName(Math.floor(base.tenants.length / 2));
  const retierName = tenantName(Math.floor(base.tenants.length / 2) + 1);
  const from = base.tenants.find((t) => t.name === retierName)!.tier;
  const to = from === "heavy" ? "light" : "heavy";
  return [
    {
      edit: "add", tenant: addName, description: `${addName} (unpinned, standard)`, edgeExpected: true,
      s: scenario(root, "add", [...base.tenants, { name: addName, tier: "standard", state: "active", provider: "anthropic" }]),
    },
    { edit: "remove", tenant: removeName, description: removeName, edgeExpected: true, s: scenario(root, "remove", base.tenants.filter((t) => t.name !== removeName)) },
    {
      // The tier is not in the Caddyfile, so a re-tier must leave the edge alone.
      edit: "retier", tenant: retierName, description: `${retierName} ${from} -> ${to}`, edgeExpected: false,
      s: scenario(root, "retier", base.tenants.map((t) => (t.name === retierName ? { ...t, tier: to } : t))),
    },
  ];
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r, i) => {
    const line = r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
    return i === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
  }).join("\n");
}

function printHuman(
  report: Record<string, unknown>, evalResults: Record<string, EvalSize>, core: Record<string, CoreSizeResult> | undefined,
  blast: Record<string, BlastVerdict>, caddy: CaddyResult | undefined, targets: Target[], dashboard?: DashboardBench,
): void {
  const out: string[] = [];
  const m = report.machine as Record<string, unknown>;
  out.push(`openclaw-hosting bench — ${m.cpus} cores, ${m.memGb} GB, node ${m.node}; load average at start ${JSON.stringify(m.loadAvgStart)}, at end ${JSON.stringify(m.loadAvgEnd)}`);
  if (Object.keys(evalResults).length > 0) {
    out.push("", "Program evaluation under the mock engine (median; each run a fresh process)");
    out.push(table([
      ["tenants", "resources", "program ms", "floor ms", "ratio", "CPU ratio", "program RSS MB", "floor RSS MB", "program runs ms", "floor runs ms"],
      ...Object.entries(evalResults).map(([n, r]) => [
        n, String(r.registrations), String(r.evalMs), String(r.floorMs), String(r.ratio), String(r.cpuRatio), String(r.rssMb), String(r.floorRssMb), r.runsMs.join(", "), r.floorRunsMs.join(", "),
      ]),
    ]));
    if (report.diagnose !== undefined) out.push(`diagnose (Error.stackTraceLimit = 0): ${JSON.stringify(report.diagnose)}`);
  }
  if (core !== undefined) {
    out.push("", "Pure core (parseStackConfig + parseRoster + planHosting), median of 5 warm runs");
    out.push(table([
      ["tenants", "core ms", "cold ms", "config", "roster", "plan", "ports", "caddyfile"],
      ...Object.entries(core).map(([n, r]) => [n, String(round(r.coreMs)), String(round(r.coldMs)), String(round(r.configMs)), String(round(r.rosterMs)), String(round(r.planMs)), String(round(r.portsMs)), String(round(r.caddyfileMs))]),
    ]));
  }
  if (report.limits !== undefined) {
    const l = report.limits as Record<string, number>;
    out.push("", `Check at the input limits (${l.tenants} tenant files of ${l.fileBytes} bytes, read from disk), median of 3`);
    out.push(`  largest accepted roster: ${l.acceptedMs} ms (cold ${l.acceptedColdMs} ms)`);
    out.push(`  worst rejected roster (${l.keysPerRejectedFile} env keys per file): ${l.rejectedMs} ms`);
    out.push(`  one such file: yaml's own duplicate-key check ${l.yamlDefaultFileMs} ms, ours ${l.yamlOursFileMs} ms`);
  }
  if (Object.keys(blast).length > 0) {
    out.push("", `Blast radius at ${BLAST_SIZE} tenants (resources whose inputs changed ~, added +, removed -)`);
    for (const [edit, v] of Object.entries(blast)) out.push(`  ${edit}: ${v.count}`, ...v.resources.map((r) => `    ${r}`));
  }
  if (caddy !== undefined && caddy.skipped !== undefined) {
    out.push("", `Caddy: ${caddy.skipped}`);
  } else if (caddy !== undefined) {
    out.push("", `Caddy ${caddy.caddyVersion}`);
    out.push(table([["sites", "reload ms (median)", "runs"], ...Object.entries(caddy.reloadMs).map(([n, ms]) => [n, String(ms), caddy.reloadRunsMs[n].join(", ")])]));
    out.push(`  edge command (install script: validate + swap + reload) at ${caddy.loadSites} sites under load: ${caddy.installMs.join(", ")} ms`);
    out.push(
      `  load: ${caddy.totalRequests} requests in ${caddy.loadSeconds} s; ${caddy.failedRequests} failed (${caddy.failedDuringReload} during a reload; ` +
        `keep-alive clients ${caddy.byClient.keepAlive.failed}/${caddy.byClient.keepAlive.requests}, fresh-connection clients ${caddy.byClient.fresh.failed}/${caddy.byClient.fresh.requests}); ` +
        `${caddy.failedAfterRetry} left after one retry of reused-connection failures ${JSON.stringify(caddy.errors)}`,
    );
    if (caddy.certsReadyMs !== undefined) out.push(`  local certificates for ${caddy.loadSites} sites ready after ${caddy.certsReadyMs} ms`);
    for (const edit of caddy.compatibilityEdits) out.push(`  NOTE: ${edit}`);
  }
  if (dashboard !== undefined) {
    const d = dashboard;
    out.push("", `Dashboard: one sample of ${d.tenants} synthetic tenants (Docker API answers -> status model -> Prometheus gauges -> history write), median of ${d.samples}`);
    out.push(`  ${d.sampleMs} ms per sample (model ${d.modelMs}, metrics ${d.metricsMs}, history ${d.historyMs}); history line ${d.historyLineBytes} bytes, ~${d.historyDayMb} MB a day at one sample a minute`);
    out.push(`  a /metrics scrape at ${d.tenants} tenants: ${d.scrapeMs} ms (${Math.round(d.scrapeBytes / 1024)} KB of text)`);
    out.push(d.pageLoadMs === null
      ? `  page load: skipped (${d.pageSkipped})`
      : `  page load with ${d.pageTenants} tenants in Chromium (navigation -> every row and the server plots drawn): ${d.pageLoadMs} ms median (${d.pageLoadRunsMs.join(", ")}); DOMContentLoaded ${d.domContentLoadedMs} ms`);
  }
  out.push("", "Targets");
  out.push(table([["", "target", "measured", "verdict"], ...targets.map((t) => [t.name, t.target, t.measured, t.ok === null ? "skipped" : t.ok ? "met" : "MISSED"])]));
  out.push("", `edge command key: ${EDGE_COMMAND}; sections ${[...SECTIONS].join(",")}; total ${report.totalSeconds} s`);
  process.stdout.write(out.join("\n") + "\n");
}

main().catch((err) => {
  log(`failed: ${(err as Error).stack ?? String(err)}`);
  cleanupSync();
  process.exit(1);
});
