import { spawn } from "child_process";

/** What a command did: its exit code (null when killed), its output and how long it took. */
export interface Shell { code: number | null; stdout: string; stderr: string; ms: number }

/** Runs argv with stdin, killed after timeoutMs (bounded), never throwing: the caller reads the code. */
export function run(argv: string[], stdin = "", timeoutMs = 60_000, env: NodeJS.ProcessEnv = process.env): Promise<Shell> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (d) => (stdout += String(d)));
    child.stderr.on("data", (d) => (stderr += String(d)));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
  });
}
