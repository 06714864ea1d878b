import { ProgramFailure, ProgramRun, TYPES, ofType, runProgram } from "../support/program";
import { SIX_TENANTS, THREE_SERVERS, serversConfig } from "../support/servers";
import { forgetOnLostServer } from "../../tools/restore/decide";

const serverOf = Object.fromEntries(SIX_TENANTS.map((t) => [t.name, t.server]));
const providerName = (ref: string | undefined) => ref?.split("::")[3];

describe("three servers under Pulumi's mock engine", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(serversConfig());
  });

  test("each server has its own Docker provider: local for a, ssh:// for b and c", () => {
    const providers = ofType(run, "pulumi:providers:docker");
    expect(providers.map((p) => p.name).sort()).toEqual(["server-a", "server-b", "server-c"]);
    const host = (n: string) => providers.find((p) => p.name === n)?.inputs.host;
    expect(host("server-a")).toBeUndefined();
    expect(host("server-b")).toBe("ssh://deploy@b.example.net:22");
    expect(host("server-c")).toBe("ssh://deploy@198.51.100.3:2222");
  });

  test("every Docker resource of a tenant is on its named server's provider and no other", () => {
    const docker = run.resources.filter((r) => r.type.startsWith("docker:index/"));
    expect(docker.length).toBe(6 * 3 + 5); // volumes x2 and a network per tenant, a container per active one
    for (const r of docker) {
      const tenant = r.name.split("-")[0];
      expect(`${r.name} on ${providerName(r.provider)}`).toBe(`${r.name} on server-${serverOf[tenant]}`);
    }
  });

  test("hardening and loopback-only publishing hold on every server", () => {
    for (const c of ofType(run, TYPES.container)) {
      expect(c.inputs.readOnly).toBe(true);
      expect(c.inputs.capabilities).toEqual({ drops: ["ALL"] });
      expect(c.inputs.securityOpts).toEqual(["no-new-privileges:true"]);
      for (const p of c.inputs.ports as { ip: string }[]) expect(p.ip).toBe("127.0.0.1");
    }
  });

  test("each server's edge installs routes for its own tenants (and a Caddyfile naming none), over that server's access", () => {
    // The edges' route commands (each server also runs its Caddyfile, egress guard and its tenants' process limits).
    const isEdge = (c: { name: string }): boolean => c.name.endsWith("-routes");
    const local = ofType(run, TYPES.localCommand).filter(isEdge);
    const remote = ofType(run, TYPES.remoteCommand).filter(isEdge);
    expect(local.map((c) => c.name)).toEqual(["edge-a-routes"]);
    expect(remote.map((c) => c.name).sort()).toEqual(["edge-b-routes", "edge-c-routes"]);
    for (const edge of [...local, ...remote]) {
      const server = edge.name.split("-")[1];
      const hosts = [...String(edge.inputs.stdin).matchAll(/^([a-z0-9.-]+) (port-[0-9]+|suspended)$/gm)].map((m) => m[1].split(".")[0]).sort();
      expect(hosts).toEqual(SIX_TENANTS.filter((t) => t.server === server).map((t) => t.name).sort());
      if (server !== "a") {
        const conn = edge.inputs.connection as { host: string; port: number };
        const ssh: { host: string; port?: number } = THREE_SERVERS[server as "b" | "c"].ssh;
        expect([conn.host, conn.port]).toEqual([ssh.host, ssh.port ?? 22]);
        expect(edge.secretInputs).toContain("connection");
      }
    }
  });

  test("DNS: one DNS-only A record per tenant at its server's public address, and no wildcard", () => {
    const records = ofType(run, TYPES.dnsRecord);
    expect(records.map((r) => r.inputs.name).sort()).toEqual(SIX_TENANTS.map((t) => `${t.name}.claw.example.com`).sort());
    for (const r of records) {
      const tenant = String(r.inputs.name).split(".")[0];
      expect([r.inputs.type, r.inputs.content, r.inputs.proxied]).toEqual(["A", THREE_SERVERS[serverOf[tenant] as "a" | "b" | "c"].publicIp, false]);
    }
    // The record of an active tenant waits for its gateway (healthy, `wait: true`) before it changes.
    for (const r of records) expect(`${r.name} ${r.options.dependsOn}`).toBe(`${r.name} ${r.name === "dns-dave-record" ? 0 : 1}`);
  });

  test("outputs give each tenant's server and a per-server summary, and each server's Caddyfile", () => {
    const tenants = run.outputs.tenants as Record<string, { server: string; port: number }>;
    expect(Object.fromEntries(Object.entries(tenants).map(([n, t]) => [n, t.server]))).toEqual(serverOf);
    const servers = run.outputs.servers as Record<string, { tenants: number; activeTenants: number; memoryLimitMb: number; publicIp: string }>;
    expect(servers.b).toMatchObject({ tenants: 2, activeTenants: 1, memoryLimitMb: 2048, publicIp: "203.0.113.2" });
    expect(servers.c).toMatchObject({ tenants: 2, activeTenants: 2, memoryLimitMb: 6144 });
    expect(Object.keys(run.outputs.caddyfiles as object).sort()).toEqual(["a", "b", "c"]);
    expect(Object.keys(run.outputs.routesByServer as object).sort()).toEqual(["a", "b", "c"]);
    expect(run.outputs.caddyfile).toBeUndefined();
    expect(run.outputs.routes).toBeUndefined();
  });

  test("a stack with one server in the map keeps the wildcard record", async () => {
    const one = await runProgram(serversConfig(SIX_TENANTS.map((t) => ({ ...t, server: "a", port: undefined })), { servers: { a: THREE_SERVERS.a } }));
    const records = ofType(one, TYPES.dnsRecord);
    expect(records.map((r) => [r.inputs.name, r.inputs.content])).toEqual([["*.claw.example.com", "203.0.113.1"]]);
    expect(one.outputs.routes).toContain("alice.claw.example.com port-");
  });
});

describe("a servers map whose servers are all remote", () => {
  test("nothing runs on the operator's machine: no local command, no local Docker provider, each edge over its server's SSH", async () => {
    const remote = SIX_TENANTS.filter((t) => t.server !== "a");
    const run = await runProgram(serversConfig(remote, { servers: { b: THREE_SERVERS.b, c: THREE_SERVERS.c } }));
    expect(run.resources.filter((r) => r.type === "command:local:Command").map((r) => r.name)).toEqual([]);
    const providers = ofType(run, "pulumi:providers:docker");
    expect(providers.map((p) => [p.name, p.inputs.host])).toEqual([["server-b", "ssh://deploy@b.example.net:22"], ["server-c", "ssh://deploy@198.51.100.3:2222"]]);
    expect(run.resources.filter((r) => r.type === "command:remote:Command" && r.name.includes("caddyfile")).map((r) => r.name).sort()).toEqual(["edge-b-caddyfile", "edge-c-caddyfile"]);
  });
});

describe("moves happen only by an edit of server:", () => {
  test("a deployed tenant without server: that the rule would now put elsewhere stops the program, naming it", async () => {
    const unpinned = SIX_TENANTS.map(({ server: _s, ...t }) => ({ ...t, port: undefined }));
    const first = await runProgram(serversConfig(unpinned));
    const placed = first.outputs.tenants as Record<string, { server: string }>;
    const victim = unpinned[0].name;
    const elsewhere = ["a", "b", "c"].find((s) => s !== placed[victim].server);
    const previous = { tenants: { ...placed, [victim]: { server: elsewhere } }, retainedData: [] };
    const failure = await runProgram(serversConfig(unpinned), previous).then(() => undefined, (err: unknown) => err);
    expect(failure).toBeInstanceOf(ProgramFailure);
    expect((failure as ProgramFailure).message).toContain(`tenant "${victim}", field server: runs on server ${elsewhere}`);
    expect((failure as ProgramFailure).registered.filter((r) => r.type !== "pulumi:pulumi:StackReference")).toEqual([]);
  });

  test("editing server: moves the tenant: same token resource, new server's provider, old server's volumes listed as retained", async () => {
    const before = await runProgram(serversConfig());
    const moved = SIX_TENANTS.map((t) => (t.name === "carol" ? { ...t, server: "c", port: 18812 } : t));
    const after = await runProgram(serversConfig(moved), { tenants: before.outputs.tenants, retainedData: [] });
    // Her own uid on the new server too (npm run move and recover keep the files' numeric owners).
    const uid = (r: ProgramRun) => (r.outputs.tenants as Record<string, { uid: number }>).carol.uid;
    expect(uid(after)).toBe(uid(before));
    expect(ofType(after, TYPES.container).find((c) => c.name === "carol-gateway")?.inputs.user).toBe(`${uid(before)}:${uid(before)}`);
    const token = (r: ProgramRun) => ofType(r, TYPES.token).find((t) => t.name === "carol-gateway-token");
    expect(token(after)?.urn).toBe(token(before)?.urn);
    expect(token(after)?.inputs).toEqual(token(before)?.inputs);
    for (const r of after.resources.filter((x) => x.type.startsWith("docker:index/") && x.name.startsWith("carol-"))) expect(providerName(r.provider)).toBe("server-c");
    expect(after.outputs.retainedData).toEqual([{ tenant: "carol", server: "b", volumes: ["openclaw-carol-state", "openclaw-carol-credentials"] }]);
    const record = ofType(after, TYPES.dnsRecord).find((r) => r.inputs.name === "carol.claw.example.com");
    expect(record?.inputs.content).toBe(THREE_SERVERS.c.publicIp);
  });
});

describe("a restore's data: label: fresh volumes, the same token, the replaced volumes retained", () => {
  test("data: r1 in place: carol's volumes become openclaw-carol-*.r1, her token resource is unchanged, the first copy is listed on b", async () => {
    const before = await runProgram(serversConfig());
    const restored = SIX_TENANTS.map((t) => (t.name === "carol" ? { ...t, data: "r1" } : t));
    const after = await runProgram(serversConfig(restored), { tenants: before.outputs.tenants, retainedData: [] });
    const token = (r: ProgramRun) => ofType(r, TYPES.token).find((t) => t.name === "carol-gateway-token");
    expect(token(after)?.urn).toBe(token(before)?.urn);
    expect(token(after)?.inputs).toEqual(token(before)?.inputs);
    const volumes = (r: ProgramRun, tenant: string) => ofType(r, TYPES.volume).filter((v) => v.name.startsWith(`${tenant}-`)).map((v) => v.inputs.name).sort();
    expect(volumes(after, "carol")).toEqual(["openclaw-carol-credentials.r1", "openclaw-carol-state.r1"]);
    const mounts = (ofType(after, TYPES.container).find((c) => c.name === "carol-gateway")?.inputs.mounts as { source: string }[]).map((m) => m.source).sort();
    expect(mounts).toEqual(["openclaw-carol-credentials.r1", "openclaw-carol-state.r1"]);
    // Her own uid across the restore, and her ownership step runs again on the fresh volumes (a
    // snapshot taken before tenants had their own uid holds 1000's files, re-owned there).
    const uid = (r: ProgramRun) => (r.outputs.tenants as Record<string, { uid: number }>).carol.uid;
    expect(uid(after)).toBe(uid(before));
    const step = String(after.resources.find((r) => r.name === "carol-owner")?.inputs.create);
    expect(step).toContain(`'carol' '${uid(before)}' '1000' `);
    expect(step).toContain("'openclaw-carol-state.r1' 'openclaw-carol-credentials.r1'");
    // No other tenant's resources change.
    for (const other of ["alice", "bob", "dave", "erin", "frank"]) expect(volumes(after, other)).toEqual(volumes(before, other));
    expect(after.outputs.retainedData).toEqual([{ tenant: "carol", server: "b", volumes: ["openclaw-carol-state", "openclaw-carol-credentials"] }]);
    expect((after.outputs.tenants as Record<string, { data?: string }>).carol.data).toBe("r1");
    // The next update on the same copy keeps the first copy listed.
    const next = await runProgram(serversConfig(restored), { tenants: after.outputs.tenants, retainedData: after.outputs.retainedData });
    expect(next.outputs.retainedData).toEqual(after.outputs.retainedData);
  });

  test("npm run recover's state deletes name exactly the program's container, network and process-limit command of the tenant", async () => {
    const run = await runProgram(serversConfig());
    const urns = forgetOnLostServer("test", "carol").map((c) => /'(.+)'$/.exec(c)?.[1]);
    const registered = (name: string) => run.resources.find((r) => r.name === name)?.urn;
    expect(urns).toEqual([registered("carol-gateway"), registered("carol-network"), registered("carol-process-limit")]);
    expect(urns.every((u) => u !== undefined)).toBe(true);
  });

  test("a bad data label is refused naming the tenant and the field", async () => {
    const bad = SIX_TENANTS.map((t) => (t.name === "carol" ? { ...t, data: "R1.x" } : t));
    const failure = await runProgram(serversConfig(bad)).then(() => undefined, (err: unknown) => err);
    expect(failure).toBeInstanceOf(ProgramFailure);
    expect((failure as ProgramFailure).message).toMatch(/carol.*data/);
  });
});

describe("deleteData: tenant@server deletes what a moved tenant left on one server", () => {
  const moved = SIX_TENANTS.map((t) => (t.name === "carol" ? { ...t, server: "c", port: 18812 } : t));
  /** The deployment after carol's move from b to c: carol's b volumes listed as retained. */
  let afterMove: ProgramRun;
  beforeAll(async () => {
    const before = await runProgram(serversConfig());
    afterMove = await runProgram(serversConfig(moved), { tenants: before.outputs.tenants, retainedData: [] });
  });
  const previous = () => ({ tenants: afterMove.outputs.tenants, retainedData: afterMove.outputs.retainedData });
  const deletions = (run: ProgramRun) =>
    [...ofType(run, TYPES.localCommand), ...ofType(run, TYPES.remoteCommand)].filter((c) => c.options.parentName === "TenantDataDeletion");

  test("carol@b: exactly one deletion, on b's connection, of carol's two volumes; nothing on a or c; carol's c resources unchanged", async () => {
    const run = await runProgram(serversConfig(moved, { deleteData: ["carol@b"] }), previous());
    const found = deletions(run);
    expect(found.map((c) => [c.type, c.name])).toEqual([[TYPES.remoteCommand, "carol-on-b-volumes"]]);
    const conn = found[0].inputs.connection as { host: string; port: number };
    expect([conn.host, conn.port]).toEqual([THREE_SERVERS.b.ssh.host, 22]);
    expect(String(found[0].inputs.create)).toContain("for volume in openclaw-carol-state openclaw-carol-credentials; do");
    expect(run.outputs.retainedData).toEqual([]);
    const carolOnC = (r: ProgramRun) => r.resources.filter((x) => x.type.startsWith("docker:index/") && x.name.startsWith("carol-")).map((x) => JSON.stringify([x.name, x.inputs, x.provider]));
    expect(carolOnC(run)).toEqual(carolOnC(afterMove));
  });

  test("plain dave (gone from the roster) keeps its names: the fallback server and each server that lists dave", async () => {
    const gone = moved.filter((t) => t.name !== "dave");
    const left = await runProgram(serversConfig(gone), previous());
    expect(left.outputs.retainedData).toEqual([
      { tenant: "carol", server: "b", volumes: ["openclaw-carol-state", "openclaw-carol-credentials"] },
      { tenant: "dave", server: "b", volumes: ["openclaw-dave-state", "openclaw-dave-credentials"] },
    ]);
    const run = await runProgram(serversConfig(gone, { deleteData: ["dave"] }), { tenants: left.outputs.tenants, retainedData: left.outputs.retainedData });
    expect(deletions(run).map((c) => c.name)).toEqual(["dave-on-a-volumes", "dave-on-b-volumes"]);
    expect((run.outputs.retainedData as { tenant: string }[]).map((r) => r.tenant)).toEqual(["carol"]);
  });

  test.each([
    [["carol@c"], 'tenant "carol", field deleteData: carol@c names server c, where carol runs now'],
    [["carol@z"], "config deleteData: carol@z names server z, which is not in the stack's servers (a, b, c)"],
    [["carol@b", "carol@b"], "config deleteData: carol@b repeats carol@b"],
  ])("%j is refused before anything is registered", async (deleteData, message) => {
    const failure = await runProgram(serversConfig(moved, { deleteData }), previous()).then(() => undefined, (err: unknown) => err);
    expect(failure).toBeInstanceOf(ProgramFailure);
    expect((failure as ProgramFailure).message).toContain(message);
    expect((failure as ProgramFailure).registered.filter((r) => r.type !== "pulumi:pulumi:StackReference")).toEqual([]);
  });

  test("carol@b in the very update that moves carol off b is refused: the copy on c has not run yet", async () => {
    const before = await runProgram(serversConfig());
    const failure = await runProgram(serversConfig(moved, { deleteData: ["carol@b"] }), { tenants: before.outputs.tenants, retainedData: [] }).then(() => undefined, (err: unknown) => err);
    expect(failure).toBeInstanceOf(ProgramFailure);
    expect((failure as ProgramFailure).message).toContain('tenant "carol", field deleteData: carol@b: carol ran on server b at the last update');
    expect((failure as ProgramFailure).registered.filter((r) => r.type !== "pulumi:pulumi:StackReference")).toEqual([]);
  });
});

describe("blast radius with three servers", () => {
  const changed = (a: ProgramRun, b: ProgramRun) => {
    const index = (run: ProgramRun) => new Map(run.resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify([r.inputs, r.provider])]));
    const x = index(a);
    const y = index(b);
    return [...new Set([...x.keys(), ...y.keys()])].filter((k) => x.get(k) !== y.get(k)).map((k) => k.split("::")[1]).sort();
  };
  let baseline: ProgramRun;
  beforeAll(async () => {
    baseline = await runProgram(serversConfig());
  });

  test("adding a tenant on b touches its own resources, its DNS record and b's routes only (no Caddyfile: no reload)", async () => {
    const after = await runProgram(serversConfig([...SIX_TENANTS, { name: "gina", server: "b", port: 18813 }]));
    expect(changed(baseline, after)).toEqual(["dns-gina", "dns-gina-record", "edge-b-routes", "gina", "gina-credentials", "gina-gateway", "gina-gateway-token", "gina-network", "gina-owner", "gina-process-limit", "gina-state"]);
  });

  test("re-tiering a tenant touches its container only", async () => {
    const after = await runProgram(serversConfig(SIX_TENANTS.map((t) => (t.name === "frank" ? { ...t, tier: "heavy" as const } : t))));
    expect(changed(baseline, after)).toEqual(["frank-gateway", "frank-process-limit"]); // the tier sets the process limit too
  });

  test("moving a tenant touches that tenant, its record and the two servers' routes only (no Caddyfile: no reload)", async () => {
    const after = await runProgram(serversConfig(SIX_TENANTS.map((t) => (t.name === "carol" ? { ...t, server: "c", port: 18812 } : t))), { tenants: baseline.outputs.tenants, retainedData: [] });
    expect(changed(baseline, after)).toEqual(["carol-credentials", "carol-gateway", "carol-network", "carol-owner", "carol-process-limit", "carol-state", "dns-carol-record", "edge-b-routes", "edge-c-routes"]);
  });
});
