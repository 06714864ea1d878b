import { spawnSync } from "child_process";
import * as path from "path";
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
