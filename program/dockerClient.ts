/**
 * The Docker engine of a server, reached the way the docker CLI does (DOCKER_HOST: unix, tcp with
 * TLS, ssh through `docker system dial-stdio`), with every call bounded in time. The program's
 * server check asks each engine through it, and the tools (status, dashboard, move, launcher) use
 * the same client: it lives in the program's wing because the program may not import a tool.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { Duplex } from "stream";
import Docker from "dockerode";
import { DockerTarget, SshMux, sshDialArgs, sshMuxExitArgs, sshRunArgs } from "../core/dockerHost";
import { TimeoutError } from "./bounded";

/**
 * How many containers are inspected/sampled at once. Each stats call waits a second or two for the
 * daemon's next samples, so the calls overlap: 50 tenants take ~2.3 s at 64 (8.3 s at 16). Over
 * ssh:// each call in flight is a session on the server's one shared ssh connection, and sshd allows
 * MaxSessions (default 10) sessions per connection, so stay below that: 8 streams plus the one
 * `docker stats` that samples every container at once there (SshDialAgent.run, collect's sampleAll).
 */
export const CONCURRENCY = { local: 64, ssh: 8 };

/**
 * A child process's stdout/stdin as one socket-like stream (what http's client expects of a
 * connection). The child may be attached later: http's agent counts a connection only once it has
 * its stream, so the stream is handed over at once and the ssh behind it starts when it may.
 */
class ChildStream extends Duplex {
  private child: ChildProcess | undefined;
  private readonly waiting: (() => void)[] = [];

  constructor() {
    super({ allowHalfOpen: false });
  }

  /** Connects the child; a stream already destroyed ends it at once. */
  attach(child: ChildProcess): void {
    const out = child.stdout;
    if (out === null || child.stdin === null) throw new Error("child has no stdio pipes");
    this.child = child;
    if (this.destroyed) {
      child.kill();
      return;
    }
    out.on("data", (d: Buffer) => {
      if (!this.push(d)) out.pause();
    });
    out.on("end", () => this.push(null));
    out.on("error", (e) => this.destroy(e));
    child.stdin.on("error", () => undefined); // EPIPE when ssh has gone: the exit handler reports why
    for (const go of this.waiting.splice(0)) go();
  }

  _read(): void {
    this.child?.stdout?.resume();
  }

  _write(chunk: Buffer, enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const child = this.child;
    if (child === undefined) return void this.waiting.push(() => this._write(chunk, enc, cb));
    if (child.stdin === null || child.stdin.destroyed) return cb(new Error("ssh is gone"));
    child.stdin.write(chunk, cb);
  }

  _final(cb: (err?: Error | null) => void): void {
    const child = this.child;
    if (child === undefined) return void this.waiting.push(() => this._final(cb));
    child.stdin?.end(cb);
  }

  _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    if (this.child !== undefined && this.child.exitCode === null) this.child.kill();
    cb(err);
  }

  // http's client calls these on a net.Socket; a pipe has no such knobs.
  setTimeout(): this { return this; }
  setNoDelay(): this { return this; }
  setKeepAlive(): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }
}

/** The most output a command run on a server may give (100 tenants' stats lines are ~30 KB). */
export const RUN_OUTPUT_LIMIT = 4 * 1024 * 1024;

/** How long a server's shared ssh connection outlives its last session when nobody ends it (see SshMux). */
export const SSH_PERSIST_SECONDS = 30;

/**
 * ssh:// the way the docker CLI does it, `ssh ... docker system dial-stdio` (so ~/.ssh/config,
 * keys, the agent and known_hosts all apply), but over few, long-lived connections: HTTP keep-alive
 * reuses each dial-stdio stream for request after request (at most CONCURRENCY.ssh of them), and
 * every stream is a session on ONE shared ssh connection per client (OpenSSH multiplexing, socket
 * in a private 0700 directory): one handshake and one MaxStartups slot per server instead of one per
 * request. OPENCLAW_STATUS_SSH names another ssh binary (e.g. a wrapper); it gets the same arguments.
 */
class SshDialAgent extends http.Agent {
  private readonly children = new Set<ChildProcess>();
  /** The last failed ssh's exit status and stderr tail: why a request failed, better than EPIPE. */
  lastFailure: string | undefined;
  /** How many ssh processes were started (the tests count them). */
  started = 0;
  private readonly ssh = process.env.OPENCLAW_STATUS_SSH ?? "ssh";
  private readonly controlDir: string;
  private readonly mux: SshMux;
  /**
   * Settles once the first stream has answered (the shared connection is up) or failed. Until then
   * the others wait: started together, each would open a connection of its own.
   */
  private firstUp: Promise<void> | undefined;

  constructor(private readonly target: Extract<DockerTarget, { kind: "ssh" }>, private readonly timeoutMs: number) {
    super({ keepAlive: true, maxSockets: CONCURRENCY.ssh, maxFreeSockets: CONCURRENCY.ssh });
    // mkdtemp makes it 0700: no other user can reach the connection through its socket.
    this.controlDir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-ssh-"));
    this.mux = { controlPath: path.join(this.controlDir, "%C"), persistSeconds: SSH_PERSIST_SECONDS };
  }

  createConnection(_options: unknown, callback: (err: Error | null, stream: Duplex) => void): Duplex {
    const stream = new ChildStream();
    if (this.firstUp === undefined) {
      const up = this.dial(stream);
      this.firstUp = up.then((ok) => {
        // It failed: the next stream tries to set the connection up again.
        if (!ok) this.firstUp = undefined;
      });
    } else {
      void this.firstUp.then(() => {
        if (!stream.destroyed) void this.dial(stream);
      });
    }
    callback(null, stream);
    return stream;
  }

  /** Starts ssh behind `stream`; settles true at its first answer, false if ssh ends first (or at the timeout). */
  private dial(stream: ChildStream): Promise<boolean> {
    const child = spawn(this.ssh, sshDialArgs(this.target, this.timeoutMs / 1000, this.mux), { stdio: ["pipe", "pipe", "pipe"] });
    this.started++;
    this.children.add(child);
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString("utf8");
    });
    const up = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.timeoutMs);
      timer.unref();
      child.stdout?.once("data", () => { clearTimeout(timer); resolve(true); });
      child.once("exit", () => { clearTimeout(timer); resolve(false); });
    });
    child.on("error", (err) => stream.destroy(new Error(`${this.ssh}: ${err.message}`)));
    child.on("exit", (code) => {
      this.children.delete(child);
      if (code !== 0 && code !== null) {
        this.lastFailure = `${this.ssh} exited with ${code}${stderr.trim() !== "" ? `: ${stderr.trim().split("\n").slice(-2).join(" ")}` : ""}`;
        stream.destroy(new Error(this.lastFailure));
      }
    });
    stream.attach(child);
    return up;
  }

  /**
   * Runs one command on the server as a session of the shared connection (after the first stream
   * has set it up, so it never opens a connection of its own), bounded by `timeoutMs`: its stdout,
   * or an error with ssh's exit status and the last lines of its stderr. stdout is capped.
   */
  async run(command: readonly string[], what: string, timeoutMs: number): Promise<string> {
    if (this.firstUp !== undefined) await this.firstUp;
    return new Promise<string>((resolve, reject) => {
      const child = spawn(this.ssh, sshRunArgs(this.target, this.timeoutMs / 1000, this.mux, command), { stdio: ["ignore", "pipe", "pipe"] });
      this.started++;
      this.children.add(child);
      const out: Buffer[] = [];
      let outBytes = 0;
      let stderr = "";
      let settled = false;
      const settle = (err: Error | undefined, text?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err !== undefined) reject(err);
        else resolve(text ?? "");
      };
      const timer = setTimeout(() => {
        child.kill();
        settle(new TimeoutError(`${what} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      child.stdout?.on("data", (d: Buffer) => {
        outBytes += d.length;
        if (outBytes <= RUN_OUTPUT_LIMIT) out.push(d);
        else {
          child.kill();
          settle(new Error(`${what}: more than ${RUN_OUTPUT_LIMIT} bytes of output`));
        }
      });
      child.stderr?.on("data", (d: Buffer) => {
        if (stderr.length < 2000) stderr += d.toString("utf8");
      });
      child.on("error", (err) => settle(new Error(`${this.ssh}: ${err.message}`)));
      child.on("close", (code) => {
        this.children.delete(child);
        if (code === 0) settle(undefined, Buffer.concat(out).toString("utf8"));
        else settle(new Error(`${what}: ${this.ssh} exited with ${code ?? "a signal"}${stderr.trim() !== "" ? `: ${stderr.trim().split("\n").slice(-2).join(" ")}` : ""}`));
      });
    });
  }

  /** Waits (bounded) for the ssh processes to exit, then says why the last one failed, if it did. */
  async failure(waitMs = 1500): Promise<string | undefined> {
    const deadline = Date.now() + waitMs;
    while (this.children.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.lastFailure;
  }

  /** Ends the streams, then the shared connection (bounded), and removes its private directory. */
  destroy(): void {
    for (const c of this.children) c.kill();
    super.destroy();
    if (this.started > 0) {
      spawnSync(this.ssh, sshMuxExitArgs(this.target, this.mux), { stdio: "ignore", timeout: 3000 });
    }
    fs.rmSync(this.controlDir, { recursive: true, force: true });
  }
}

export interface Client {
  docker: Docker;
  close: () => void;
  /** More about a failed connection than the HTTP layer knows (ssh's own message). */
  failure: () => Promise<string | undefined>;
  /** ssh:// only: how many ssh processes it started so far. */
  sshStarted?: () => number;
  /**
   * ssh:// only: runs one command on the server over the client's shared connection (see
   * SshDialAgent.run); `what` names it in errors. Absent for local and tcp engines.
   */
  run?: (command: readonly string[], what: string, timeoutMs: number) => Promise<string>;
}

/** A client for one engine; close() ends its connections (over ssh://, also the shared ssh connection). */
export function dockerClient(target: DockerTarget, timeoutMs: number): Client {
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
      return {
        docker: new Docker(options), close: () => agent.destroy(), failure: () => agent.failure(), sshStarted: () => agent.started,
        run: (command, what, ms) => agent.run(command, what, ms),
      };
    }
  }
}
