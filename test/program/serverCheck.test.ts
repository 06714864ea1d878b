/**
 * The program's server check under Pulumi's mock engine, against engines on this machine only: a
 * Docker API on a unix socket the test serves (answers), an ssh:// address on a loopback port that
 * nothing listens on (refused), and a loopback listener that accepts and never speaks (silent).
 */
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { ProgramFailure, runProgram } from "../support/program";

/** A well-formed key for the servers here (their host keys are checked before they are asked; none answers ssh). */
const ANY_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAcYTx8qTyI+UPK/atRiXnZQolw64Dx4flYs32eP2+GQ";
import { THREE_SERVERS, serversConfig } from "../support/servers";

let dir: string;
let engine: http.Server;
let silent: net.Server;
let silentPort: number;
let pings = 0;
const sockets = new Set<net.Socket>();
const closedPort = async (): Promise<number> => {
  // A port that was just free: bound and released, so nothing listens on it during the test.
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-check-"));
  // Just enough of the Docker API for a ping: what dockerode's ping asks.
  engine = http.createServer((req, res) => {
    if (req.url?.endsWith("/_ping")) pings++;
    res.writeHead(req.url?.endsWith("/_ping") ? 200 : 404, { "Content-Type": "text/plain", "Api-Version": "1.47" });
    res.end(req.url?.endsWith("/_ping") ? "OK" : "");
  });
  await new Promise<void>((r) => engine.listen(path.join(dir, "docker.sock"), r));
  silent = net.createServer((socket) => sockets.add(socket)); // accepts, never sends an ssh banner
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  silentPort = (silent.address() as net.AddressInfo).port;
});
afterAll(async () => {
  engine.closeAllConnections();
  for (const socket of sockets) socket.destroy();
  await new Promise((r) => engine.close(r));
  await new Promise((r) => silent.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

const on = (extra: Record<string, string> = {}) => ({ OPENCLAW_SERVER_CHECK: "on", OPENCLAW_SERVER_CHECK_TIMEOUT: "3", DOCKER_HOST: `unix://${path.join(dir, "docker.sock")}`, ...extra });

test("every engine answers: the program goes on and registers the servers' resources", async () => {
  const before = pings;
  const run = await runProgram(serversConfig([{ name: "alice", server: "a", port: 18810 }], { servers: { a: THREE_SERVERS.a }, dns: undefined }), {}, undefined, on());
  expect(pings - before).toBe(1);
  expect(run.resources.some((r) => r.type === "docker:index/container:Container")).toBe(true);
});

test("a server whose ssh is refused and one that never speaks: the program stops before registering anything, naming each with its tenants", async () => {
  const refused = await closedPort();
  const servers = {
    a: THREE_SERVERS.a,
    b: { ...THREE_SERVERS.b, ssh: { host: "127.0.0.1", user: "deploy", port: refused, hostKey: ANY_HOST_KEY } },
    c: { ...THREE_SERVERS.c, ssh: { host: "127.0.0.1", user: "deploy", port: silentPort, hostKey: ANY_HOST_KEY } },
  };
  const t0 = Date.now();
  const failure = await runProgram(serversConfig(undefined, { servers }), {}, undefined, on()).then(
    () => undefined,
    (err: unknown) => err,
  );
  const ms = Date.now() - t0;
  expect(failure).toBeInstanceOf(ProgramFailure);
  const { message, registered } = failure as ProgramFailure;
  expect(message).toContain("found 2 problem(s); nothing was changed");
  expect(message).toContain(`config servers.b.ssh: server b does not answer at ssh://deploy@127.0.0.1:${refused} within 3 s (`);
  expect(message).toMatch(new RegExp(`server b does not answer [^\\n]*Connection refused[^\\n]*Its 2 tenant\\(s\\) \\(carol, dave\\) are down until it is back or they are moved; the other servers were not touched either`));
  expect(message).toMatch(/config servers\.c\.ssh: server c does not answer at ssh:\/\/deploy@127\.0\.0\.1:\d+ within 3 s \((ping c timed out after 3000 ms|ssh exited with 255: Connection timed out during banner exchange[^)]*)\)\. Its 2 tenant\(s\) \(erin, frank\)/);
  expect(message).not.toContain("server a does not answer");
  // Only the read of the last deployment happened: no server, container, record or command.
  expect(registered.map((r) => r.type)).toEqual(["pulumi:pulumi:StackReference"]);
  console.log(`server check, one refused and one silent server (3 s timeout each, asked at once): ${ms} ms for the whole program run`);
});

test("this machine's engine not answering, on a single-server stack: named as such", async () => {
  const failure = await runProgram(serversConfig([{ name: "alice", port: 18810 }], { servers: undefined, dns: undefined }), {}, undefined,
    on({ DOCKER_HOST: `unix://${path.join(dir, "no-engine-here.sock")}` })).then(() => undefined, (err: unknown) => err);
  expect(failure).toBeInstanceOf(ProgramFailure);
  expect((failure as ProgramFailure).message).toContain(`config (this machine's Docker engine): the server does not answer at unix://${path.join(dir, "no-engine-here.sock")} within 3 s (`);
  expect((failure as ProgramFailure).message).toContain("Its 1 tenant(s) (alice) are down until it is back or they are moved; nothing was touched");
});

test.each([
  ["OPENCLAW_SERVER_CHECK", "maybe", "config (environment).OPENCLAW_SERVER_CHECK: must be on or off"],
  ["OPENCLAW_SERVER_CHECK_TIMEOUT", "0", "config (environment).OPENCLAW_SERVER_CHECK_TIMEOUT: must be at least 1 (seconds)"],
  ["OPENCLAW_SERVER_CHECK_TIMEOUT", "soon", "config (environment).OPENCLAW_SERVER_CHECK_TIMEOUT: must be a number of seconds"],
])("a bad %s (%s) is refused, naming the variable", async (name, value, expected) => {
  const failure = await runProgram(serversConfig([{ name: "alice", server: "a", port: 18810 }], { servers: { a: THREE_SERVERS.a }, dns: undefined }), {}, undefined,
    on({ [name]: value })).then(() => undefined, (err: unknown) => err);
  expect((failure as ProgramFailure).message).toContain(expected);
});

test("OPENCLAW_SERVER_CHECK=off: nothing is asked (a preview where the servers cannot be reached)", async () => {
  const before = pings;
  const servers = { a: THREE_SERVERS.a, b: { ...THREE_SERVERS.b, ssh: { host: "127.0.0.1", user: "deploy", port: await closedPort(), hostKey: ANY_HOST_KEY } } };
  const run = await runProgram(serversConfig([{ name: "alice", server: "a", port: 18810 }, { name: "carol", server: "b", port: 18810 }], { servers, dns: undefined }), {}, undefined,
    on({ OPENCLAW_SERVER_CHECK: "off" }));
  expect(pings).toBe(before);
  expect(run.resources.filter((r) => r.type === "docker:index/container:Container").map((r) => r.name).sort()).toEqual(["alice-gateway", "carol-gateway"]);
});
