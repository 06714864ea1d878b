// `npm start` as a suite runs it: the way npm does (ts-node), bounded, with the given environment,
// optionally behind a wrapper command (e.g. unshare for a private mount namespace).
import { spawnSync } from "child_process";
import * as path from "path";
import { npmScriptFile } from "../../support/cli";

export const REPO = path.resolve(__dirname, "..", "..", "..");

export function runLauncher(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000, wrapper: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const command = [...wrapper, process.execPath, path.join(REPO, "node_modules", "ts-node", "dist", "bin.js"), "--transpile-only", npmScriptFile("start"), ...args];
  const r = spawnSync(command[0], command.slice(1), { cwd: REPO, env, encoding: "utf8", timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
