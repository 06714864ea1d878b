// The embedded default answers for real: Caddy started the way npm start starts it, the dev stack's
// own Caddyfile and routes installed by the edge commands exactly as `pulumi up` runs them, and each sample
// tenant answering at https://<tenant>.claw.localhost:8443 through Caddy's local CA (stand-in
// gateways on the tenants' ports). curl reaches *.localhost with no DNS setup.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { installCommand, INSTALL_SCRIPT_PATH, routesCommand, ROUTES_SCRIPT_PATH } from "../../../components/edge";
import { routesDirOf } from "../../../core/caddyfile";
import { checkHosting } from "../../../core/check";
import { DEV_PLACEHOLDER_KEY, devPlaceholderKeys } from "../../../tools/launcher/decisions";
import { readRosterDir } from "../../../program/rosterFolder";
import { readStackFile } from "../../../tools/shared/stackFile";
import { caddyAdminAnswers } from "../../../tools/launcher/probes";
import { startCaddyForStack } from "../../../tools/launcher/caddy";
import { Cleanup, EchoBackend, HttpResult, httpsGet, localRootCaPath, makeTempDir, removeDir, runCommand, startEchoBackend } from "../support/caddy";

const REPO = path.resolve(__dirname, "..", "..", "..");

describe("the dev stack's edge, started the launcher's way", () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());

  it("serves every sample tenant at https://<tenant>.claw.localhost:8443 through Caddy's local CA", async () => {
    const dir = makeTempDir("dev-edge");
    cleanup.add("dir", () => removeDir(dir));
    // The dev stack as the launcher sees it, with Caddy's files in a scratch folder (same ports).
    const { raw } = readStackFile(fs.readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8"));
    const caddy = { ...(raw.caddy as Record<string, unknown>), caddyfilePath: path.join(dir, "etc", "Caddyfile"), storageDir: path.join(dir, "storage") };
    const readRoster = (d: string) => readRosterDir(path.resolve(REPO, d));
    const first = checkHosting({ ...raw, caddy }, readRoster);
    const active = (first.plan?.tenants ?? []).filter((t) => t.state === "active").map((t) => t.name);
    const keys = Object.fromEntries(devPlaceholderKeys("dev", active, []).map((t) => [t, DEV_PLACEHOLDER_KEY]));
    const checked = checkHosting({ ...raw, caddy, apiKeys: keys }, readRoster);
    expect(checked.problems).toEqual([]);
    const config = checked.config!;
    const plan = checked.plan!;
    expect(config.caddy.adminAddress).toBe("localhost:2019");

    const backends: EchoBackend[] = [];
    for (const t of plan.tenants.filter((x) => x.state === "active")) backends.push(await startEchoBackend(t.name, t.port));
    cleanup.add("backends", async () => {
      for (const b of backends) await b.close();
    });

    expect(await caddyAdminAnswers(config.caddy.adminAddress)).toBe(false);
    const env = { ...process.env, HOME: dir, XDG_DATA_HOME: path.join(dir, "xdg-data"), XDG_CONFIG_HOME: path.join(dir, "xdg-config") };
    const saved = { HOME: process.env.HOME, XDG_DATA_HOME: process.env.XDG_DATA_HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
    Object.assign(process.env, env); // the Caddy the launcher starts inherits this process's environment
    let line: string;
    try {
      line = startCaddyForStack(config, path.join(dir, "state"));
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
    cleanup.add("caddy", () => void spawnSync("caddy", ["stop", "--address", config.caddy.adminAddress], { timeout: 15_000 }));
    expect(line).toContain("started Caddy (admin localhost:2019");
    expect(await caddyAdminAnswers(config.caddy.adminAddress)).toBe(true);

    // What the Edge component runs on `pulumi up`: the routes, then the Caddyfile, each on stdin.
    const routes = await runCommand(["/bin/bash", "-c"], routesCommand(fs.readFileSync(ROUTES_SCRIPT_PATH, "utf8"), routesDirOf(config.caddy)), plan.routes, env, 60_000);
    expect(`${routes.exitCode} ${routes.stderr}`).toBe("0 ");
    const command = installCommand(fs.readFileSync(INSTALL_SCRIPT_PATH, "utf8"), config.caddy.caddyfilePath, config.caddy.adminAddress);
    const run = await runCommand(["/bin/bash", "-c"], command, plan.caddyfile, env, 60_000);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("Caddy reloaded");

    const root = localRootCaPath(config.caddy.storageDir!);
    let ca = "";
    for (let i = 0; i < 50 && ca === ""; i++) {
      if (fs.existsSync(root)) ca = fs.readFileSync(root, "utf8");
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(ca).toContain("BEGIN CERTIFICATE");
    for (const t of plan.tenants) {
      expect(t.url).toBe(`https://${t.host}:8443`);
      // Certificates are issued on the first handshake: allow a few attempts. (Node's own errors are
      // not instances of jest's Error, so failures are told apart by a flag.)
      let result: HttpResult | undefined;
      let lastError = "";
      for (let i = 0; i < 20 && result === undefined; i++) {
        try {
          result = await httpsGet({ host: t.host, port: 8443, ca, timeoutMs: 10_000 });
        } catch (err) {
          lastError = String(err);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      if (result === undefined) throw new Error(`https://${t.host}:8443 did not answer: ${lastError}`);
      if (t.state === "active") {
        expect(result.status).toBe(200);
        expect(JSON.parse(result.body)).toMatchObject({ backend: t.name, forwardedProto: "https" });
      } else {
        expect(result.status).toBe(503);
      }
      // curl resolves *.localhost to loopback by itself, and trusts the local CA with --cacert.
      // (Asynchronously: the stand-in gateways answer from this very process.)
      const curl = await runCommand(["/bin/bash", "-c"], `curl -sS --max-time 10 --cacert '${root}' -o /dev/null -w '%{http_code}' '${t.url}/'`, "", process.env, 15_000);
      expect(curl.stderr).toBe("");
      expect(curl.stdout).toBe(t.state === "active" ? "200" : "503");
    }
  });
});
