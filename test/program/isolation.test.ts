import * as path from "path";
import { BRIDGE_NAME_OPTION, DEFAULT_PRIVATE_RANGES, EGRESS_CHAIN, INPUT_CHAIN, LINK_LOCAL } from "../../core/egressGuard";
import { ProgramFailure, REPO_ROOT, TYPES, ProgramRun, baseConfig, fakeKey, ofType, runProgram } from "../support/program";
import { writeRoster } from "../support/roster";

const sampleRoster = path.join(REPO_ROOT, "tenants");
const sampleKeys = { alice: fakeKey("alice"), bob: fakeKey("bob") };

function named(run: ProgramRun, name: string): ProgramRun["resources"][number] {
  const found = run.resources.find((r) => r.name === name);
  if (found === undefined) throw new Error(`no resource named ${name}`);
  return found;
}

describe("process limits, under the mock engine (sample roster)", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys }));
  });

  test("every tenant, suspended ones too, has a process-limit command with its tier's limit and parent", () => {
    const tenants = run.outputs.tenants as Record<string, { tier: string }>;
    const expected: Record<string, number> = { light: 512, standard: 512, heavy: 1024 };
    for (const [name, { tier }] of Object.entries(tenants)) {
      const limit = named(run, `${name}-process-limit`);
      expect(limit.type).toBe(TYPES.localCommand);
      expect(String(limit.inputs.create)).toContain(`'apply' 'systemd' '${name}' '${expected[tier]}' 'openclaw-${name}.slice'`);
      expect(String(limit.inputs.delete)).toContain(`'remove' 'systemd' '${name}' 'openclaw-${name}.slice'`);
      expect(limit.options.parentName).toBe("TenantInstance");
    }
  });

  test("each container runs under its tenant's parent cgroup and waits for the limit and the egress guard", () => {
    const containers = ofType(run, TYPES.container);
    expect(containers.length).toBe(2);
    for (const c of containers) {
      const tenant = String(c.inputs.name).replace(/^openclaw-/, "");
      expect(c.inputs.cgroupParent).toBe(`openclaw-${tenant}.slice`);
      expect(c.options.dependsOn).toBe(3); // limit, ownership step, egress guard
    }
  });

  test("cgroupDriver cgroupfs gives a path parent; hyphens are escaped for systemd slices", async () => {
    const dir = writeRoster([{ name: "my-shop" }]);
    const keys = { "my-shop": fakeKey("my-shop") };
    const fs = await runProgram(baseConfig(dir, { apiKeys: keys, cgroupDriver: "cgroupfs" }));
    expect(ofType(fs, TYPES.container)[0].inputs.cgroupParent).toBe("/openclaw/my-shop");
    const sd = await runProgram(baseConfig(dir, { apiKeys: keys }));
    expect(ofType(sd, TYPES.container)[0].inputs.cgroupParent).toBe("openclaw-my\\x2dshop.slice");
  });

  test("tiers override pidsLimit per stack", async () => {
    const r = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys, tiers: { standard: { pidsLimit: 300 } } }));
    const alice = r.outputs.tenants as Record<string, { tier: string }>;
    expect(alice.alice.tier).toBe("standard");
    expect(String(named(r, "alice-process-limit").inputs.create)).toContain("'alice' '300'");
  });
});

describe("egress guard and bridge names, under the mock engine (sample roster)", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys }));
  });

  test("one guard command per server, with its rules on stdin and a delete that removes them", () => {
    const guard = named(run, "egress-guard-rules");
    expect(guard.type).toBe(TYPES.localCommand);
    expect(guard.options.parentName).toBe("EgressGuard");
    expect(String(guard.inputs.create)).toContain("'apply'");
    // The server's name goes with it, so a refusal names the server.
    expect(String(guard.inputs.create)).toMatch(/'apply' '[a-z0-9-]+'/);
    expect(String(guard.inputs.delete)).toContain("'remove'");
    const rules = String(guard.inputs.stdin).trim().split("\n");
    expect(rules).toContain(`-4 -A ${EGRESS_CHAIN} -d ${LINK_LOCAL} -j REJECT --reject-with icmp-admin-prohibited`);
    for (const range of DEFAULT_PRIVATE_RANGES) expect(rules).toContain(`-4 -A ${EGRESS_CHAIN} -d ${range} -j REJECT --reject-with icmp-admin-prohibited`);
    expect(rules).toContain(`-4 -A ${INPUT_CHAIN} -j REJECT --reject-with icmp-admin-prohibited`);
    expect(rules).toContain(`-6 -A ${INPUT_CHAIN} -j REJECT --reject-with icmp6-adm-prohibited`);
    // Only a tenant's own bridge is exempt; the rest of the tenants' block is rejected.
    expect(rules).toContain(`-4 -A ${EGRESS_CHAIN} -d 10.231.0.0/16 -j REJECT --reject-with icmp-admin-prohibited`);
    expect(rules.indexOf(`-4 -A ${EGRESS_CHAIN} -m physdev --physdev-is-bridged -j RETURN`)).toBeLessThan(rules.indexOf(`-4 -A ${EGRESS_CHAIN} -d 10.231.0.0/16 -j REJECT --reject-with icmp-admin-prohibited`));
    expect(String(guard.inputs.stdin)).not.toMatch(/alice|bob|carol/);
  });

  test("privateRanges from the stack replace the default list", async () => {
    const r = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys, privateRanges: ["10.8.0.0/16"] }));
    const rules = String(named(r, "egress-guard-rules").inputs.stdin);
    expect(rules).toContain("-d 10.8.0.0/16 -j REJECT");
    expect(rules).not.toContain("192.168.0.0/16");
    expect(rules).toContain(`-d ${LINK_LOCAL} -j REJECT`);
  });

  test("every tenant bridge has a fixed, unique interface name of at most 15 characters starting ocl", () => {
    const networks = ofType(run, TYPES.network);
    const names = networks.map((n) => (n.inputs.options as Record<string, string>)[BRIDGE_NAME_OPTION]);
    expect(new Set(names).size).toBe(networks.length);
    for (const n of names) expect(n).toMatch(/^ocl[0-9a-f]{7}$/);
  });

  test("the bridge name follows the subnet: 10.231.0.16/28 is ocl0ae7001", async () => {
    const r = await runProgram(baseConfig(writeRoster([{ name: "zed", port: 18801, state: "suspended" }])));
    const [network] = ofType(r, TYPES.network);
    expect((network.inputs.ipamConfigs as Array<{ subnet: string }>)[0].subnet).toBe("10.231.0.16/28");
    expect((network.inputs.options as Record<string, string>)[BRIDGE_NAME_OPTION]).toBe("ocl0ae7001");
  });

  test("with ssh set, the guard and the process limits run over SSH", async () => {
    const r = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys, ssh: { host: "203.0.113.10", user: "deploy" } }));
    expect(named(r, "egress-guard-rules").type).toBe(TYPES.remoteCommand);
    expect(named(r, "alice-process-limit").type).toBe(TYPES.remoteCommand);
  });

  test("volumes depend on nothing the network or guard change (a bridge rename cannot replace them)", () => {
    for (const v of ofType(run, TYPES.volume)) {
      expect(Object.keys(v.inputs).sort()).toEqual(["labels", "name"]); // without diskQuota, no driverOpts
      expect(v.options.dependsOn).toBe(0);
      expect(v.options.retainOnDelete).toBe(true);
    }
  });

  test("disk budget: no size by default; with diskQuota xfs each new volume gets its share of the tier's diskMb", async () => {
    for (const v of ofType(run, TYPES.volume)) expect(v.inputs.driverOpts).toBeUndefined();
    const r = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys, diskQuota: "xfs", tiers: { standard: { diskMb: 1024 } } }));
    const tiers = r.outputs.tenants as Record<string, { tier: string }>;
    expect(tiers.alice.tier).toBe("standard");
    expect(named(r, "alice-state").inputs.driverOpts).toEqual({ size: "960M" });
    expect(named(r, "alice-credentials").inputs.driverOpts).toEqual({ size: "64M" });
    expect(named(r, "carol-state").inputs.driverOpts).toEqual({ size: `${10240 - 64}M` }); // heavy, suspended
  });

  test("diskQuota image: a disk command per tenant (image of diskMb, released not deleted on removal); volumes bind into it", async () => {
    const r = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys, diskQuota: "image" }));
    const disk = named(r, "alice-disk");
    const uid = String(named(r, "alice-gateway").inputs.user);
    expect(uid).toMatch(/^19\d{8}:19\d{8}$/);
    expect(String(disk.inputs.create)).toContain(`'apply' 'alice' '5120' '${uid}'`);
    expect(String(disk.inputs.delete)).toContain("'release' 'alice'");
    expect(String(disk.inputs.delete)).not.toContain("'purge'");
    expect(named(r, "alice-state").inputs.driverOpts).toEqual({ type: "none", o: "bind", device: "/var/lib/openclaw-hosting/disks/alice/state" });
    expect(named(r, "alice-gateway").options.dependsOn).toBe(4); // limit, ownership step, disk, egress guard
    expect(named(r, "alice-owner").options.dependsOn).toBe(3); // both volumes and the disk
    expect(r.resources.some((x) => x.name.endsWith("-disk") && x.name !== "alice-disk" && x.name !== "bob-disk" && x.name !== "carol-disk")).toBe(false);
    // Only the explicit deleteData act deletes the image.
    const del = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys, diskQuota: "image", deleteData: ["dave"] }), { tenants: { dave: {} }, retainedData: [] });
    expect(String(named(del, "dave-volumes").inputs.create)).toContain("'purge' 'dave'");
  });

  test("diskQuota changed away from image: tenants recorded with an image keep it (disk mounted, volumes bound into it); new ones get the new mode", async () => {
    const image = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys, diskQuota: "image" }));
    const recorded = image.outputs.diskImages as Record<string, string>;
    expect(Object.keys(recorded).sort()).toEqual(["alice", "bob", "carol"]);
    // The next deployment says off; alice and bob had images (carol's record is dropped to show a new tenant).
    const { carol: _new, ...previous } = recorded;
    const off = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys, diskQuota: "off" }), { tenants: { alice: { server: "default" }, bob: { server: "default" } }, retainedData: [], diskImages: previous });
    expect(String(named(off, "alice-disk").inputs.create)).toContain("'apply' 'alice'");
    expect(named(off, "alice-disk").inputs.delete).toBe(named(image, "alice-disk").inputs.delete);
    expect(named(off, "bob-state").inputs.driverOpts).toEqual(named(image, "bob-state").inputs.driverOpts);
    expect(off.resources.some((x) => x.name === "carol-disk")).toBe(false);
    expect(named(off, "carol-state").inputs.driverOpts).toBeUndefined();
    expect(off.outputs.diskImages).toEqual(previous);
  });

  test("a volume's driverOpts are ignored after creation, so turning quotas on or re-tiering never replaces a volume", async () => {
    const r = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys, diskQuota: "xfs" }));
    for (const v of [...ofType(run, TYPES.volume), ...ofType(r, TYPES.volume)]) {
      expect(v.options.ignoreChanges).toEqual(["driverOpts"]);
      expect(v.options.retainOnDelete).toBe(true);
    }
  });

  test("a bad privateRanges entry or cgroupDriver is refused, naming the field", async () => {
    const failure = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys, privateRanges: ["10.0.0.0/33"], cgroupDriver: "cgroupv3" })).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ProgramFailure);
    expect((failure as ProgramFailure).message).toContain("config privateRanges.0: must be an IPv4 CIDR");
    expect((failure as ProgramFailure).message).toContain("config cgroupDriver: must be one of systemd, cgroupfs");
    expect((failure as ProgramFailure).registered).toEqual([]);
  });
});
