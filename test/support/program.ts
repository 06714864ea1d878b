import * as path from "path";
import type * as pulumiType from "@pulumi/pulumi";

/** One resource the program registered, with the inputs it asked for. */
export interface CapturedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** The resource's URN, as the mock engine made it (parent types included). */
  urn?: string;
  /** The explicit provider it was registered with (`urn::id`), if any. */
  provider?: string;
  /** The URN of its parent, as the mock engine made it (the stack's for a top-level resource). */
  parentUrn?: string;
  /** Its `aliases` option: a URN, or a spec whose parentUrn is null for "was a child of the stack". */
  aliases?: (string | { name?: string; type?: string; parentUrn?: string | null })[];
  /** Top-level input names Pulumi holds as secrets. */
  secretInputs: string[];
  /** Resource options that matter for safety, as the program passed them. */
  options: {
    retainOnDelete?: boolean;
    deleteBeforeReplace?: boolean;
    protect?: boolean;
    parentName?: string;
    dependsOn: number;
    ignoreChanges?: string[];
    replaceOnChanges?: string[];
  };
}

export interface ProgramRun {
  resources: CapturedResource[];
  outputs: Record<string, unknown>;
  /** Which stack outputs Pulumi treats as secret. */
  secretOutputs: string[];
}

/** The program threw; `registered` is what it had registered by then (it should be nothing). */
export class ProgramFailure extends Error {
  constructor(public readonly cause: unknown, public readonly registered: CapturedResource[]) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const PROJECT = "openclaw-hosting";
/** The image the test configs name (a measured OpenClaw version, so the program's memory floor is known). */
export const TEST_IMAGE = "ghcr.io/openclaw/openclaw:2026.9.6-r20260923";

/** A config that passes validation; tests override single keys. */
export function baseConfig(rosterDir: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    domain: "claw.example.com",
    // The program reads only folders inside the project, named relative to it.
    rosterDir: path.isAbsolute(rosterDir) ? path.relative(REPO_ROOT, rosterDir) : rosterDir,
    image: TEST_IMAGE,
    caddy: { acmeEmail: "ops@example.com" },
    apiKeys: {},
    ...overrides,
  };
}

/** A fake key that can be traced through the program without looking like a real one. */
export function fakeKey(tenant: string): string {
  return `test-key-for-${tenant}-000000`;
}

/**
 * Runs index.ts under Pulumi's mock engine with the given config, in a fresh module registry,
 * and captures every resource registration. Config values are encoded as Pulumi encodes them.
 */
/** known_hosts of the mock engine's servers (b.example.net, [198.51.100.3]:2222, 203.0.113.10). */
export const TEST_KNOWN_HOSTS = path.join(REPO_ROOT, "test", "program", "fixtures", "known_hosts");

export async function runProgram(
  config: Record<string, unknown>,
  previousOutputs: Record<string, unknown> = {},
  /** Config keys Pulumi holds as secrets (as `pulumi config set --secret` marks them). */
  secretKeys: readonly string[] = [`${PROJECT}:apiKeys`],
  /**
   * Environment for this run only. The program's server check (program/serverCheck.ts) is off
   * unless a test turns it on: the mock engine's servers are names, not machines.
   */
  env: Record<string, string | undefined> = {},
): Promise<ProgramRun> {
  // The mock engine's servers' host keys (generated for the tests): remote commands need one each.
  const runEnv: Record<string, string | undefined> = { OPENCLAW_SERVER_CHECK: "off", OPENCLAW_KNOWN_HOSTS: TEST_KNOWN_HOSTS, ...env };
  const savedEnv = Object.fromEntries(Object.keys(runEnv).map((k) => [k, process.env[k]]));
  const setEnv = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  setEnv(runEnv);
  // Pulumi records a stack trace for every promise and resource; jest's source-mapped traces make
  // that cost most of a run, so a short plain trace (three frames) is used while the program runs.
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit; // index.ts lowers it; jest's own reports want it back
  Error.prepareStackTrace = (err, frames) => `${String(err)}\n${frames.slice(0, 3).map((f) => `    at ${f.toString()}`).join("\n")}`;
  try {
    return await runProgramWithTraces(config, previousOutputs, secretKeys);
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
    setEnv(savedEnv);
  }
}

async function runProgramWithTraces(config: Record<string, unknown>, previousOutputs: Record<string, unknown>, secretKeys: readonly string[]): Promise<ProgramRun> {
  const resources: CapturedResource[] = [];
  let stackModule: Record<string, unknown> = {};
  let pulumi: typeof pulumiType | undefined;
  let failure: unknown;
  let monitor: { resources?: Map<string, unknown> } | undefined;
  let resolveLineage: () => Promise<void> = async () => undefined;
  await jest.isolateModulesAsync(async () => {
    pulumi = await import("@pulumi/pulumi");
    const encoded: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
      // Keys of other namespaces (cloudflare:apiToken) keep theirs.
      encoded[key.includes(":") ? key : `${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    }
    pulumi.runtime.setAllConfig(encoded, [...secretKeys]);
    const options = new Map<string, CapturedResource["options"]>();
    const lineage = new Map<string, { parent?: pulumiType.Resource; aliases?: pulumiType.ResourceOptions["aliases"] }>();
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          const { inputs, secretInputs } = unwrapSecrets(args.inputs as Record<string, unknown>);
          const opts = options.get(`${args.type}::${args.name}`) ?? { dependsOn: 0 };
          resources.push({ type: args.type, name: args.name, provider: args.provider, inputs, secretInputs, options: opts });
          const state: Record<string, unknown> = { ...args.inputs };
          if (args.type === "random:index/randomPassword:RandomPassword") state.result = `token-of-${args.name}`;
          // The program reads its own last deployment's outputs (tenants, retainedData).
          if (args.type === "pulumi:pulumi:StackReference") state.outputs = previousOutputs;
          return { id: `${args.name}-id`, state };
        },
        call: (args) => args.inputs,
      },
      PROJECT,
      "test",
      false,
      "organization",
    );
    const urnOfResource = (r: pulumiType.Resource): Promise<string> => new Promise((resolve) => r.urn.apply(resolve));
    resolveLineage = async () => {
      for (const r of resources) {
        const seen = lineage.get(`${r.type}::${r.name}`);
        if (seen === undefined) continue;
        if (seen.parent !== undefined) r.parentUrn = await urnOfResource(seen.parent);
        if (!Array.isArray(seen.aliases) || seen.aliases.length === 0) continue;
        r.aliases = await Promise.all(
          (seen.aliases as (string | pulumiType.Alias)[]).map(async (a) =>
            typeof a === "string"
              ? a
              : {
                name: a.name as string | undefined,
                type: a.type as string | undefined,
                parentUrn: !("parent" in a) ? undefined : a.parent === undefined ? null : await urnOfResource(a.parent as pulumiType.Resource),
              },
          ),
        );
      }
    };
    const runtime = pulumi.runtime;
    await runtime.runInPulumiStack(async () => {
    // Legacy transformations work under mocks (the `transforms` option does not): they see the options.
    runtime.registerStackTransformation((args) => {
      const dependsOn = args.opts.dependsOn;
      options.set(`${args.type}::${args.name}`, {
        retainOnDelete: args.opts.retainOnDelete,
        deleteBeforeReplace: (args.opts as pulumiType.CustomResourceOptions).deleteBeforeReplace,
        protect: args.opts.protect,
        ignoreChanges: args.opts.ignoreChanges,
        replaceOnChanges: args.opts.replaceOnChanges,
        parentName: args.opts.parent?.constructor.name,
        dependsOn: Array.isArray(dependsOn) ? dependsOn.length : dependsOn === undefined ? 0 : 1,
      });
      lineage.set(`${args.type}::${args.name}`, { parent: args.opts.parent, aliases: args.opts.aliases });
      return undefined;
    });
    try {
      // index.ts exports its program as a function (`export =`), as `pulumi up` runs it.
      const program = require(path.join(REPO_ROOT, "index")) as () => Promise<Record<string, unknown>>;
      stackModule = await program();
    } catch (err) {
      failure = err;
    }
    return failure === undefined ? stackModule : {};
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): unknown };
    monitor = settings.getMonitor() as { resources?: Map<string, unknown> } | undefined;
  });
  if (failure !== undefined) throw new ProgramFailure(failure, resources.filter((r) => r.type !== "pulumi:pulumi:Stack"));
  if (pulumi === undefined) throw new Error("program did not load");
  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  for (const [key, value] of Object.entries(stackModule)) {
    if (pulumi.Output.isInstance(value)) {
      outputs[key] = await new Promise((resolve) => value.apply(resolve));
      if (await pulumi.isSecret(value)) secretOutputs.push(key);
    } else {
      outputs[key] = value;
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  // The mock engine keeps every URN it handed out; names are unique per type in this program.
  const urnOf = new Map<string, string>();
  for (const urn of monitor?.resources?.keys() ?? []) {
    const [, , qualifiedType, name] = urn.split("::");
    urnOf.set(`${qualifiedType.split("$").pop()}::${name}`, urn);
  }
  for (const r of resources) r.urn = urnOf.get(`${r.type}::${r.name}`);
  await resolveLineage();
  return { resources, outputs, secretOutputs };
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Mocks see secrets as signed wrappers; tests want the values and the list of secret fields. */
function unwrapSecrets(raw: Record<string, unknown>): { inputs: Record<string, unknown>; secretInputs: string[] } {
  const secretInputs: string[] = [];
  const unwrap = (value: unknown, field?: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => unwrap(v, field));
    if (value !== null && typeof value === "object") {
      const obj = value as Record<string, unknown>;
      if (SECRET_SIG in obj) {
        if (field !== undefined && !secretInputs.includes(field)) secretInputs.push(field);
        return unwrap(obj.value, field);
      }
      return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrap(v, field)]));
    }
    return value;
  };
  const inputs = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, unwrap(v, k)]));
  return { inputs, secretInputs };
}

export function ofType(run: ProgramRun, type: string): CapturedResource[] {
  return run.resources.filter((r) => r.type === type);
}

export const TYPES = {
  container: "docker:index/container:Container",
  volume: "docker:index/volume:Volume",
  network: "docker:index/network:Network",
  token: "random:index/randomPassword:RandomPassword",
  localCommand: "command:local:Command",
  remoteCommand: "command:remote:Command",
  dnsRecord: "cloudflare:index/dnsRecord:DnsRecord",
  tenant: "openclaw:hosting:TenantInstance",
} as const;
