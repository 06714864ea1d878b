// Restore throughput and the lost-server drill (RTO against RPO) on the three stand-in servers.
// Run with the servers up (test/machinery/servers-env.sh), under the engine lock:
//   flock /work/engine.lock bash -c 'eval "$(bash test/machinery/servers-env.sh up)"; \
//     npx ts-node --transpile-only bench/restore.ts [--tenants 4] [--mb 32] [--age 30]; bash test/machinery/servers-env.sh down'
//   --tenants N  tenants on s1 (default 4), each with --mb MB of random data in its state volume
//                plus a 2,000-row SQLite database and a credentials file
//   --age S      seconds between the last snapshot and the loss of s1 (the drill's RPO; default 30)
// It makes the snapshots the backup contract's way (docs/restore.md) into a local-path repository
// every server reaches, restores one tenant onto s2 with the restore tool's own code (throughput),
// then stops s1's engine, deletes its data-root and restores every s1 tenant onto s2 and s3 (one at
// a time per server, the servers in parallel, as npm run recover does). RTO here is the data's
// recovery (restore + every check) until the last tenant is verified; `pulumi up` (containers
// started on the restored volumes, about 10-20 s per server here) comes on top.
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { snapshotAgeMs } from "../tools/restore/decide";
import { RestoreResult, restoreTenant } from "../tools/restore/restore";
import { Engine } from "../tools/shared/dockerCli";

const args = process.argv.slice(2);
const num = (name: string, fallback: number, max: number): number => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`${name} must be a whole number from 1 to ${max}`);
  return v;
};
const TENANTS = num("--tenants", 4, 50);
const MB = num("--mb", 32, 1024);
const AGE_S = num("--age", 30, 3600);
const ADDRESSES = (process.env.OPENCLAW_SERVERS ?? "").split(",").filter((a) => a !== "");
const SSH_BIN = process.env.OPENCLAW_SERVERS_SSH_BIN ?? "";
const STATE = process.env.OPENCLAW_SERVERS_STATE ?? "/var/lib/openclaw-servers";
if (ADDRESSES.length !== 3 || SSH_BIN === "") throw new Error("the three servers are not up: eval \"$(bash test/machinery/servers-env.sh up)\" first");
const IMAGE = "openclaw-standin:test";
const STACK = `bench-restore-${process.pid}`;
const BACKUP_DIR = "/etc/openclaw/backup";
const STAGING = "/var/lib/openclaw/backup/staging";

const engine = (n: number): Engine => ({ name: `s${n}`, env: { ...process.env, DOCKER_HOST: `ssh://root@${ADDRESSES[n - 1]}:22`, PATH: `${SSH_BIN}:${process.env.PATH ?? ""}` } });
function sh(script: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync("bash", ["-c", script], { env, encoding: "utf8", timeout: 1_800_000 });
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${script.slice(0, 200)}: ${r.stderr}`);
  return r.stdout;
}
const docker = (n: number, cmd: string) => sh(`docker ${cmd}`, engine(n).env);
const log = (line: string) => process.stderr.write(`[bench:restore] ${line}\n`);

const repo = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-bench-repo-"));
const saved = fs.existsSync(path.join(BACKUP_DIR, "restic.env")) ? fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-bench-etc-")) : undefined;
if (saved !== undefined) fs.cpSync(BACKUP_DIR, saved, { recursive: true });
fs.mkdirSync(BACKUP_DIR, { recursive: true, mode: 0o700 });
fs.writeFileSync(path.join(BACKUP_DIR, "password"), crypto.randomBytes(24).toString("base64url"), { mode: 0o600 });
fs.writeFileSync(path.join(BACKUP_DIR, "restic.env"), `RESTIC_REPOSITORY='${repo}'\nRESTIC_PASSWORD_FILE='${BACKUP_DIR}/password'\nOPENCLAW_RESTIC_OPTS=''\n`, { mode: 0o600 });
const restic = { ...process.env, RESTIC_REPOSITORY: repo, RESTIC_PASSWORD_FILE: path.join(BACKUP_DIR, "password") };

async function main(): Promise<void> {
  sh("restic init -q", restic);
  const names = Array.from({ length: TENANTS }, (_, i) => `bench${String(i).padStart(2, "0")}`);
  const t0 = Date.now();
  for (const t of names) {
    for (const key of ["state", "credentials"]) docker(1, `volume create openclaw-${t}-${key} >/dev/null`);
    const mp = (key: string) => docker(1, `volume inspect -f '{{.Mountpoint}}' openclaw-${t}-${key}`).trim();
    const [state, cred] = [mp("state"), mp("credentials")];
    sh(`mkdir -p '${state}/agents/main/sessions' && head -c ${MB * 1048576} /dev/urandom > '${state}/agents/main/sessions/s.jsonl' && ` +
      `sqlite3 '${state}/openclaw.sqlite' "CREATE TABLE m(id INTEGER PRIMARY KEY, body TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<2000) INSERT INTO m(body) SELECT hex(randomblob(64)) FROM n;" && ` +
      `head -c 4096 /dev/urandom > '${cred}/auth-profiles.json' && chown -R 1000:1000 '${state}' '${cred}' && chmod 700 '${cred}'`);
    const stage = `${STAGING}/${t}`;
    sh(`rm -rf '${stage}' && mkdir -p '${stage}' && cp -a '${state}' '${stage}/state' && cp -a '${cred}' '${stage}/credentials' && ` +
      `rm '${stage}/state/openclaw.sqlite' && sqlite3 '${state}/openclaw.sqlite' ".backup '${stage}/state/openclaw.sqlite'" && chown 1000:1000 '${stage}/state/openclaw.sqlite' && ` +
      `restic backup -q '${stage}' --host s1 --tag tenant=${t} --tag server=s1 --tag stack=${STACK} && rm -rf '${stage}'`, restic);
  }
  const snapshotsMs = Date.now() - t0;
  log(`${TENANTS} tenants of ${MB} MB snapshotted in ${snapshotsMs} ms`);

  // Throughput: one tenant onto s2 with the restore tool's code.
  const one = await restoreTenant({ tenant: { name: names[0], diskMb: 2048, diskQuota: "off", image: IMAGE }, stack: STACK, snapshot: "latest", label: "bench", to: engine(2), log });
  const mbps = (r: RestoreResult) => Math.round((r.bytes / 1048576 / (r.ms.total / 1000)) * 10) / 10;
  log(`one restore: ${one.files} files, ${one.bytes} bytes in ${one.ms.total} ms (${mbps(one)} MB/s)`);

  // The drill: wait --age seconds after the last snapshot, lose s1, recover everything onto s2 and s3.
  await new Promise((r) => setTimeout(r, AGE_S * 1000));
  sh(`bash '${path.join(__dirname, "..", "test", "machinery", "servers-env.sh")}' stop-server 1 >/dev/null 2>&1`);
  fs.rmSync(path.join(STATE, "s1", "docker"), { recursive: true, force: true });
  const lostAt = new Date();
  const targets = names.map((t, i) => ({ t, to: i % 2 === 0 ? 3 : 2 }));
  const results: { t: string; to: number; r: RestoreResult }[] = [];
  await Promise.all([2, 3].map(async (n) => {
    for (const { t } of targets.filter((x) => x.to === n)) {
      const r = await restoreTenant({ tenant: { name: t, diskMb: 2048, diskQuota: "off", image: IMAGE }, stack: STACK, snapshot: "latest", label: "drill", to: engine(n), log: () => undefined });
      results.push({ t, to: n, r });
    }
  }));
  const rtoMs = Date.now() - lostAt.getTime();
  const rpo = results.map((x) => snapshotAgeMs(x.r.snapshot, lostAt));
  const bytes = results.reduce((s, x) => s + x.r.bytes, 0);
  const report = {
    tenants: TENANTS, mbPerTenant: MB, snapshotsMs,
    restoreOne: { files: one.files, bytes: one.bytes, ms: one.ms, mbPerS: mbps(one) },
    drill: {
      rtoMs, rpoMs: { min: Math.min(...rpo), max: Math.max(...rpo) }, bytes, files: results.reduce((s, x) => s + x.r.files, 0),
      mbPerS: Math.round((bytes / 1048576 / (rtoMs / 1000)) * 10) / 10,
      perTenant: results.map((x) => ({ tenant: x.t, to: `s${x.to}`, ms: x.r.ms.total, bytes: x.r.bytes })),
    },
  };
  console.log(JSON.stringify(report, null, 2));
  console.log(`restore throughput: ${mbps(one)} MB/s for one ${MB} MB tenant (${one.ms.total} ms: find ${one.ms.find}, restic restore --verify ${one.ms.stage}, copy ${one.ms.copy}, checks ${one.ms.verify})`);
  console.log(`lost-server drill: ${TENANTS} tenants, ${bytes} bytes back and verified on s2+s3 in ${rtoMs} ms (RTO, data only) with snapshots ${Math.round(report.drill.rpoMs.min / 1000)}-${Math.round(report.drill.rpoMs.max / 1000)} s old at the loss (RPO)`);
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  })
  .finally(() => {
    fs.rmSync(path.join(BACKUP_DIR, "restic.env"), { force: true });
    fs.rmSync(path.join(BACKUP_DIR, "password"), { force: true });
    if (saved !== undefined) {
      fs.cpSync(saved, BACKUP_DIR, { recursive: true });
      fs.rmSync(saved, { recursive: true, force: true });
    }
    fs.rmSync(repo, { recursive: true, force: true });
  });
