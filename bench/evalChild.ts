// One measurement in a fresh process: the program (index.ts) or the floor (the same custom resources
// registered in a flat loop) under Pulumi's mock engine. Run by bench/run.ts, never directly:
//   node -r ts-node/register/transpile-only bench/evalChild.ts JOB.json
// JOB.json: EvalJob. The result goes to job.resultPath as JSON (stdout is left to Pulumi's logging).
import * as fs from "fs";
import * as path from "path";
import { performance } from "perf_hooks";
import type * as pulumiType from "@pulumi/pulumi";

export type EvalMode = "program" | "floor";

export interface EvalJob {
  mode: EvalMode;
  /** Config keyed `openclaw-hosting:key`, values encoded as Pulumi encodes them. */
  config: Record<string, string>;
  secretKeys: string[];
  /** program: write every registration (type, name, inputs) here. */
  capturePath?: string;
  /** floor: the custom resources to register, as captured from the program. */
  floorSpecPath?: string;
  /** Registrations the run must reach; checked, so a run that stops early is an error, not a fast result. */
  expectedRegistrations?: number;
  resultPath: string;
  /** Diagnostics and input-only runs: Error.stackTraceLimit while the program runs (Node's default is 10). */
  stackTraceLimit?: number;
}

export interface CapturedRegistration {
  type: string;
  name: string;
  custom: boolean;
  /** The provider reference the program passed (a docker provider URN), if any. */
  provider: string;
  inputs: Record<string, unknown>;
  secretInputs: string[];
}

export interface EvalResult {
  mode: EvalMode;
  /** From the first line of the program (or floor loop) until every registration is done and outputs resolved. */
  evalMs: number;
  /** CPU time (user + system, all threads) over the same interval: less disturbed by other work on the machine. */
  cpuMs: number;
  /** The synchronous part: require(index) (or the floor loop) returning. */
  syncMs: number;
  /** Loading Pulumi, the provider SDKs, ts-node and the program's modules before the clock starts. */
  warmupMs: number;
  registrations: number;
  customRegistrations: number;
  /** process.resourceUsage().maxRSS at the end, in MB. */
  rssMb: number;
  heapUsedMb: number;
}

const REPO_ROOT = path.resolve(__dirname, "..");
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const PASSWORD_TYPE = "random:index/randomPassword:RandomPassword";
const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";

function unwrapSecrets(raw: Record<string, unknown>): { inputs: Record<string, unknown>; secretInputs: string[] } {
  const secretInputs = new Set<string>();
  const unwrap = (value: unknown, field: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => unwrap(v, field));
    if (value !== null && typeof value === "object") {
      const obj = value as Record<string, unknown>;
      if (SECRET_SIG in obj) {
        secretInputs.add(field);
        return unwrap(obj.value, field);
      }
      return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrap(v, field)]));
    }
    return value;
  };
  const inputs = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, unwrap(v, k)]));
  return { inputs, secretInputs: [...secretInputs] };
}

async function main(): Promise<void> {
  const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as EvalJob;
  const warmStart = performance.now();

  // Same warm-up in both modes, so the floor pays the same module loading and RSS baseline.
  const pulumi: typeof pulumiType = require("@pulumi/pulumi");
  const docker = require("@pulumi/docker");
  const random = require("@pulumi/random");
  const command = require("@pulumi/command");
  const cloudflare = require("@pulumi/cloudflare");
  for (const dir of ["core", "components"]) {
    for (const file of fs.readdirSync(path.join(REPO_ROOT, dir)).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).sort()) {
      require(path.join(REPO_ROOT, dir, file));
    }
  }
  const settings: { waitForRPCs(): Promise<void> } = require("@pulumi/pulumi/runtime/settings");

  if (job.stackTraceLimit !== undefined) Error.stackTraceLimit = job.stackTraceLimit;
  // The bench's servers are names, not machines: the program's server check has nothing to ask.
  process.env.OPENCLAW_SERVER_CHECK = "off";
  pulumi.runtime.setAllConfig(job.config, job.secretKeys);
  let registrations = 0;
  let customRegistrations = 0;
  const captured: CapturedRegistration[] = [];
  const capture = job.capturePath !== undefined;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registrations++;
        if (args.custom === true) customRegistrations++;
        if (capture) {
          const { inputs, secretInputs } = unwrapSecrets(args.inputs as Record<string, unknown>);
          captured.push({ type: args.type, name: args.name, custom: args.custom === true, provider: args.provider ?? "", inputs, secretInputs });
        }
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === PASSWORD_TYPE) state.result = `token-of-${args.name}`;
        // The program reads its own previous deployment; the bench's is empty (a first deployment).
        if (args.type === STACK_REFERENCE_TYPE) state.outputs = {};
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "openclaw-hosting",
    "bench",
    false,
    "organization",
  );

  // The SDK class of each type the program registers; anything else falls back to a bare CustomResource.
  type SdkClass = new (name: string, args: Record<string, unknown>, opts?: pulumiType.CustomResourceOptions) => pulumiType.CustomResource;
  const sdkClasses: Record<string, SdkClass> = {
    "pulumi:providers:docker": docker.Provider,
    "docker:index/container:Container": docker.Container,
    "docker:index/volume:Volume": docker.Volume,
    "docker:index/network:Network": docker.Network,
    "random:index/randomPassword:RandomPassword": random.RandomPassword,
    "command:local:Command": command.local.Command,
    "command:remote:Command": command.remote.Command,
    "cloudflare:index/dnsRecord:DnsRecord": cloudflare.DnsRecord,
  };
  class FloorResource extends pulumi.CustomResource {}
  let floorSpec: CapturedRegistration[] = [];
  if (job.mode === "floor") {
    if (job.floorSpecPath === undefined) throw new Error("floor needs floorSpecPath");
    floorSpec = (JSON.parse(fs.readFileSync(job.floorSpecPath, "utf8")) as CapturedRegistration[]).filter((r) => r.custom);
  }
  const warmupMs = performance.now() - warmStart;

  // ---- the clock runs from here until every registration has reached the mock monitor ----
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let syncMs = 0;
  await pulumi.runtime.runInPulumiStack(async () => {
    if (job.mode === "program") {
      // index.ts exports its program as a function (`export =`), as `pulumi up` runs it.
      const program = require(path.join(REPO_ROOT, "index")) as () => Promise<Record<string, unknown>>;
      const stack = await program();
      syncMs = performance.now() - start;
      return stack;
    }
    // The floor: the same custom resources, built with the same SDK classes and the same (already
    // resolved) inputs, in one flat loop: no components, no parents, no outputs, no program logic.
    // Same process conditions as the program, which lowers the stack-trace limit on its first lines.
    if (job.stackTraceLimit === undefined && process.env.OPENCLAW_FULL_STACKS !== "1") Error.stackTraceLimit = 0;
    // One Docker provider per server, looked up by the name in the resource's provider reference.
    const providers = new Map<string, pulumiType.ProviderResource>();
    for (const r of floorSpec) {
      const inputs: Record<string, unknown> = { ...r.inputs };
      for (const key of r.secretInputs) inputs[key] = pulumi.secret(inputs[key]);
      const Sdk = sdkClasses[r.type];
      if (r.type === STACK_REFERENCE_TYPE) {
        new pulumi.StackReference(r.name, { name: r.inputs.name as string });
      } else if (r.type === "pulumi:providers:docker") {
        providers.set(r.name, new Sdk(r.name, inputs) as pulumiType.ProviderResource);
      } else if (Sdk !== undefined) {
        const provider = r.provider.includes("::pulumi:providers:docker::") ? providers.get(r.provider.split("::")[3]) : undefined;
        new Sdk(r.name, inputs, provider !== undefined ? { provider } : {});
      } else {
        new FloorResource(r.type, r.name, inputs);
      }
    }
    syncMs = performance.now() - start;
    return {};
  });
  await settings.waitForRPCs();
  const evalMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  // ---- clock stops ----

  if (job.expectedRegistrations !== undefined && registrations !== job.expectedRegistrations) {
    throw new Error(`${job.mode}: ${registrations} registrations, expected ${job.expectedRegistrations}`);
  }
  if (job.capturePath !== undefined) fs.writeFileSync(job.capturePath, JSON.stringify(captured));
  const result: EvalResult = {
    mode: job.mode,
    evalMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    syncMs,
    warmupMs,
    registrations,
    customRegistrations,
    rssMb: process.resourceUsage().maxRSS / 1024,
    heapUsedMb: process.memoryUsage().heapUsed / 1024 / 1024,
  };
  fs.writeFileSync(job.resultPath, JSON.stringify(result));
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`evalChild: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
