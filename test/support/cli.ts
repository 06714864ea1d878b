import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { REPO_ROOT } from "./program";

export interface ScriptRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one of the project's TypeScript scripts the way `npm run` does (ts-node, transpile only). */
export function runTsScript(script: string, args: readonly string[], cwd = REPO_ROOT): ScriptRun {
  const result = spawnSync(
    process.execPath,
    [path.join(REPO_ROOT, "node_modules", "ts-node", "dist", "bin.js"), "--transpile-only", script, ...args],
    { cwd, encoding: "utf8", timeout: 60000 },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const PackageScripts = z.object({ scripts: z.record(z.string(), z.string()) });

/**
 * The file `npm run <name>` runs (package.json: `ts-node --transpile-only <file>.ts`), absolute: a
 * suite starts a tool the way npm does, wherever the tool's room is.
 */
export function npmScriptFile(name: string): string {
  const { scripts } = PackageScripts.parse(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")));
  const file = /^ts-node --transpile-only (\S+\.ts)$/.exec(scripts[name] ?? "")?.[1];
  if (file === undefined) throw new Error(`package.json script "${name}" is not "ts-node --transpile-only <file>.ts": ${scripts[name] ?? "(missing)"}`);
  return path.join(REPO_ROOT, file);
}
