import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface TestTenant {
  name: string;
  tier?: "light" | "standard" | "heavy";
  state?: "active" | "suspended";
  port?: number;
  extra?: string;
}

/** Writes one YAML file per tenant into a fresh temp folder and returns it. */
export function writeRoster(tenants: readonly TestTenant[], dir = fs.mkdtempSync(path.join(os.tmpdir(), "roster-"))): string {
  for (const file of fs.readdirSync(dir)) fs.rmSync(path.join(dir, file));
  for (const t of tenants) {
    const lines = [`tier: ${t.tier ?? "standard"}`, `state: ${t.state ?? "active"}`];
    if (t.port !== undefined) lines.push(`port: ${t.port}`);
    if (t.extra !== undefined) lines.push(t.extra);
    fs.writeFileSync(path.join(dir, `${t.name}.yaml`), lines.join("\n") + "\n");
  }
  return dir;
}

export function tenantNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `tenant${String(i).padStart(4, "0")}`);
}

export function keysFor(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, `test-key-for-${n}-000000`]));
}
