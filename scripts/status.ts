// npm run status [-- --json] [-- --only a,b] [-- --memory-threshold 90] [-- --timeout 10000]:
// per tenant on the Docker engine (DOCKER_HOST, or the local socket): state, health, memory, CPU,
// restarts and URL. Exit 0 = all well, 1 = something is flagged, 2 = engine unreachable, 64 = usage.
// The thin I/O shell: every rule and every number comes from core/status.ts.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { Duplex } from "stream";
import Docker from "dockerode";
import { DockerTarget, UsageError, parseDockerHost, sshDialArgs } from "../core/dockerHost";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../core/labels";
import {
  EXIT_UNREACHABLE, InspectSchema, EXIT_USAGE, StatusOptions, TenantInput, USAGE,
  buildReport, discoverTenants, exitCodeFor, parseStatusArgs, renderJson, renderTable, tenantStatus,
} from "../core/status";

/**
 * How many containers are inspected/sampled at once. Each stats call waits a second or two for the
 * daemon's next samples, so the calls overlap: 50 tenants take ~2.3 s at 64 (8.3 s at 16). Over
 * ssh:// every request is its own ssh connection, and sshd drops unauthenticated connections beyond
 * MaxStartups (default 10), so stay below that.
 */
const CONCURRENCY = { local: 64, ssh: 8 };

class TimeoutError extends Error {}

/** Rejects after `ms`, whatever the call does; the timer never keeps the process alive. */
function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A child process's stdout/stdin as one socket-like stream (what http's client expects of a connection). */
class ChildStream extends Duplex {
  constructor(private readonly child: ChildProcess) {
    super({ allowHalfOpen: false });
    const out = child.stdout;
    if (out === null || child.stdin === null) throw new Error("child has no stdio pipes");
    out.on("data", (d: Buffer) => {
      if (!this.push(d)) out.pause();
    });
    out.on("end", () => this.push(null));
    out.on("error", (e) => this.destroy(e));
    child.stdin.on("error", () => undefined); // EPIPE when ssh has gone: the exit handler reports why
  }

  _read(): void {
    this.child.stdout?.resume();
  }

  _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.child.stdin === null || this.child.stdin.destroyed) return cb(new Error("ssh is gone"));
    this.child.stdin.write(chunk, cb);
  }

  _final(cb: (err?: Error | null) => void): void {
    this.child.stdin?.end(cb);
  }

  _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    if (this.child.exitCode === null) this.child.kill();
    cb(err);
  }

  // http's client calls these on a net.Socket; a pipe has no such knobs.
  setTimeout(): this { return this; }
  setNoDelay(): this { return this; }
  setKeepAlive(): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }
}

/**
 * ssh:// the way the docker CLI does it: one `ssh ... docker system dial-stdio` per HTTP connection,
 * so ~/.ssh/config, keys, the agent and known_hosts all apply. OPENCLAW_STATUS_SSH names another
 * ssh binary (e.g. a wrapper); it gets the same arguments.
 */
class SshDialAgent extends http.Agent {
  private readonly children = new Set<ChildProcess>();
  /** The last failed ssh's exit status and stderr tail: why a request failed, better than EPIPE. */
  lastFailure: string | undefined;

  constructor(private readonly target: Extract<DockerTarget, { kind: "ssh" }>, private readonly timeoutMs: number) {
    super({ keepAlive: false });
  }

  createConnection(_options: unknown, callback: (err: Error | null, stream: Duplex) => void): Duplex {
    const ssh = process.env.OPENCLAW_STATUS_SSH ?? "ssh";
    const child = spawn(ssh, sshDialArgs(this.target, this.timeoutMs / 1000), { stdio: ["pipe", "pipe", "pipe"] });
    this.children.add(child);
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString("utf8");
    });
    const stream = new ChildStream(child);
    child.on("error", (err) => stream.destroy(new Error(`${ssh}: ${err.message}`)));
    child.on("exit", (code) => {
      this.children.delete(child);
      if (code !== 0 && code !== null) {
        this.lastFailure = `${ssh} exited with ${code}${stderr.trim() !== "" ? `: ${stderr.trim().split("\n").slice(-2).join(" ")}` : ""}`;
        stream.destroy(new Error(this.lastFailure));
      }
    });
    callback(null, stream);
    return stream;
  }

  /** Waits (bounded) for the ssh processes to exit, then says why the last one failed, if it did. */
  async failure(waitMs = 1500): Promise<string | undefined> {
    const deadline = Date.now() + waitMs;
    while (this.children.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.lastFailure;
  }

  destroy(): void {
    for (const c of this.children) c.kill();
    super.destroy();
  }
}

interface Client {
  docker: Docker;
  close: () => void;
  /** More about a failed connection than the HTTP layer knows (ssh's own message). */
  failure: () => Promise<string | undefined>;
}

function dockerClient(target: DockerTarget, timeoutMs: number): Client {
  const none = async (): Promise<undefined> => undefined;
  switch (target.kind) {
    case "unix":
      return { docker: new Docker({ socketPath: target.socketPath, host: undefined, timeout: timeoutMs }), close: () => undefined, failure: none };
    case "tcp": {
      const certDir = process.env.DOCKER_CERT_PATH;
      const tlsFiles = target.tls && certDir !== undefined && certDir !== ""
        ? {
          ca: fs.readFileSync(path.join(certDir, "ca.pem")),
          cert: fs.readFileSync(path.join(certDir, "cert.pem")),
          key: fs.readFileSync(path.join(certDir, "key.pem")),
        }
        : {};
      return {
        docker: new Docker({ host: target.host, port: target.port, protocol: target.tls ? "https" : "http", timeout: timeoutMs, ...tlsFiles }),
        close: () => undefined,
        failure: none,
      };
    }
    case "ssh": {
      const agent = new SshDialAgent(target, timeoutMs);
      // Plain HTTP over the agent's stream; host and port only shape the request line. docker-modem
      // passes `agent` to http.request (its typings do not list it).
      const options: Docker.DockerOptions & { agent: http.Agent } = { protocol: "http", host: "docker", port: 80, agent };
      return { docker: new Docker(options), close: () => agent.destroy(), failure: () => agent.failure() };
    }
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function collect(docker: Docker, opts: StatusOptions, concurrency: number): Promise<TenantInput[]> {
  const filters = { label: [`${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`] };
  const [containers, volumes] = await Promise.all([
    withTimeout("listing containers", opts.timeoutMs, docker.listContainers({ all: true, filters })),
    withTimeout("listing volumes", opts.timeoutMs, docker.listVolumes({ filters })),
  ]);
  const tenants = discoverTenants(containers, volumes.Volumes, opts.only);
  return pool(tenants, concurrency, async (t): Promise<TenantInput> => {
    const input: TenantInput = { tenant: t.tenant, volumes: t.volumes, otherContainers: t.otherContainers };
    if (t.container === null) return input;
    const c = docker.getContainer(t.container.id);
    let inspect: unknown;
    try {
      inspect = await withTimeout(`inspecting ${t.container.name}`, opts.timeoutMs, c.inspect());
    } catch (err) {
      return { ...input, error: `inspect failed: ${message(err)}` };
    }
    input.inspect = inspect;
    const parsed = InspectSchema.safeParse(inspect);
    const state = parsed.success ? parsed.data.State : undefined;
    if (state !== undefined && state.Running && state.Paused !== true && !state.Restarting) {
      try {
        // stream=false: the daemon takes two samples about a second apart, so precpu_stats is filled.
        input.stats = await withTimeout(`stats of ${t.container.name}`, opts.timeoutMs, c.stats({ stream: false }));
      } catch (err) {
        input.error = message(err);
      }
    }
    return input;
  });
}

async function main(): Promise<number> {
  let opts: StatusOptions;
  let target: DockerTarget;
  try {
    opts = parseStatusArgs(process.argv.slice(2));
    target = parseDockerHost(process.env.DOCKER_HOST, process.env.DOCKER_TLS_VERIFY);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`status: ${err.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const started = Date.now();
  const checkedAt = new Date(started).toISOString();
  const { docker, close, failure } = dockerClient(target, opts.timeoutMs);
  try {
    try {
      await withTimeout("ping", opts.timeoutMs, docker.ping());
    } catch (err) {
      const where = process.env.DOCKER_HOST === undefined || process.env.DOCKER_HOST === ""
        ? `${target.display} (DOCKER_HOST is not set; set it to reach another engine)`
        : `${target.display} (DOCKER_HOST=${process.env.DOCKER_HOST})`;
      const text = `status: cannot reach the Docker engine at ${where}: ${(await failure()) ?? message(err)}`;
      console.error(text);
      if (opts.json) console.log(JSON.stringify({ engine: target.display, checkedAt, error: text, tenants: [], flagged: [] }, null, 2));
      return EXIT_UNREACHABLE;
    }
    const inputs = await collect(docker, opts, target.kind === "ssh" ? CONCURRENCY.ssh : CONCURRENCY.local);
    const rules = { memoryThresholdPercent: opts.memoryThresholdPercent };
    const tenants = inputs.map((i) => tenantStatus(i, rules));
    const report = buildReport(tenants, { engine: target.display, checkedAt, memoryThresholdPercent: rules.memoryThresholdPercent, elapsedMs: Date.now() - started });
    console.log(opts.json ? renderJson(report) : renderTable(report));
    return exitCodeFor(report);
  } finally {
    close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A list call that failed mid-way or an API answer of an unexpected shape: not "all is well".
    console.error(`status: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(EXIT_UNREACHABLE);
  },
);
