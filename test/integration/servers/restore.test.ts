/**
 * Restoring tenants from restic snapshots on the three stand-in servers (test/machinery/servers-env.sh),
 * with `npm run restore` and `npm run recover` run as an operator runs them (ssh with the stack's key,
 * host keys from OPENCLAW_KNOWN_HOSTS). The snapshots are the servers' own: server-scripts/tenant-backup.sh
 * run over ssh on each tenant's server (`tenant NAME`), one of them while a writer commits, into one
 * repository every server reaches through its /etc/openclaw/backup/restic.env (the namespaces share
 * this machine's filesystem, so a local-path repository stands in for the sftp one; the tools treat
 * the repository URL as opaque).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Docker from "dockerode";
import { npmScriptFile } from "../../support/cli";
import { ProgramRun, REPO_ROOT, TYPES, baseConfig, fakeKey, ofType, runProgram } from "../../support/program";
import { projectTempDir, writeRoster } from "../../support/roster";
import { TEST_LABEL, TestHealthTiming } from "../support/docker";
import { createSuiteTenants, overSsh, suiteTenants } from "../support/programTenants";
import { Shell, run } from "../support/run";
import { COMMITTED_ROWS_SCRIPT, NODE24_STANDIN, buildNode24Standin, busyWriterScript } from "../support/node24Standin";

const ADDRESSES = (process.env.OPENCLAW_SERVERS ?? "").split(",").filter((a) => a !== "");
const KEY = process.env.OPENCLAW_SERVERS_KEY ?? "";
const SSH_BIN = process.env.OPENCLAW_SERVERS_SSH_BIN ?? "";
const SERVERS_STATE = process.env.OPENCLAW_SERVERS_STATE ?? "/var/lib/openclaw-servers";
/** The stand-in on Node 24: the snapshot's online backup of the tenants' databases needs node:sqlite. */
const IMAGE = NODE24_STANDIN;
const LABELS = { [TEST_LABEL]: "restore" };
const HEALTH: TestHealthTiming = { interval: "5s", startPeriod: "10s" };
const SERVER_NAMES = ["s1", "s2", "s3"] as const;
const ROSTER = [
  { name: "alice", server: "s1" }, { name: "bob", server: "s1" }, { name: "dan", server: "s1" },
  { name: "carol", server: "s2" }, { name: "erin", server: "s3" },
];
const DOMAIN = "claw.test";
const STACK = `test-restore-${process.pid}`;
const BACKUP_DIR = "/etc/openclaw/backup";
const STAGING = "/var/lib/openclaw/backup/staging";

jest.setTimeout(300_000);

const sh = (script: string, env: NodeJS.ProcessEnv = process.env) => run(["bash", "-c", script], "", 120_000, env);
async function must(r: Promise<Shell>, what: string): Promise<string> {
  const done = await r;
  if (done.code !== 0) throw new Error(`${what} failed (${done.code}): ${done.stderr}`);
  return done.stdout;
}

const address = (server: string) => ADDRESSES[SERVER_NAMES.indexOf(server as (typeof SERVER_NAMES)[number])];
const ssh = (server: string, command: string, stdin = "") => run([path.join(SSH_BIN, "ssh"), address(server), "--", command], stdin, 120_000);
const cliEnv = (server: string) => ({ ...process.env, DOCKER_HOST: `ssh://root@${address(server)}:22`, PATH: `${SSH_BIN}:${process.env.PATH ?? ""}` });
const cli = (server: string, args: string[]) => run(["docker", ...args], "", 120_000, cliEnv(server));

function engineOverSsh(addr: string): Docker {
  const known = fs.readFileSync(path.join(path.dirname(KEY), "known_hosts"), "utf8").split("\n").find((l) => l.startsWith(`${addr} `))?.split(" ")[2];
  return new Docker({
    protocol: "ssh", host: addr, port: 22, username: "root",
    sshOptions: { privateKey: fs.readFileSync(KEY), hostVerifier: (key: Buffer) => key.toString("base64") === known, readyTimeout: 10_000 },
  } as Docker.DockerOptions);
}
const engines = new Map<string, Docker>();

let rosterDir: string;
const servers = () => Object.fromEntries(SERVER_NAMES.map((name, i) => [name, {
  ssh: { host: ADDRESSES[i], user: "root", privateKeyPath: KEY }, publicIp: ADDRESSES[i], memoryMb: 4096, cpus: 2, tenantNetworks: "10.252.0.0/16",
}]));
const config = () => baseConfig(rosterDir, {
  domain: DOMAIN, image: IMAGE, apiKeys: Object.fromEntries(ROSTER.map((t) => [t.name, fakeKey(t.name)])), servers: servers(),
  caddy: { caddyfilePath: "/run/openclaw-edge/Caddyfile", adminAddress: "localhost:2019", localCerts: true, storageDir: "/run/openclaw-edge/data" },
});
/** The program under mocks for the roster folder as it is now (the tools edit it). */
const programNow = (previous: Record<string, unknown> = {}) => runProgram(config(), previous, undefined, { OPENCLAW_KNOWN_HOSTS: path.join(path.dirname(KEY), "known_hosts") });

async function replay(p: ProgramRun, server: string, tenants?: string[]): Promise<void> {
  const objects = suiteTenants(p, { image: IMAGE, extraLabels: LABELS, healthTiming: HEALTH }, { server, tenants });
  await createSuiteTenants(engines.get(server) as Docker, objects, 60_000, overSsh(server, (command) => ssh(server, command)));
}
/** Each server's edge commands (the routes, then the Caddyfile), over SSH, as command.remote runs them. */
async function installEdge(p: ProgramRun, server: string): Promise<void> {
  for (const part of ["routes", "caddyfile"]) {
    const edge = ofType(p, TYPES.remoteCommand).find((c) => c.name === `edge-${server}-${part}`);
    if (edge === undefined) throw new Error(`no edge ${part} command for ${server}`);
    const r = await ssh(server, String(edge.inputs.create), String(edge.inputs.stdin));
    if (r.code !== 0) throw new Error(`edge ${part} command on ${server} failed (${r.code}): ${r.stderr}`);
  }
}
/** curl to one server's Caddy for a tenant's host name; with a bearer token when given. */
async function viaEdge(server: string, tenant: string, urlPath: string, token?: string): Promise<string> {
  const host = `${tenant}.${DOMAIN}`;
  const auth = token === undefined ? [] : ["-H", `Authorization: Bearer ${token}`];
  const r = await run(["curl", "-sk", "--max-time", "5", ...auth, "--resolve", `${host}:443:${address(server)}`, "-o", "/dev/null", "-w", "%{http_code}", `https://${host}${urlPath}`], "", 10_000);
  return r.stdout;
}
/** Polls until the tenant answers 200 through that server's Caddy (bounded: 90 s). */
async function answers(server: string, tenant: string, token: string): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < 90_000) {
    if ((await viaEdge(server, tenant, "/__standin/protected", token)) === "200") return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${tenant} did not answer through ${server}'s Caddy within 90 s`);
}
const tokenOf = (p: ProgramRun, tenant: string): string => {
  const c = ofType(p, TYPES.container).find((x) => x.name === `${tenant}-gateway`);
  const env = (c?.inputs.envs as string[] | undefined) ?? [];
  const t = env.find((e) => e.startsWith("OPENCLAW_GATEWAY_TOKEN="));
  if (t === undefined) throw new Error(`no token for ${tenant}`);
  return t.slice("OPENCLAW_GATEWAY_TOKEN=".length);
};

async function mountpoint(server: string, volume: string): Promise<string> {
  return (await must(cli(server, ["volume", "inspect", "-f", "{{.Mountpoint}}", volume]), `inspecting ${volume}`)).trim();
}
/** Every path under a tenant's two volumes (host paths: the namespaces share this filesystem): kind, size, numeric owner, mode, SHA-256. */
async function treeOf(server: string, volumes: string[]): Promise<string> {
  return treeOfDirs(await Promise.all(volumes.map((v) => mountpoint(server, v))));
}
async function treeOfDirs(dirs: string[]): Promise<string> {
  const parts: string[] = [];
  for (const [i, dir] of dirs.entries()) {
    parts.push(await must(sh(`cd '${dir}' && find . -printf '${["state", "credentials"][i]} %y %s %U:%G %m %p\\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum | sed 's/^/${i} /'`), `reading ${dir}`));
  }
  return parts.join("");
}

// ---- the repository, as the servers' restic.env names it ----
let repoDir: string;
let saved: string | undefined;
const PASSWORD = crypto.randomBytes(24).toString("base64url");
/**
 * Each server's own /etc/openclaw/backup, as this machine sees it: servers-env.sh binds it from the
 * server's run folder into the server's mount namespace (where its sshd, and so the tools' restic, run).
 */
const SERVER_BACKUP_DIRS = SERVER_NAMES.map((_, i) => path.join(process.env.OPENCLAW_SERVERS_RUN ?? "/run/openclaw-servers", `s${i + 1}`, "backup-etc"));
function writeBackupFiles(repository: string, password: string): void {
  for (const [i, dir] of SERVER_BACKUP_DIRS.entries()) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, "password"), password, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, "restic.env"), [
      `RESTIC_REPOSITORY='${repository}'`, `RESTIC_PASSWORD_FILE='${BACKUP_DIR}/password'`, "OPENCLAW_RESTIC_OPTS=''", `OPENCLAW_BACKUP_STACK='${STACK}'`, `OPENCLAW_BACKUP_SERVER='${SERVER_NAMES[i]}'`, "",
    ].join("\n"), { mode: 0o600 });
  }
}
const resticEnv = () => ({ ...process.env, RESTIC_REPOSITORY: repoDir, RESTIC_PASSWORD_FILE: path.join(SERVER_BACKUP_DIRS[0], "password") });

const SNAPSHOT_SCRIPT = path.join(REPO_ROOT, "server-scripts", "tenant-backup.sh");
/** Each server's own status and staging folders, as this machine sees them (bound like backup-etc). */
const SERVER_BACKUP_VARS = SERVER_BACKUP_DIRS.map((dir) => path.join(path.dirname(dir), "backup-var"));

/** A tenant's snapshot as its server's scheduled job takes it: tenant-backup.sh, over ssh, on the tenant's server. */
async function snapshot(tenant: string, server: string): Promise<string> {
  const r = await ssh(server, `bash '${SNAPSHOT_SCRIPT}' tenant ${tenant} manual`);
  if (r.code !== 0 || r.stderr !== "") throw new Error(`snapshotting ${tenant} on ${server} failed (${r.code}): ${r.stderr}`);
  // What the snapshot holds, read back with restic itself (independent of the restore tool's own check).
  const target = fs.mkdtempSync(path.join(os.tmpdir(), `openclaw-snapshot-${tenant}-`));
  try {
    await must(sh(`restic restore latest -q --tag tenant=${tenant} --tag stack=${STACK} --target '${target}'`, resticEnv()), `reading ${tenant}'s snapshot`);
    const staged = path.join(target, STAGING, tenant);
    atSnapshot.set(tenant, await treeOfDirs([`${staged}/state`, `${staged}/credentials`]));
  } finally {
    fs.rmSync(target, { recursive: true, force: true });
  }
  return r.stdout.trim();
}

/** A writer committing rows in the tenant's container for `ms` (test/integration/support/node24Standin.ts). */
function busyWriter(server: string, tenant: string, ms: number): Promise<Shell> {
  return cli(server, ["exec", `openclaw-${tenant}`, "node", "-e", busyWriterScript(ms)]);
}
async function committedRows(server: string, tenant: string): Promise<number> {
  const q = await cli(server, ["exec", `openclaw-${tenant}`, "node", "-e", COMMITTED_ROWS_SCRIPT]);
  return Number(q.stdout.trim()) || 0;
}
/** Rows alice's writer had committed before her snapshot began. */
let committedBeforeSnapshot = 0;

/** npm run restore / recover as an operator runs them: the stack's ssh key, host keys from the suite's known_hosts. */
const tool = (name: "restore" | "recover", args: string[]) =>
  run(["npx", "ts-node", "--transpile-only", npmScriptFile(name), "--stack", STACK, ...args], "", 600_000,
    { ...process.env, DOCKER_HOST: undefined, OPENCLAW_KNOWN_HOSTS: path.join(path.dirname(KEY), "known_hosts") });
const rosterText = (tenant: string) => fs.readFileSync(path.join(rosterDir, `${tenant}.yaml`), "utf8");
const labelOf = (tenant: string) => /^data: (\S+)$/m.exec(rosterText(tenant))?.[1];

let program: ProgramRun;
/** Each tenant's files at its snapshot (the proof a restore brings back exactly these). */
const atSnapshot = new Map<string, string>();
const figures: string[] = [];

beforeAll(async () => {
  // Every server running (another suite may have stopped one; start-server leaves a running one as it is).
  for (const n of [1, 2, 3]) await run(["bash", path.join(__dirname, "..", "..", "machinery", "servers-env.sh"), "start-server", String(n)], "", 120_000);
  if (ADDRESSES.length !== 3 || KEY === "" || SSH_BIN === "") throw new Error("the three servers are not up: run this suite through test/machinery/run.sh (servers-env.sh up)");
  for (const [i, name] of SERVER_NAMES.entries()) engines.set(name, engineOverSsh(ADDRESSES[i]));
  for (const n of [1, 2, 3]) await buildNode24Standin(`unix://${process.env.OPENCLAW_SERVERS_RUN ?? "/run/openclaw-servers"}/s${n}/docker.sock`);
  rosterDir = projectTempDir("restore");
  writeRoster(ROSTER.map(({ name, server }) => ({ name, tier: "light" as const, extra: `server: ${server}` })), rosterDir);
  fs.writeFileSync(path.join(REPO_ROOT, `Pulumi.${STACK}.yaml`), `config: ${JSON.stringify(Object.fromEntries(Object.entries(config()).map(([k, v]) => [`openclaw-hosting:${k}`, v])))}\n`);
  program = await programNow();
  await Promise.all(SERVER_NAMES.map((s) => replay(program, s)));
  for (const s of SERVER_NAMES) await installEdge(program, s);

  // Data worth keeping: random bytes, nested folders, an empty file, credentials, a SQLite database
  // with rows, and a file owned by another uid than the gateway's (a tenant's own uid is never assumed).
  for (const t of ROSTER) {
    const w = await cli(t.server, ["exec", `openclaw-${t.name}`, "sh", "-c",
      "mkdir -p ~/.openclaw/agents/main/sessions && head -c 262144 /dev/urandom > ~/.openclaw/agents/main/sessions/s1.jsonl && : > ~/.openclaw/empty && " +
      "head -c 4096 /dev/urandom > ~/.config/openclaw/auth-profiles.json && chmod 600 ~/.config/openclaw/auth-profiles.json"]);
    if (w.code !== 0) throw new Error(`writing ${t.name}'s data: ${w.stderr}`);
    const state = await mountpoint(t.server, `openclaw-${t.name}-state`);
    await must(sh(`sqlite3 '${state}/openclaw.sqlite' "PRAGMA journal_mode=WAL; CREATE TABLE m(id INTEGER PRIMARY KEY, body TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<2000) INSERT INTO m(body) SELECT hex(randomblob(64)) FROM n;" >/dev/null && ` +
      `chown --reference='${state}' '${state}/openclaw.sqlite' && echo other > '${state}/other-owner' && chown 4242:4343 '${state}/other-owner'`), `writing ${t.name}'s database`);
  }
  repoDir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-restore-repo-"));
  // What the servers' backup folders held (another suite's install), put back afterwards.
  saved = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-backup-etc-"));
  SERVER_BACKUP_DIRS.forEach((dir, i) => { if (fs.existsSync(dir)) fs.cpSync(dir, path.join(saved as string, String(i)), { recursive: true }); });
  writeBackupFiles(repoDir, PASSWORD);
  await must(sh("restic init -q", resticEnv()), "restic init");
  // alice's snapshot is taken while a writer commits in her container; the others', quiet.
  const busy = busyWriter("s1", "alice", 15_000);
  for (let i = 0; i < 40 && committedBeforeSnapshot < 200; i++) {
    await new Promise((r) => setTimeout(r, 250));
    committedBeforeSnapshot = await committedRows("s1", "alice");
  }
  if (committedBeforeSnapshot < 200) throw new Error(`alice's writer committed only ${committedBeforeSnapshot} rows in 10 s`);
  const t0 = Date.now();
  const aliceSnapshot = await snapshot("alice", "s1");
  const aliceMs = Date.now() - t0;
  const wrote = await busy;
  if (wrote.code !== 0) throw new Error(`alice's writer failed: ${wrote.stderr}`);
  const w = JSON.parse(wrote.stdout.trim()) as { rows: number; slowestCommitMs: number };
  if (w.rows <= committedBeforeSnapshot) throw new Error("alice's writer stopped before her snapshot began");
  for (const t of ROSTER.filter((x) => x.name !== "alice")) await snapshot(t.name, t.server);
  figures.push(`${ROSTER.length} snapshots by tenant-backup.sh in ${Date.now() - t0} ms; alice's (${aliceMs} ms) while her writer committed ` +
    `(${committedBeforeSnapshot} rows before it, ${w.rows} by the writer's end, slowest commit ${w.slowestCommitMs} ms): ${aliceSnapshot}`);
}, 600_000);

afterAll(async () => {
  fs.rmSync(path.join(REPO_ROOT, `Pulumi.${STACK}.yaml`), { force: true });
  for (const [i, dir] of SERVER_BACKUP_DIRS.entries()) {
    fs.rmSync(path.join(dir, "restic.env"), { force: true });
    fs.rmSync(path.join(dir, "password"), { force: true });
    if (saved !== undefined && fs.existsSync(path.join(saved, String(i)))) fs.cpSync(path.join(saved, String(i)), dir, { recursive: true });
  }
  if (saved !== undefined) fs.rmSync(saved, { recursive: true, force: true });
  // This suite's tenants' snapshot records (the status the servers' monitoring reads).
  for (const dir of SERVER_BACKUP_VARS) for (const t of ROSTER) for (const f of [`${t.name}.json`, `${t.name}.last-good`]) fs.rmSync(path.join(dir, "status", f), { force: true });
  if (repoDir !== undefined) fs.rmSync(repoDir, { recursive: true, force: true });
  // What this suite made on the servers, by its label; the lost server gets its engine (and image) back.
  await run(["bash", path.join(__dirname, "..", "..", "machinery", "servers-env.sh"), "start-server", "1"], "", 120_000);
  await must(sh(`bash '${path.join(__dirname, "..", "..", "machinery", "gateway-image", "build.sh")}'`, { ...process.env, DOCKER_HOST: `unix://${process.env.OPENCLAW_SERVERS_RUN ?? "/run/openclaw-servers"}/s1/docker.sock` }), "rebuilding the stand-in image on s1");
  for (const s of SERVER_NAMES) {
    await cli(s, ["rm", "-f", ...(await cli(s, ["ps", "-aq", "--filter", `label=${TEST_LABEL}=restore`])).stdout.split("\n").filter((x) => x !== "")]);
    const vols = (await cli(s, ["volume", "ls", "-q", "--filter", "label=managed-by=openclaw-hosting"])).stdout.split("\n").filter((v) => ROSTER.some((t) => v.startsWith(`openclaw-${t.name}-`)));
    if (vols.length > 0) await cli(s, ["volume", "rm", ...vols]);
    const nets = (await cli(s, ["network", "ls", "-q", "--filter", `label=${TEST_LABEL}=restore`])).stdout.split("\n").filter((x) => x !== "");
    if (nets.length > 0) await cli(s, ["network", "rm", ...nets]);
  }
  console.log(`restore suite figures:\n  ${figures.join("\n  ")}`);
}, 300_000);

test("restore alice onto s2: fresh volumes, every file as in the snapshot (SHA-256, owners, modes), her token, an intact database; s1's volumes kept and listed", async () => {
  const r = await tool("restore", ["--tenant", "alice", "--server", "s2"]);
  expect(`${r.code} ${r.stderr}`).toBe("0 ");
  const label = labelOf("alice");
  expect(label).toMatch(/^r\d{8}-\d{6}$/);
  expect(rosterText("alice")).toContain("server: s2\n");
  const fresh = [`openclaw-alice-state.${label}`, `openclaw-alice-credentials.${label}`];
  // Byte for byte, owner for owner, against the tree in the snapshot. The snapshot copies as the
  // tenant's own user, so a file another uid left in the volume comes back as the tenant's.
  const restored = await treeOf("s2", fresh);
  expect(restored).toBe(atSnapshot.get("alice"));
  const user = String((await (engines.get("s1") as Docker).getContainer("openclaw-alice").inspect()).Config.User);
  expect(restored).toContain(` ${user.includes(":") ? user : `${user}:${user}`} 644 ./other-owner`);
  const files = restored.split("\n").filter((l) => /^[01] [0-9a-f]{64} /.test(l)).length;
  const bytes = restored.split("\n").filter((l) => / f \d+ /.test(l)).reduce((n, l) => n + Number(l.split(" ")[2]), 0);
  const state = await mountpoint("s2", fresh[0]);
  expect((await must(sh(`sqlite3 '${state}/openclaw.sqlite' 'PRAGMA integrity_check; SELECT count(*) FROM m;'`), "integrity_check")).trim()).toBe("ok\n2000");
  // The database a writer was busy with during the snapshot: intact, with every row committed before it began.
  expect(fs.readdirSync(`${state}/state`).filter((f) => f.startsWith("writer.sqlite"))).toEqual(["writer.sqlite"]);
  expect((await must(sh(`sqlite3 '${state}/state/writer.sqlite' 'PRAGMA integrity_check;'`), "integrity_check")).trim()).toBe("ok");
  const [max, count] = (await must(sh(`sqlite3 '${state}/state/writer.sqlite' 'select max(id), count(*) from rows'`), "counting rows")).trim().split("|").map(Number);
  expect(max).toBeGreaterThanOrEqual(committedBeforeSnapshot);
  expect(count).toBe(max);
  figures.push(`restore alice s1 -> s2: ${files} files, ${bytes} bytes compared by SHA-256, owners and modes; tool ${r.ms} ms (whole process); ${/verified .*/.exec(r.stdout)?.[0] ?? ""}`);
  // The live volumes on s1 are untouched and still there.
  for (const v of ["openclaw-alice-state", "openclaw-alice-credentials"]) expect((await cli("s1", ["volume", "inspect", v])).code).toBe(0);

  // What `pulumi up` then does with the edited file: the same token, the fresh volumes on s2, s1's copy retained.
  const after = await programNow({ tenants: program.outputs.tenants, retainedData: [] });
  expect(tokenOf(after, "alice")).toBe(tokenOf(program, "alice"));
  expect(after.outputs.retainedData).toEqual([{ tenant: "alice", server: "s1", volumes: ["openclaw-alice-state", "openclaw-alice-credentials"] }]);
  await cli("s1", ["rm", "-f", "openclaw-alice"]);
  await replay(after, "s2", ["alice"]);
  await installEdge(after, "s2");
  const ms = await answers("s2", "alice", tokenOf(after, "alice"));
  expect(await viaEdge("s2", "alice", "/__standin/protected")).toBe("401");
  figures.push(`alice answered with her token through s2's Caddy ${ms} ms after her container was created on the restored volumes`);
  program = after;
});

test("a wrong password or a repository that is not there: the restore fails loudly and changes no tenant", async () => {
  const before = rosterText("bob");
  const volumes = async () => (await cli("s1", ["volume", "ls", "-q"])).stdout.split("\n").filter((v) => v.startsWith("openclaw-bob-")).sort();
  const had = await volumes();
  writeBackupFiles(repoDir, "not-the-password");
  const wrong = await tool("restore", ["--tenant", "bob"]);
  writeBackupFiles(`${repoDir}-missing`, PASSWORD);
  const missing = await tool("restore", ["--tenant", "bob"]);
  writeBackupFiles(repoDir, PASSWORD);
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toMatch(/^restore: server s1: listing bob's snapshots failed \(exit \d+\): .*wrong password.*; nothing was changed\n$/);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^restore: server s1: listing bob's snapshots failed \(exit \d+\): .*(does not exist|unable to open).*; nothing was changed\n$/);
  for (const r of [wrong, missing]) expect(`${r.stdout}${r.stderr}`).not.toContain(PASSWORD);
  expect(rosterText("bob")).toBe(before);
  expect(await volumes()).toEqual(had);
  expect(await viaEdge("s1", "bob", "/__standin/protected", tokenOf(program, "bob"))).toBe("200");
  figures.push(`wrong password: refused in ${wrong.ms} ms; missing repository: refused in ${missing.ms} ms; bob's file, volumes and service unchanged`);
});

test("s1's engine stopped and its data-root deleted: npm run recover brings bob and dan back on s2 and s3 from their latest snapshots, never asking s1", async () => {
  const lostAt = Date.now();
  const stop = await run(["bash", path.join(__dirname, "..", "..", "machinery", "servers-env.sh"), "stop-server", "1"], "", 120_000);
  expect(stop.code).toBe(0);
  fs.rmSync(path.join(SERVERS_STATE, "s1", "docker"), { recursive: true, force: true });
  expect(fs.existsSync(path.join(SERVERS_STATE, "s1", "docker"))).toBe(false);
  const outputs = path.join(rosterDir, "..", `outputs-${process.pid}.json`);
  fs.writeFileSync(outputs, JSON.stringify({ tenants: program.outputs.tenants }));
  const t0 = Date.now();
  const r = await tool("recover", ["--server", "s1", "--outputs", outputs]);
  fs.rmSync(outputs, { force: true });
  expect(`${r.code} ${r.stderr}`).toBe("0 ");
  expect(r.stdout).toMatch(/recovering 2 tenants of s1 \(never contacted\): bob -> s[23], dan -> s[23]/);
  const where = Object.fromEntries(["bob", "dan"].map((t) => [t, /^server: (\S+)$/m.exec(rosterText(t))?.[1] as string]));
  for (const t of ["bob", "dan"]) {
    expect(["s2", "s3"]).toContain(where[t]);
    const label = labelOf(t);
    expect(label).toBeDefined();
    const tree = await treeOf(where[t], [`openclaw-${t}-state.${label}`, `openclaw-${t}-credentials.${label}`]);
    expect(tree).toBe(atSnapshot.get(t));
    const state = await mountpoint(where[t], `openclaw-${t}-state.${label}`);
    expect((await must(sh(`sqlite3 '${state}/openclaw.sqlite' 'PRAGMA integrity_check;'`), "integrity_check")).trim()).toBe("ok");
  }
  const toolMs = Date.now() - t0;
  // `pulumi up` on the pinned files: bob and dan start on their new servers with their tokens.
  const after = await programNow({ tenants: program.outputs.tenants, retainedData: program.outputs.retainedData });
  for (const t of ["bob", "dan"]) expect(tokenOf(after, t)).toBe(tokenOf(program, t));
  for (const s of ["s2", "s3"]) {
    const here = ["bob", "dan"].filter((t) => where[t] === s);
    if (here.length === 0) continue;
    await replay(after, s, here);
    await installEdge(after, s);
  }
  for (const t of ["bob", "dan"]) await answers(where[t], t, tokenOf(after, t));
  const rto = Date.now() - lostAt;
  const rpo = /LOST \(snapshot age\)[^\n]*\n([\s\S]*?)\n\n/.exec(r.stdout)?.[1] ?? "";
  figures.push(`lost server s1 (engine stopped, data-root deleted): recover ${toolMs} ms for 2 tenants, both answering with their tokens ${rto} ms after the loss (RTO, here without pulumi up's own time); per tenant:\n    ${rpo.split("\n").join("\n    ")}`);
});
