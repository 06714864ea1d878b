import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TenantPlan, planHosting } from "../../../../core/plan";
import { parseRoster } from "../../../../core/roster";
import { diffRosters, formatDiffMarkdown, formatDiffText, isEmptyDiff } from "../../../../tools/roster-diff/diff";
import { StackConfig, parseStackConfig } from "../../../../core/stackConfig";
import { ScriptRun, runTsScript } from "../../../support/cli";
import { REPO_ROOT } from "../../../support/program";

const parsedConfig = parseStackConfig({
  domain: "claw.example.com",
  image: "ghcr.io/openclaw/openclaw:2026.8.1-r20260820",
  caddy: JSON.stringify({ acmeEmail: "ops@example.com" }),
});
if (parsedConfig.config === undefined) throw new Error(JSON.stringify(parsedConfig.problems));
const config: StackConfig = parsedConfig.config;

/** Plans a roster given as `{name: yaml}`, the way the program would. */
function planned(files: Record<string, string>): TenantPlan[] {
  const roster = parseRoster(Object.entries(files).map(([name, text]) => ({ file: `${name}.yaml`, text })));
  expect(roster.problems).toEqual([]);
  return planHosting(config, roster.tenants).tenants;
}

const BASE = {
  alice: "tier: standard\nport: 18879\nenv:\n  OPENCLAW_TZ: Europe/Berlin\n",
  bob: "tier: light\nprovider: openai\nport: 18844\n",
  carol: "tier: heavy\nstate: suspended\nport: 18862\n",
};

describe("diffRosters", () => {
  test("the same roster: nothing added, removed or changed", () => {
    const diff = diffRosters(planned(BASE), planned(BASE));
    expect(isEmptyDiff(diff)).toBe(true);
    expect(diff.unchanged).toEqual(["alice", "bob", "carol"]);
    expect(diff.totals.base).toEqual({ tenants: 3, active: 2, memoryMb: 3584, cpus: 1.5 });
    expect(diff.totals.head).toEqual(diff.totals.base);
  });

  test("added and removed tenants, with their ports and tiers", () => {
    const { bob: _bob, ...withoutBob } = BASE;
    const diff = diffRosters(planned(BASE), planned({ ...withoutBob, dave: "tier: heavy\nport: 18801\n" }));
    expect(diff.added).toEqual([
      { name: "dave", url: "https://dave.claw.example.com", port: 18801, tier: "heavy", state: "active", memoryMb: 4096, cpus: 2 },
    ]);
    expect(diff.removed).toEqual([
      { name: "bob", url: "https://bob.claw.example.com", port: 18844, tier: "light", state: "active", memoryMb: 1536, cpus: 0.5 },
    ]);
    expect(diff.changed).toEqual([]);
    expect(diff.unchanged).toEqual(["alice", "carol"]);
    expect(diff.totals.head).toEqual({ tenants: 3, active: 2, memoryMb: 6144, cpus: 3 });
  });

  test("a changed tenant lists every changed field: tier (and its sizes), state, port, image, provider, env", () => {
    const head = {
      ...BASE,
      alice: "tier: heavy\nport: 18880\nprovider: gemini\nimage: ghcr.io/openclaw/openclaw:2026.9.1-r20260901\nenv:\n  OPENCLAW_TZ: UTC\n  OPENCLAW_LOCALE: de\n",
      carol: "tier: heavy\nstate: active\nport: 18862\n",
    };
    const diff = diffRosters(planned(BASE), planned(head));
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([]);
    expect(diff.changed.map((c) => c.name)).toEqual(["alice", "carol"]);
    const [alice, carol] = diff.changed;
    expect(alice.changes).toEqual([
      { field: "tier", before: "standard", after: "heavy" },
      { field: "port", before: "18879", after: "18880" },
      { field: "image", before: "ghcr.io/openclaw/openclaw:2026.8.1-r20260820", after: "ghcr.io/openclaw/openclaw:2026.9.1-r20260901" },
      { field: "provider", before: "anthropic", after: "gemini" },
      { field: "memoryMb", before: "2048", after: "4096" },
      { field: "reservationMb", before: "1280", after: "2048" },
      { field: "cpus", before: "1", after: "2" },
      { field: "env.OPENCLAW_LOCALE", before: "(unset)", after: "(set)" },
      { field: "env.OPENCLAW_TZ", before: "(set)", after: "(changed)" },
    ]);
    expect(alice.before).toMatchObject({ port: 18879, tier: "standard" });
    expect(alice.after).toMatchObject({ port: 18880, tier: "heavy" });
    expect(alice.effect).toContain("new port");
    expect(carol.changes).toEqual([{ field: "state", before: "suspended", after: "active" }]);
    expect(carol.effect).toContain("resumed");
    expect(diff.unchanged).toEqual(["bob"]);
  });

  test("suspending a tenant says its container goes and its data stays", () => {
    const diff = diffRosters(planned(BASE), planned({ ...BASE, alice: BASE.alice.replace("tier: standard", "tier: standard\nstate: suspended") }));
    expect(diff.changed[0].changes).toEqual([{ field: "state", before: "active", after: "suspended" }]);
    expect(diff.changed[0].effect).toMatch(/container removed.*volumes kept/);
    expect(diff.totals.head.active).toBe(1);
  });

  test("the order of the inputs does not matter", () => {
    const base = planned(BASE);
    const head = planned({ ...BASE, erin: "tier: light\nport: 18802\n" });
    expect(diffRosters([...base].reverse(), [...head].reverse())).toEqual(diffRosters(base, head));
  });

  test("from an empty roster, everything is added", () => {
    const diff = diffRosters([], planned(BASE));
    expect(diff.added.map((t) => t.name)).toEqual(["alice", "bob", "carol"]);
    expect(diff.totals.base).toEqual({ tenants: 0, active: 0, memoryMb: 0, cpus: 0 });
  });
});

describe("diff formats", () => {
  const { bob: _bob, ...withoutBob } = BASE;
  const diff = diffRosters(planned(BASE), planned({ ...withoutBob, alice: BASE.alice.replace("standard", "heavy"), dave: "tier: light\nport: 18801\n" }));

  test("Markdown: a counts line and one table row per added, removed or changed tenant", () => {
    const md = formatDiffMarkdown(diff, "Roster diff: origin/main → working tree (stack dev)");
    const lines = md.split("\n");
    expect(lines[0]).toBe("### Roster diff: origin/main → working tree (stack dev)");
    expect(md).toContain("1 added, 1 removed, 1 changed, 1 unchanged.");
    expect(md).toContain("memory 3584 MB → 5632 MB, CPUs 1.5 → 2.5.");
    expect(lines).toContain("| change | tenant | URL | port | tier | state | details |");
    expect(lines).toContain("| added | dave | https://dave.claw.example.com | 18801 | light | active | new gateway |");
    expect(lines).toContain("| removed | bob | https://bob.claw.example.com | 18844 | light | active | container and network removed; volumes kept on the server |");
    const alice = lines.find((l) => l.startsWith("| changed | alice |"));
    expect(alice).toContain("| 18879 | standard → heavy | active |");
    expect(alice).toContain("tier standard → heavy; memoryMb 2048 → 4096");
    // Every table row has the same number of cells.
    for (const row of lines.filter((l) => l.startsWith("|"))) expect(row.split(/(?<!\\)\|/).length).toBe(9);
  });

  test("Markdown: no table when nothing changed; pipes in cells are escaped", () => {
    const same = diffRosters(planned(BASE), planned(BASE));
    expect(formatDiffMarkdown(same, "t")).toContain("No tenant changes.");
    expect(formatDiffMarkdown(same, "t")).not.toContain("| change |");
    expect(formatDiffMarkdown(same, "a|b")).toContain("### a\\|b");
  });

  test("text: one line per tenant with +, - or ~", () => {
    const text = formatDiffText(diff, "Roster diff");
    expect(text).toMatch(/^ {2}\+ dave {2}https:\/\/dave\.claw\.example\.com {2}port 18801 {2}light {2}active$/m);
    expect(text).toMatch(/^ {2}- bob .*port 18844 {2}light/m);
    expect(text).toMatch(/^ {2}~ alice .*port 18879 {2}standard → heavy {2}active$/m);
    expect(text).toContain("effect: gateway container recreated");
  });

  test("env values never appear in a diff, only variable names", () => {
    const secretish = diffRosters(planned(BASE), planned({ ...BASE, alice: BASE.alice.replace("Europe/Berlin", "very-distinctive-value") }));
    expect(formatDiffMarkdown(secretish, "t")).not.toContain("very-distinctive-value");
    expect(formatDiffText(secretish, "t")).not.toContain("Europe/Berlin");
    expect(formatDiffText(secretish, "t")).toContain("env.OPENCLAW_TZ changed");
  });
});

describe("npm run roster-diff (in a scratch git repository)", () => {
  const git = (cwd: string, ...args: string[]): string =>
    execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args], { cwd, encoding: "utf8" });
  let repo: string;

  function rosterDiff(...args: string[]): ScriptRun {
    return runTsScript(path.join(repo, "tools", "roster-diff", "main.ts"), args, repo);
  }

  beforeAll(() => {
    // A copy of the project's core, program and tools with the sample roster, so commits stay out of the real repository.
    repo = fs.mkdtempSync(path.join(os.tmpdir(), "roster-diff-"));
    for (const dir of ["core", "program", "tools", "tenants"]) {
      if (fs.existsSync(path.join(REPO_ROOT, dir))) fs.cpSync(path.join(REPO_ROOT, dir), path.join(repo, dir), { recursive: true });
    }
    for (const file of ["Pulumi.dev.yaml", "tsconfig.json", "package.json"]) fs.copyFileSync(path.join(REPO_ROOT, file), path.join(repo, file));
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(repo, "node_modules"));
    fs.writeFileSync(path.join(repo, ".gitignore"), "node_modules\n");
    git(repo, "init", "-q", "-b", "main");
    git(repo, "add", ".");
    git(repo, "commit", "-q", "-m", "base");
    // The working tree (the pull request): dave added, bob removed, alice re-tiered.
    fs.writeFileSync(path.join(repo, "tenants", "dave.yaml"), "tier: light\nport: 18801\n");
    fs.rmSync(path.join(repo, "tenants", "bob.yaml"));
    fs.writeFileSync(path.join(repo, "tenants", "alice.yaml"), fs.readFileSync(path.join(repo, "tenants", "alice.yaml"), "utf8").replace("standard", "heavy"));
  });

  afterAll(() => {
    if (repo !== undefined) fs.rmSync(repo, { recursive: true, force: true });
  });

  test("--base main --markdown: the working tree's changes as a Markdown table, without touching the checkout", () => {
    const before = git(repo, "status", "--porcelain");
    const { status, stdout, stderr } = rosterDiff("--base", "main", "--markdown");
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(stdout).toContain("### Roster diff: main → working tree (stack dev)");
    expect(stdout).toContain("1 added, 1 removed, 1 changed, 1 unchanged.");
    expect(stdout).toContain("| added | dave | https://dave.claw.localhost:8443 | 18801 | light | active | new gateway |");
    expect(stdout).toContain("| removed | bob |");
    expect(stdout).toMatch(/\| changed \| alice \| .* \| 18879 \| standard → heavy \| active \|/);
    expect(git(repo, "status", "--porcelain")).toBe(before);
  });

  test("--base and --head compare two commits; the same commit twice has no changes", () => {
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "head");
    const { status, stdout } = rosterDiff("--base", "main~1", "--head", "main");
    expect(status).toBe(0);
    expect(stdout).toMatch(/^ {2}\+ dave/m);
    expect(stdout).toMatch(/^ {2}- bob/m);
    expect(stdout).toMatch(/^ {2}~ alice/m);
    const same = rosterDiff("--base", "main", "--head", "main");
    expect(same.status).toBe(0);
    expect(same.stdout).toContain("No tenant changes.");
  });

  test("a broken head roster exits 1 and lists its problems after the diff", () => {
    fs.writeFileSync(path.join(repo, "tenants", "erin.yaml"), "tier: huge\n");
    try {
      const { status, stdout } = rosterDiff("--base", "main");
      expect(status).toBe(1);
      expect(stdout).toContain('tenant "erin", field tier: must be one of light, standard, heavy');
    } finally {
      fs.rmSync(path.join(repo, "tenants", "erin.yaml"));
    }
  });

  test("usage errors and unknown refs exit 2 with a message", () => {
    expect(rosterDiff().status).toBe(2);
    const unknownRef = rosterDiff("--base", "origin/nope");
    expect(unknownRef.status).toBe(2);
    expect(unknownRef.stderr).toContain("origin/nope is not a commit in this clone");
    const optionLike = rosterDiff("--base", "--output=/tmp/x");
    expect(optionLike.status).toBe(2);
    expect(rosterDiff("--base", "main", "--stack", "nope").stderr).toContain("no stack file");
  });
});
