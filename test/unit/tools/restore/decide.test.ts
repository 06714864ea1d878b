// npm run restore's and npm run recover's decisions (tools/restore/decide.ts): the snapshot, the
// fresh label, the proof against restic's listing, and where a lost server's tenants go.
import { checkHosting } from "../../../../core/check";
import { DataLabel } from "../../../../core/names";
import { tenantVolumes } from "../../../../core/retainedData";
import {
  chooseSnapshot, compareOwners, compareWithSnapshot, freshDataLabel, parseListing, parseOwners, parseSnapshots, planRecovery, snapshotAgeMs,
} from "../../../../tools/restore/decide";
import { parseManifest } from "../../../../tools/shared/manifest";
import { rosterTextAfter } from "../../../../tools/shared/tenantData";

const ID1 = "483c6732fcb7e431302e6ca40a5cd1f7006c5d82de135dae8187199da01cde03";
const ID2 = "99aa6732fcb7e431302e6ca40a5cd1f7006c5d82de135dae8187199da01cde03";
const snap = (id: string, time: string, tenant = "zed", stack = "t") =>
  ({ time, paths: [`/var/lib/openclaw/backup/staging/${tenant}`], hostname: "s1", tags: [`tenant=${tenant}`, "server=s1", `stack=${stack}`], id, short_id: id.slice(0, 8) });

describe("which snapshot", () => {
  const list = [snap(ID1, "2026-12-06T00:40:28.764408981Z"), snap(ID2, "2026-12-06T01:40:28Z"), snap("a".repeat(64), "2026-12-07T00:00:00Z", "zed", "other")];
  test("latest: the newest of the tenant's own in this stack; an ID prefix: that one", () => {
    expect(chooseSnapshot(list, "zed", "t", "latest")).toEqual({ snapshot: list[1] });
    expect(chooseSnapshot(list, "zed", "t", "483c6732")).toEqual({ snapshot: list[0] });
  });
  test("refusals name the tenant and change nothing", () => {
    expect(chooseSnapshot(list, "amy", "t", "latest")).toEqual({ refused: "tenant amy has no snapshot in the stack t's repository; nothing was changed" });
    expect(chooseSnapshot(list, "zed", "t", "deadbeef")).toEqual({ refused: expect.stringMatching(/^tenant zed has no snapshot deadbeef \(its snapshots: 483c6732 .*\); nothing was changed$/) });
    // Another stack's snapshot of a tenant by the same name is never restored.
    expect(chooseSnapshot(list, "zed", "t", "aaaaaaaa")).toEqual({ refused: expect.stringMatching(/^tenant zed has no snapshot aaaaaaaa/) });
  });
  test("restic's JSON list is parsed and checked", () => {
    expect(parseSnapshots(JSON.stringify(list))).toEqual(list);
    expect(parseSnapshots("null")).toEqual([]);
    expect(parseSnapshots("Fatal: wrong password")).toEqual({ error: expect.stringMatching(/^restic's snapshot list is not JSON/) });
  });
  test("the age of a snapshot is what a restore from it loses", () => {
    expect(snapshotAgeMs(list[0], new Date("2026-12-06T01:40:28.764408981Z"))).toBe(3_600_000);
  });
});

describe("fresh volumes", () => {
  test("a label from the time, valid, never the current one, whose volumes are never the live ones", () => {
    const now = new Date("2026-12-06T00:40:28Z");
    expect(freshDataLabel(now)).toBe("r20261206-004028");
    expect(freshDataLabel(now, "r20261206-004028")).toBe("r20261206-004028-2");
    expect(DataLabel.safeParse(freshDataLabel(now)).success).toBe(true);
    expect(tenantVolumes("zed", freshDataLabel(now))).toEqual(["openclaw-zed-state.r20261206-004028", "openclaw-zed-credentials.r20261206-004028"]);
    for (const v of tenantVolumes("zed", freshDataLabel(now))) expect(tenantVolumes("zed")).not.toContain(v);
  });
});

// Recorded from restic 0.14 (`restic ls --json latest`) for a staged tenant zed owned by 4242:4343.
const LS = [
  '{"time":"2026-12-06T00:40:28.764408981Z","paths":["/var/lib/openclaw/backup/staging/zed"],"hostname":"s1","id":"483c","struct_type":"snapshot"}',
  '{"name":"var","type":"dir","path":"/var","uid":0,"gid":0,"mode":2147484141,"struct_type":"node"}',
  '{"name":"staging","type":"dir","path":"/var/lib/openclaw/backup/staging","uid":0,"gid":0,"mode":2147484141,"struct_type":"node"}',
  '{"name":"zed","type":"dir","path":"/var/lib/openclaw/backup/staging/zed","uid":4242,"gid":4343,"mode":2147484141,"struct_type":"node"}',
  '{"name":"zed2","type":"dir","path":"/var/lib/openclaw/backup/staging/zed2","uid":1,"gid":1,"mode":2147484141,"struct_type":"node"}',
  '{"name":"credentials","type":"dir","path":"/var/lib/openclaw/backup/staging/zed/credentials","uid":4242,"gid":4343,"mode":2147484096,"struct_type":"node"}',
  '{"name":"state","type":"dir","path":"/var/lib/openclaw/backup/staging/zed/state","uid":4242,"gid":4343,"mode":2147484141,"struct_type":"node"}',
  '{"name":"sub","type":"dir","path":"/var/lib/openclaw/backup/staging/zed/state/sub","uid":4242,"gid":4343,"mode":2147484141,"struct_type":"node"}',
  '{"name":"f","type":"file","path":"/var/lib/openclaw/backup/staging/zed/state/sub/f","uid":4242,"gid":4343,"size":3,"mode":420,"struct_type":"node"}',
].join("\n");
const SHA = "a".repeat(64);

describe("the restored tree against the snapshot's listing", () => {
  const listing = parseListing(LS, "zed");
  test("only the tenant's staging directory, keyed as manifest.sh keys /v", () => {
    expect([...listing.keys()]).toEqual([".", "./credentials", "./state", "./state/sub", "./state/sub/f"]);
    expect(listing.get("./state/sub/f")).toEqual({ type: "file", bytes: 3, uid: 4242, gid: 4343, perm: 0o644 });
    expect(listing.get("./credentials")?.perm).toBe(0o700);
  });
  test("the same paths, kinds and byte counts pass; every difference is named", () => {
    const good = parseManifest(`DIR .\nDIR ./state\nDIR ./state/sub\nDIR ./credentials\n3 ${SHA} ./state/sub/f\n`);
    expect(compareWithSnapshot(listing, good)).toEqual([]);
    const bad = parseManifest(`DIR .\nDIR ./state\nDIR ./credentials\n4 ${SHA} ./state/sub/f\n1 ${SHA} ./state/extra\n`);
    expect(compareWithSnapshot(listing, bad)).toEqual([
      "./state/extra is restored but not in the snapshot",
      "./state/sub is in the snapshot but not restored",
      "./state/sub/f has 4 bytes restored, 3 in the snapshot",
    ]);
  });
  test("numeric owners and modes must be the snapshot's (the tenant's own uid, never assumed 1000)", () => {
    const same = parseOwners("0 0 755 .\n4242 4343 755 ./state\n4242 4343 700 ./credentials\n4242 4343 755 ./state/sub\n4242 4343 644 ./state/sub/f\n");
    expect(compareOwners(listing, same)).toEqual([]);
    const wrong = parseOwners("0 0 755 .\n1000 1000 755 ./state\n4242 4343 755 ./credentials\n4242 4343 755 ./state/sub\n4242 4343 644 ./state/sub/f\n");
    expect(compareOwners(listing, wrong)).toEqual([
      "./credentials has mode 755, 700 in the snapshot",
      "./state is owned by 1000:1000, 4242:4343 in the snapshot",
    ]);
  });
});

const config = {
  domain: "claw.example.com",
  image: "ghcr.io/openclaw/openclaw:2026.8.1-r20260820",
  caddy: JSON.stringify({ acmeEmail: "ops@example.com" }),
  servers: JSON.stringify({
    s1: { ssh: { host: "s1.example.net", user: "root" }, memoryMb: 4096, cpus: 2, overcommit: 1 },
    s2: { ssh: { host: "s2.example.net", user: "root" }, memoryMb: 4096, cpus: 2, overcommit: 1 },
    s3: { ssh: { host: "s3.example.net", user: "root" }, memoryMb: 4096, cpus: 2, overcommit: 1 },
  }),
};
const file = (name: string, server: string) => ({ file: `${name}.yaml`, text: `tier: light\nserver: ${server}\n` });
const planOf = (files: { file: string; text: string }[]) => {
  const p = checkHosting(config, () => files).plan;
  if (p === undefined) throw new Error("no plan");
  return p;
};

describe("a lost server's tenants", () => {
  const roster = [file("alice", "s1"), file("bob", "s1"), file("carol", "s2"), file("erin", "s3")];
  const deployed = { alice: { server: "s1" }, bob: { server: "s1" }, carol: { server: "s2" }, erin: { server: "s3" }, gone: { server: "s1" } };
  test("go to the surviving servers by the placement rule; the lost server is never a target", () => {
    const r = planRecovery(planOf(roster), deployed, "s1");
    if ("refused" in r) throw new Error(r.refused);
    expect(r.recoveries.map((x) => x.tenant.name)).toEqual(["alice", "bob"]);
    for (const x of r.recoveries) expect(["s2", "s3"]).toContain(x.to);
    expect(r.notInRoster).toEqual(["gone"]);
  });
  test("a placement over the survivors' capacity is refused as a whole, naming the server and field", () => {
    // Each survivor holds two light tenants (2 x 1536 MB of 4096); a third fits on neither.
    const full = [file("alice", "s1"), file("bob", "s1"), file("carol", "s2"), file("dave", "s2"), file("erin", "s3"), file("frank", "s3")];
    const r = planRecovery(planOf(full), { alice: { server: "s1" }, bob: { server: "s1" } }, "s1");
    expect(r).toEqual({ refused: expect.stringMatching(/^the surviving servers cannot hold s1's tenants; nothing was changed:\n {2}- config servers\.s[23]\.memoryMb: /) });
  });
  test("refusals: an unknown server, the only server, a server that ran nothing", () => {
    expect(planRecovery(planOf(roster), deployed, "zz")).toEqual({ refused: "server zz is not in the stack's servers (s1, s2, s3)" });
    expect(planRecovery(planOf(roster), { carol: { server: "s2" } }, "s1")).toEqual({ refused: "the last deployment ran no tenant on server s1; nothing to recover" });
  });
  test("the pin written after a restore: server and data, the port kept when free there", () => {
    const plan = planOf(roster);
    expect(rosterTextAfter("tier: light\nserver: s1\n", plan, "alice", "s2", "r20261206-004028")).toBe("tier: light\nserver: s2\ndata: r20261206-004028\n");
    const inPlace = plan.tenants.find((t) => t.name === "alice");
    expect(rosterTextAfter(`tier: light\nserver: s1\nport: ${inPlace?.port}\n`, plan, "alice", "s1", "r2")).toBe(`tier: light\nserver: s1\nport: ${inPlace?.port}\ndata: r2\n`);
  });
});
