import * as path from "path";
import { GATEWAY_PORT } from "../../core/gateway";
import { UID_POOL } from "../../core/tenantIdentity";
import { ProgramFailure, REPO_ROOT, TYPES, baseConfig, fakeKey, ofType, runProgram, ProgramRun } from "../support/program";
import { writeRoster } from "../support/roster";

const sampleRoster = path.join(REPO_ROOT, "tenants");
const sampleKeys = { alice: fakeKey("alice"), bob: fakeKey("bob") };

function named(run: ProgramRun, name: string): ProgramRun["resources"][number] {
  const found = run.resources.find((r) => r.name === name);
  if (found === undefined) throw new Error(`no resource named ${name}`);
  return found;
}

describe("the program under Pulumi's mock engine, with the sample roster", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys }));
  });

  test("one TenantInstance per roster entry, and one container per active tenant", () => {
    expect(ofType(run, TYPES.tenant).map((r) => r.name).sort()).toEqual(["alice", "bob", "carol"]);
    expect(ofType(run, TYPES.container).map((r) => r.inputs.name).sort()).toEqual(["openclaw-alice", "openclaw-bob"]);
  });

  test("every container carries the full hardening profile", () => {
    const containers = ofType(run, TYPES.container);
    expect(containers.length).toBe(2);
    for (const c of containers) {
      const i = c.inputs;
      expect(i.readOnly).toBe(true);
      expect(i.capabilities).toEqual({ drops: ["ALL"] });
      expect(i.securityOpts).toEqual(["no-new-privileges:true"]);
      expect(i.init).toBe(true);
      expect(i.restart).toBe("unless-stopped");
      // The tenant's own uid and gid from the pool (core/tenantIdentity.ts), never the shared 1000.
      const uid = Number(String(i.user).split(":")[0]);
      expect(i.user).toBe(`${uid}:${uid}`);
      expect(uid >= UID_POOL.start && uid <= UID_POOL.end).toBe(true);
      expect(i.envs).toEqual(expect.arrayContaining(["HOME=/home/node"]));
      expect(i.memorySwap).toBe(i.memory);
      expect(i.memoryReservation as number).toBeLessThan(i.memory as number);
      expect((i.tmpfs as Record<string, string>)["/tmp"]).toMatch(/size=\d+m/);
      expect((i.tmpfs as Record<string, string>)["/tmp"]).toContain("mode=1777");
      // openclaw 2026.9.6 will not start on a read-only root without its cache dir (owned by the tenant's uid).
      expect((i.tmpfs as Record<string, string>)["/home/node/.cache"]).toMatch(new RegExp(`^rw,nosuid,nodev,size=\\d+m,uid=${uid},gid=${uid},mode=0700$`));
      expect(Object.keys(i.tmpfs as Record<string, string>).sort()).toEqual(["/home/node/.cache", "/home/node/.config", "/tmp"]);
      // The credentials volume's parent, the tenant's own: the image's is 0700 and uid 1000's.
      expect((i.tmpfs as Record<string, string>)["/home/node/.config"]).toBe(`rw,nosuid,nodev,size=1m,uid=${uid},gid=${uid},mode=0700`);
      // The gateway's own stop budget is 330 s; Docker must not kill it sooner, on replacement or on a plain stop.
      expect(i.destroyGraceSeconds).toBe(330);
      expect(i.stopTimeout).toBe(330);
      expect(i.logDriver).toBe("json-file");
      expect(i.logOpts).toEqual({ "max-size": "10m", "max-file": "3" });
      expect(i.wait).toBe(true);
      const health = i.healthcheck as { tests: string[] };
      expect(health.tests.join(" ")).toContain("/healthz");
      expect(health.tests.join(" ")).toContain("j.ok===true");
      expect(i.networkMode).toBe(i.name);
      expect(i.networksAdvanced).toBeUndefined();
      expect(c.options.deleteBeforeReplace).toBe(true);
      const labels = Object.fromEntries((i.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));
      expect(labels["managed-by"]).toBe("openclaw-hosting");
      expect(`openclaw-${labels["openclaw.tenant"]}`).toBe(i.name);
    }
  });

  test("memory, CPUs and the V8 heap cap follow the tier", () => {
    const bob = ofType(run, TYPES.container).find((c) => c.inputs.name === "openclaw-bob");
    expect(bob?.inputs.memory).toBe(1536);
    expect(bob?.inputs.cpus).toBe("0.5");
    const envs = bob?.inputs.envs as string[];
    const heap = Number(/--max-old-space-size=(\d+)/.exec(envs.join(" "))?.[1]);
    expect(heap).toBeGreaterThan(0);
    // The heap cap leaves the rest of the process (about 600 MB outside the heap) under the limit.
    expect(heap).toBe(896);
    expect(heap).toBeLessThan(1536 - 600);
  });

  test("ports are unique, from the pool, and published on 127.0.0.1 only", () => {
    const ports = ofType(run, TYPES.container).flatMap((c) => c.inputs.ports as { internal: number; external: number; ip: string }[]);
    expect(ports.length).toBe(2);
    for (const p of ports) {
      expect(p.ip).toBe("127.0.0.1");
      expect(p.internal).toBe(GATEWAY_PORT);
      expect(p.external).toBeGreaterThanOrEqual(18800);
      expect(p.external).toBeLessThanOrEqual(18899);
    }
    expect(new Set(ports.map((p) => p.external)).size).toBe(2);
  });

  test("the gateway token and API key reach the container only as secrets", () => {
    for (const c of ofType(run, TYPES.container)) {
      expect(c.secretInputs).toContain("envs");
      const envs = c.inputs.envs as string[];
      const tenant = String(c.inputs.name).replace("openclaw-", "");
      expect(envs).toContain(`OPENCLAW_GATEWAY_TOKEN=token-of-${tenant}-gateway-token`);
      expect(envs.some((e) => e.endsWith(fakeKey(tenant)))).toBe(true);
    }
    expect(ofType(run, TYPES.container).find((c) => c.inputs.name === "openclaw-bob")?.inputs.envs).toContain(`OPENAI_API_KEY=${fakeKey("bob")}`);
    expect(run.secretOutputs).toEqual(["gatewayTokens"]);
    const plain = JSON.stringify({ ...run.outputs, gatewayTokens: undefined });
    expect(plain).not.toContain("token-of-");
    expect(plain).not.toContain("test-key-for");
  });

  test("the gateway trusts exactly its own bridge gateway and allows its own origin", () => {
    const alice = ofType(run, TYPES.container).find((c) => c.inputs.name === "openclaw-alice");
    const network = ofType(run, TYPES.network).find((n) => n.inputs.name === "openclaw-alice");
    const gateway = (network?.inputs.ipamConfigs as { gateway: string }[])[0].gateway;
    const settingsEnv = (alice?.inputs.envs as string[]).find((e) => e.startsWith("OPENCLAW_HOSTING_SETTINGS="));
    const settings = JSON.parse(String(settingsEnv).split("=").slice(1).join("=")) as { path: string; value: unknown }[];
    const byPath = Object.fromEntries(settings.map((s) => [s.path, s.value]));
    expect(byPath["gateway.trustedProxies"]).toEqual([gateway, `::ffff:${gateway}`]);
    expect(byPath["gateway.controlUi.allowedOrigins"]).toEqual(["https://alice.claw.example.com"]);
    expect(byPath["gateway.mode"]).toBe("local");
  });

  test("every tenant, suspended ones included, keeps two retained volumes for both state folders", () => {
    const volumes = ofType(run, TYPES.volume);
    expect(volumes.map((v) => v.inputs.name).sort()).toEqual([
      "openclaw-alice-credentials", "openclaw-alice-state", "openclaw-bob-credentials", "openclaw-bob-state",
      "openclaw-carol-credentials", "openclaw-carol-state",
    ]);
    for (const v of volumes) expect(v.options.retainOnDelete).toBe(true);
    const alice = ofType(run, TYPES.container).find((c) => c.inputs.name === "openclaw-alice");
    // noCopy: Docker must not copy the image's folders (owned by 1000) over an empty volume.
    expect(alice?.inputs.mounts).toEqual([
      { type: "volume", source: "openclaw-alice-state", target: "/home/node/.openclaw", volumeOptions: { noCopy: true } },
      { type: "volume", source: "openclaw-alice-credentials", target: "/home/node/.config/openclaw", volumeOptions: { noCopy: true } },
    ]);
    expect(alice?.inputs.volumes).toBeUndefined();
    expect(alice?.inputs.removeVolumes).toBe(false);
  });

  test("each tenant has its own bridge network with a distinct subnet", () => {
    const networks = ofType(run, TYPES.network);
    expect(networks.length).toBe(3);
    const subnets = networks.map((n) => (n.inputs.ipamConfigs as { subnet: string }[])[0].subnet);
    expect(new Set(subnets).size).toBe(3);
  });

  test("every child resource is parented to its component", () => {
    for (const r of run.resources) {
      if ([TYPES.container, TYPES.volume, TYPES.network, TYPES.token].includes(r.type as never)) expect(r.options.parentName).toBe("TenantInstance");
      if (r.type === TYPES.localCommand) {
        const owner = r.name === "edge-caddyfile" || r.name === "edge-routes" ? "Edge" : r.name === "egress-guard-rules" ? "EgressGuard" : r.name.endsWith("-certificates-renewal") ? "Certificates" : "TenantInstance";
        expect(r.options.parentName).toBe(owner);
      }
    }
  });

  test("the edge command installs the rendered Caddyfile through the repo's script, on stdin", () => {
    const edge = named(run, "edge-caddyfile");
    expect(edge.inputs.stdin).toBe(run.outputs.caddyfile);
    expect(String(edge.inputs.create)).toContain("caddy validate");
    expect(String(edge.inputs.create)).toContain("'/etc/caddy/Caddyfile' 'unix//var/lib/caddy/admin.sock|0600'");
    expect(edge.inputs.triggers).toBeUndefined();
    expect(String(run.outputs.caddyfile)).not.toContain("token-of-");
  });

  test("the routes command installs the route table through the repo's script, on stdin, before the Caddyfile; no secret in it", () => {
    const routes = named(run, "edge-routes");
    expect(routes.inputs.stdin).toBe(run.outputs.routes);
    expect(String(routes.inputs.create)).toContain("bash \"$script\" '/etc/caddy/routes';");
    expect(named(run, "edge-caddyfile").options.dependsOn).toBe(1); // the routes command
    expect(String(run.outputs.routes)).not.toContain("token-of-");
    expect(String(run.outputs.routes)).not.toMatch(/sk-|key/i);
  });

  test("outputs: a map per tenant, the list of URLs, and the rendered Caddyfile", () => {
    const tenants = run.outputs.tenants as Record<string, { url: string; port: number; tier: string; state: string }>;
    expect(Object.keys(tenants).sort()).toEqual(["alice", "bob", "carol"]);
    expect(tenants.carol).toMatchObject({ url: "https://carol.claw.example.com", tier: "heavy", state: "suspended" });
    expect(run.outputs.urls).toEqual(["https://alice.claw.example.com", "https://bob.claw.example.com", "https://carol.claw.example.com"]);
    expect(String(run.outputs.routes)).toBe(
      `alice.claw.example.com port-${tenants.alice.port}\nbob.claw.example.com port-${tenants.bob.port}\ncarol.claw.example.com suspended\n`,
    );
    expect(String(run.outputs.caddyfile)).not.toContain(String(tenants.alice.port));
  });

  test("no DNS record when DNS is not configured", () => {
    expect(ofType(run, TYPES.dnsRecord)).toEqual([]);
  });

  test("each tenant has its own uid (= gid), its volumes made its own by an ownership step its container waits for", () => {
    const containers = ofType(run, TYPES.container);
    const uids = containers.map((c) => String(c.inputs.user));
    expect(new Set(uids).size).toBe(containers.length);
    const outputs = run.outputs.tenants as Record<string, { uid: number }>;
    for (const c of containers) {
      const tenant = String(c.inputs.name).replace(/^openclaw-/, "");
      const uid = outputs[tenant].uid;
      expect(c.inputs.user).toBe(`${uid}:${uid}`); // carried in the outputs: the next deployment keeps it
      const owner = named(run, `${tenant}-owner`);
      // tenant, uid, former uids (the shared 1000), stop grace, image, container, both volumes
      expect(String(owner.inputs.create)).toContain(
        `'${tenant}' '${uid}' '1000' '330' '${String(c.inputs.image)}' 'openclaw-${tenant}' 'openclaw-${tenant}-state' 'openclaw-${tenant}-credentials'`,
      );
      expect(owner.inputs.delete).toBeUndefined(); // removing a tenant never touches its files
    }
    expect(typeof outputs.carol.uid).toBe("number"); // suspended: identity kept, no step until it runs again
    expect(run.resources.some((r) => r.name === "carol-owner")).toBe(false);
  });

});

describe("optional parts of the stack", () => {
  test("with dns set, one DNS-only wildcard A record with a full name and ttl 300", async () => {
    const run = await runProgram(
      baseConfig(sampleRoster, { apiKeys: sampleKeys, serverIp: "203.0.113.10", dns: { zoneId: "0123456789abcdef0123456789abcdef" } }),
    );
    const records = ofType(run, TYPES.dnsRecord);
    expect(records.length).toBe(1);
    expect(records[0].inputs).toMatchObject({
      zoneId: "0123456789abcdef0123456789abcdef", name: "*.claw.example.com", type: "A", content: "203.0.113.10", ttl: 300, proxied: false,
    });
    expect(String(records[0].inputs.comment)).toContain("openclaw-hosting");
  });

  test("with ssh set, Docker goes over ssh:// and the edge command runs over SSH", async () => {
    const run = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys, ssh: { host: "203.0.113.10", user: "deploy" } }));
    const provider = run.resources.find((r) => r.type === "pulumi:providers:docker");
    expect(provider?.inputs.host).toBe("ssh://deploy@203.0.113.10:22");
    expect(ofType(run, TYPES.localCommand)).toEqual([]);
    const remote = named(run, "edge-caddyfile");
    expect(remote.type).toBe(TYPES.remoteCommand);
    for (const c of ofType(run, TYPES.remoteCommand)) expect(c.inputs.connection).toMatchObject({ host: "203.0.113.10", user: "deploy" });
    expect(remote.inputs.connection).toMatchObject({ host: "203.0.113.10", user: "deploy", port: 22 });
    expect(remote.inputs.stdin).toBe(run.outputs.caddyfile);
  });

  test("a suspended tenant keeps its token, network and volumes but has no container", async () => {
    const dir = writeRoster([{ name: "alice", state: "suspended" }]);
    const run = await runProgram(baseConfig(dir));
    expect(ofType(run, TYPES.container)).toEqual([]);
    expect(ofType(run, TYPES.volume).length).toBe(2);
    expect(ofType(run, TYPES.token).length).toBe(1);
    expect(String(run.outputs.routes)).toBe("alice.claw.example.com suspended\n");
  });

  test("a removed tenant's volumes stay, are listed as retained data, and go only through deleteData", async () => {
    const previous = { tenants: { alice: {}, bob: {}, carol: {}, dave: {} }, retainedData: [] };
    const removed = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys }), previous);
    expect(removed.outputs.retainedData).toEqual([{ tenant: "dave", server: "default", volumes: ["openclaw-dave-state", "openclaw-dave-credentials"] }]);
    expect(ofType(removed, TYPES.localCommand).map((c) => c.name).filter((n) => n.includes("dave"))).toEqual([]);

    const deleting = await runProgram(baseConfig(sampleRoster, { apiKeys: sampleKeys, deleteData: ["dave"] }), {
      tenants: { alice: {}, bob: {}, carol: {} },
      retainedData: removed.outputs.retainedData,
    });
    expect(deleting.outputs.retainedData).toEqual([]);
    const deletion = ofType(deleting, TYPES.localCommand).find((c) => c.name === "dave-volumes");
    expect(String(deletion?.inputs.create)).toContain("docker volume rm");
    expect(String(deletion?.inputs.create)).toContain("openclaw-dave-state openclaw-dave-credentials");
    expect(deletion?.options.parentName).toBe("TenantDataDeletion");
  });

  test("a bad roster registers nothing and names every problem", async () => {
    const dir = writeRoster([{ name: "alice", tier: "huge" as never }, { name: "bob" }]);
    const failure = await runProgram(baseConfig(dir)).then(() => undefined, (err: unknown) => err);
    expect(failure).toBeInstanceOf(ProgramFailure);
    expect((failure as ProgramFailure).message).toMatch(/tenant "alice", field tier: [\s\S]*tenant "bob", field apiKeys: is active but has no API key/);
    expect((failure as ProgramFailure).registered).toEqual([]);
  });
});

describe("a tenant's identity across deployments", () => {
  const keys = { alice: fakeKey("alice"), bob: fakeKey("bob") };
  const uidOf = (r: ProgramRun, t: string): number => (r.outputs.tenants as Record<string, { uid: number }>)[t].uid;
  const ownerCommand = (r: ProgramRun, t: string): string => String(named(r, `${t}-owner`).inputs.create);

  test("an unpinned tenant keeps the uid of the last deployment, and a pin in its file wins (its files re-owned from the old uid)", async () => {
    const roster = writeRoster([{ name: "alice" }, { name: "bob" }]);
    const first = await runProgram(baseConfig(roster, { apiKeys: keys }));
    const kept = UID_POOL.start + 17;
    const previous = { tenants: { alice: { uid: kept, server: "default" }, bob: { uid: uidOf(first, "bob"), server: "default" } } };
    const again = await runProgram(baseConfig(roster, { apiKeys: keys }), previous);
    expect(uidOf(again, "alice")).toBe(kept);
    expect(ownerCommand(again, "alice")).toContain(`'alice' '${kept}' '1000' `);
    expect(ownerCommand(again, "bob")).toBe(ownerCommand(first, "bob")); // nothing changed: the step does not run again

    const pinned = await runProgram(baseConfig(writeRoster([{ name: "alice", extra: `uid: ${UID_POOL.start + 5}` }, { name: "bob" }]), { apiKeys: keys }), previous);
    expect(uidOf(pinned, "alice")).toBe(UID_POOL.start + 5);
    expect(ownerCommand(pinned, "alice")).toContain(`'alice' '${UID_POOL.start + 5}' '1000,${kept}' `);
  });

  test("a pin that takes another deployed tenant's uid, or two equal pins, stop the update naming the tenants and the field", async () => {
    const previous = { tenants: { bob: { uid: UID_POOL.start + 9, server: "default" } } };
    const stolen = await runProgram(baseConfig(writeRoster([{ name: "alice", extra: `uid: ${UID_POOL.start + 9}` }, { name: "bob" }]), { apiKeys: keys }), previous).catch((e: unknown) => e);
    expect(stolen).toBeInstanceOf(ProgramFailure);
    expect(String((stolen as ProgramFailure).message)).toMatch(/alice.*uid.*1900000009 is bob's uid/s);
    // Nothing but the read of the last deployment (a StackReference) was registered.
    expect((stolen as ProgramFailure).registered.map((r) => r.type)).toEqual(["pulumi:pulumi:StackReference"]);
    const twice = await runProgram(baseConfig(writeRoster([{ name: "alice", extra: `uid: ${UID_POOL.start + 3}` }, { name: "bob", extra: `uid: ${UID_POOL.start + 3}` }]), { apiKeys: keys })).catch((e: unknown) => e);
    expect(String((twice as ProgramFailure).message)).toMatch(/bob.*uid.*pinned by more than one tenant: alice, bob/s);
  });
});
