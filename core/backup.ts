import { z } from "zod";
import { SshHost, SshUser } from "./configText";
import { SshHostKey, knownHostsName } from "./knownHosts";

// Backups (issue 20): a restic repository shared by every server of the stack, a schedule, a
// retention policy, and the secrets that open the repository. Pure: the program ships the files,
// server-scripts/tenant-backup.sh runs restic.

/** Where a server keeps the repository's settings and secrets (root-only; see docs/backups.md). */
export const BACKUP_ETC = "/etc/openclaw/backup";
/** Staging copies, status files: root-only. */
export const BACKUP_VAR = "/var/lib/openclaw/backup";
export const BACKUP_STATUS_DIR = `${BACKUP_VAR}/status`;
export const BACKUP_STAGING_DIR = `${BACKUP_VAR}/staging`;

/**
 * The schedules this program accepts, a subset of systemd's OnCalendar whose interval is known, so
 * `npm run status` can flag a snapshot older than twice of it. `systemd-analyze calendar` is not at
 * hand when the plan is made (and not on the operator's machine), so the subset is checked here.
 */
export const SCHEDULE_FORMS =
  "hourly, daily, weekly, *:MM (hourly at minute MM), *:MM/N (every N minutes, N dividing 60), " +
  "HH:MM or *-*-* HH:MM (daily), *-*-* H/N:MM (every N hours, N dividing 24)";

/** The interval in minutes between two runs of `schedule`, or a message saying what is wrong. */
export function scheduleInterval(schedule: string): { minutes: number } | { problem: string } {
  const bad = { problem: `must be one of: ${SCHEDULE_FORMS}` };
  const named: Record<string, number> = { hourly: 60, daily: 1440, weekly: 10080 };
  if (Object.hasOwn(named, schedule)) return { minutes: named[schedule] };
  const minute = (m: string) => Number(m) < 60;
  const hour = (h: string) => Number(h) < 24;
  let m = /^\*:(\d{1,2})\/(\d{1,2})$/.exec(schedule);
  if (m !== null) {
    const n = Number(m[2]);
    if (!minute(m[1]) || n < 5 || 60 % n !== 0 || Number(m[1]) >= n) return { problem: "every N minutes: N must divide 60 and be at least 5, and the start minute must be below N (e.g. *:00/15)" };
    return { minutes: n };
  }
  m = /^\*:(\d{1,2})$/.exec(schedule);
  if (m !== null) return minute(m[1]) ? { minutes: 60 } : { problem: "the minute must be 0-59" };
  m = /^(?:\*-\*-\* )?(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(schedule);
  if (m !== null) return hour(m[1]) && minute(m[2]) && (m[3] === undefined || minute(m[3])) ? { minutes: 1440 } : { problem: "the time must be HH:MM with HH 0-23 and MM 0-59" };
  m = /^(?:\*-\*-\* )?(\d{1,2})\/(\d{1,2}):(\d{2})$/.exec(schedule);
  if (m !== null) {
    const n = Number(m[2]);
    if (!minute(m[3]) || n < 1 || 24 % n !== 0 || Number(m[1]) >= n) return { problem: "every N hours: N must divide 24, the start hour must be below N (e.g. *-*-* 0/6:00)" };
    return { minutes: n * 60 };
  }
  return bad;
}

const Schedule = z.string({ error: `must be a schedule (${SCHEDULE_FORMS})` }).superRefine((s, ctx) => {
  const r = scheduleInterval(s);
  if ("problem" in r) ctx.addIssue({ code: "custom", message: r.problem });
});

/** What each kind of repository is, parsed from restic's own syntax. */
export type Repository =
  | { kind: "sftp"; url: string; user: string; host: string; port: number; path: string }
  | { kind: "s3"; url: string }
  | { kind: "rest"; url: string }
  | { kind: "local"; url: string };

/** Characters that could break out of restic.env's single quotes or a command line: never in a URL here. */
const UNSAFE_URL = /[\s'"`$\\;&|<>(){}\u0000-\u001f\u007f]/;

export function parseRepository(url: string): Repository | { problem: string } {
  if (url.length > 500) return { problem: "must be at most 500 characters" };
  if (UNSAFE_URL.test(url)) return { problem: "must not contain spaces, quotes or shell characters" };
  // sftp://user@host[:port]//abs/path or sftp://user@host[:port]/rel
  let m = /^sftp:\/\/([^@/]+)@([^:/]+)(?::(\d{1,5}))?\/(.+)$/.exec(url);
  // sftp:user@host:/path (scp style; port 22)
  if (m === null) {
    const s = /^sftp:([^@/:]+)@([^:/]+):(.+)$/.exec(url);
    if (s !== null) m = [s[0], s[1], s[2], undefined, s[3]] as unknown as RegExpExecArray;
  }
  if (url.startsWith("sftp:")) {
    if (m === null) return { problem: "an sftp repository must name its user: sftp:user@host:/path or sftp://user@host:port//path" };
    const user = SshUser.safeParse(m[1]);
    const host = SshHost.safeParse(m[2]);
    const port = m[3] === undefined ? 22 : Number(m[3]);
    if (!user.success) return { problem: `has a user that ${user.error.issues[0].message}` };
    if (!host.success) return { problem: `has a host that ${host.error.issues[0].message}` };
    if (port < 1 || port > 65535) return { problem: "has a port outside 1-65535" };
    return { kind: "sftp", url, user: m[1], host: m[2], port, path: m[4] };
  }
  if (url.startsWith("s3:")) {
    if (!/^s3:(https?:\/\/)?[a-z0-9.-]+(:\d{1,5})?\/[a-z0-9][a-z0-9.-]{2,62}(\/[A-Za-z0-9._\/-]*)?$/.test(url)) {
      return { problem: "an S3 repository is s3:https://host/bucket[/prefix] or s3:s3.amazonaws.com/bucket (no credentials in the URL: set backup.s3 as secrets)" };
    }
    return { kind: "s3", url };
  }
  if (url.startsWith("rest:")) {
    if (/^rest:https?:\/\/[^/]*@/.test(url)) return { problem: "must not hold credentials (the URL is stored in plaintext); use an sftp or S3 repository, or a rest-server without --private-repos behind a private network" };
    if (!/^rest:https?:\/\/[a-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._\/-]*)?$/.test(url)) return { problem: "a REST repository is rest:https://host:port/path" };
    return { kind: "rest", url };
  }
  if (url.startsWith("/")) {
    if (url.includes("/../") || url.endsWith("/..")) return { problem: "must be an absolute path without .. parts" };
    return { kind: "local", url };
  }
  return { problem: "must be a restic repository: sftp:user@host:/path, sftp://user@host:port//path, s3:https://host/bucket, rest:https://host:port/path, or an absolute path" };
}

const RepositoryUrl = z.string({ error: "must be a restic repository URL such as sftp:backup@backup.example.net:/srv/restic/prod" }).superRefine((u, ctx) => {
  const r = parseRepository(u);
  if ("problem" in r) ctx.addIssue({ code: "custom", message: r.problem });
});

/** A secret value: checked for presence and size only (offline, `npm run check` sees only a marker). */
const SecretText = (what: string) =>
  z.string({ error: `must be ${what}, set as a secret` }).min(1, { error: `must be ${what}, set as a secret` }).max(16384, { error: "must be at most 16384 characters" });

const KeepCount = z.number().int({ error: "must be a whole number" }).min(0).max(1000, { error: "must be at most 1000" });

export const BackupConfigSchema = z
  .strictObject({
    /** restic's repository syntax; one repository for the whole stack (docs/backups.md). */
    repository: RepositoryUrl,
    /** systemd OnCalendar, in the subset scheduleInterval knows. */
    schedule: Schedule.default("hourly"),
    keep: z
      .strictObject({ hourly: KeepCount.default(24), daily: KeepCount.default(7), weekly: KeepCount.default(4), monthly: KeepCount.default(6) })
      .prefault({})
      .refine((k) => k.hourly + k.daily + k.weekly + k.monthly > 0, { error: "must keep at least one snapshot (all counts are 0)" }),
    /** The repository's password (restic's key): a secret. Whoever has it reads every tenant's data. */
    password: SecretText("the repository password"),
    /** sftp repositories: the servers' private SSH key for the backup host (a secret) and its pinned host key. */
    sshKey: SecretText("an OpenSSH private key").optional(),
    sshHostKey: SshHostKey.optional(),
    /** S3-compatible repositories: the access key pair (secrets). */
    s3: z.strictObject({ accessKeyId: SecretText("the access key id"), secretAccessKey: SecretText("the secret access key"), region: z.string().regex(/^[a-z0-9-]{1,40}$/, { error: "must be a region name such as eu-central-1" }).optional() }).optional(),
    /** The one server that forgets, prunes and checks (exclusive lock); default: the first by name. */
    maintenanceServer: z.string().optional(),
    /** Share of the repository's data `restic check --read-data-subset` reads at each maintenance run. */
    checkSubset: z.string().regex(/^([1-9]|[1-9][0-9]|100)%$/, { error: "must be a percentage such as 5%" }).default("5%"),
  })
  .superRefine((b, ctx) => {
    const r = parseRepository(b.repository);
    if ("problem" in r) return;
    if (r.kind === "sftp") {
      if (b.sshKey === undefined) ctx.addIssue({ code: "custom", path: ["sshKey"], message: "is required for an sftp repository (the servers' key for the backup host, set as a secret)" });
      if (b.sshHostKey === undefined) ctx.addIssue({ code: "custom", path: ["sshHostKey"], message: "is required for an sftp repository (the backup host's public key as `type base64`, pinned)" });
    } else {
      if (b.sshKey !== undefined) ctx.addIssue({ code: "custom", path: ["sshKey"], message: "is only for sftp repositories" });
      if (b.sshHostKey !== undefined) ctx.addIssue({ code: "custom", path: ["sshHostKey"], message: "is only for sftp repositories" });
    }
    if (r.kind === "s3" && b.s3 === undefined) ctx.addIssue({ code: "custom", path: ["s3"], message: "is required for an S3 repository (accessKeyId and secretAccessKey, set as secrets)" });
    if (r.kind !== "s3" && b.s3 !== undefined) ctx.addIssue({ code: "custom", path: ["s3"], message: "is only for s3: repositories" });
  });
export type BackupConfig = z.infer<typeof BackupConfigSchema>;

/** The backup block's secret leaves, as config paths (core/secrets.ts). */
export const BACKUP_SECRET_FIELDS = ["password", "sshKey", "s3.accessKeyId", "s3.secretAccessKey"] as const;

/** Which server forgets, prunes and checks: the named one, else the first by name. */
export function maintenanceServer(backup: BackupConfig, servers: readonly string[]): string {
  return backup.maintenanceServer ?? [...servers].sort()[0];
}

const q = (value: string): string => `'${value.replace(/'/g, `'"'"'`)}'`;

/** restic's sftp.command for the backup host: our key, the pinned host key, no agent or user config. */
export function sftpCommand(r: Extract<Repository, { kind: "sftp" }>): string {
  return [
    "ssh -F /dev/null",
    `-i ${BACKUP_ETC}/ssh_key -o UserKnownHostsFile=${BACKUP_ETC}/known_hosts -o StrictHostKeyChecking=yes`,
    "-o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=10 -o ServerAliveInterval=15",
    `-p ${r.port} ${r.user}@${r.host} -s sftp`,
  ].join(" ");
}

/** The files a server gets under BACKUP_ETC, by name: contents and whether they hold a secret. */
export interface BackupFile { name: string; content: string }

/**
 * Everything a server needs to take snapshots: restic.env, the password, and for sftp the key and
 * the pinned host key. Shipped on the install command's stdin (a Pulumi secret), never in argv.
 */
export function backupFiles(backup: BackupConfig, server: string, stack: string): BackupFile[] {
  const r = parseRepository(backup.repository);
  if ("problem" in r) throw new Error(`config backup.repository: ${r.problem}`);
  const env = [
    `RESTIC_REPOSITORY=${q(backup.repository)}`,
    `RESTIC_PASSWORD_FILE=${q(`${BACKUP_ETC}/password`)}`,
    `OPENCLAW_RESTIC_OPTS=${q(r.kind === "sftp" ? `sftp.command=${sftpCommand(r)}` : "")}`,
    `OPENCLAW_BACKUP_SERVER=${q(server)}`,
    `OPENCLAW_BACKUP_STACK=${q(stack)}`,
  ];
  if (backup.s3 !== undefined) {
    env.push(`AWS_ACCESS_KEY_ID=${q(backup.s3.accessKeyId)}`, `AWS_SECRET_ACCESS_KEY=${q(backup.s3.secretAccessKey)}`);
    if (backup.s3.region !== undefined) env.push(`AWS_DEFAULT_REGION=${q(backup.s3.region)}`);
  }
  const files: BackupFile[] = [
    { name: "restic.env", content: `${env.join("\n")}\n` },
    { name: "password", content: backup.password },
  ];
  if (r.kind === "sftp" && backup.sshKey !== undefined && backup.sshHostKey !== undefined) {
    files.push({ name: "ssh_key", content: backup.sshKey.endsWith("\n") ? backup.sshKey : `${backup.sshKey}\n` });
    files.push({ name: "known_hosts", content: `${knownHostsName(r.host, r.port)} ${backup.sshHostKey}\n` });
  }
  return files;
}

/**
 * The settings that are not secret, as the script's arguments: the retention flags, the schedule,
 * whether this server maintains the repository. Checked words only (no shell quoting needed).
 */
export function backupSettings(backup: BackupConfig, server: string, servers: readonly string[]): string[] {
  const interval = scheduleInterval(backup.schedule);
  return [
    `schedule=${backup.schedule}`,
    `interval=${"minutes" in interval ? interval.minutes : 0}`,
    `keep=--keep-hourly ${backup.keep.hourly} --keep-daily ${backup.keep.daily} --keep-weekly ${backup.keep.weekly} --keep-monthly ${backup.keep.monthly}`,
    `maintain=${maintenanceServer(backup, servers) === server ? "yes" : "no"}`,
    `subset=${backup.checkSubset}`,
  ];
}

/**
 * The files as one stream for the install command's stdin: `name length` then the bytes, so a
 * key's newlines and any byte survive, and the script needs no parser beyond `head -c`.
 */
export function backupBundle(files: readonly BackupFile[]): string {
  return files.map((f) => `${f.name} ${Buffer.byteLength(f.content, "utf8")}\n${f.content}`).join("");
}

/** What `npm run check` and `npm start` say about a stack's backups, in one line. */
export function backupSummary(backup: BackupConfig | undefined): string {
  if (backup === undefined) return "backups: NONE. This stack has no backup block, so its tenants have no backups: one lost disk loses their data (docs/backups.md).";
  const r = parseRepository(backup.repository);
  const kind = "problem" in r ? "?" : r.kind;
  const interval = scheduleInterval(backup.schedule);
  const every = "minutes" in interval ? `every ${interval.minutes} min` : backup.schedule;
  return `backups: ${kind} repository, schedule ${backup.schedule} (${every}), keep ${backup.keep.hourly} hourly/${backup.keep.daily} daily/${backup.keep.weekly} weekly/${backup.keep.monthly} monthly.`;
}

// --- status (read back by npm run status, the dashboard and /metrics) ---

export const TenantBackupStatus = z.object({
  tenant: z.string(),
  server: z.string(),
  stack: z.string(),
  ok: z.boolean(),
  time: z.string(),
  snapshotId: z.string().nullable().optional(),
  bytesAdded: z.number().nullable().optional(),
  totalBytes: z.number().nullable().optional(),
  durationMs: z.number().nullable().optional(),
  reason: z.string().optional(),
  /** null after a good run (the script writes every field). */
  error: z.string().nullable().optional(),
  lastGood: z.object({ time: z.string(), snapshotId: z.string(), totalBytes: z.number().nullable() }).nullable().optional(),
});
export type TenantBackupStatus = z.infer<typeof TenantBackupStatus>;

export const RepositoryCheckStatus = z.object({ ok: z.boolean(), time: z.string(), subset: z.string().optional(), error: z.string().nullable().optional() });
export type RepositoryCheckStatus = z.infer<typeof RepositoryCheckStatus>;

export interface BackupVerdict {
  /** The last good snapshot, or undefined when there is none. */
  lastGood?: { time: string; snapshotId: string; totalBytes: number | null };
  /** Why this tenant's backups need attention; empty when fine. */
  problems: string[];
}

/** A tenant's backup health: its last good snapshot, flagged when missing, failed or older than twice the schedule. */
export function backupVerdict(status: TenantBackupStatus | undefined, intervalMinutes: number, now: Date): BackupVerdict {
  if (status === undefined) return { problems: ["no snapshot yet"] };
  const lastGood = status.ok && status.snapshotId ? { time: status.time, snapshotId: status.snapshotId, totalBytes: status.totalBytes ?? null } : status.lastGood ?? undefined;
  const problems: string[] = [];
  if (!status.ok) problems.push(`last run failed at ${status.time}: ${status.error ?? "unknown error"}`);
  if (lastGood === undefined) problems.push("no good snapshot");
  else if (intervalMinutes > 0 && now.getTime() - Date.parse(lastGood.time) > 2 * intervalMinutes * 60_000) {
    problems.push(`last good snapshot is ${Math.round((now.getTime() - Date.parse(lastGood.time)) / 60_000)} min old, over twice the schedule (${2 * intervalMinutes} min)`);
  }
  return { lastGood, problems };
}
