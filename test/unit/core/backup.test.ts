import { backupBundle, backupFiles, backupSettings, backupSummary, backupVerdict, BackupConfigSchema, parseRepository, scheduleInterval } from "../../../core/backup";
import { parseStackConfig } from "../../../core/stackConfig";
import { plaintextBackupSecrets } from "../../../core/secrets";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const SFTP = { repository: "sftp:backup@10.249.0.1:/srv/restic/prod", password: "correct horse battery", sshKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----", sshHostKey: HOST_KEY };
const base = { domain: "claw.example.com", image: "ghcr.io/openclaw/openclaw:2026.9.6-r20260923", caddy: { acmeEmail: "ops@example.com" } };

describe("schedule: a subset of OnCalendar whose interval is known", () => {
  test.each([
    ["hourly", 60], ["daily", 1440], ["weekly", 10080], ["*:15", 60], ["*:00/15", 15], ["*:05/30", 30],
    ["03:30", 1440], ["*-*-* 03:30", 1440], ["*-*-* 03:30:00", 1440], ["*-*-* 0/6:00", 360], ["*-*-* 2/4:10", 240],
  ])("%s runs every %i minutes", (s, minutes) => {
    expect(scheduleInterval(s)).toEqual({ minutes });
  });
  test.each(["", "every hour", "*:00/7", "*:00/2", "*:20/15", "25:00", "12:60", "*-*-* 0/5:00", "Mon *-*-* 03:00", "minutely", "hourly; rm -rf /"])("%j is refused with the forms it takes", (s) => {
    expect("problem" in scheduleInterval(s)).toBe(true);
  });
});

describe("repository: restic's syntax, nothing that could leave restic.env's quotes", () => {
  test("sftp in both forms, with user, host and port", () => {
    expect(parseRepository("sftp:backup@backup.example.net:/srv/restic")).toMatchObject({ kind: "sftp", user: "backup", host: "backup.example.net", port: 22, path: "/srv/restic" });
    expect(parseRepository("sftp://backup@10.0.0.5:2222//srv/restic")).toMatchObject({ kind: "sftp", port: 2222, path: "/srv/restic" });
  });
  test("s3, rest and local paths", () => {
    expect(parseRepository("s3:https://s3.eu-central-1.wasabisys.com/claw-backups/prod")).toMatchObject({ kind: "s3" });
    expect(parseRepository("s3:s3.amazonaws.com/claw-backups")).toMatchObject({ kind: "s3" });
    expect(parseRepository("rest:https://backup.example.net:8000/prod")).toMatchObject({ kind: "rest" });
    expect(parseRepository("/mnt/backup/restic")).toMatchObject({ kind: "local" });
  });
  test.each([
    ["sftp:10.0.0.5:/srv", "must name its user"],
    ["sftp:backup@host:/srv/it's", "shell characters"],
    ["sftp:backup@host:/srv/$(id)", "shell characters"],
    ["rest:https://user:pw@backup.example.net/", "must not hold credentials"],
    ["s3:https://AKIA:secret@s3.example.com/b", "no credentials in the URL"],
    // S3 bucket names are 3 to 63 characters (restic itself refuses "bk" only when it first connects).
    ["s3:https://s3.example.com/bk/repo", "s3:https://host/bucket"],
    ["b2:bucket/path", "must be a restic repository"],
    ["relative/path", "must be a restic repository"],
  ])("%s is refused (%s)", (url, words) => {
    const r = parseRepository(url);
    expect("problem" in r && r.problem).toContain(words);
  });
});

describe("the backup block in the stack config", () => {
  test("an sftp block with its defaults", () => {
    const { config, problems } = parseStackConfig({ ...base, backup: SFTP });
    expect(problems).toEqual([]);
    expect(config?.backup).toMatchObject({ schedule: "hourly", keep: { hourly: 24, daily: 7, weekly: 4, monthly: 6 }, checkSubset: "5%" });
  });
  test("errors name the field, never the secret", () => {
    const { problems } = parseStackConfig({ ...base, backup: { repository: "sftp:backup@h.example.net:/r", password: "hunter2-secret-value", schedule: "*:00/7" } });
    const text = JSON.stringify(problems);
    expect(problems.map((p) => p.field).sort()).toEqual(["backup.schedule", "backup.sshHostKey", "backup.sshKey"]);
    expect(text).not.toContain("hunter2");
  });
  test("an S3 repository needs the key pair; sftp settings are refused for it", () => {
    const { problems } = parseStackConfig({ ...base, backup: { repository: "s3:s3.amazonaws.com/claw", password: "p", sshHostKey: HOST_KEY } });
    expect(problems.map((p) => p.field).sort()).toEqual(["backup.s3", "backup.sshHostKey"]);
  });
  test("a retention that keeps nothing, a missing password and an unknown field are refused", () => {
    const { problems } = parseStackConfig({ ...base, backup: { ...SFTP, password: undefined, keep: { hourly: 0, daily: 0, weekly: 0, monthly: 0 }, keepLast: 3 } });
    expect(problems.map((p) => p.field).sort()).toEqual(["backup.keep", "backup.keepLast", "backup.password"]);
  });
  test("maintenanceServer must be one of the stack's servers", () => {
    const { problems } = parseStackConfig({ ...base, backup: { ...SFTP, maintenanceServer: "s9" } });
    expect(problems).toEqual([{ field: "backup.maintenanceServer", message: "must be one of the stack's servers (default)" }]);
  });
  test("a plaintext password is found, an encrypted one is not", () => {
    expect(plaintextBackupSecrets(JSON.stringify(SFTP))).toEqual(["backup.password", "backup.sshKey"]);
    const secure = (v: unknown) => typeof v === "object" && v !== null && "secure" in v;
    expect(plaintextBackupSecrets({ ...SFTP, password: { secure: "v1:abc" }, sshKey: { secure: "v1:def" } }, secure)).toEqual([]);
  });
});

describe("what a server gets", () => {
  const backup = BackupConfigSchema.parse(SFTP);
  test("restic.env names the password file and the pinned sftp command; the password is its own file", () => {
    const files = Object.fromEntries(backupFiles(backup, "s1", "prod").map((f) => [f.name, f.content]));
    expect(Object.keys(files).sort()).toEqual(["known_hosts", "password", "restic.env", "ssh_key"]);
    expect(files["restic.env"]).toContain("RESTIC_REPOSITORY='sftp:backup@10.249.0.1:/srv/restic/prod'");
    expect(files["restic.env"]).toContain("RESTIC_PASSWORD_FILE='/etc/openclaw/backup/password'");
    expect(files["restic.env"]).toContain("StrictHostKeyChecking=yes");
    expect(files["restic.env"]).toContain("-p 22 backup@10.249.0.1 -s sftp");
    expect(files["restic.env"]).not.toContain(SFTP.password);
    expect(files.password).toBe(SFTP.password);
    expect(files.known_hosts).toBe(`10.249.0.1 ${HOST_KEY}\n`);
  });
  test("the bundle frames each file by its byte length", () => {
    expect(backupBundle([{ name: "password", content: "pä" }, { name: "x", content: "a\nb" }])).toBe("password 3\npäx 3\na\nb");
  });
  test("only the maintenance server forgets, prunes and checks", () => {
    expect(backupSettings(backup, "s1", ["s2", "s1"])).toContain("maintain=yes");
    expect(backupSettings(backup, "s2", ["s2", "s1"])).toContain("maintain=no");
    expect(backupSettings(backup, "s2", ["s2", "s1"])).toContain("keep=--keep-hourly 24 --keep-daily 7 --keep-weekly 4 --keep-monthly 6");
  });
  test("a stack without backups says so plainly", () => {
    expect(backupSummary(undefined)).toMatch(/^backups: NONE.*no backups/);
    expect(backupSummary(backup)).toContain("sftp repository, schedule hourly (every 60 min)");
  });
});

describe("a tenant's backup verdict", () => {
  const now = new Date("2026-12-06T12:00:00Z");
  const good = { tenant: "alice", server: "s1", stack: "prod", ok: true, time: "2026-12-06T11:30:00Z", snapshotId: "abcd1234", totalBytes: 100 };
  test("fresh and good: no problems", () => {
    expect(backupVerdict(good, 60, now)).toEqual({ lastGood: { time: good.time, snapshotId: "abcd1234", totalBytes: 100 }, problems: [] });
  });
  test("older than twice the schedule is flagged", () => {
    expect(backupVerdict({ ...good, time: "2026-12-06T09:59:00Z" }, 60, now).problems[0]).toContain("over twice the schedule (120 min)");
  });
  test("a failed run keeps the last good one and is flagged", () => {
    const v = backupVerdict({ ...good, ok: false, snapshotId: null, error: "wrong password", lastGood: { time: good.time, snapshotId: "abcd1234", totalBytes: 100 } }, 60, now);
    expect(v.lastGood?.snapshotId).toBe("abcd1234");
    expect(v.problems).toEqual(["last run failed at 2026-12-06T11:30:00Z: wrong password"]);
  });
  test("no status at all is flagged", () => {
    expect(backupVerdict(undefined, 60, now).problems).toEqual(["no snapshot yet"]);
  });
});
