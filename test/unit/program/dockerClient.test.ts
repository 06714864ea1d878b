import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { DockerTarget, sshDialArgs, sshMuxExitArgs, sshRunArgs } from "../../../core/dockerHost";
import { CONCURRENCY, SSH_PERSIST_SECONDS, dockerClient } from "../../../program/dockerClient";

const TARGET: Extract<DockerTarget, { kind: "ssh" }> = { kind: "ssh", host: "srv.example", port: 2222, user: "deploy", display: "ssh://deploy@srv.example:2222" };

describe("the ssh command lines (pure)", () => {
  const mux = { controlPath: "/tmp/oc-ssh-abc/%C", persistSeconds: 30 };

  test("with a shared connection: ControlMaster=auto in the given private path, bounded persistence and keep-alives", () => {
    const args = sshDialArgs(TARGET, 10, mux);
    expect(args).toEqual([
      "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
      "-o", "ControlMaster=auto", "-o", "ControlPath=/tmp/oc-ssh-abc/%C", "-o", "ControlPersist=30",
      "-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3",
      "-l", "deploy", "-p", "2222", "--", "srv.example", "docker", "system", "dial-stdio",
    ]);
    // Nothing after `--` but the host and the remote command: no option can be smuggled in as a host.
    expect(args.slice(args.indexOf("--") + 1)).toEqual(["srv.example", "docker", "system", "dial-stdio"]);
  });

  test("persistence is at least a second (0 would mean forever)", () => {
    expect(sshDialArgs(TARGET, 10, { ...mux, persistSeconds: 0 })).toContain("ControlPersist=1");
  });

  test("ending the shared connection: the same connection options, -O exit, the host", () => {
    const exit = sshMuxExitArgs({ ...TARGET, identityFile: "/keys/id" }, mux);
    expect(exit.slice(exit.indexOf("-O"))).toEqual(["-O", "exit", "--", "srv.example"]);
    expect(exit).toEqual(expect.arrayContaining(["ControlPath=/tmp/oc-ssh-abc/%C", "-i", "/keys/id", "-l", "deploy", "-p", "2222"]));
  });

  test("a command run on the server: the shared connection's options, then the host and ONE string with every word quoted for the remote shell", () => {
    const args = sshRunArgs(TARGET, 10, mux, ["docker", "stats", "--format", "{{json .}}", "it's; rm -rf /"]);
    expect(args.slice(0, args.indexOf("--"))).toEqual(sshDialArgs(TARGET, 10, mux).slice(0, sshDialArgs(TARGET, 10, mux).indexOf("--")));
    expect(args.slice(args.indexOf("--") + 1)).toEqual(["srv.example", `'docker' 'stats' '--format' '{{json .}}' 'it'"'"'s; rm -rf /'`]);
    expect(() => sshRunArgs(TARGET, 10, mux, [])).toThrow(/no command/);
  });

  test("without a shared connection the command line is what it was", () => {
    expect(sshDialArgs(TARGET, 10)).toEqual([
      "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-l", "deploy", "-p", "2222", "--", "srv.example", "docker", "system", "dial-stdio",
    ]);
  });
});

/**
 * A fake ssh (the same idea as the status suite's stand-in): it logs its arguments, answers
 * `-O exit`, and otherwise bridges stdin/stdout to a fake engine's socket, as `docker system
 * dial-stdio` would; or fails the way an unreachable server does. Paths are written into it (a
 * child gets the real process environment, not the test's).
 */
const fakeSsh = (log: string, engine: string | "unreachable"): string => `#!/usr/bin/env node
const fs = require("fs");
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + "\\n");
if (process.argv.includes("-O")) process.exit(0);
if (!process.argv.includes("dial-stdio")) {
  // A command run on the server: answers as <log>.run says (stdout, stderr, exit code, delay).
  const r = JSON.parse(fs.readFileSync(${JSON.stringify(log)} + ".run", "utf8"));
  setTimeout(() => { process.stdout.write(r.stdout); process.stderr.write(r.stderr); process.exitCode = r.code; }, r.delayMs);
  return;
}
if (${JSON.stringify(engine)} === "unreachable") {
  process.stderr.write("ssh: connect to host srv.example port 2222: Connection refused\\n");
  process.exit(255);
}
const s = require("net").connect(${JSON.stringify(engine)});
process.stdin.pipe(s);
s.pipe(process.stdout);
s.on("close", () => process.exit(0));
`;

describe("the Docker client over ssh:// (fake ssh, fake engine)", () => {
  let dir: string;
  let engine: http.Server;
  let engineConnections = 0;
  /** How long the fake engine takes to answer (long enough that parallel requests overlap). */
  let answerMs = 20;
  const saved = { ...process.env };
  const calls = (): string[][] => fs.readFileSync(path.join(dir, "log"), "utf8").trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as string[]);
  const dials = (): string[][] => calls().filter((c) => c.includes("dial-stdio"));

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dc-test-"));
    fs.writeFileSync(path.join(dir, "log"), "");
    fs.writeFileSync(path.join(dir, "ssh"), fakeSsh(path.join(dir, "log"), path.join(dir, "engine.sock")), { mode: 0o755 });
    engineConnections = 0;
    answerMs = 20;
    engine = http.createServer((req, res) => {
      setTimeout(() => {
        res.setHeader("Content-Type", req.url?.includes("_ping") === true ? "text/plain" : "application/json");
        res.end(req.url?.includes("_ping") === true ? "OK" : "[]");
      }, answerMs);
    });
    engine.on("connection", () => engineConnections++);
    await new Promise<void>((r) => engine.listen(path.join(dir, "engine.sock"), r));
    process.env.OPENCLAW_STATUS_SSH = path.join(dir, "ssh");
  });

  afterEach(async () => {
    process.env = { ...saved };
    await new Promise((r) => engine.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("40 requests in parallel, then 40 one after another: at most CONCURRENCY.ssh dial-stdio streams, all on one shared connection", async () => {
    const client = dockerClient(TARGET, 10_000);
    try {
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? client.docker.ping() : client.docker.listContainers())));
      for (let i = 0; i < 40; i++) await client.docker.ping();
      const streams = dials();
      expect(streams.length).toBeGreaterThanOrEqual(1);
      expect(streams.length).toBeLessThanOrEqual(CONCURRENCY.ssh);
      expect(engineConnections).toBe(streams.length);
      // One ControlPath for all, in a directory only this user can enter, with a bounded persistence.
      const controlPaths = new Set(streams.map((c) => c[c.indexOf("ControlMaster=auto") + 2]));
      expect(controlPaths.size).toBe(1);
      const controlPath = [...controlPaths][0].replace(/^ControlPath=/, "");
      expect(fs.statSync(path.dirname(controlPath)).mode & 0o777).toBe(0o700);
      for (const c of streams) expect(c).toContain(`ControlPersist=${SSH_PERSIST_SECONDS}`);
    } finally {
      client.close();
    }
    // close() ends the shared connection at once and removes its directory.
    const exits = calls().filter((c) => c.includes("-O"));
    expect(exits.length).toBe(1);
    const cp = exits[0].find((a) => a.startsWith("ControlPath="))?.replace(/^ControlPath=/, "") as string;
    expect(fs.existsSync(path.dirname(cp))).toBe(false);
  });

  test("requests started together wait for the first stream, so they join its connection instead of each opening one", async () => {
    answerMs = 600;
    const client = dockerClient(TARGET, 10_000);
    try {
      const all = Promise.all(Array.from({ length: 8 }, () => client.docker.ping()));
      // The first ssh has started and is not answered yet: no second one has been started.
      await new Promise((r) => setTimeout(r, 400));
      expect(dials().length).toBe(1);
      await all;
      expect(dials().length).toBeGreaterThan(1);
    } finally {
      client.close();
    }
  });

  const answerRun = (r: { stdout: string; stderr?: string; code?: number; delayMs?: number }): void =>
    fs.writeFileSync(path.join(dir, "log.run"), JSON.stringify({ stderr: "", code: 0, delayMs: 0, ...r }));

  test("run: one command on the server as a session of the same shared connection, after the first stream set it up", async () => {
    answerRun({ stdout: "line 1\nline 2\n" });
    const client = dockerClient(TARGET, 10_000);
    try {
      const run = client.run;
      if (run === undefined) throw new Error("an ssh:// client has run()");
      await client.docker.ping();
      expect(await run(["docker", "stats", "--no-stream"], "docker stats on server s1", 5_000)).toBe("line 1\nline 2\n");
      const runs = calls().filter((c) => !c.includes("dial-stdio") && !c.includes("-O"));
      expect(runs.length).toBe(1);
      expect(runs[0][runs[0].length - 1]).toBe("'docker' 'stats' '--no-stream'");
      const controlPath = (c: string[]) => c.find((a) => a.startsWith("ControlPath="));
      expect(controlPath(runs[0])).toBe(controlPath(dials()[0]));
      expect(client.sshStarted?.()).toBe(dials().length + 1);
    } finally {
      client.close();
    }
  });

  test("run: a failing command names what it was and gives ssh's exit status and stderr; a slow one is cut at its timeout", async () => {
    const client = dockerClient(TARGET, 10_000);
    const run = client.run;
    if (run === undefined) throw new Error("an ssh:// client has run()");
    try {
      await client.docker.ping();
      answerRun({ stdout: "", stderr: "Error response from daemon: No such container: abc\n", code: 1 });
      await expect(run(["docker", "stats"], "docker stats on server s1", 5_000))
        .rejects.toThrow(/^docker stats on server s1: .*ssh exited with 1: Error response from daemon: No such container: abc$/);
      answerRun({ stdout: "late", delayMs: 5_000 });
      const t0 = Date.now();
      await expect(run(["docker", "stats"], "docker stats on server s1", 300)).rejects.toThrow("docker stats on server s1 timed out after 300 ms");
      expect(Date.now() - t0).toBeLessThan(2_000);
    } finally {
      client.close();
    }
  });

  test("a local engine has no run(): its containers are sampled one stats call each", () => {
    expect(dockerClient({ kind: "unix", socketPath: path.join(dir, "engine.sock"), display: "unix://x" }, 1000).run).toBeUndefined();
  });

  test("a server that does not answer: the request fails, and failure() gives ssh's own reason", async () => {
    fs.writeFileSync(path.join(dir, "ssh"), fakeSsh(path.join(dir, "log"), "unreachable"), { mode: 0o755 });
    const client = dockerClient(TARGET, 5_000);
    try {
      await expect(client.docker.ping()).rejects.toThrow();
      expect(await client.failure()).toMatch(/exited with 255: ssh: connect to host srv.example port 2222: Connection refused/);
    } finally {
      client.close();
    }
  });
});
