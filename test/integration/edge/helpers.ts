// Small helpers local to the end-to-end edge suite (the shared ones live in ../support).
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { HttpResult } from "../support/caddy";

/**
 * GET https://host/path at 127.0.0.1:port with SNI, Host and the given extra headers, trusting `ca`.
 * The shared `httpsGet` sends no headers but Host; this is the same request with `headers` added.
 */
export function httpsGetWithHeaders(target: {
  host: string;
  port: number;
  path: string;
  ca: string;
  headers?: Record<string, string>;
  agent?: https.Agent;
  timeoutMs?: number;
}): Promise<HttpResult> {
  const timeoutMs = target.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port: target.port,
        path: target.path,
        method: "GET",
        servername: target.host,
        headers: { ...target.headers, host: target.host },
        ca: target.ca,
        agent: target.agent ?? false,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET https://${target.host}${target.path} timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** Percentiles of a list of durations (ms), for the figures. */
export function summarise(samples: readonly number[]): { n: number; min: number; p50: number; p95: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => Number(s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(2));
  return { n: s.length, min: at(0), p50: at(0.5), p95: at(0.95), max: Number(s[s.length - 1].toFixed(2)) };
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

/**
 * What one run of this suite leaves on the host outside the engine (where the engine's objects are
 * found by label): its Caddy process and its temp dir. Recorded in a state file so that the next run
 * can end that Caddy (by its pid, only if its command line names the recorded sandbox) and remove
 * the dir, when the run that wrote it is gone (crashed or killed before its afterAll).
 */
export interface RunState {
  ownerPid: number;
  dir?: string;
  caddyPid?: number;
}

export class RunStateFile {
  readonly file: string;

  constructor(name: string, private readonly dirPrefix: string) {
    this.file = path.join(os.tmpdir(), `${name}.state.json`);
  }

  /** Removes what a previous, no longer running, run left; throws if that run is still running. */
  clearLeftovers(): string[] {
    const done: string[] = [];
    if (!fs.existsSync(this.file)) return done;
    let state: RunState;
    try {
      state = JSON.parse(fs.readFileSync(this.file, "utf8")) as RunState;
    } catch {
      fs.rmSync(this.file, { force: true });
      return ["unreadable state file"];
    }
    if (state.ownerPid !== process.pid && /jest/.test(cmdline(state.ownerPid))) {
      throw new Error(`another run of this suite (pid ${state.ownerPid}) is in progress (${this.file})`);
    }
    const sandboxOk = state.dir !== undefined && path.basename(state.dir).startsWith(this.dirPrefix) && path.dirname(state.dir) === os.tmpdir();
    if (state.caddyPid !== undefined && sandboxOk && cmdline(state.caddyPid).includes(state.dir as string) && /caddy/.test(cmdline(state.caddyPid))) {
      process.kill(state.caddyPid, "SIGKILL");
      done.push(`caddy pid ${state.caddyPid}`);
    }
    if (sandboxOk && fs.existsSync(state.dir as string)) {
      fs.rmSync(state.dir as string, { recursive: true, force: true, maxRetries: 3 });
      done.push(`dir ${state.dir}`);
    }
    fs.rmSync(this.file, { force: true });
    return done;
  }

  write(state: Omit<RunState, "ownerPid">): void {
    fs.writeFileSync(this.file, JSON.stringify({ ownerPid: process.pid, ...state }));
  }

  remove(): void {
    fs.rmSync(this.file, { force: true });
  }
}
