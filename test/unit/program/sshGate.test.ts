import { ChildProcess, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

/** program/sshGate.js, the Docker provider's ProxyCommand: bounded direct connections per server. */
const GATE = path.join(__dirname, "../../../program/sshGate.js");

interface Run { code: number | null; stdout: string; stderr: string }

function gate(home: string, slots: number, waitSeconds: number, port: number, input: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [GATE, String(slots), String(waitSeconds), "127.0.0.1", String(port)], {
      env: { ...process.env, OPENCLAW_SSH_GATE_HOME: home },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

function slotDir(home: string, port: number): string {
  const hash = crypto.createHash("sha256").update(`127.0.0.1:${port}`).digest("hex").slice(0, 16);
  return path.join(home, ".ssh", "openclaw-mux", `gate-${hash}`);
}

describe("the ssh gate (program/sshGate.js)", () => {
  let home: string;
  let server: net.Server;
  let port: number;
  let open = 0;
  let most = 0;
  let dropNext = 0;
  let dropped = 0;

  beforeAll(async () => {
    // Stands in for sshd: answers each connection after a while, counting how many are open at once.
    server = net.createServer({ allowHalfOpen: true }, (c) => {
      // Like sshd past MaxStartups: the first connections after `dropNext` is set are closed unanswered.
      if (dropNext > 0) {
        dropNext--;
        dropped++;
        c.destroy();
        return;
      }
      c.write("SSH-2.0-stand-in\n"); // sshd speaks first
      open++;
      most = Math.max(most, open);
      let got = "";
      c.on("data", (d: Buffer) => (got += d.toString()));
      // Counted closed when it answers: before the gate can see the close and free its slot.
      c.on("end", () => setTimeout(() => { open--; c.end(`echo:${got}`); }, 150));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as net.AddressInfo).port;
  });
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), "ssh-gate-"));
    most = 0;
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  test("20 connections at once through 3 slots: every one is carried, never more than 3 open", async () => {
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => gate(home, 3, 60, port, `c${i}`)));
    expect(runs.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `SSH-2.0-stand-in\necho:c${i}`));
    expect(runs.every((r) => r.code === 0)).toBe(true);
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThanOrEqual(2); // they do run side by side
    expect(fs.statSync(path.dirname(slotDir(home, port))).mode & 0o777).toBe(0o700);
  }, 60_000);

  test("a slot left behind by a killed process is taken over", async () => {
    const dir = slotDir(home, port);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, "slot-0.sock");
    const holder: ChildProcess = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(file)}, () => console.log("up"))`]);
    await new Promise<void>((r) => holder.stdout?.once("data", () => r()));
    holder.kill("SIGKILL");
    await new Promise<void>((r) => holder.once("close", () => r()));
    expect(fs.existsSync(file)).toBe(true);
    const run = await gate(home, 1, 10, port, "after");
    expect(run).toMatchObject({ code: 0, stdout: "SSH-2.0-stand-in\necho:after" });
  }, 30_000);

  test("a connection the server closes before its banner (sshd past MaxStartups) is tried again, unseen by ssh", async () => {
    dropNext = 2;
    dropped = 0;
    const run = await gate(home, 1, 30, port, "retried");
    expect(dropped).toBe(2);
    expect(run).toMatchObject({ code: 0, stdout: "SSH-2.0-stand-in\necho:retried" });
  }, 30_000);

  test("a gate that cannot get a slot in time fails loudly, naming the server and the slots", async () => {
    const dir = slotDir(home, port);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const busy = net.createServer((c) => c.destroy());
    await new Promise<void>((r) => busy.listen(path.join(dir, "slot-0.sock"), r));
    try {
      const run = await gate(home, 1, 1, port, "never");
      expect(run.code).toBe(255);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(`waited 1 s for one of 1 connection slots to 127.0.0.1:${port}`);
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  }, 30_000);
});
