/**
 * The one loader of the tools: a stack's Pulumi.<stack>.yaml (read without the Pulumi CLI) plus its
 * roster, checked with the same checkHosting the program calls, so every tool sees exactly what
 * `pulumi up` would. The roster is read the program's way (rosterDir inside the project), or from a
 * folder named on the command line (`--roster DIR`, read wherever it is).
 */
import * as fs from "fs";
import * as path from "path";
import { HostingCheck, checkHosting } from "../../core/check";
import { LIMITS } from "../../core/limits";
// The program's roster reader (core/load.ts; program/rosterFolder.ts once the program wing has moved
// it): the one import of it in the tools.
import { RosterRead, readRoster, readRosterDir, readRosterFolder } from "../../program/rosterFolder";
import { HostingPlan } from "../../core/plan";
import { Problem, formatProblem } from "../../core/problems";
import { StackConfig } from "../../core/stackConfig";
import { StackFileConfig, readStackFile } from "./stackFile";

/** The project the tools serve: where the stack files and the roster are. */
export const REPO = path.resolve(__dirname, "..", "..");

export interface StackRead {
  /** The file's name, `Pulumi.<stack>.yaml`. */
  file: string;
  /** Its full path. */
  path: string;
  /** Its text ("" when it is over the size limit and was not read). */
  text: string;
  config: StackFileConfig;
}

/** No such stack file (`no stack file PATH`; check, pin, move and roster-diff add `(use --stack NAME)`). */
export class NoStackFile extends Error {
  constructor(public readonly path: string) {
    super(`no stack file ${path}`);
  }
  /** The message with the hint, for a tool whose only way to name a stack is --stack. */
  get hint(): string {
    return `${this.message} (use --stack NAME)`;
  }
}

/**
 * Reads `Pulumi.<stack>.yaml` of the project (for `org/project/stack`, the last part names the
 * file). A file over its size limit is not read at all: that is a problem on the stack, like any other.
 */
export function readStack(stack: string, repo = REPO): StackRead {
  const file = `Pulumi.${stack.split("/").pop() ?? stack}.yaml`;
  const full = path.join(repo, file);
  const stat = fs.statSync(full, { throwIfNoEntry: false });
  if (stat === undefined || !stat.isFile()) throw new NoStackFile(full);
  if (stat.size > LIMITS.stackFileBytes) {
    const problem: Problem = { field: "(stack file)", message: `${file} is ${stat.size} bytes, over the limit of ${LIMITS.stackFileBytes} bytes` };
    return { file, path: full, text: "", config: { raw: {}, encrypted: [], plaintextSecrets: [], problems: [problem] } };
  }
  const text = fs.readFileSync(full, "utf8");
  return { file, path: full, text, config: readStackFile(text, file) };
}

export interface CheckOptions {
  /** A roster folder named on the command line, already resolved (read wherever it is). */
  roster?: string;
  /** Config values laid over the file's (the launcher's placeholder API keys). */
  override?: Record<string, unknown>;
  /** Report secrets written in plaintext, as the program does (npm run check). */
  plaintextSecrets?: boolean;
  repo?: string;
}

export interface Loaded extends HostingCheck {
  stack: StackRead;
  /** What reading the roster folder itself found (entries that are not tenant files); part of `problems`. */
  rosterProblems: Problem[];
}

/** The stack file and the roster, checked as one; never throws for bad input (see `problems`). */
export function checkStack(stack: StackRead, opts: CheckOptions = {}): Loaded {
  const { raw, plaintextSecrets, problems } = stack.config;
  if (problems.length > 0) return { stack, problems, warnings: [], rosterProblems: [] };
  let read: RosterRead = { files: [], problems: [] };
  const readFolder = (dir: string): RosterRead => {
    read = opts.roster !== undefined ? readRosterFolder(opts.roster) : readRoster(opts.repo ?? REPO, dir);
    return read;
  };
  const checked = checkHosting({ ...raw, ...opts.override }, readFolder, opts.plaintextSecrets === true ? plaintextSecrets : []);
  return { ...checked, stack, rosterProblems: read.problems };
}

/** readStack then checkStack: what most tools want. Throws NoStackFile when there is no such stack. */
export function loadStack(stack: string, opts: CheckOptions = {}): Loaded {
  return checkStack(readStack(stack, opts.repo), opts);
}

/** A folder's tenant files, or a thrown HostingInputError listing what is not one (roster-diff's working tree). */
export const readRosterFiles = readRosterDir;

/** Problems that stop a tool that does not need API keys (pin, move, status): everything but missing keys. */
export function problemsWithoutKeys(loaded: HostingCheck): Problem[] {
  return loaded.problems.filter((p) => p.field !== "apiKeys");
}

export type Planned = Loaded & { plan: HostingPlan; config: StackConfig };

/**
 * For a tool that needs the plan but no API keys (pin, move): `--stack` and `--roster` (resolved
 * against the project) loaded, or the text to print on stderr before exiting 1.
 */
export function loadPlan(tool: string, args: { stack: string; roster?: string }): Planned | { error: string } {
  let loaded: Loaded;
  try {
    loaded = loadStack(args.stack, { roster: args.roster !== undefined ? path.resolve(REPO, args.roster) : undefined });
  } catch (err) {
    if (!(err instanceof NoStackFile)) throw err;
    return { error: `${tool}: ${err.hint}` };
  }
  const problems = problemsWithoutKeys(loaded);
  const { plan, config } = loaded;
  if (plan === undefined || config === undefined || problems.length > 0) return { error: problems.map((p) => `  - ${formatProblem(p)}`).join("\n") };
  return { ...loaded, plan, config };
}
