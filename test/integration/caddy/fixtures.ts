// Rosters, stack config and plans for the Caddy integration tests, built with the program's own
// pure core (parseStackConfig, parseRoster, planHosting) so the tests see what `pulumi up` renders.
import * as fs from "fs";
import * as path from "path";
import { readRosterDir } from "../../../program/rosterFolder";
import { renderCaddyfile } from "../../../core/caddyfile";
import { HostingPlan, planHosting } from "../../../core/plan";
import { formatProblem } from "../../../core/problems";
import { parseRoster } from "../../../core/roster";
import { parseStackConfig } from "../../../core/stackConfig";
import { parseDocument } from "yaml";
import { CapturedResource, ProgramRun, REPO_ROOT, TYPES, baseConfig, fakeKey } from "../../support/program";
import { CaddySandbox, ShellRun, portIsFree, runCommand } from "../support/caddy";

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
  /** Omitted: the program's default pool (the one the sample roster's pins are in). */
  portPool?: { start: number; end: number };
  activeTenants: readonly string[];
}): Record<string, unknown> {
  return baseConfig(options.rosterDir, {
    domain: TEST_DOMAIN,
    ...(options.portPool !== undefined ? { portPool: options.portPool } : {}),
    apiKeys: Object.fromEntries(options.activeTenants.map((name) => [name, fakeKey(name)])),
    caddy: {
      caddyfilePath: options.sandbox.caddyfilePath,
      adminAddress: `127.0.0.1:${options.ports.admin}`,
      localCerts: true,
      ports: { http: options.ports.http, https: options.ports.https },
      storageDir: options.sandbox.storageDir,
    },
  });
}

/**
 * The Caddyfile the program renders for a test stack (it names no tenant): what a running Caddy
 * starts with before the first apply, as if an operator had installed it.
 */
export function testCaddyfile(sandbox: CaddySandbox, ports: EdgePorts, adminAddress = `127.0.0.1:${ports.admin}`): string {
  return renderCaddyfile({
    adminAddress,
    domain: TEST_DOMAIN,
    routesDir: sandbox.routesDir,
    localCerts: true,
    httpPort: ports.http,
    httpsPort: ports.https,
    storageDir: sandbox.storageDir,
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

/** The pool the program uses when a stack sets none; the sample roster's pinned ports lie in it. */
export function defaultPortPool(): { start: number; end: number } {
  const parsed = parseStackConfig({ domain: TEST_DOMAIN, image: "ghcr.io/openclaw/openclaw:2026.9.6-r20260923", caddy: { localCerts: true } });
  if (parsed.config === undefined) throw new Error(parsed.problems.map(formatProblem).join("\n"));
  return parsed.config.portPool;
}

/**
 * Copies the sample roster into `dir`. With `portShift`, pinned ports move by that much (same
 * slots in a pool moved by the same amount), so a live test can use a range nothing else binds.
 */
export function copySampleRoster(dir: string, portShift = 0): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const files = fs.readdirSync(SAMPLE_ROSTER_DIR).filter((f) => /\.ya?ml$/.test(f));
  for (const file of files) {
    const doc = parseDocument(fs.readFileSync(path.join(SAMPLE_ROSTER_DIR, file), "utf8"));
    const port = doc.get("port");
    if (typeof port === "number") doc.set("port", port + portShift);
    fs.writeFileSync(path.join(dir, file), doc.toString());
  }
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
 * Tries pools of 100 ports at random in 20000-31999 (below Linux's ephemeral range, so never one of
 * the kernel-chosen Caddy ports) until `accept` says the ports it needs are free. Bounded tries.
 */
export async function choosePortPool(accept: (pool: { start: number; end: number }) => Promise<boolean>): Promise<{ start: number; end: number }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const start = 20_000 + 100 * Math.floor(Math.random() * 120);
    const pool = { start, end: start + 99 };
    if (await accept(pool)) return pool;
  }
  throw new Error("no port pool with free backend ports found in 10 tries");
}

/** True when every port `names` get in `plan` can be bound on 127.0.0.1 now. */
export async function planPortsFree(plan: HostingPlan, names: readonly string[]): Promise<boolean> {
  const ports = plan.tenants.filter((t) => names.includes(t.name)).map((t) => t.port);
  if (ports.length !== names.length) throw new Error(`plan lacks some of ${names.join(", ")}`);
  return (await Promise.all(ports.map(portIsFree))).every(Boolean);
}

/** The edge's two command resources exactly as the program registered them: the Caddyfile and the routes. */
export interface EdgeCommand {
  interpreter: string[];
  create: string;
  stdin: string;
  routes: { create: string; stdin: string };
}

function localCommand(run: ProgramRun, name: string): { interpreter: string[]; create: string; stdin: string } {
  const commands = run.resources.filter((r: CapturedResource) => r.type === TYPES.localCommand && r.name === name);
  if (commands.length !== 1) throw new Error(`expected one local command ${name}, found ${commands.length}`);
  const { interpreter, create, stdin } = commands[0].inputs;
  if (!Array.isArray(interpreter) || !interpreter.every((w): w is string => typeof w === "string")) throw new Error(`${name} has no interpreter`);
  if (typeof create !== "string" || typeof stdin !== "string") throw new Error(`${name} has no create/stdin string`);
  return { interpreter, create, stdin };
}

export function edgeCommandOf(run: ProgramRun): EdgeCommand {
  const caddyfile = localCommand(run, "edge-caddyfile");
  const routes = localCommand(run, "edge-routes");
  return { ...caddyfile, routes: { create: routes.create, stdin: routes.stdin } };
}

/** What applyEdge ran: each command Pulumi would run (its inputs changed), in Pulumi's order (routes first). */
export interface EdgeApply {
  routes?: ShellRun;
  caddyfile?: ShellRun;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Applies the edge as `pulumi up` does: a command runs only when its inputs differ from the last
 * apply's (`previous`; none = first apply, both run), the routes before the Caddyfile.
 */
export async function applyEdge(edge: EdgeCommand, env: NodeJS.ProcessEnv, previous?: EdgeCommand): Promise<EdgeApply> {
  const out: EdgeApply = { exitCode: 0, stdout: "", stderr: "", ms: 0 };
  const add = (run: ShellRun) => {
    out.exitCode = run.exitCode;
    out.stdout += run.stdout;
    out.stderr += run.stderr;
    out.ms += run.ms;
  };
  if (previous === undefined || previous.routes.create !== edge.routes.create || previous.routes.stdin !== edge.routes.stdin) {
    out.routes = await runCommand(edge.interpreter, edge.routes.create, edge.routes.stdin, env, 60_000);
    add(out.routes);
    if (out.routes.exitCode !== 0) return out;
  }
  if (previous === undefined || previous.create !== edge.create || previous.stdin !== edge.stdin) {
    out.caddyfile = await runCommand(edge.interpreter, edge.create, edge.stdin, env, 60_000);
    add(out.caddyfile);
  }
  return out;
}
