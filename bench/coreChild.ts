// The pure core in a fresh process: parseStackConfig + parseRoster (in-memory files) + planHosting
// (ports, networks, Caddyfile). Run by bench/run.ts:
//   node -r ts-node/register/transpile-only bench/coreChild.ts JOB.json
import * as fs from "fs";
import { performance } from "perf_hooks";
import { renderRoutes } from "../core/caddyfile";
import { planHosting } from "../core/plan";
import { allocatePorts } from "../core/portPool";
import { parseRoster } from "../core/roster";
import { parseStackConfig } from "../core/stackConfig";
import { generateTenants, rawConfig, rosterFiles } from "./fixtures";

export interface CoreJob {
  sizes: number[];
  /** Timed repetitions per size, after one untimed warm-up run. */
  reps: number;
  resultPath: string;
}

export interface CoreSizeResult {
  /** Median of the timed runs: config + roster + plan. */
  coreMs: number;
  /** The first (cold) run, JIT not warm yet. */
  coldMs: number;
  /** Medians of the parts. */
  configMs: number;
  rosterMs: number;
  planMs: number;
  /** Inside plan: port allocation alone and Caddyfile rendering alone (measured separately). */
  portsMs: number;
  caddyfileMs: number;
  tenants: number;
  caddyfileBytes: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function runOnce(raw: Record<string, string>, files: ReturnType<typeof rosterFiles>): { config: number; roster: number; plan: number; tenants: number; caddyfileBytes: number } {
  const t0 = performance.now();
  const parsed = parseStackConfig(raw);
  const t1 = performance.now();
  if (parsed.config === undefined) throw new Error(`config rejected: ${JSON.stringify(parsed.problems)}`);
  const roster = parseRoster(files);
  const t2 = performance.now();
  const plan = planHosting(parsed.config, roster.tenants);
  const t3 = performance.now();
  const problems = [...roster.problems, ...plan.problems];
  if (problems.length > 0) throw new Error(`core found problems: ${JSON.stringify(problems.slice(0, 3))}`);
  if (plan.tenants.length !== files.length) throw new Error(`planned ${plan.tenants.length} of ${files.length} tenants`);
  return { config: t1 - t0, roster: t2 - t1, plan: t3 - t2, tenants: plan.tenants.length, caddyfileBytes: plan.caddyfile.length };
}

function main(): void {
  const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as CoreJob;
  const results: Record<string, CoreSizeResult> = {};
  for (const size of job.sizes) {
    const tenants = generateTenants(size);
    const files = rosterFiles(tenants);
    const raw = rawConfig("tenants", tenants);
    const cold = runOnce(raw, files);
    const runs = Array.from({ length: job.reps }, () => runOnce(raw, files));

    // The two parts of the plan most likely to grow faster than linearly, timed on their own.
    const parsed = parseStackConfig(raw).config!;
    const roster = parseRoster(files).tenants;
    const portTimes: number[] = [];
    const caddyTimes: number[] = [];
    const plan = planHosting(parsed, roster);
    const sites = plan.tenants.map((t) => ({ host: t.host, port: t.port, state: t.state }));
    for (let i = 0; i < job.reps; i++) {
      const p0 = performance.now();
      allocatePorts(roster.map((t) => ({ name: t.name, pinned: t.port })), parsed.portPool);
      const p1 = performance.now();
      renderRoutes(sites);
      const p2 = performance.now();
      portTimes.push(p1 - p0);
      caddyTimes.push(p2 - p1);
    }
    results[String(size)] = {
      coreMs: median(runs.map((r) => r.config + r.roster + r.plan)),
      coldMs: cold.config + cold.roster + cold.plan,
      configMs: median(runs.map((r) => r.config)),
      rosterMs: median(runs.map((r) => r.roster)),
      planMs: median(runs.map((r) => r.plan)),
      portsMs: median(portTimes),
      caddyfileMs: median(caddyTimes),
      tenants: cold.tenants,
      caddyfileBytes: cold.caddyfileBytes,
    };
  }
  fs.writeFileSync(job.resultPath, JSON.stringify(results));
}

try {
  main();
} catch (err) {
  process.stderr.write(`coreChild: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
