import { ProgramRun, TYPES, baseConfig, fakeKey, ofType, runProgram, PROJECT } from "../support/program";
import { writeRoster } from "../support/roster";
import { THREE_SERVERS } from "../support/servers";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const PASSWORD = "repository-password-never-in-argv";
const SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nbackup-key-body\n-----END OPENSSH PRIVATE KEY-----\n";
const BACKUP = { repository: "sftp:backup@10.249.0.1:/srv/restic/test", password: PASSWORD, sshKey: SSH_KEY, sshHostKey: HOST_KEY, schedule: "*:00/30" };
const TENANTS = [{ name: "alice", server: "a" }, { name: "bob", server: "b" }, { name: "carol", server: "c", state: "suspended" as const }];

function config(image: string, backup: unknown): Record<string, unknown> {
  const dir = writeRoster(TENANTS.map((t) => ({ name: t.name, state: t.state, extra: `server: ${t.server}` })));
  return baseConfig(dir, { image, apiKeys: Object.fromEntries(TENANTS.map((t) => [t.name, fakeKey(t.name)])), servers: THREE_SERVERS, ...(backup === null ? {} : { backup }) });
}
const commands = (run: ProgramRun) => [...ofType(run, TYPES.localCommand), ...ofType(run, TYPES.remoteCommand)];

describe("backups under the mock engine", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(config("ghcr.io/openclaw/openclaw:2026.9.6-r20260923", BACKUP), {}, [`${PROJECT}:apiKeys`, `${PROJECT}:backup`]);
  });

  test("every server gets one install command; the secrets travel only on its stdin, as a secret", () => {
    const installs = commands(run).filter((c) => c.name.endsWith("-install") && c.name.startsWith("backup-"));
    expect(installs.map((c) => c.name).sort()).toEqual(["backup-a-install", "backup-b-install", "backup-c-install"]);
    for (const c of installs) {
      expect(c.secretInputs).toContain("stdin");
      expect(String(c.inputs.stdin)).toContain(PASSWORD);
      expect(String(c.inputs.create)).not.toContain(PASSWORD);
      expect(String(c.inputs.create)).not.toContain("backup-key-body");
      expect(String(c.inputs.delete)).toContain("'remove'");
    }
    // Only the first server by name maintains the shared repository (the exclusive lock in one place).
    expect(installs.filter((c) => String(c.inputs.create).includes("'maintain=yes'")).map((c) => c.name)).toEqual(["backup-a-install"]);
    expect(String(installs[0].inputs.create)).toContain("'schedule=*:00/30'");
  });

  test("no secret in any stack output", () => {
    const text = JSON.stringify(run.outputs);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain("backup-key-body");
  });

  test("each active tenant's container waits for a snapshot triggered by its image", () => {
    const snaps = commands(run).filter((c) => c.name.endsWith("-snapshot-before-upgrade"));
    expect(snaps.map((c) => c.name).sort()).toEqual(["alice-snapshot-before-upgrade", "bob-snapshot-before-upgrade"]);
    for (const s of snaps) {
      expect(s.inputs.triggers).toEqual(["ghcr.io/openclaw/openclaw:2026.9.6-r20260923"]);
      expect(String(s.inputs.create)).toContain("'before-upgrade'");
      expect(s.inputs.update).toBe("true");
    }
    for (const c of ofType(run, TYPES.container)) expect(c.options.dependsOn).toBeGreaterThanOrEqual(3);
  });

  test("a stack without a backup block registers none of it", async () => {
    const plain = await runProgram(config("ghcr.io/openclaw/openclaw:2026.9.6-r20260923", null));
    expect(commands(plain).filter((c) => /backup|snapshot/.test(c.name))).toEqual([]);
  });

  test("each tenant's ownership step waits for its snapshot: the copy runs as the old container's uid, which reads the files only before they are re-owned", async () => {
    const plain = await runProgram(config("ghcr.io/openclaw/openclaw:2026.9.6-r20260923", null));
    const ownerDeps = (r: ProgramRun) => Object.fromEntries(commands(r).filter((c) => c.name.endsWith("-owner")).map((c) => [c.name, c.options.dependsOn]));
    const without = ownerDeps(plain);
    expect(Object.keys(without).sort()).toEqual(["alice-owner", "bob-owner"]);
    expect(ownerDeps(run)).toEqual(Object.fromEntries(Object.entries(without).map(([name, n]) => [name, n + 1])));
  });

  test("a password or key set without --secret stops the program, naming the field and the command", async () => {
    const failure = await runProgram(config("ghcr.io/openclaw/openclaw:2026.9.6-r20260923", BACKUP)).then(() => undefined, (e: Error) => e);
    expect(failure?.message).toContain("config backup.password: is stored in plaintext");
    expect(failure?.message).toContain("pulumi config set --secret --path 'backup.sshKey'");
    expect(failure?.message).not.toContain(PASSWORD);
  });
});
