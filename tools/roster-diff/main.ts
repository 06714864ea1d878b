// npm run roster-diff -- --base <git-ref> [--head <git-ref>] [--stack dev] [--markdown]
// Plans the roster at <git-ref> and the roster in the working tree (or at --head) with the same stack
// config, offline (no Pulumi CLI, no network, no checkout: `git ls-tree` and `git show` only), and
// prints the tenants added, removed and changed. --markdown prints a section for a PR comment or
// $GITHUB_STEP_SUMMARY. Exit 0: diff printed; 1: the head roster has problems; 2: usage, git or config error.
import { execFileSync } from "child_process";
import * as path from "path";
import { z } from "zod";
import { STACK_NAME, UsageError, parseToolArgs } from "../shared/args";
import { TenantPlan, planHosting } from "../../core/plan";
import { HostingInputError, Problem, formatProblem } from "../../core/problems";
import { ROSTER_FILE, RosterFile, parseRoster } from "../../core/roster";
import { diffRosters, formatDiffMarkdown, formatDiffText } from "./diff";
import { StackConfig, parseStackConfig } from "../../core/stackConfig";
import { NoStackFile, REPO, StackRead, readRosterFiles, readStack } from "../shared/load";

// A git ref as an argument, never an option: refuse anything git could read as a flag.
const GitRef = z
  .string({ error: "is required" })
  .min(1, { error: "is required" })
  .regex(/^[^-\s][^\s]*$/, { error: "must be a git ref such as origin/main or a commit (no leading '-', no spaces)" });
const StackName = z.string().regex(STACK_NAME, { error: "must be a stack name such as dev or prod" });

const Args = z.strictObject({
  base: GitRef,
  head: GitRef.optional(),
  stack: StackName.default("dev"),
  markdown: z.boolean().default(false),
});
type Args = z.infer<typeof Args>;

function parseArgs(argv: readonly string[]): Args {
  return parseToolArgs(argv, {
    flags: { base: { type: "string" }, head: { type: "string" }, stack: { type: "string" }, markdown: { type: "boolean" } },
    schema: Args,
    // A ref that looks like an option is the schema's to refuse, with its own message.
    dashValues: true,
    unknown: (u) => `unknown argument ${u.arg}`,
    issues: (issues) => issues.map((issue) => `--${issue.path.join(".") || "(args)"} ${issue.message}`).join("; "),
  }).values;
}

function git(args: string[], cwd: string): string {
  try {
    return execFileSync("git", args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: unknown }).stderr;
    throw new UsageError(`git ${args.join(" ")} failed: ${typeof stderr === "string" ? stderr.trim() : String(err)}`);
  }
}

/** The roster folder's tenant files as they are at `ref`, read from git objects (no checkout). */
function readRosterAtRef(ref: string, rosterDir: string): RosterFile[] {
  const top = git(["rev-parse", "--show-toplevel"], REPO).trim();
  try {
    git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], top);
  } catch {
    throw new UsageError(`${ref} is not a commit in this clone (in CI, check out with fetch-depth: 0; locally, git fetch origin)`);
  }
  const rel = path.relative(top, rosterDir).split(path.sep).join("/");
  if (rel.startsWith("..") || path.isAbsolute(rel)) throw new UsageError(`rosterDir ${rosterDir} is outside the git repository ${top}`);
  // `git ls-tree REF -- DIR/` lists DIR's entries (an empty list when DIR does not exist at REF).
  const entries = git(["ls-tree", "-z", "--name-only", ref, "--", rel === "" ? "." : `${rel}/`], top).split("\0").filter((e) => e !== "");
  return entries
    .map((entry) => ({ entry, file: path.posix.basename(entry) }))
    .filter(({ file }) => ROSTER_FILE.test(file))
    .sort((a, b) => (a.file < b.file ? -1 : 1))
    .map(({ entry, file }) => ({ file, text: git(["show", `${ref}:${entry}`], top) }));
}

interface Planned {
  tenants: TenantPlan[];
  problems: Problem[];
}

/** Plans a roster with the stack config; missing API keys are not the roster's problem here (as in `npm run check`). */
function plan(config: StackConfig, files: RosterFile[]): Planned {
  const roster = parseRoster(files);
  const planned = planHosting(config, roster.tenants);
  return { tenants: planned.tenants, problems: [...roster.problems, ...planned.problems].filter((p) => p.field !== "apiKeys") };
}

function main(): number {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`roster-diff: ${err.message}\nusage: npm run roster-diff -- --base <git-ref> [--head <git-ref>] [--stack dev] [--markdown]`);
    return 2;
  }
  let stackFile: StackRead["config"];
  try {
    stackFile = readStack(args.stack).config;
  } catch (err) {
    if (!(err instanceof NoStackFile)) throw err;
    console.error(`roster-diff: ${err.hint}`);
    return 2;
  }
  const parsed = stackFile.problems.length > 0 ? { config: undefined, problems: stackFile.problems } : parseStackConfig(stackFile.raw);
  if (parsed.config === undefined) {
    console.error(`roster-diff: Pulumi.${args.stack}.yaml has problems:\n${parsed.problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`);
    return 2;
  }
  const config = parsed.config;
  const rosterDir = path.resolve(REPO, config.rosterDir);

  let base: Planned;
  let head: Planned;
  try {
    base = plan(config, readRosterAtRef(args.base, rosterDir));
    head = plan(config, args.head === undefined ? readRosterFiles(rosterDir) : readRosterAtRef(args.head, rosterDir));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`roster-diff: ${err.message}`);
      return 2;
    }
    if (err instanceof HostingInputError) {
      console.error(`roster-diff: ${err.message}`);
      return 2;
    }
    throw err;
  }

  const diff = diffRosters(base.tenants, head.tenants);
  const headName = args.head ?? "working tree";
  const title = `Roster diff: ${args.base} → ${headName} (stack ${args.stack})`;
  const out = [args.markdown ? formatDiffMarkdown(diff, title) : formatDiffText(diff, title)];
  const listed = (problems: Problem[]): string[] => problems.map((p) => `${args.markdown ? "- " : "  - "}${formatProblem(p)}`);
  if (base.problems.length > 0) {
    out.push("", `${args.base} had ${base.problems.length} roster problem(s) (tenants with problems are left out of its side of the diff):`, ...listed(base.problems));
  }
  if (head.problems.length > 0) {
    out.push("", `${headName} has ${head.problems.length} roster problem(s); fix them before merging (npm run check):`, ...listed(head.problems));
  }
  console.log(out.join("\n"));
  return head.problems.length > 0 ? 1 : 0;
}

process.exit(main());
