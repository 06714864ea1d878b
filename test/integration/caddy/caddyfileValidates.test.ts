// The Caddyfile the program renders must be accepted by the real Caddy (`caddy validate`), for the
// sample roster and for a 200-tenant roster; it is the same file for both (it names no tenant).
import * as fs from "fs";
import * as path from "path";
import { projectTempDir } from "../../support/roster";
import { runProgram } from "../../support/program";
import { CaddySandbox, Cleanup, caddyAdapt, caddySandbox, caddyValidate, caddyVersion, freePort, makeTempDir, removeDir } from "../support/caddy";
import { EdgePorts, SAMPLE_ROSTER_DIR, TEST_DOMAIN, edgeCommandOf, generateRoster, planFor, testStackConfig } from "./fixtures";

jest.setTimeout(60_000);

const cleanup = new Cleanup();
let sandbox: CaddySandbox;
let ports: EdgePorts;

beforeAll(async () => {
  const dir = makeTempDir("validate");
  cleanup.add(`remove ${dir}`, () => removeDir(dir));
  sandbox = caddySandbox(dir);
  ports = { http: await freePort(), https: await freePort(), admin: await freePort() };
  console.log(`caddy under test: ${caddyVersion()}`);
});

afterAll(() => cleanup.run());

function writeCaddyfile(name: string, text: string): string {
  const file = path.join(sandbox.dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe("caddy validate accepts the rendered Caddyfile", () => {
  test("sample roster, as rendered by the program (the edge command's stdin)", async () => {
    const config = testStackConfig({ rosterDir: SAMPLE_ROSTER_DIR, sandbox, ports, activeTenants: ["alice", "bob"] });
    const run = await runProgram(config);
    const { stdin } = edgeCommandOf(run);
    expect(run.outputs.caddyfile).toBe(stdin);
    expect(stdin).toBe(planFor(config).caddyfile);
    expect(stdin).toContain(`*.${TEST_DOMAIN} {`);
    for (const host of ["alice", "bob", "carol"]) expect(stdin).not.toContain(`${host}.`);

    const result = caddyValidate(writeCaddyfile("sample.Caddyfile", stdin), sandbox.env);
    expect(result).toEqual({ exitCode: 0, output: expect.stringContaining("Valid configuration") });
  });

  test("200-tenant roster: the same Caddyfile; Caddy's adapted config matches the one site and the loopback certificate question only", () => {
    const rosterDir = projectTempDir("roster-200");
    const { names, active } = generateRoster(rosterDir, 200);
    const config = testStackConfig({ rosterDir, sandbox, ports, portPool: { start: 20000, end: 20399 }, activeTenants: active });
    const plan = planFor(config);
    expect(plan.tenants).toHaveLength(200);
    expect(new Set(plan.tenants.map((t) => t.port)).size).toBe(200);

    const file = writeCaddyfile("roster-200.Caddyfile", plan.caddyfile);
    const started = Date.now();
    const result = caddyValidate(file, sandbox.env);
    console.log(`caddy validate, 200 tenants: ${Date.now() - started} ms, exit ${result.exitCode}`);
    expect(result).toEqual({ exitCode: 0, output: expect.stringContaining("Valid configuration") });

    const sample = planFor(testStackConfig({ rosterDir: SAMPLE_ROSTER_DIR, sandbox, ports, activeTenants: ["alice", "bob"] }));
    expect(plan.caddyfile).toBe(sample.caddyfile);
    expect(plan.routes.split("\n").filter((l) => l !== "").map((l) => l.split(" ")[0]).sort()).toEqual(names.map((n) => `${n}.${TEST_DOMAIN}`).sort());
    const hosts = adaptedHosts(file);
    expect(hosts.sort()).toEqual([`*.${TEST_DOMAIN}`, "127.0.0.1"]);
  });
});

/** Every host Caddy's HTTP routes match on, from `caddy adapt` (Caddy's own reading of the file). */
function adaptedHosts(file: string): string[] {
  const adapted = caddyAdapt(file, sandbox.env);
  expect({ exitCode: adapted.exitCode, stderr: adapted.exitCode === 0 ? "" : adapted.stderr }).toEqual({ exitCode: 0, stderr: "" });
  const json = JSON.parse(adapted.json) as { apps?: { http?: { servers?: Record<string, { routes?: { match?: { host?: string[] }[] }[] }> } } };
  const servers = Object.values(json.apps?.http?.servers ?? {});
  return servers.flatMap((s) => (s.routes ?? []).flatMap((r) => (r.match ?? []).flatMap((m) => m.host ?? [])));
}
