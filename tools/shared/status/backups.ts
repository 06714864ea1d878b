/**
 * A tenant's backups as its server's status files say (server-scripts/tenant-backup.sh writes them
 * under /var/lib/openclaw/backup/status): the last good snapshot, flagged when a run failed, when
 * there is none, or when it is older than twice the schedule; and the repository's last check.
 */
import { RepositoryCheckStatus, TenantBackupStatus, backupVerdict } from "../../../core/backup";

/** What one server's status folder holds; undefined on a server without backups installed. */
export interface ServerBackups {
  /** The installed schedule's interval, minutes (0: unknown, not judged for age). */
  intervalMinutes: number;
  tenants: Record<string, TenantBackupStatus>;
  /** Only on the server that maintains the repository. */
  check?: RepositoryCheckStatus;
}

/** A tenant row's backup cells. */
export interface TenantBackup {
  lastGoodAt: string | null;
  lastGoodBytes: number | null;
  snapshotId: string | null;
  lastRunOk: boolean | null;
  lastRunAt: string | null;
  error: string | null;
}

/**
 * Parses the helper's output: one `name.json {json}` line per status file. Lines that do not parse
 * are skipped (a file being replaced, or one from another version), never thrown.
 */
export function parseBackupFiles(text: string): ServerBackups | undefined {
  const out: ServerBackups = { intervalMinutes: 0, tenants: {} };
  let installed = false;
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z0-9_.-]+)\.json (.*)$/.exec(line.trim());
    if (m === null) continue;
    let value: unknown;
    try {
      value = JSON.parse(m[2]);
    } catch {
      continue;
    }
    if (m[1] === "_schedule") {
      installed = true;
      const minutes = (value as { intervalMinutes?: unknown }).intervalMinutes;
      if (typeof minutes === "number" && minutes > 0) out.intervalMinutes = minutes;
    } else if (m[1] === "_check") {
      const c = RepositoryCheckStatus.safeParse(value);
      if (c.success) out.check = c.data;
    } else if (!m[1].startsWith("_")) {
      const t = TenantBackupStatus.safeParse(value);
      if (t.success && t.data.tenant === m[1]) out.tenants[m[1]] = t.data;
    }
  }
  return installed ? out : undefined;
}

/** A tenant's backup cells and flag reasons (each starting `backup:`). */
export function tenantBackup(backups: ServerBackups, tenant: string, now: Date): { backup: TenantBackup; flags: string[] } {
  const status = backups.tenants[tenant];
  const verdict = backupVerdict(status, backups.intervalMinutes, now);
  return {
    backup: {
      lastGoodAt: verdict.lastGood?.time ?? null,
      lastGoodBytes: verdict.lastGood?.totalBytes ?? null,
      snapshotId: verdict.lastGood?.snapshotId ?? null,
      lastRunOk: status?.ok ?? null,
      lastRunAt: status?.time ?? null,
      error: status?.ok === false ? status.error ?? "failed" : null,
    },
    flags: verdict.problems.map((p) => `backup: ${p}`),
  };
}

/** The server's flag for a failed repository check (the maintenance server only). */
export function repositoryCheckReasons(backups: ServerBackups | undefined): string[] {
  const c = backups?.check;
  if (c === undefined || c.ok) return [];
  return [`backup repository check failed at ${c.time}: ${c.error ?? "unknown error"}`];
}
