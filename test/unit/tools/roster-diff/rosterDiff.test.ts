import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
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

describe("GitHub workflows", () => {
  const dir = path.join(REPO_ROOT, ".github", "workflows");
  type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; if?: string };
  type Job = { "runs-on": string; if?: string; steps: Step[]; env?: Record<string, string> };
  type Workflow = { name: string; on: Record<string, unknown>; permissions: Record<string, string>; concurrency?: Record<string, unknown>; jobs: Record<string, Job> };
  const load = (file: string): Workflow => parseYaml(fs.readFileSync(path.join(dir, file), "utf8")) as Workflow;
  const steps = (wf: Workflow): Step[] => Object.values(wf.jobs).flatMap((j) => j.steps);
  const pulumiStep = (wf: Workflow): Step => {
    const found = steps(wf).filter((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(found).toHaveLength(1);
    return found[0];
  };

  test.each(["preview.yml", "up.yml", "roster-check.yml"])("%s parses, has a name, a trigger, read-only contents and runnable steps", (file) => {
    const wf = load(file);
    expect(typeof wf.name).toBe("string");
    expect(wf.on).toBeDefined();
    expect(wf.permissions.contents).toBe("read");
    for (const job of Object.values(wf.jobs)) {
      expect(job["runs-on"]).toBe("ubuntu-latest");
      expect(job.steps.length).toBeGreaterThan(0);
      for (const step of job.steps) expect(step.uses !== undefined || step.run !== undefined).toBe(true);
      expect(job.steps.some((s) => s.run === "npm ci")).toBe(true);
      expect(job.steps.some((s) => s.run?.startsWith("npm run check"))).toBe(true);
    }
    // Every action is pinned to a full commit SHA with its tag as a comment; pulumi/actions is the one
    // documented exception (no verifiable SHA could be looked up; the file says so beside it).
    const text = fs.readFileSync(path.join(dir, file), "utf8");
    for (const step of steps(wf)) {
      if (step.uses === undefined) continue;
      if (step.uses.startsWith("pulumi/actions@")) {
        expect(step.uses).toBe("pulumi/actions@v6");
        expect(text).toContain("# NOT pinned yet: no verifiable commit SHA");
        continue;
      }
      expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
      expect(text).toMatch(new RegExp(`uses: ${step.uses.replace(/[/.]/g, "\\$&")} # v\\d+\\.\\d+\\.\\d+`));
    }
  });

  test.each(["preview.yml", "up.yml", "roster-check.yml"])("%s never puts a secret into a shell command", (file) => {
    const text = fs.readFileSync(path.join(dir, file), "utf8");
    for (const step of steps(load(file))) {
      expect(step.run ?? "").not.toMatch(/secrets\./);
      expect(step.run ?? "").not.toMatch(/PULUMI_(ACCESS_TOKEN|CONFIG_PASSPHRASE)|BACKEND_URL/);
      // Untrusted or expression input reaches shells through env, never spliced into the script.
      expect(step.run ?? "").not.toMatch(/\$\{\{/);
    }
    expect(text).not.toMatch(/set -x|ACTIONS_STEP_DEBUG/);
  });

  test("preview.yml: pull requests from this repository, pulumi preview with the policy pack, commented on the PR", () => {
    const wf = load("preview.yml");
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.permissions["pull-requests"]).toBe("write");
    const [job] = Object.values(wf.jobs);
    expect(job.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
    const step = pulumiStep(wf);
    expect(step.uses).toBe("pulumi/actions@v6");
    expect(step.with).toMatchObject({ command: "preview", "comment-on-pr": true, policyPacks: "policy", "stack-name": "${{ vars.PULUMI_STACK_NAME }}" });
    expect(String(step.with?.["cloud-url"])).toMatch(/PULUMI_BACKEND_URL/);
    expect(step.env).toEqual({
      PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
      PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
    });
  });

  test("up.yml: push to main, pulumi up with the policy pack, never two applies at once", () => {
    const wf = load("up.yml");
    expect(wf.on).toEqual({ push: { branches: ["main"] } });
    expect(wf.permissions).toEqual({ contents: "read" });
    expect(wf.concurrency).toEqual({ group: "pulumi-up-${{ vars.PULUMI_STACK_NAME }}", "cancel-in-progress": false });
    const step = pulumiStep(wf);
    expect(step.with).toMatchObject({ command: "up", policyPacks: "policy", "stack-name": "${{ vars.PULUMI_STACK_NAME }}" });
    expect(step.with?.["comment-on-pr"]).toBeUndefined();
    expect(Object.keys(step.env ?? {}).sort()).toEqual(["PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"]);
  });

  test("roster-check.yml: every pull request, no secrets at all, full history, roster diff into the job summary", () => {
    const wf = load("roster-check.yml");
    const text = fs.readFileSync(path.join(dir, "roster-check.yml"), "utf8");
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.permissions).toEqual({ contents: "read" });
    expect(text).not.toMatch(/secrets\./);
    expect(steps(wf).some((s) => s.uses?.startsWith("pulumi/actions"))).toBe(false);
    const checkout = steps(wf).find((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkout?.with).toMatchObject({ "fetch-depth": 0, "persist-credentials": false });
    const [job] = Object.values(wf.jobs);
    expect(job.env?.BASE_REF).toBe("${{ github.base_ref }}");
    const diff = steps(wf).find((s) => s.run?.includes("roster-diff"));
    expect(diff?.run).toBe('npm run --silent roster-diff -- --base "origin/$BASE_REF" --markdown >> "$GITHUB_STEP_SUMMARY"');
    expect(steps(wf).some((s) => s.if?.includes("head.repo.full_name != github.repository"))).toBe(true);
  });
});
