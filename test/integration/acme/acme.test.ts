// Certificates against a real ACME server: Pebble (Let's Encrypt's test server) and
// pebble-challtestsrv (its DNS: every name resolves to 127.0.0.1; TXT records set over HTTP), on
// loopback ports only. Proves: Caddy obtains a routed tenant's certificate on demand through
// HTTP-01/TLS-ALPN-01 (tls.mode perTenant), asking its own route check first; the server's certificate script obtains `*.<domain>` through DNS-01 with
// lego and Caddy serves it (wildcard); a renewal puts a new certificate live; an ACME server that is
// down keeps the certificate in use and the failure is recorded and flagged.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import * as tls from "tls";
import { renderCaddyfile, renderRoutes } from "../../../core/caddyfile";
import { EdgeOptions } from "../../../core/caddyfile";
import { RenewalSettings, renewalSettingsText } from "../../../core/tls";
import { certificateReasons, parseCertificateRecord } from "../../../tools/shared/status/certificates";
import { Cleanup, RunningCaddy, caddySandbox, freePort, makeTempDir, removeDir, runCommand, startCaddy, stopProcess, waitUntil } from "../support/caddy";

const SCRIPT = path.join(__dirname, "..", "..", "..", "server-scripts", "tls-certificate.sh");
const ROUTES_SCRIPT = path.join(__dirname, "..", "..", "..", "server-scripts", "install-routes.sh");
const DOMAIN = "claw.test";
const TOKEN = "test-token-must-not-leak-7f3a";

const cleanup = new Cleanup();
let dir: string;
let ports: { acme: number; mgmt: number; dns: number; cts: number; http: number; https: number; admin: number };
let pebble: ChildProcess;
let pebbleRoot: string;
let caddy: RunningCaddy;
let sandbox: ReturnType<typeof caddySandbox>;
let listenerCert: string;

function spawnLogged(cmd: string, args: string[], log: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const fd = fs.openSync(log, "a");
  const child = spawn(cmd, args, { stdio: ["ignore", fd, fd], env: { PATH: process.env.PATH, ...env } });
  fs.closeSync(fd);
  return child;
}

function get(url: string, caFile: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: fs.readFileSync(caFile, "utf8"), timeout: 3_000, agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

async function startPebble(): Promise<ChildProcess> {
  const child = spawnLogged("pebble", ["-config", path.join(dir, "pebble.json"), "-dnsserver", `127.0.0.1:${ports.dns}`], path.join(dir, "pebble.log"), {
    PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0",
  });
  try {
    await waitUntil("Pebble's directory", async () => ((await get(`https://127.0.0.1:${ports.acme}/dir`, listenerCert)).status === 200 ? true : undefined), { timeoutMs: 15_000 });
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return child;
}

/** The certificate Caddy serves for `host` (SNI), verified against Pebble's root: it was issued by this Pebble. */
function served(host: string): Promise<{ serial: string; san: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port: ports.https, servername: host, ca: pebbleRoot, timeout: 3_000 }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve({ serial: cert.serialNumber.toUpperCase(), san: cert.subjectaltname ?? "" });
    });
    socket.on("timeout", () => socket.destroy(new Error("timeout")));
    socket.on("error", reject);
  });
}

/** The edge as the program makes it: alice active, bob suspended, in the route folder; the Caddyfile names no tenant. */
function edge(extra: Partial<EdgeOptions>): string {
  const routesDir = path.join(dir, "routes");
  const routes = renderRoutes([{ host: `alice.${DOMAIN}`, port: ports.cts, state: "active" }, { host: `bob.${DOMAIN}`, port: ports.cts, state: "suspended" }]);
  const installed = spawnSync("bash", [ROUTES_SCRIPT, routesDir], { input: routes, encoding: "utf8", timeout: 30_000 });
  if (installed.status !== 0) throw new Error(`install-routes.sh: ${installed.stderr}`);
  const text = renderCaddyfile({
    adminAddress: `127.0.0.1:${ports.admin}`, domain: DOMAIN, routesDir, acmeEmail: "ops@example.com", acmeCa: `https://127.0.0.1:${ports.acme}/dir`,
    acmeCaRoot: listenerCert, localCerts: false, httpPort: ports.http, httpsPort: ports.https, storageDir: sandbox.storageDir, ...extra,
  });
  // Loopback only: the test's Caddy must not listen on the machine's other addresses.
  return text.replace("{\n", "{\n\tdefault_bind 127.0.0.1\n");
}

const state = () => path.join(dir, "state");
const scriptEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH, OPENCLAW_TLS_ETC: path.join(dir, "etc"), OPENCLAW_TLS_STATE: state(),
  OPENCLAW_TLS_INSTALLED: path.join(dir, "installed.sh"), OPENCLAW_TLS_NO_SYSTEMD: "1",
});

function settings(mode: "perTenant" | "wildcard", renewDays: number): string {
  const s: RenewalSettings = {
    mode, domain: DOMAIN, directory: `https://127.0.0.1:${ports.acme}/dir`, email: "ops@example.com", renewDays,
    caddyfilePath: sandbox.caddyfilePath, caddyAdmin: `127.0.0.1:${ports.admin}`, caddyStorage: sandbox.storageDir, dnsProvider: "exec",
  };
  // The exec provider stands in for cloudflare: it hands the TXT record to challtestsrv.
  return renewalSettingsText(s) + [
    `EXEC_PATH=${path.join(dir, "dns-exec.sh")}`, `LEGO_CA_CERTIFICATES=${listenerCert}`, `DNS_RESOLVERS=127.0.0.1:${ports.dns}`,
    "DNS_DISABLE_CP=true", `CLOUDFLARE_DNS_API_TOKEN=${TOKEN}`,
  ].join("\n") + "\n";
}

async function script(args: string[], stdin = ""): Promise<{ code: number | null; output: string }> {
  const r = await runCommand(["/bin/bash", "-c"], `bash ${SCRIPT} ${args.join(" ")}`, stdin, scriptEnv(), 120_000);
  return { code: r.exitCode, output: `${r.stdout}${r.stderr}` };
}

const statusText = () => fs.readFileSync(path.join(state(), "status.json"), "utf8");
const record = () => parseCertificateRecord(statusText(), new Date());
const liveSerial = () =>
  spawnSync("openssl", ["x509", "-serial", "-noout", "-in", path.join(state(), "live", "wildcard.crt")], { encoding: "utf8" }).stdout.trim().replace(/^serial=/, "").toUpperCase();

beforeAll(async () => {
  dir = makeTempDir("acme");
  cleanup.add("temp dir", () => removeDir(dir));
  const [acme, mgmt, dns, cts, http, httpsPort, admin] = await Promise.all(Array.from({ length: 7 }, () => freePort()));
  ports = { acme, mgmt, dns, cts, http, https: httpsPort, admin };
  sandbox = caddySandbox(path.join(dir, "caddy"));
  // Pebble's own HTTPS listener needs a certificate; lego and Caddy are told to trust it.
  listenerCert = path.join(dir, "listener.crt");
  const key = path.join(dir, "listener.key");
  const ssl = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", listenerCert,
    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], { encoding: "utf8", timeout: 10_000 });
  if (ssl.status !== 0) throw new Error(ssl.stderr);
  fs.writeFileSync(path.join(dir, "pebble.json"), JSON.stringify({ pebble: {
    listenAddress: `127.0.0.1:${acme}`, managementListenAddress: `127.0.0.1:${mgmt}`, certificate: listenerCert, privateKey: key,
    // Where Pebble validates HTTP-01 and TLS-ALPN-01: Caddy's ports (challtestsrv resolves every name to 127.0.0.1).
    httpPort: http, tlsPort: httpsPort, ocspResponderURL: "", externalAccountBindingRequired: false,
  } }));
  fs.writeFileSync(path.join(dir, "dns-exec.sh"), [
    "#!/bin/bash",
    "# lego's exec DNS provider: present|cleanup FQDN VALUE, handed to challtestsrv",
    `case $1 in present) curl -sS -m 5 -d "{\\"host\\":\\"$2\\",\\"value\\":\\"$3\\"}" http://127.0.0.1:${cts}/set-txt ;;`,
    `  cleanup) curl -sS -m 5 -d "{\\"host\\":\\"$2\\"}" http://127.0.0.1:${cts}/clear-txt ;; esac`,
    "",
  ].join("\n"), { mode: 0o755 });
  const challtestsrv = spawnLogged("pebble-challtestsrv", ["-dns01", `127.0.0.1:${dns}`, "-http01", "", "-https01", "", "-tlsalpn01", "", "-management", `127.0.0.1:${cts}`, "-defaultIPv6", ""], path.join(dir, "challtestsrv.log"));
  cleanup.add("challtestsrv", () => stopProcess(challtestsrv));
  pebble = await startPebble();
  cleanup.add("pebble", () => stopProcess(pebble));
  // The root Pebble generated at start: what a served certificate must chain to.
  const mgmtUrl = `https://127.0.0.1:${mgmt}`;
  pebbleRoot = (await get(`${mgmtUrl}/roots/0`, listenerCert)).body;
  fs.writeFileSync(sandbox.caddyfilePath, edge({}));
  caddy = await startCaddy({ configPath: sandbox.caddyfilePath, adminAddress: `127.0.0.1:${admin}`, env: sandbox.env, logFile: path.join(dir, "caddy.log") });
  cleanup.add("caddy", () => caddy.stop());
}, 60_000);

afterAll(() => cleanup.run());

describe("certificates against Pebble", () => {
  it("perTenant: Caddy obtains each tenant's certificate on its first handshake through HTTP-01/TLS-ALPN-01, an unknown name gets none, and the record lists them", async () => {
    const alice = await waitUntil(`Pebble's certificate for alice.${DOMAIN}`, () => served(`alice.${DOMAIN}`), { timeoutMs: 60_000, intervalMs: 500 });
    expect(alice.san).toBe(`DNS:alice.${DOMAIN}`);
    const bob = await waitUntil(`Pebble's certificate for bob.${DOMAIN}`, () => served(`bob.${DOMAIN}`), { timeoutMs: 30_000, intervalMs: 500 });
    expect(bob.san).toBe(`DNS:bob.${DOMAIN}`);
    await expect(served(`eve.${DOMAIN}`)).rejects.toThrow();
    // The daily record reads Caddy's storage.
    const install = await script(["install", "s1"], settings("perTenant", 30));
    expect(install.code).toBe(0);
    const r = record();
    expect(r.mode).toBe("perTenant");
    expect(r.certificates.map((c) => `${c.source} ${c.name}`).sort()).toEqual([`caddy alice.${DOMAIN}`, `caddy bob.${DOMAIN}`]);
    expect(r.certificates.find((c) => c.name === `alice.${DOMAIN}`)?.daysLeft).toBeGreaterThan(14);
    expect(certificateReasons(r)).toEqual([]);
  });

  it("wildcard: lego obtains *.<domain> through DNS-01, Caddy serves it for every tenant, and the token is stored root-only and never echoed", async () => {
    const install = await script(["install", "s1"], settings("wildcard", 30));
    expect(install.code).toBe(0);
    const serial = liveSerial();
    expect(serial).toMatch(/^[0-9A-F]+$/);
    fs.writeFileSync(sandbox.caddyfilePath, edge({ tls: { mode: "wildcard", renewDays: 30 }, tlsFiles: { cert: path.join(state(), "live", "wildcard.crt"), key: path.join(state(), "live", "wildcard.key") } }));
    const reload = spawnSync("caddy", ["reload", "--config", sandbox.caddyfilePath, "--adapter", "caddyfile", "--address", `127.0.0.1:${ports.admin}`], { env: sandbox.env, encoding: "utf8", timeout: 30_000 });
    expect(reload.status).toBe(0);
    for (const host of [`alice.${DOMAIN}`, `bob.${DOMAIN}`]) {
      const s = await served(host);
      expect(s).toEqual({ serial, san: `DNS:*.${DOMAIN}` });
    }
    const r = record();
    expect(r.certificates.filter((c) => c.source === "lego")).toEqual([expect.objectContaining({ name: `*.${DOMAIN}` })]);
    expect(r.renewal?.ok).toBe(true);
    expect(fs.statSync(path.join(dir, "etc", "settings")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dir, "etc")).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(state(), "live", "wildcard.key")).mode & 0o777).toBe(0o640);
    expect(install.output).not.toContain(TOKEN);
    expect(statusText()).not.toContain(TOKEN);
    // Debian's Caddy runs as user caddy: it can read the live key, another user cannot, nor lego's
    // account key, nor the settings (the test's own folder opened for the walk, as /var/lib is).
    fs.chmodSync(dir, 0o755);
    const as = (who: string[], file: string) => spawnSync("setpriv", [...who, "cat", file], { encoding: "utf8", timeout: 10_000 }).status;
    const caddyUser = ["--reuid=caddy", "--regid=caddy", "--init-groups"];
    const nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    expect(as(caddyUser, path.join(state(), "live", "wildcard.key"))).toBe(0);
    expect(as(nobody, path.join(state(), "live", "wildcard.key"))).not.toBe(0);
    expect(as(caddyUser, path.join(state(), "lego", "certificates", `_.${DOMAIN}.key`))).not.toBe(0);
    expect(as(caddyUser, path.join(dir, "etc", "settings"))).not.toBe(0);
    expect(as(nobody, path.join(state(), "status.json"))).toBe(0);
  });

  it("renewal: a certificate within renewDays is renewed, put live and served (Caddy reloaded once); an unchanged one is left alone", async () => {
    const before = liveSerial();
    const reloadsBefore = fs.readFileSync(caddy.logFile, "utf8").split("load complete").length;
    // Pebble issues for 5 years: renewDays beyond that forces the renewal now.
    fs.writeFileSync(path.join(dir, "etc", "settings"), settings("wildcard", 3000), { mode: 0o600 });
    const renew = await script(["renew"]);
    expect(renew.code).toBe(0);
    const after = liveSerial();
    expect(after).not.toBe(before);
    expect((await served(`alice.${DOMAIN}`)).serial).toBe(after);
    expect(record().renewal?.ok).toBe(true);
    // Not due: lego keeps the certificate, nothing goes live, Caddy is not reloaded.
    fs.writeFileSync(path.join(dir, "etc", "settings"), settings("wildcard", 30), { mode: 0o600 });
    const reloadsMid = fs.readFileSync(caddy.logFile, "utf8").split("load complete").length;
    expect(reloadsMid).toBeGreaterThan(reloadsBefore);
    expect((await script(["renew"])).code).toBe(0);
    expect(liveSerial()).toBe(after);
    expect(fs.readFileSync(caddy.logFile, "utf8").split("load complete").length).toBe(reloadsMid);
  });

  it("another ACME directory (staging to production): a certificate from it at once, not at the next renewal", async () => {
    const before = liveSerial();
    // The same Pebble under another name (its listener certificate also names localhost): another directory URL.
    fs.writeFileSync(path.join(dir, "etc", "settings"), settings("wildcard", 30).replace(`ACME_SERVER=https://127.0.0.1:${ports.acme}/dir`, `ACME_SERVER=https://localhost:${ports.acme}/dir`), { mode: 0o600 });
    const renew = await script(["renew"]);
    expect(renew.code).toBe(0);
    expect(renew.output).toContain("acme: Obtaining bundled SAN certificate");
    const after = liveSerial();
    expect(after).not.toBe(before);
    expect((await served(`alice.${DOMAIN}`)).serial).toBe(after);
  });

  it("an ACME server that is down: the renewal fails, the certificate in use is kept and served, and status flags the failure", async () => {
    const inUse = liveSerial();
    await stopProcess(pebble);
    // The directory the certificate in use came from (the test before moved to localhost): a renewal, due now.
    fs.writeFileSync(path.join(dir, "etc", "settings"), settings("wildcard", 3000).replace(`ACME_SERVER=https://127.0.0.1:${ports.acme}/dir`, `ACME_SERVER=https://localhost:${ports.acme}/dir`), { mode: 0o600 });
    const renew = await script(["renew"]);
    expect(renew.code).not.toBe(0);
    expect(renew.output).toContain("the certificate in use is kept");
    expect(liveSerial()).toBe(inUse);
    expect((await served(`bob.${DOMAIN}`)).serial).toBe(inUse);
    const r = record();
    expect(r.renewal?.ok).toBe(false);
    const reasons = certificateReasons(r);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^certificate renewal failed at .*lego renew exited \d+/);
    expect(statusText()).not.toContain(TOKEN);
  });
});
