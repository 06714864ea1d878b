import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { REPO_ROOT } from "../../support/program";

/** The `uses:` references in a workflow's text that are not pinned to a full commit SHA. */
function unpinnedActions(text: string): string[] {
  return [...text.matchAll(/^\s*-?\s*uses:\s*([^\s#]+)/gm)]
    .map((m) => m[1])
    .filter((ref) => !ref.startsWith("./") && !/@[0-9a-f]{40}$/.test(ref));
}

test("the pin checker finds a tag, a branch and a short SHA, and accepts a full SHA and a local action", () => {
  const text = [
    "      - uses: pulumi/actions@v6",
    "        uses: actions/checkout@main",
    "      - uses: a/b@8582a9e",
    "      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0",
    "      - uses: ./local-action",
  ].join("\n");
  expect(unpinnedActions(text)).toEqual(["pulumi/actions@v6", "actions/checkout@main", "a/b@8582a9e"]);
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
    // Every action is pinned to a full commit SHA with its tag as a comment: a tag can be moved to
    // other code by whoever controls the action's repository, a SHA cannot.
    const text = fs.readFileSync(path.join(dir, file), "utf8");
    expect(unpinnedActions(text)).toEqual([]);
    for (const step of steps(wf)) {
      if (step.uses === undefined) continue;
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
    expect(step.uses).toBe("pulumi/actions@8582a9e8cc630786854029b4e09281acd6794b58"); // v6.6.1
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
