// Rosters, stack config and plans for the Caddy integration tests, built with the program's own
// pure core (parseStackConfig, parseRoster, planHosting) so the tests see what `pulumi up` renders.
import * as fs from "fs";
import * as path from "path";
import { readRosterDir } from "../../../core/load";
import { HostingPlan, planHosting } from "../../../core/plan";
import { formatProblem } from "../../../core/problems";
import { parseRoster } from "../../../core/roster";
import { parseStackConfig } from "../../../core/stackConfig";
import { CapturedResource, ProgramRun, REPO_ROOT, TYPES, baseConfig, fakeKey } from "../../support/program";
import { CaddySandbox, portIsFree } from "../support/caddy";

export const TEST_DOMAIN = "claw.test";
export const SAMPLE_ROSTER_DIR = path.join(REPO_ROOT, "tenants");

export interface EdgePorts {
  http: number;
  https: number;
  admin: number;
}

/** The stack config of a test stack: local CA, high loopback ports, storage inside the sandbox. */
export function testStackConfig(options: {
  rosterDir: string;
  sandbox: CaddySandbox;
  ports: EdgePorts;
  portPool: { start: number; end: number };
  activeTenants: readonly string[];
  adminAddress?: string;
}): Record<string, unknown> {
  return baseConfig(options.rosterDir, {
    domain: TEST_DOMAIN,
    portPool: options.portPool,
    apiKeys: Object.fromEntries(options.activeTenants.map((name) => [name, fakeKey(name)])),
    caddy: {
      caddyfilePath: options.sandbox.caddyfilePath,
      adminAddress: options.adminAddress ?? `127.0.0.1:${options.ports.admin}`,
      localCerts: true,
      ports: { http: options.ports.http, https: options.ports.https },
      storageDir: options.sandbox.storageDir,
    },
  });
}

/** What the program would render for this config and roster folder; throws on any problem. */
export function planFor(rawConfig: Record<string, unknown>): HostingPlan {
  const parsed = parseStackConfig(rawConfig);
  if (parsed.config === undefined) throw new Error(`test config rejected:\n${parsed.problems.map(formatProblem).join("\n")}`);
  const roster = parseRoster(readRosterDir(parsed.config.rosterDir));
  const plan = planHosting(parsed.config, roster.tenants);
  const problems = [...roster.problems, ...plan.problems];
  if (problems.length > 0) throw new Error(`test roster rejected:\n${problems.map(formatProblem).join("\n")}`);
  return plan;
}

export function copySampleRoster(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const files = fs.readdirSync(SAMPLE_ROSTER_DIR).filter((f) => /\.ya?ml$/.test(f));
  for (const file of files) fs.copyFileSync(path.join(SAMPLE_ROSTER_DIR, file), path.join(dir, file));
  return files.map((f) => f.replace(/\.ya?ml$/, ""));
}

export function writeTenant(dir: string, name: string, yaml: string): void {
  fs.writeFileSync(path.join(dir, `${name}.yaml`), yaml);
}

const TIERS = ["light", "standard", "heavy"] as const;
const PROVIDERS = ["anthropic", "openai", "gemini", "openrouter"] as const;

/** `count` tenant files (every 7th suspended); returns the names of the active ones. */
export function generateRoster(dir: string, count: number): { names: string[]; active: string[] } {
  fs.mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  const active: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `tenant-${String(i).padStart(3, "0")}`;
    const suspended = i % 7 === 6;
    const lines = [`tier: ${TIERS[i % TIERS.length]}`, `provider: ${PROVIDERS[i % PROVIDERS.length]}`];
    if (suspended) lines.push("state: suspended");
    if (i % 10 === 3) lines.push("env:", "  OPENCLAW_TZ: Europe/Berlin");
    writeTenant(dir, name, `${lines.join("\n")}\n`);
    names.push(name);
    if (!suspended) active.push(name);
  }
  return { names, active };
}

/**
 * Finds a port pool in 20000-31999 (below Linux's ephemeral range, so it cannot collide with the
 * kernel-chosen Caddy ports) in which the ports `names` would get are free to bind. Bounded tries.
 */
export async function choosePortPool(
  rawConfigFor: (pool: { start: number; end: number }) => Record<string, unknown>,
  names: readonly string[],
): Promise<{ start: number; end: number }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const start = 20_000 + 100 * Math.floor(Math.random() * 115);
    const pool = { start, end: start + 99 };
    const plan = planFor(rawConfigFor(pool));
    const ports = plan.tenants.filter((t) => names.includes(t.name)).map((t) => t.port);
    const free = await Promise.all(ports.map(portIsFree));
    if (free.every(Boolean)) return pool;
  }
  throw new Error("no port pool with free backend ports found in 10 tries");
}

/** The edge's command resource exactly as the program registered it. */
export interface EdgeCommand {
  interpreter: string[];
  create: string;
  stdin: string;
}

export function edgeCommandOf(run: ProgramRun): EdgeCommand {
  const commands = run.resources.filter((r: CapturedResource) => r.type === TYPES.localCommand && r.name === "edge-caddyfile");
  if (commands.length !== 1) throw new Error(`expected one local command edge-caddyfile, found ${commands.length}`);
  const { interpreter, create, stdin } = commands[0].inputs;
  if (!Array.isArray(interpreter) || !interpreter.every((w): w is string => typeof w === "string")) throw new Error("edge command has no interpreter");
  if (typeof create !== "string" || typeof stdin !== "string") throw new Error("edge command has no create/stdin string");
  return { interpreter, create, stdin };
}

/**
 * Caddy 2.6.x (Debian bookworm's package) has no `stream_close_delay`; it arrived in 2.7.0. When the
 * installed Caddy rejects it, the live tests drop just those lines so routing and the reload script
 * can still be exercised; the validate tests and the WebSocket test use the rendering as is.
 */
export function withoutStreamCloseDelay(caddyfile: string): string {
  return caddyfile
    .split("\n")
    .filter((line) => !/^\s*stream_close_delay\s/.test(line))
    .join("\n");
}
