/**
 * The Docker engine of a server, reached the way the docker CLI does (DOCKER_HOST: unix, tcp with
 * TLS, ssh through `docker system dial-stdio`), with every call bounded in time. The program's
 * server check asks each engine through it, and the tools (status, dashboard, move, launcher) use
 * the same client: it lives in the program's wing because the program may not import a tool.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { Duplex } from "stream";
import Docker from "dockerode";
import { DockerTarget, sshDialArgs } from "../core/dockerHost";

/**
 * How many containers are inspected/sampled at once. Each stats call waits a second or two for the
 * daemon's next samples, so the calls overlap: 50 tenants take ~2.3 s at 64 (8.3 s at 16). Over
 * ssh:// every request is its own ssh connection, and sshd drops unauthenticated connections beyond
 * MaxStartups (default 10), so stay below that.
 */
export const CONCURRENCY = { local: 64, ssh: 8 };

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

  constructor(private readonly target: Extract<DockerTarget, { kind: "ssh" }>, private readonly timeoutMs: number, keepAlive: boolean) {
    // keepAlive (the dashboard, asking every few seconds): at most CONCURRENCY.ssh ssh connections,
    // reused across requests and refreshes, instead of an ssh handshake and a remote docker CLI per call.
    super(keepAlive ? { keepAlive: true, maxSockets: CONCURRENCY.ssh, maxFreeSockets: CONCURRENCY.ssh } : { keepAlive: false });
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

export interface Client {
  docker: Docker;
  close: () => void;
  /** More about a failed connection than the HTTP layer knows (ssh's own message). */
  failure: () => Promise<string | undefined>;
}

/** `keepAlive`: reuse connections (ssh:// only; close() ends them) for a client kept across many calls. */
export function dockerClient(target: DockerTarget, timeoutMs: number, opts: { keepAlive?: boolean } = {}): Client {
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
      const agent = new SshDialAgent(target, timeoutMs, opts.keepAlive === true);
      // Plain HTTP over the agent's stream; host and port only shape the request line. docker-modem
      // passes `agent` to http.request (its typings do not list it).
      const options: Docker.DockerOptions & { agent: http.Agent } = { protocol: "http", host: "docker", port: 80, agent };
      return { docker: new Docker(options), close: () => agent.destroy(), failure: () => agent.failure() };
    }
  }
}
