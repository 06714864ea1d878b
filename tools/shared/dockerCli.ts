// The Docker CLI on one server, as the operator's tools reach it (npm run move, npm run restore):
// this machine's engine, or DOCKER_HOST=ssh:// through the system ssh with the stack's key, one
// shared connection per server. Bounded: every call has a timeout.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { retry } from "../../program/bounded";
import { Manifest, parseManifest } from "./manifest";
import { toolScript } from "./shellScript";

/** A Docker call that failed; the message names the server and what was being done. */
export class EngineError extends Error {}

/** One server as the Docker CLI reaches it: its name and the environment (DOCKER_HOST, PATH with an ssh wrapper). */
export interface Engine {
  name: string;
  env: NodeJS.ProcessEnv;
  /** Over SSH: where, and the directory of its shared connection. */
  ssh?: { host: string; user: string; port: number; control: string };
}

export interface Run {
  /** 0, the failing side's exit status, or -1 when it was stopped by a signal. */
  code: number;
  stdout: string;
  stderr: string;
  /** The side that failed first, in words (`the receiving side on s3: exit 137 (killed)`): the cause. */
  failure?: string;
}
export function docker(engine: Engine, args: string[], timeoutMs = 120_000, pipeTo?: { engine: Engine; args: string[] }): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn("docker", args, { env: engine.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const sides: [ChildProcess, string][] = [[child, pipeTo === undefined ? `docker on ${engine.name}` : `the sending side on ${engine.name}`]];
    if (pipeTo !== undefined) {
      const sink = spawn("docker", pipeTo.args, { env: pipeTo.engine.env, stdio: ["pipe", "ignore", "pipe"] });
      sides.push([sink, `the receiving side on ${pipeTo.engine.name}`]);
      child.stdout.pipe(sink.stdin);
      // A sink that fails early must not leave the source blocked on a full pipe.
      sink.stdin.on("error", () => child.kill("SIGKILL"));
      sink.on("close", (status) => {
        if (status !== 0) child.kill("SIGKILL");
      });
      sink.stderr.on("data", (d) => (stderr += `${pipeTo.engine.name}: ${String(d)}`));
    } else {
      child.stdout.on("data", (d) => (stdout += String(d)));
    }
    child.stderr.on("data", (d) => (stderr += String(d)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      sides.forEach(([c]) => c.kill("SIGKILL"));
    }, timeoutMs);
    let open = sides.length;
    let code = 0;
    let failure: string | undefined;
    for (const [c, who] of sides) {
      c.on("close", (status, signal) => {
        // The first side to fail is the cause; the other one is then stopped by this function.
        if (status !== 0 && failure === undefined) {
          code = status ?? -1;
          failure = timedOut ? `${who}: no end after ${timeoutMs} ms` : status === null ? `${who}: stopped by ${signal ?? "a signal"}` : `${who}: exit ${status}${status === 137 ? " (killed)" : ""}`;
        }
        if (--open === 0) {
          clearTimeout(timer);
          resolve({ code, stdout, stderr: stderr.trim(), failure });
        }
      });
    }
  });
}
export async function must(engine: Engine, args: string[], what: string, timeoutMs?: number): Promise<string> {
  const r = await docker(engine, args, timeoutMs);
  if (r.code !== 0) throw new EngineError(`server ${engine.name}: ${what} failed: ${r.stderr || r.failure}`);
  return r.stdout;
}

/** Runs `attempt` until it exits 0, at most 20 times over about 10 s; returns the last run. */
export const untilOk = (attempt: () => Promise<Run>): Promise<Run> => retry(attempt, (r) => r.code === 0, 20, 500);

/**
 * Every file of `volumes` (mounted at /v/<key>, read-only, in a helper container of `image` as root):
 * path, byte count and SHA-256 (manifest.sh). `binds` are host paths instead of volumes (a staged restore).
 */
export async function volumeManifest(engine: Engine, mounts: readonly { source: string; key: string }[], image: string, what: string): Promise<Manifest> {
  const args = mounts.flatMap((m) => ["-v", `${m.source}:/v/${m.key}:ro`]);
  const out = await must(engine, ["run", "--rm", "--network", "none", "--user", "0:0", "--entrypoint", "sh", ...args, image, "-c", toolScript(__dirname, "manifest.sh")], what, 600_000);
  return parseManifest(out);
}

/**
 * How the Docker CLI reaches a server: this machine's engine as configured (DOCKER_HOST or the
 * default socket), or `ssh://user@host:port` through the system ssh (known_hosts, agent) with the
 * stack's key, via an `ssh` wrapper first on PATH (the Docker CLI has no option for a key file).
 */
export function engineFor(server: { name: string; ssh?: { host: string; user: string; port: number; privateKeyPath?: string } }, wrapperDir: string): Engine {
  if (server.ssh === undefined) return { name: server.name, env: { ...process.env } };
  const { host, user, port, privateKeyPath } = server.ssh;
  const dir = path.join(wrapperDir, server.name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "ssh"), toolScript(__dirname, "ssh-wrapper.sh"), { mode: 0o755 });
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `ssh://${user}@${host}:${port}`, PATH: `${dir}:${process.env.PATH ?? ""}` };
  // The wrapper reads the key from here: a path is never spliced into shell text.
  delete env.OPENCLAW_MOVE_SSH_KEY;
  if (privateKeyPath !== undefined) env.OPENCLAW_MOVE_SSH_KEY = path.resolve(privateKeyPath);
  // The shared connection's socket: inside wrapperDir, which main makes private (mkdtemp, 0700).
  env.OPENCLAW_MOVE_SSH_CONTROL = dir;
  return { name: server.name, env, ssh: { host, user, port, control: dir } };
}

/** Ends the move's shared ssh connections now (bounded) instead of when their ControlPersist runs out. */
export function endSharedConnections(engines: Engine[]): void {
  for (const e of engines) {
    if (e.ssh === undefined) continue;
    spawnSync(path.join(e.ssh.control, "ssh"), ["-o", `ControlPath=${e.ssh.control}/%C`, "-O", "exit", "-p", String(e.ssh.port), "-l", e.ssh.user, "--", e.ssh.host], {
      env: e.env, stdio: "ignore", timeout: 3000,
    });
  }
}

/**
 * Runs a tool's shell script on the server itself (not in a container): over the same ssh as the
 * Docker CLI (the stack's key, the shared connection) as `bash -s -- ARGS`, the script on stdin;
 * on this machine's engine, here. ARGS are plain words (names, IDs, paths): never a secret.
 */
export function onServer(engine: Engine, script: string, args: readonly string[], timeoutMs: number): Promise<Run> {
  for (const a of args) if (!/^[A-Za-z0-9._/=,:@-]+$/.test(a)) throw new EngineError(`not a plain word for a server command: ${a.slice(0, 80)}`);
  const argv = engine.ssh === undefined
    ? ["bash", "-s", "--", ...args]
    : [path.join(engine.ssh.control, "ssh"), "-p", String(engine.ssh.port), "-l", engine.ssh.user, "--", engine.ssh.host, "bash", "-s", "--", ...args];
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env: engine.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout.on("data", (d) => (stdout += String(d)));
    child.stderr.on("data", (d) => (stderr += String(d)));
    child.stdin.on("error", () => undefined);
    child.stdin.end(script);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      const failure = status === 0 ? undefined : timedOut ? `no end after ${timeoutMs} ms` : status === null ? `stopped by ${signal ?? "a signal"}` : `exit ${status}`;
      resolve({ code: status ?? -1, stdout, stderr: stderr.trim(), failure });
    });
  });
}
