// Generated rosters and stack config for the benchmarks. Nothing here touches the program's files.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RosterFile } from "../core/roster";

export const PROJECT = "openclaw-hosting";
export const DOMAIN = "claw.bench.test";
export const IMAGE = "ghcr.io/openclaw/openclaw:2026.9.6-r20260923";
/** Big enough for 10,000 tenants: 20,000 ports and 65,536 /28s. */
export const PORT_POOL = { start: 20000, end: 39999 };
export const TENANT_NETWORKS = "10.0.0.0/12";

const TIERS = ["light", "standard", "heavy"] as const;
const PROVIDERS = ["anthropic", "openai", "gemini", "openrouter"] as const;

export interface BenchTenant {
  name: string;
  tier: (typeof TIERS)[number];
  state: "active" | "suspended";
  provider: (typeof PROVIDERS)[number];
  port?: number;
  /** Several-server scenarios: the tenant's pinned server. */
  server?: string;
  env?: Record<string, string>;
}

export function tenantName(i: number): string {
  return `tenant-${String(i).padStart(5, "0")}`;
}

/** A deterministic mix: three tiers, four providers, every 10th suspended, every 4th with an env var. */
export function generateTenants(count: number): BenchTenant[] {
  const tenants: BenchTenant[] = [];
  for (let i = 0; i < count; i++) {
    tenants.push({
      name: tenantName(i),
      tier: TIERS[i % TIERS.length],
      state: i % 10 === 9 ? "suspended" : "active",
      provider: PROVIDERS[i % PROVIDERS.length],
      env: i % 4 === 0 ? { OPENCLAW_TZ: "Europe/Berlin" } : undefined,
    });
  }
  return tenants;
}

/** One tenant file, as an operator would write it (the name comes from the file name). */
export function tenantYaml(t: BenchTenant): string {
  const lines = [`tier: ${t.tier}`];
  if (t.state !== "active") lines.push(`state: ${t.state}`);
  lines.push(`provider: ${t.provider}`);
  if (t.port !== undefined) lines.push(`port: ${t.port}`);
  if (t.server !== undefined) lines.push(`server: ${t.server}`);
  if (t.env !== undefined) {
    lines.push("env:");
    for (const [k, v] of Object.entries(t.env)) lines.push(`  ${k}: ${v}`);
  }
  return lines.join("\n") + "\n";
}

export function rosterFiles(tenants: readonly BenchTenant[]): RosterFile[] {
  return tenants.map((t) => ({ file: `${t.name}.yaml`, text: tenantYaml(t) }));
}

export function writeRoster(dir: string, tenants: readonly BenchTenant[]): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of rosterFiles(tenants)) fs.writeFileSync(path.join(dir, f.file), f.text);
}

export function apiKeysFor(tenants: readonly BenchTenant[]): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const t of tenants) if (t.state === "active") keys[t.name] = `bench-key-for-${t.name}-000000`;
  return keys;
}

/** The stack config without the project prefix, values encoded as Pulumi hands them over (objects as JSON). */
export function rawConfig(rosterDir: string, tenants: readonly BenchTenant[], extra: Record<string, unknown> = {}): Record<string, string> {
  const values: Record<string, unknown> = {
    domain: DOMAIN,
    rosterDir,
    image: IMAGE,
    portPool: PORT_POOL,
    tenantNetworks: TENANT_NETWORKS,
    caddy: { acmeEmail: "ops@example.com" },
    // Big enough for 10,000 tenants, so the capacity check runs (and passes) at every size.
    server: { memoryMb: 4_000_000, cpus: 8_000 },
    apiKeys: apiKeysFor(tenants),
    ...extra,
  };
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) raw[k] = typeof v === "string" ? v : JSON.stringify(v);
  return raw;
}

export function withProjectPrefix(raw: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [`${PROJECT}:${k}`, v]));
}

export function makeTempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `openclaw-bench-${label}-`));
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
