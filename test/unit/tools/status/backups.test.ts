// Backups in npm run status, the dashboard and /metrics: each tenant's last good snapshot read from
// its server's status files, flagged when a run failed, when there is none, or when it is older than
// twice the schedule; a failed repository check flags the server that maintains the repository.
import { EXIT_FLAGGED, EXIT_OK, ServerResult, exitCodeFor, mergeServerResults, parseBackupFiles, tenantStatus } from "../../../../tools/shared/status";
import { renderTable } from "../../../../tools/status/table";
import { TenantMetrics } from "../../../../tools/dashboard/metrics";

const MiB = 1024 * 1024;
const RULES = { memoryThresholdPercent: 90, diskThresholdPercent: 90 };
const META = { checkedAt: "2026-12-06T12:00:00Z", memoryThresholdPercent: 90, elapsedMs: 5 };

function running(tenant: string, server: string): ReturnType<typeof tenantStatus> {
  return tenantStatus({
    tenant, server, volumes: [],
    inspect: {
      Id: `${tenant}-id`, Name: `/openclaw-${tenant}`, RestartCount: 0,
      State: { Status: "running", Running: true, Paused: false, Restarting: false, OOMKilled: false, ExitCode: 0, StartedAt: "2026-12-06T10:00:00Z", Health: { Status: "healthy", FailingStreak: 0, Log: [] } },
      Config: { Image: "img", Labels: { "managed-by": "openclaw-hosting", "openclaw.tenant": tenant, "openclaw.tier": "light" } },
      HostConfig: { Memory: 512 * MiB, NanoCpus: 5e8 },
    },
  }, RULES);
}

const status = (tenant: string, fields: Record<string, unknown>) =>
  `${tenant}.json ${JSON.stringify({ tenant, server: "s1", stack: "prod", startedAt: "x", reason: "scheduled", ...fields })}`;
const FILES = [
  '_schedule.json {"schedule":"hourly","intervalMinutes":60,"maintain":true}',
  status("alice", { ok: true, time: "2026-12-06T11:40:00Z", snapshotId: "aaaa1111", totalBytes: 5 * MiB, bytesAdded: 1000, durationMs: 900, error: null, lastGood: { time: "2026-12-06T11:40:00Z", snapshotId: "aaaa1111", totalBytes: 5 * MiB } }),
  status("bob", { ok: false, time: "2026-12-06T11:41:00Z", snapshotId: null, error: "restic backup failed: Fatal: wrong password or no key found", lastGood: { time: "2026-12-06T10:41:00Z", snapshotId: "bbbb2222", totalBytes: 7 } }),
  status("carol", { ok: true, time: "2026-12-06T09:00:00Z", snapshotId: "cccc3333", totalBytes: 9, error: null, lastGood: null }),
  '_check.json {"ok":false,"time":"2026-12-06T04:31:00Z","subset":"5%","error":"repository check failed: pack 1234 damaged"}',
  "dave.json {not json",
].join("\n");

describe("backups in the status report", () => {
  const backups = parseBackupFiles(FILES);
  const s1: ServerResult = { server: "s1", engine: "ssh://root@10.0.0.1:22", reachable: true, tenants: ["alice", "bob", "carol", "dave"].map((t) => running(t, "s1")), backups };

  test("the status files are read, a file that does not parse is skipped", () => {
    expect(backups?.intervalMinutes).toBe(60);
    expect(Object.keys(backups?.tenants ?? {}).sort()).toEqual(["alice", "bob", "carol"]);
    expect(backups?.check?.ok).toBe(false);
    expect(parseBackupFiles("")).toBeUndefined(); // no _schedule.json: backups not installed
  });

  test("fresh: not flagged; failed, stale and missing: flagged with why; a failed check flags the server", () => {
    const r = mergeServerResults([s1], META, RULES);
    const flags = Object.fromEntries(r.tenants.map((t) => [t.tenant, t.flags]));
    expect(flags.alice).toEqual([]);
    expect(flags.bob).toEqual(["backup: last run failed at 2026-12-06T11:41:00Z: restic backup failed: Fatal: wrong password or no key found"]);
    expect(flags.carol).toEqual(["backup: last good snapshot is 180 min old, over twice the schedule (120 min)"]);
    expect(flags.dave).toEqual(["backup: no snapshot yet"]);
    expect(r.tenants.find((t) => t.tenant === "bob")?.backup).toMatchObject({ lastGoodAt: "2026-12-06T10:41:00Z", snapshotId: "bbbb2222", lastRunOk: false });
    expect(r.servers[0].flags).toEqual(["backup repository check failed at 2026-12-06T04:31:00Z: repository check failed: pack 1234 damaged"]);
    expect(exitCodeFor(r)).toBe(EXIT_FLAGGED);
    const table = renderTable(r);
    expect(table).toContain("backup alice: last good snapshot aaaa1111 at 2026-12-06T11:40:00Z (5.0 MiB)");
    expect(table).toContain("backup bob: last good snapshot bbbb2222 at 2026-12-06T10:41:00Z");
    expect(table).toContain("last run FAILED at 2026-12-06T11:41:00Z");
    expect(table).toContain("backup repository check (from s1): FAILED");
  });

  test("a server without backups: no backup cells and no flags", () => {
    const r = mergeServerResults([{ ...s1, backups: undefined }], META, RULES);
    expect(r.tenants.every((t) => t.backup === undefined && t.flags.length === 0)).toBe(true);
    expect(exitCodeFor(r)).toBe(EXIT_OK);
  });

  test("/metrics carries the last good snapshot's time and size, the last run and the check", async () => {
    const m = new TenantMetrics();
    m.update(mergeServerResults([s1], META, RULES), undefined);
    const text = await m.text(Date.parse(META.checkedAt));
    expect(text).toContain('openclaw_tenant_backup_last_good_timestamp_seconds{tenant="alice",server="s1",tier="light"} 1796557200');
    expect(text).toContain('openclaw_tenant_backup_last_good_bytes{tenant="alice",server="s1",tier="light"} 5242880');
    expect(text).toContain('openclaw_tenant_backup_last_run_ok{tenant="bob",server="s1",tier="light"} 0');
    expect(text).toContain('openclaw_backup_repository_check_ok{server="s1"} 0');
  });
});
