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

/** Where test rosters live: inside the project, because the program refuses a rosterDir outside it. */
export const TEST_ROSTERS = path.join(__dirname, "..", "..", ".test-rosters");
const created: string[] = [];

/** A fresh folder under .test-rosters/ (git-ignored), removed after the test file's tests. */
export function projectTempDir(label = "roster"): string {
  fs.mkdirSync(TEST_ROSTERS, { recursive: true });
  const dir = fs.mkdtempSync(path.join(TEST_ROSTERS, `${label}-`));
  created.push(dir);
  return dir;
}
if (typeof afterAll === "function") {
  afterAll(() => {
    for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
}

/** A fresh folder outside the project (os.tmpdir()), for tools that take any folder (`npm run check -- --roster`). */
export function outsideTempDir(label = "roster"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${label}-`));
}

/** Writes one YAML file per tenant into a fresh folder inside the project and returns it. */
export function writeRoster(tenants: readonly TestTenant[], dir = projectTempDir()): string {
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
