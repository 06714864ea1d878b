/**
 * Backups on the real test servers (test/machinery/servers-env.sh): the program's backup install
 * command run on s1 and s2 over SSH as command.remote runs it (the settings and secrets on stdin),
 * the installed unit's own ExecStart run on the server, snapshots into the backup host's sftp
 * repository (its own namespace), a restore by hand with restic, and the three failures an operator
 * meets (wrong password, unreachable repository, full repository), each loud, flagged in the
 * tenant's status file and harmless to the tenant.
 *
 * The busy-writer tenant runs the stand-in gateway on Node 24 (the real image's node, which has
 * node:sqlite): a SQLite writer commits rows in WAL mode inside the tenant's container while the
 * snapshot is taken.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import Docker from "dockerode";
import { backupVerdict, scheduleInterval, TenantBackupStatus } from "../../../core/backup";
import { ProgramRun, PROJECT, TYPES, baseConfig, fakeKey, ofType, runProgram } from "../../support/program";
import { projectTempDir, writeRoster } from "../../support/roster";
import { TEST_LABEL, TestHealthTiming, removeLabelled } from "../support/docker";
import { createSuiteTenants, overSsh, suiteTenants } from "../support/programTenants";
import { Shell, run } from "../support/run";
import { COMMITTED_ROWS_SCRIPT, NODE24_STANDIN, buildNode24Standin, busyWriterScript } from "../support/node24Standin";

const ADDRESSES = (process.env.OPENCLAW_SERVERS ?? "").split(",").filter((a) => a !== "");
const SSH_BIN = process.env.OPENCLAW_SERVERS_SSH_BIN ?? "";
const RUN = process.env.OPENCLAW_SERVERS_RUN ?? "/run/openclaw-servers";
const KEY = process.env.OPENCLAW_SERVERS_KEY ?? "";
const BACKUP_HOST = process.env.OPENCLAW_BACKUP_HOST ?? "";
const BACKUP_KEY = process.env.OPENCLAW_BACKUP_KEY ?? "";
const BACKUP_HOST_KEY = process.env.OPENCLAW_BACKUP_HOST_KEY ?? "";
const REPO_DIR = process.env.OPENCLAW_BACKUP_REPO_DIR ?? "";
const SERVERS_ENV = path.join(__dirname, "..", "..", "machinery", "servers-env.sh");
const IMAGE = "openclaw-standin:test";
/** The stand-in on the real image's Node 24 (node:sqlite), built into s1 by this suite. */
const NODE24_IMAGE = NODE24_STANDIN;
const LABEL_VALUE = "backups";
const LABELS = { [TEST_LABEL]: LABEL_VALUE };
const HEALTH: TestHealthTiming = { interval: "5s", startPeriod: "10s" };
const SERVERS = { s1: 0, s2: 1 } as const;
type ServerName = keyof typeof SERVERS;
const ROSTER = [
  { name: "alice", server: "s1" as ServerName },
  { name: "dora", server: "s1" as ServerName, image: NODE24_IMAGE },
  { name: "bob", server: "s2" as ServerName },
];
const PASSWORD = `test-repo-${crypto.randomBytes(12).toString("hex")}`;
const STACK = "test";
const INSTALLED = "/usr/local/lib/openclaw-hosting/tenant-backup.sh";

jest.setTimeout(240_000);

const addressOf = (server: ServerName) => ADDRESSES[SERVERS[server]];
function ssh(server: ServerName, command: string, stdin = "", timeoutMs = 120_000): Promise<Shell> {
  return run([path.join(SSH_BIN, "ssh"), addressOf(server), "--", command], stdin, timeoutMs);
}
const socketOf = (server: ServerName) => `${RUN}/s${SERVERS[server] + 1}/docker.sock`;
const engine = (server: ServerName) => new Docker({ socketPath: socketOf(server) });
const dockerCli = (server: ServerName, args: string[], timeoutMs = 60_000) => run(["docker", "-H", `unix://${socketOf(server)}`, ...args], "", timeoutMs);
/** A server's /var/lib/openclaw/backup, seen from the host (servers-env.sh binds it per server). */
const varDir = (server: ServerName) => `${RUN}/s${SERVERS[server] + 1}/backup-var`;
const etcDir = (server: ServerName) => `${RUN}/s${SERVERS[server] + 1}/backup-etc`;
const statusOf = (server: ServerName, tenant: string): TenantBackupStatus =>
  TenantBackupStatus.parse(JSON.parse(fs.readFileSync(`${varDir(server)}/status/${tenant}.json`, "utf8")));
/** The installed timer's service, as systemd would start it: its ExecStart line, run on the server. */
const runUnit = (server: ServerName, unit = "openclaw-backup") =>
  ssh(server, `cmd=$(sed -n 's/^ExecStart=//p' /etc/systemd/system/${unit}.service) && test -n "$cmd" && $cmd`, "", 200_000);
const sqlite = (file: string, sql: string) => run(["sqlite3", "-readonly", file, sql], "", 30_000);
const noSecret = (r: Shell) => {
  expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  expect(r.stdout + r.stderr).not.toContain("PRIVATE KEY");
};

let program: ProgramRun;
const installs = new Map<ServerName, { create: string; stdin: string; delete: string }>();

beforeAll(async () => {
  // Every server running (another suite may have stopped one; start-server leaves a running one as it is).
  for (const n of [1, 2, 3]) await run(["bash", path.join(__dirname, "..", "..", "machinery", "servers-env.sh"), "start-server", String(n)], "", 120_000);
  if (ADDRESSES.length !== 3 || SSH_BIN === "" || BACKUP_HOST === "" || REPO_DIR === "") {
    throw new Error("the servers and the backup host are not up: run this suite through test/machinery/run.sh (it runs test/machinery/servers-env.sh up)");
  }
  await buildNode24Standin(`unix://${socketOf("s1")}`);

  const rosterDir = projectTempDir("backups");
  writeRoster(ROSTER.map((t) => ({ name: t.name, tier: "light" as const, extra: `server: ${t.server}${t.image === undefined ? "" : `\nimage: ${t.image}`}` })), rosterDir);
  const servers = Object.fromEntries(Object.keys(SERVERS).map((name) => [name, {
    ssh: { host: addressOf(name as ServerName), user: "root", privateKeyPath: KEY }, publicIp: addressOf(name as ServerName), memoryMb: 8192, cpus: 2, tenantNetworks: "10.253.0.0/16",
  }]));
  const backup = {
    repository: `sftp:root@${BACKUP_HOST}:${REPO_DIR}/${STACK}`,
    password: PASSWORD,
    sshKey: fs.readFileSync(BACKUP_KEY, "utf8"),
    sshHostKey: BACKUP_HOST_KEY,
    schedule: "*:00/15",
    keep: { hourly: 2, daily: 1, weekly: 0, monthly: 0 },
    checkSubset: "100%",
  };
  program = await runProgram(baseConfig(rosterDir, {
    domain: "claw.test",
    image: IMAGE,
    apiKeys: Object.fromEntries(ROSTER.map((t) => [t.name, fakeKey(t.name)])),
    servers,
    caddy: { caddyfilePath: "/run/openclaw-edge/Caddyfile", adminAddress: "localhost:2019", localCerts: true, storageDir: "/run/openclaw-edge/data" },
    backup,
  }), {}, [`${PROJECT}:apiKeys`, `${PROJECT}:backup`], {
    OPENCLAW_SERVER_CHECK: "off", OPENCLAW_KNOWN_HOSTS: path.join(path.dirname(KEY), "known_hosts"),
  });
  for (const server of Object.keys(SERVERS) as ServerName[]) {
    const c = ofType(program, TYPES.remoteCommand).find((r) => r.name === `backup-${server}-install`);
    if (c === undefined) throw new Error(`no backup install command for ${server}`);
    installs.set(server, { create: String(c.inputs.create), stdin: String(c.inputs.stdin), delete: String(c.inputs.delete) });
  }
  // The tenants, as the program registers them (dora on the Node 24 stand-in).
  for (const t of ROSTER) {
    const objects = suiteTenants(program, { image: t.image ?? IMAGE, extraLabels: LABELS, healthTiming: HEALTH }, { server: t.server, tenants: [t.name] });
    await createSuiteTenants(engine(t.server), objects, 90_000, overSsh(t.server, (command) => ssh(t.server, command)));
  }
  // s1 first: it is the maintenance server and creates the repository. The test servers share this
  // machine's /etc/systemd/system, where s2's install (not maintaining) removes the maintenance
  // unit s1's wrote: s1's install runs once more, as a re-run of `pulumi up` would.
  for (const server of ["s1", "s2", "s1"] as ServerName[]) {
    const i = installs.get(server)!;
    const r = await ssh(server, i.create, i.stdin);
    noSecret(r);
    if (r.code !== 0) throw new Error(`backup install on ${server} failed (${r.code}): ${r.stderr}`);
    console.log(`backup install on ${server} over SSH: ${r.ms} ms: ${r.stdout.trim()}`);
  }
});

afterAll(async () => {
  for (const [server, i] of installs) await ssh(server, i.delete).catch(() => undefined);
  for (const server of Object.keys(SERVERS) as ServerName[]) {
    fs.rmSync(`${varDir(server)}/restore-test`, { recursive: true, force: true });
    await removeLabelled(engine(server), `${TEST_LABEL}=${LABEL_VALUE}`).catch(() => undefined);
  }
  await run(["bash", SERVERS_ENV, "backup-link", "2", "up"]).catch(() => undefined);
});

test("the settings are root-only files; the password is in none of the unit files or the script's arguments", () => {
  for (const server of ["s1", "s2"] as ServerName[]) {
    for (const f of ["restic.env", "password", "ssh_key", "known_hosts", "settings"]) {
      const st = fs.statSync(`${etcDir(server)}/${f}`);
      expect({ f, mode: (st.mode & 0o777).toString(8), uid: st.uid }).toEqual({ f, mode: "600", uid: 0 });
    }
    expect(fs.readFileSync(`${etcDir(server)}/password`, "utf8")).toBe(PASSWORD);
    expect(fs.readFileSync(`${etcDir(server)}/restic.env`, "utf8")).not.toContain(PASSWORD);
    expect(installs.get(server)!.create).not.toContain(PASSWORD);
  }
  for (const unit of ["openclaw-backup.service", "openclaw-backup.timer"]) expect(fs.readFileSync(`/etc/systemd/system/${unit}`, "utf8")).not.toContain(PASSWORD);
  expect(fs.readFileSync("/etc/systemd/system/openclaw-backup.timer", "utf8")).toContain("OnCalendar=*:00/15");
});

test("systemd accepts the installed units, and the timer fires at the interval the program's schedule check assumes", async () => {
  // No systemd runs here as PID 1 (so no timer really fires); systemd's own parser checks the files
  // it would load, and its calendar engine computes when the timer elapses.
  // (The maintenance units too when this machine's last install left them: the servers share /etc here.)
  const units = ["openclaw-backup.service", "openclaw-backup.timer", "openclaw-backup-maintain.service", "openclaw-backup-maintain.timer"]
    .map((u) => `/etc/systemd/system/${u}`).filter((u, i) => i < 2 || fs.existsSync(u));
  const utc = { ...process.env, TZ: "UTC" };
  const verify = await run(["systemd-analyze", "verify", ...units], "", 60_000, utc);
  expect(`${verify.code} ${verify.stderr.split("\n").filter((l) => /openclaw/.test(l)).join("\n")}`).toBe("0 ");
  // Every form the schedule check accepts, as systemd reads it: three elapses, the interval between them.
  const forms = ["hourly", "daily", "weekly", "*:07", "*:00/15", "*:05/10", "03:30", "*-*-* 23:59", "*-*-* 0/6:00", "2/12:15", fs.readFileSync(units[1], "utf8").match(/^OnCalendar=(.*)$/m)?.[1] ?? "missing"];
  for (const form of forms) {
    const expected = scheduleInterval(form);
    expect({ form, accepted: "minutes" in expected }).toEqual({ form, accepted: true });
    const cal = await run(["systemd-analyze", "calendar", "--iterations", "3", form], "", 30_000, utc);
    expect({ form, code: cal.code }).toEqual({ form, code: 0 });
    const elapses = [...cal.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)].map((m) => Date.parse(`${m[1].replace(" ", "T")}Z`));
    expect({ form, elapses: elapses.length }).toEqual({ form, elapses: 3 });
    // Between later elapses (the first may be a partial period): the interval the status check uses.
    expect({ form, minutes: (elapses[2] - elapses[1]) / 60_000 }).toEqual({ form, minutes: (expected as { minutes: number }).minutes });
  }
  // And a schedule the check refuses is one systemd refuses too, or one whose interval is not fixed.
  expect((await run(["systemd-analyze", "calendar", "bogus"], "", 30_000)).code).not.toBe(0);
});

test("the installed unit snapshots every tenant on its server, both volumes, tagged tenant, server and stack", async () => {
  // What a tenant could try: a link in its volume to a file of the host's. The copy runs as the
  // tenant's user in its own container, so a link stays a link and the host's file is never read.
  const planted = await dockerCli("s1", ["exec", "openclaw-alice", "ln", "-s", "/etc/shadow", "/home/node/.openclaw/leak"]);
  expect(planted.code).toBe(0);
  const results = await Promise.all((["s1", "s2"] as ServerName[]).map((s) => runUnit(s)));
  for (const r of results) {
    noSecret(r);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  }
  console.log(`scheduled run, s1 (alice, dora): ${results[0].ms} ms; s2 (bob): ${results[1].ms} ms\n${results[0].stdout}${results[1].stdout}`);
  for (const t of ROSTER) {
    const s = statusOf(t.server, t.name);
    expect(s).toMatchObject({ tenant: t.name, server: t.server, stack: STACK, ok: true, reason: "scheduled" });
    expect(s.snapshotId).toMatch(/^[0-9a-f]{8,}$/);
    expect(s.totalBytes).toBeGreaterThan(0);
    expect(backupVerdict(s, 15, new Date()).problems).toEqual([]);
  }
  const listed = await ssh("s2", `${INSTALLED} restic snapshots --json --tag stack=${STACK}`);
  const snaps = JSON.parse(listed.stdout) as { tags: string[]; hostname: string; paths: string[] }[];
  const of = (tenant: string) => snaps.find((x) => x.tags.includes(`tenant=${tenant}`));
  // One repository: s2 sees s1's tenants' snapshots too (what a lost server's recovery needs).
  expect(of("alice")).toMatchObject({ hostname: "s1", paths: ["/var/lib/openclaw/backup/staging/alice"] });
  expect(of("alice")?.tags.sort()).toEqual(["reason=scheduled", "server=s1", `stack=${STACK}`, "tenant=alice"]);
  expect(of("bob")).toMatchObject({ hostname: "s2" });
  const files = await ssh("s1", `${INSTALLED} restic ls latest --tag tenant=alice`);
  expect(files.stdout).toContain("/var/lib/openclaw/backup/staging/alice/state");
  expect(files.stdout).toContain("/var/lib/openclaw/backup/staging/alice/credentials");
  const nodes = (await ssh("s1", `${INSTALLED} restic ls --json latest --tag tenant=alice`)).stdout.split("\n").filter((l) => l.includes('"path"')).map((l) => JSON.parse(l) as { path: string; type: string; size?: number });
  expect(nodes.find((n) => n.path.endsWith("/state/leak"))).toMatchObject({ type: "symlink" });
  // The staging copy is gone after the snapshot (the tenant's data is not left lying around).
  expect(fs.readdirSync(`${varDir("s1")}/staging`)).toEqual([]);
});

test("a snapshot taken while a writer commits restores to a database that passes integrity_check with every row committed before it began", async () => {
  const container = "openclaw-dora";
  const before = await engine("s1").getContainer(container).inspect();
  // Rows of 2 KB, one transaction each, WAL mode, for 20 s; reports its slowest commit.
  const writer = busyWriterScript(20_000);
  const busy = dockerCli("s1", ["exec", container, "node", "-e", writer], 60_000);
  // Let it build a WAL, then note what is committed, then snapshot while it keeps writing.
  let committed = 0;
  for (let i = 0; i < 40 && committed < 500; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const q = await dockerCli("s1", ["exec", container, "node", "-e", COMMITTED_ROWS_SCRIPT]);
    committed = Number(q.stdout.trim()) || 0;
  }
  expect(committed).toBeGreaterThan(100);
  const walBefore = await dockerCli("s1", ["exec", container, "ls", "-la", "/home/node/.openclaw/state"]);
  expect(walBefore.stdout).toContain("writer.sqlite-wal");
  const snap = await ssh("s1", `${INSTALLED} tenant dora manual`, "", 200_000);
  noSecret(snap);
  expect({ code: snap.code, stderr: snap.stderr }).toEqual({ code: 0, stderr: "" });
  const w = await busy;
  expect(w.code).toBe(0);
  const wrote = JSON.parse(w.stdout.trim()) as { rows: number; slowestCommitMs: number };
  const status = statusOf("s1", "dora");
  console.log(`busy writer: ${committed} rows committed before the snapshot, ${wrote.rows} by the end; slowest commit ${wrote.slowestCommitMs} ms; ` +
    `snapshot ${status.snapshotId}: ${status.durationMs} ms, ${status.totalBytes} bytes, ${status.bytesAdded} added (${snap.stdout.trim()})`);

  // Restore by hand, as an operator would, into a folder of s1's own.
  const target = "/var/lib/openclaw/backup/restore-test";
  const restored = await ssh("s1", `rm -rf ${target} && ${INSTALLED} restic restore ${status.snapshotId} --target ${target}`, "", 120_000);
  noSecret(restored);
  expect(restored.code).toBe(0);
  const state = `${varDir("s1")}/restore-test/var/lib/openclaw/backup/staging/dora/state`;
  expect(fs.readdirSync(`${state}/state`).sort()).toEqual(["writer.sqlite"]); // no -wal, -shm or -journal
  expect((await sqlite(`${state}/state/writer.sqlite`, "PRAGMA integrity_check")).stdout.trim()).toBe("ok");
  const [max, count] = (await sqlite(`${state}/state/writer.sqlite`, "select max(id), count(*) from rows")).stdout.trim().split("|").map(Number);
  expect(max).toBeGreaterThanOrEqual(committed);
  expect(count).toBe(max); // every id from 1 to max: no committed row missing, nothing torn
  // Owned by the tenant's container user, as in the volume.
  expect(fs.statSync(`${state}/state/writer.sqlite`).uid).toBe(Number(String(before.Config.User).split(":")[0]));
  // The gateway was never stopped, paused or restarted.
  const after = await engine("s1").getContainer(container).inspect();
  expect({ started: after.State.StartedAt, restarts: after.RestartCount, running: after.State.Running, paused: after.State.Paused })
    .toEqual({ started: before.State.StartedAt, restarts: before.RestartCount, running: true, paused: false });
});

test("the snapshot before an upgrade is the program's command, tagged before-upgrade", async () => {
  const cmd = ofType(program, TYPES.remoteCommand).find((r) => r.name === "alice-snapshot-before-upgrade");
  expect(cmd?.inputs.triggers).toEqual([IMAGE]);
  const r = await ssh("s1", String(cmd?.inputs.create));
  noSecret(r);
  expect(r.code).toBe(0);
  expect(statusOf("s1", "alice")).toMatchObject({ ok: true, reason: "before-upgrade" });
  const listed = await ssh("s1", `${INSTALLED} restic snapshots --json --tag tenant=alice,reason=before-upgrade`);
  expect((JSON.parse(listed.stdout) as unknown[]).length).toBe(1);
});

describe("failures are loud, flagged, and change no tenant", () => {
  const bobBefore = async () => (await engine("s2").getContainer("openclaw-bob").inspect()).State;
  async function failingRun(expectWords: RegExp): Promise<Shell> {
    const state = await bobBefore();
    const lastGood = statusOf("s2", "bob").snapshotId ?? statusOf("s2", "bob").lastGood?.snapshotId;
    const r = await runUnit("s2");
    noSecret(r);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/tenant bob: snapshot FAILED/);
    const s = statusOf("s2", "bob");
    expect(s.ok).toBe(false);
    expect(s.error).toMatch(expectWords);
    expect(s.error).not.toContain(PASSWORD);
    expect(s.lastGood?.snapshotId).toBe(lastGood);
    const v = backupVerdict(s, 15, new Date());
    expect(v.problems[0]).toMatch(/^last run failed/);
    expect(v.lastGood?.snapshotId).toBe(lastGood);
    const after = await bobBefore();
    expect({ started: after.StartedAt, running: after.Running, paused: after.Paused }).toEqual({ started: state.StartedAt, running: true, paused: false });
    expect(fs.readdirSync(`${varDir("s2")}/staging`)).toEqual([]);
    return r;
  }

  test("a wrong password", async () => {
    const file = `${etcDir("s2")}/password`;
    fs.writeFileSync(file, "not-the-password", { mode: 0o600 });
    try {
      const r = await failingRun(/wrong password/);
      console.log(`wrong password: failed in ${r.ms} ms`);
    } finally {
      fs.writeFileSync(file, PASSWORD, { mode: 0o600 });
    }
  });

  test("an unreachable repository", async () => {
    expect((await run(["bash", SERVERS_ENV, "backup-link", "2", "down"])).code).toBe(0);
    try {
      const r = await failingRun(/restic backup failed/);
      console.log(`unreachable repository: failed in ${r.ms} ms`);
    } finally {
      expect((await run(["bash", SERVERS_ENV, "backup-link", "2", "up"])).code).toBe(0);
    }
  });

  test("a full repository", async () => {
    // New data the repository must store, then a repository disk with no room for it.
    await dockerCli("s2", ["exec", "openclaw-bob", "node", "-e", "require('fs').writeFileSync('/home/node/.openclaw/new-data.bin', require('crypto').randomBytes(4<<20))"]);
    const filler = `${REPO_DIR}/filler`;
    const free = fs.statfsSync(REPO_DIR);
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, Number(free.bavail) * Number(free.bsize) - 64 * 1024)));
    try {
      const r = await failingRun(/restic backup failed/);
      console.log(`full repository: failed in ${r.ms} ms`);
    } finally {
      fs.rmSync(filler, { force: true });
    }
    // With room again, the next scheduled run succeeds.
    const again = await runUnit("s2");
    expect(again.code).toBe(0);
    expect(statusOf("s2", "bob").ok).toBe(true);
  });
});

test("the maintenance server forgets by the retention and checks the repository, recording the result", async () => {
  const r = await runUnit("s1", "openclaw-backup-maintain");
  noSecret(r);
  expect({ code: r.code, out: r.stdout }).toEqual({ code: 0, out: expect.stringContaining("repository maintained") });
  const check = JSON.parse(fs.readFileSync(`${varDir("s1")}/status/_check.json`, "utf8")) as { ok: boolean; subset: string };
  expect(check).toMatchObject({ ok: true, subset: "100%" });
  // Only s1 maintains: s2 has no maintenance unit settings.
  expect(fs.readFileSync(`${etcDir("s2")}/settings`, "utf8")).toContain("maintain=no");
  console.log(`maintenance (forget --prune, check 100%): ${r.ms} ms`);
});

test("a snapshot meeting the maintenance server's exclusive lock waits for it; one that waits past its tries fails loudly, flagged", async () => {
  // s1's prune holds the repository's exclusive lock, frozen (SIGSTOP) as soon as its lock file is
  // there, so the lock is held for as long as the test says. Bounded: 3 attempts of 20 s.
  const locks = `${REPO_DIR}/${STACK}/locks`;
  const lockFiles = () => (fs.existsSync(locks) ? fs.readdirSync(locks) : []);
  expect(lockFiles()).toEqual([]);
  const pruneMatch = "--cache-dir /var/lib/openclaw/backup/cache prune";
  let prune: Promise<Shell> | undefined;
  for (let attempt = 0; attempt < 3 && prune === undefined; attempt++) {
    const started = ssh("s1", `${INSTALLED} restic prune`, "", 120_000);
    const t0 = Date.now();
    while (Date.now() - t0 < 20_000 && lockFiles().length === 0) await new Promise((r) => setTimeout(r, 10));
    const stopped = await run(["pkill", "-STOP", "-f", "--", pruneMatch]);
    if (stopped.code === 0 && lockFiles().length > 0) prune = started;
    else { await run(["pkill", "-CONT", "-f", "--", pruneMatch]); await started; }
  }
  expect(prune).toBeDefined();
  try {
    // Two tries a second apart: the lock outlasts them; the run fails, says why, and is flagged.
    const gaveUp = await ssh("s2", `OPENCLAW_BACKUP_LOCK_TRIES=2 OPENCLAW_BACKUP_LOCK_WAIT=1 ${INSTALLED} tenant bob manual`, "", 120_000);
    noSecret(gaveUp);
    expect(gaveUp.code).not.toBe(0);
    expect(gaveUp.stderr).toMatch(/snapshot FAILED: restic backup failed: the repository stayed locked through 2 tries, 1s apart: .*already locked exclusively by PID \d+/);
    expect(statusOf("s2", "bob")).toMatchObject({ ok: false, error: expect.stringMatching(/stayed locked through 2 tries.*already locked exclusively/) });
    // Twenty tries: the prune goes on after 3 s and finishes; the waiting snapshot then succeeds.
    const waiting = ssh("s2", `OPENCLAW_BACKUP_LOCK_TRIES=20 OPENCLAW_BACKUP_LOCK_WAIT=1 ${INSTALLED} tenant bob manual`, "", 120_000);
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await run(["pkill", "-CONT", "-f", "--", pruneMatch])).code).toBe(0);
    const pruned = await prune!;
    expect(pruned.code).toBe(0);
    const waited = await waiting;
    noSecret(waited);
    expect({ code: waited.code, stderr: waited.stderr }).toEqual({ code: 0, stderr: "" });
    expect(waited.ms).toBeGreaterThan(3_000);
    expect(statusOf("s2", "bob")).toMatchObject({ ok: true, reason: "manual" });
    console.log(`exclusive lock: gave up after 2 tries in ${gaveUp.ms} ms; waited and succeeded in ${waited.ms} ms (prune frozen 3 s)`);
  } finally {
    await run(["pkill", "-CONT", "-f", "--", pruneMatch]);
  }
});
