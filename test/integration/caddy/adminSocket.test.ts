// Caddy's admin API on a root-only unix socket (issue 19), on a real Caddy: the program's edge
// command moves a running Caddy from TCP onto the socket and then reloads through it; the socket is
// 0600 root's; a local user who could reconfigure Caddy over TCP is refused on the socket.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { renderCaddyfile } from "../../../core/caddyfile";
import { INSTALL_SCRIPT_PATH, installCommand } from "../../../components/edge";
import { caddyAdminAnswers } from "../../../tools/launcher/probes";
import { Cleanup, RunningCaddy, caddySandbox, freePort, httpGet, makeTempDir, removeDir, runCommand, startCaddy } from "../support/caddy";

jest.setTimeout(60_000);

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

/** Connects to a unix socket or host:port as `nobody` (setpriv: uid/gid 65534, no groups); prints "connected" or the errno code. */
function connectAsNobody(target: { path: string } | { port: number }): string {
  const code = `const s=require("net").connect(${JSON.stringify("path" in target ? { path: target.path } : { host: "127.0.0.1", port: target.port })});` +
    `s.on("connect",()=>{console.log("connected");s.destroy()});s.on("error",e=>console.log(e.code));setTimeout(()=>process.exit(0),3000).unref()`;
  const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", code], { encoding: "utf8", timeout: 10_000 });
  return `${r.stdout}${r.stderr}`.trim();
}

/** GET /config/ over the socket, as root (what `caddy reload --address unix/...` does). */
function configOverSocket(socket: string): string {
  const r = spawnSync("curl", ["-sS", "--max-time", "5", "--unix-socket", socket, "http://localhost/config/"], { encoding: "utf8", timeout: 10_000 });
  return r.stdout;
}

let dir: string;
let caddy: RunningCaddy;
let tcpPort: number;
let socket: string;
let admin: string;
let sandbox: ReturnType<typeof caddySandbox>;
let options: (adminAddress: string, domain?: string) => Parameters<typeof renderCaddyfile>[0];
const script = fs.readFileSync(INSTALL_SCRIPT_PATH, "utf8");

beforeAll(async () => {
  dir = makeTempDir("admin-socket");
  cleanup.add("dir", () => removeDir(dir));
  // Traversable by everyone (mkdtemp makes 0700): the socket's own mode is what must refuse a local user.
  fs.chmodSync(dir, 0o755);
  sandbox = caddySandbox(dir);
  for (const d of [sandbox.storageDir, path.dirname(sandbox.caddyfilePath)]) fs.chmodSync(d, 0o755);
  socket = path.join(dir, "run", "admin.sock"); // run/ does not exist yet: the edge makes it
  admin = `unix/${socket}|0600`;
  tcpPort = await freePort();
  const ports = { http: await freePort(), https: await freePort() };
  options = (adminAddress: string, domain = "claw.test") => ({ adminAddress, domain, routesDir: sandbox.routesDir, localCerts: true, httpPort: ports.http, httpsPort: ports.https, storageDir: sandbox.storageDir });
  // A Caddy as an older stack (or Debian's package) left it: admin API on TCP loopback.
  fs.writeFileSync(sandbox.caddyfilePath, renderCaddyfile(options(`127.0.0.1:${tcpPort}`)));
  caddy = await startCaddy({ configPath: sandbox.caddyfilePath, adminAddress: `127.0.0.1:${tcpPort}`, env: sandbox.env, logFile: path.join(dir, "caddy.log") });
  cleanup.add("caddy", () => caddy.stop());
});

test("before: over TCP, any local user (nobody) reaches the admin API", () => {
  expect(connectAsNobody({ port: tcpPort })).toBe("connected");
});

test("the edge command moves Caddy onto the socket (reloading once through TCP), then reloads through the socket", async () => {
  const command = installCommand(script, sandbox.caddyfilePath, admin);
  const first = await runCommand(["/bin/bash", "-c"], command, renderCaddyfile(options(admin)), { ...sandbox.env, OPENCLAW_CADDY_PREVIOUS_ADMIN: `127.0.0.1:${tcpPort}` });
  expect(`${first.exitCode} ${first.stderr}`).toContain("0 openclaw-hosting: Caddy's admin socket");
  expect(first.stdout).toContain("Caddy reloaded");
  expect(fs.statSync(socket).isSocket()).toBe(true);
  expect(await httpGet(`127.0.0.1:${tcpPort}`, "/config/", 1_000).then(() => "answers", () => "closed")).toBe("closed");

  // The second apply (another domain: a real change) goes straight through the socket (no previous address given: it must not be needed).
  const second = await runCommand(["/bin/bash", "-c"], command, renderCaddyfile(options(admin, "second.test")), sandbox.env);
  expect(second.exitCode).toBe(0);
  expect(second.stderr).not.toContain("does not exist yet");
  expect(configOverSocket(socket)).toContain("second.test");
  expect(await caddyAdminAnswers(admin)).toBe(true); // the launcher's probe speaks the socket too
  console.log(`admin socket: moved from TCP in ${Math.round(first.ms)} ms, reloaded through the socket in ${Math.round(second.ms)} ms`);
});

test("the socket is mode 0600, owned by root (the user Caddy runs as here)", () => {
  const st = fs.statSync(socket);
  expect((st.mode & 0o777).toString(8)).toBe("600");
  expect([st.uid, st.gid]).toEqual([0, 0]);
  expect(caddy.pid).toBeGreaterThan(0);
});

test("after: nobody is refused on the socket (EACCES), though it can reach the path; root connects", () => {
  const reach = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "stat", "-c", "%A", socket], { encoding: "utf8", timeout: 10_000 });
  expect(reach.stdout.trim()).toBe("srw-------"); // the folders let nobody through: the socket's mode is what refuses
  expect(connectAsNobody({ path: socket })).toBe("EACCES");
  expect(configOverSocket(socket)).toContain("\"admin\"");
});
