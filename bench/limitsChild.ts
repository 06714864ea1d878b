// The check's running time at the input limits, in a fresh process: the largest roster it accepts
// (1,000 tenants, every file at the size limit, read from disk) and the worst it must reject (1,000
// files at the size limit, each a map of thousands of keys). Run by bench/run.ts:
//   node -r ts-node/register/transpile-only bench/limitsChild.ts JOB.json
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { parse } from "yaml";
import { checkHosting } from "../core/check";
import { LIMITS } from "../core/limits";
import { readRosterFolder } from "../program/rosterFolder";
import { parseYamlText } from "../core/yamlText";
import { generateTenants, rawConfig, tenantName } from "./fixtures";

export interface LimitsJob {
  reps: number;
  resultPath: string;
}

export interface LimitsResult {
  tenants: number;
  fileBytes: number;
  /** Whole check (read folder + parse + plan) on the largest accepted roster: median, and the first run. */
  acceptedMs: number;
  acceptedColdMs: number;
  /** The same on 1,000 rejected files, each a map of `keysPerRejectedFile` keys. */
  rejectedMs: number;
  keysPerRejectedFile: number;
  /** One such file through the yaml package's own duplicate-key check, and through ours. */
  yamlDefaultFileMs: number;
  yamlOursFileMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Pads a tenant file with a comment to exactly the size limit. */
function atLimit(body: string): string {
  const pad = LIMITS.tenantFileBytes - Buffer.byteLength(body) - 3;
  if (pad < 0) throw new Error("body over the limit");
  return `${body}#${"x".repeat(pad)}\n\n`.slice(0, LIMITS.tenantFileBytes);
}

/** A file the check accepts: every env variable allowed, values as long as the size limit leaves room for. */
function acceptedFile(i: number): string {
  const valueBytes = Math.floor((LIMITS.tenantFileBytes - 200) / LIMITS.envKeys) - 20;
  const env = Array.from({ length: LIMITS.envKeys }, (_, k) => `  OPENCLAW_V${String(k).padStart(2, "0")}: ${"v".repeat(valueBytes)}`);
  return atLimit([`tier: ${["light", "standard", "heavy"][i % 3]}`, `port: ${20000 + i}`, "env:", ...env, ""].join("\n"));
}

/** A file the check must reject: as many env keys as fit (the parser's own check is quadratic in them). */
function rejectedFile(): { text: string; keys: number } {
  const lines = ["tier: light", "env:"];
  let bytes = lines.join("\n").length + 1;
  let keys = 0;
  for (;;) {
    const line = `  K${keys}: v`;
    if (bytes + line.length + 1 > LIMITS.tenantFileBytes - 1) break;
    lines.push(line);
    bytes += line.length + 1;
    keys++;
  }
  return { text: lines.join("\n") + "\n", keys };
}

function timeCheck(dir: string, raw: Record<string, string>, expectAccepted: boolean): number {
  const t0 = performance.now();
  const checked = checkHosting(raw, () => readRosterFolder(dir));
  const ms = performance.now() - t0;
  if (expectAccepted && checked.problems.length > 0) throw new Error(`largest roster rejected: ${JSON.stringify(checked.problems.slice(0, 3))}`);
  if (!expectAccepted && checked.problems.length < LIMITS.tenants) throw new Error(`expected ${LIMITS.tenants} rejections, got ${checked.problems.length}`);
  return ms;
}

function main(): void {
  const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as LimitsJob;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-bench-limits-"));
  try {
    const tenants = generateTenants(LIMITS.tenants);
    const apiKeys = Object.fromEntries(tenants.map((t) => [t.name, `bench-key-for-${t.name}-000000`]));
    const raw = rawConfig("tenants", tenants, { portPool: { start: 20000, end: 20999 }, apiKeys });
    const accepted = path.join(root, "accepted");
    const rejected = path.join(root, "rejected");
    fs.mkdirSync(accepted);
    fs.mkdirSync(rejected);
    const bad = rejectedFile();
    for (let i = 0; i < LIMITS.tenants; i++) {
      fs.writeFileSync(path.join(accepted, `${tenantName(i)}.yaml`), acceptedFile(i));
      fs.writeFileSync(path.join(rejected, `${tenantName(i)}.yaml`), bad.text);
    }
    const cold = timeCheck(accepted, raw, true);
    const runs = Array.from({ length: job.reps }, () => timeCheck(accepted, raw, true));
    const rejectedRuns = Array.from({ length: job.reps }, () => timeCheck(rejected, raw, false));
    const t0 = performance.now();
    parse(bad.text);
    const t1 = performance.now();
    parseYamlText(bad.text, "x.yaml", LIMITS.tenantFileBytes, LIMITS.tenantFileTokens);
    const t2 = performance.now();
    const result: LimitsResult = {
      tenants: LIMITS.tenants,
      fileBytes: LIMITS.tenantFileBytes,
      acceptedMs: median(runs),
      acceptedColdMs: cold,
      rejectedMs: median(rejectedRuns),
      keysPerRejectedFile: bad.keys,
      yamlDefaultFileMs: t1 - t0,
      yamlOursFileMs: t2 - t1,
    };
    fs.writeFileSync(job.resultPath, JSON.stringify(result));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`limitsChild: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
