import { checkHosting } from "../../../core/check";
import { formatProblem } from "../../../core/problems";
import { RosterFile } from "../../../core/roster";

const servers = {
  a: { local: true, publicIp: "203.0.113.1", memoryMb: 4096, cpus: 2 },
  b: { ssh: { host: "b.example.net", user: "deploy" }, publicIp: "203.0.113.2", memoryMb: 8192, cpus: 4, portPool: { start: 19000, end: 19099 } },
  c: { ssh: { host: "198.51.100.3", user: "deploy", port: 2222 }, publicIp: "203.0.113.3", memoryMb: 8192, cpus: 4, tenantNetworks: "10.232.0.0/16" },
};
const config = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  domain: "claw.example.com",
  image: "ghcr.io/openclaw/openclaw:2026.8.1-r20260820",
  caddy: { acmeEmail: "ops@example.com" },
  servers,
  ...overrides,
});
const file = (name: string, text: string): RosterFile => ({ file: `${name}.yaml`, text });
const roster: RosterFile[] = [
  file("alice", "tier: standard\nserver: a\nport: 18810\n"),
  file("bob", "tier: light\nserver: b\nport: 19010\n"),
  file("carol", "tier: standard\nserver: c\nport: 18810\n"),
  file("dave", "tier: light\nserver: a\n"),
  file("erin", "tier: heavy\nstate: suspended\nserver: b\n"),
  file("frank", "tier: light\nserver: c\n"),
];
const messages = (cfg: Record<string, unknown>, files: RosterFile[] = roster) =>
  checkHosting(cfg, () => files).problems.filter((p) => p.field !== "apiKeys").map(formatProblem);

describe("several servers", () => {
  test("each tenant runs on its named server, with that server's pool and subnets; ports repeat across servers", () => {
    const { plan, problems } = checkHosting(config(), () => roster);
    expect(problems.filter((p) => p.field !== "apiKeys")).toEqual([]);
    const byName = Object.fromEntries((plan?.tenants ?? []).map((t) => [t.name, t]));
    expect(byName.alice).toMatchObject({ server: "a", port: 18810, subnet: "10.231.0.160/28" });
    expect(byName.carol).toMatchObject({ server: "c", port: 18810, subnet: "10.232.0.160/28" });
    expect(byName.bob).toMatchObject({ server: "b", port: 19010, subnet: "10.231.0.160/28" });
    expect(plan?.servers.map((s) => [s.name, s.tenants])).toEqual([["a", ["alice", "dave"]], ["b", ["bob", "erin"]], ["c", ["carol", "frank"]]]);
  });

  test("each server's routes are exactly its own tenants; its Caddyfile names none", () => {
    const { plan } = checkHosting(config(), () => roster);
    expect(plan?.servers.length).toBeGreaterThan(1);
    for (const server of plan?.servers ?? []) {
      const hosts = [...server.routes.matchAll(/^([a-z0-9.-]+) (port-[0-9]+|suspended)$/gm)].map((m) => m[1].split(".")[0]).sort();
      expect(hosts).toEqual([...server.tenants].sort());
      for (const name of plan?.tenants.map((t) => t.name) ?? []) expect(server.caddyfile).not.toContain(`${name}.`);
    }
  });

  test("disk capacity: the sum of every tenant's diskMb (suspended too) over servers.<name>.diskGb is refused, near it warned", () => {
    // Server b: bob (light, 2048 MB) + erin (heavy, suspended, 10240 MB) = 12288 MB.
    const withDisk = (diskGb: number) => config({ servers: { ...servers, b: { ...servers.b, diskGb } } });
    expect(messages(withDisk(10))).toEqual([
      "config servers.b.diskGb: server b: the 2 tenants' disk budgets (diskMb) add up to 12288 MB, over the server's 10 GB (10240 MB) by 2048 MB; give the server more disk, lower a tier's diskMb or place tenants elsewhere",
    ]);
    const near = checkHosting(withDisk(13), () => roster);
    expect(near.problems.filter((p) => p.field !== "apiKeys")).toEqual([]);
    expect(near.warnings.map(formatProblem)).toEqual(["config servers.b.diskGb: server b: the 2 tenants' disk budgets (diskMb) add up to 12288 MB, 92% of the server's 13 GB (the OS and images need room too)"]);
    expect(checkHosting(withDisk(20), () => roster).warnings).toEqual([]);
    expect(messages(config({ servers: { ...servers, b: { ...servers.b, diskGb: 0 } } }))).toEqual(["config servers.b.diskGb: must be a positive number of GB"]);
  });

  test("per-server capacity: names the server, the overshoot and the tenants the rule placed there", () => {
    const small = { ...servers, a: { ...servers.a, memoryMb: 512, cpus: 4, overcommit: 1 } };
    const out = messages(config({ servers: small }), [...roster, file("gina", "tier: heavy\nserver: a\nport: 18811\n")]);
    expect(out).toEqual([
      "config servers.a.memoryMb: server a: the 3 active tenants need 7680 MB of memory limits, over the 512 MB allowed (512 MB x overcommit 1) by 7168 MB. Tenants added since the last pin-ports: dave.",
    ]);
  });

  test.each([
    ["an ssh host that ssh would read as an option", { b: { ...servers.b, ssh: { host: "-oProxyCommand=x", user: "deploy" } } }, "config servers.b.ssh.host: must not start with -"],
    ["a bad ssh user", { b: { ...servers.b, ssh: { host: "b.example.net", user: "Root User" } } }, "config servers.b.ssh.user: must be a Unix user name"],
    ["neither ssh nor local", { b: { publicIp: "203.0.113.2", memoryMb: 8192, cpus: 4 } }, "config servers.b.ssh: set exactly one of ssh (a remote server) or local: true"],
    ["both ssh and local", { b: { ...servers.b, local: true } }, "config servers.b.ssh: set exactly one of ssh (a remote server) or local: true"],
    ["no memory size", { b: { ssh: servers.b.ssh, cpus: 4 } }, "config servers.b.memoryMb: is required (a number)"],
    ["a port pool below 1024", { b: { ...servers.b, portPool: { start: 80, end: 90 } } }, "config servers.b.portPool.start: must be at least 1024"],
    ["tenant networks over Docker's default bridge", { c: { ...servers.c, tenantNetworks: "172.17.0.0/16" } }, "config servers.c.tenantNetworks: overlaps 172.17.0.0/16"],
    ["a server name that is not a label", { B_1: servers.b }, "config servers.B_1: must be a server name"],
    ["two servers on one engine", { d: { ...servers.b, publicIp: "203.0.113.4" } }, "config servers.d.ssh: reaches the same engine as server b (ssh b.example.net:22)"],
    ["an unknown field", { b: { ...servers.b, memory: 4 } }, "config servers.b.memory: unknown field"],
    ["a cgroup driver Docker does not have", { b: { ...servers.b, cgroupDriver: "cgroupv2" } }, "config servers.b.cgroupDriver: must be one of systemd, cgroupfs"],
  ])("refused: %s", (_label, change, expected) => {
    const out = messages(config({ servers: { ...servers, ...change } }));
    expect(out.some((m) => m.startsWith(expected))).toBe(true);
  });

  test("cgroupDriver per server: a server's own driver wins, the others take the stack's", () => {
    const mixed = { ...servers, b: { ...servers.b, cgroupDriver: "cgroupfs" } };
    const { plan, problems } = checkHosting(config({ servers: mixed, cgroupDriver: "systemd" }), () => roster);
    expect(problems.filter((p) => p.field !== "apiKeys")).toEqual([]);
    const byName = Object.fromEntries((plan?.tenants ?? []).map((t) => [t.name, [t.server, t.cgroupDriver, t.cgroupParent]]));
    expect(byName.bob).toEqual(["b", "cgroupfs", "/openclaw/bob"]);
    expect(byName.alice).toEqual(["a", "systemd", "openclaw-alice.slice"]);
    expect(byName.carol).toEqual(["c", "systemd", "openclaw-carol.slice"]);
    expect(plan?.servers.map((s) => [s.name, s.cgroupDriver])).toEqual([["a", "systemd"], ["b", "cgroupfs"], ["c", "systemd"]]);
  });

  test("the single-server keys cannot be mixed with servers", () => {
    const out = messages(config({ ssh: { host: "x.example.net", user: "deploy" }, serverIp: "203.0.113.9", server: { memoryMb: 4096, cpus: 2 } }));
    for (const key of ["ssh", "serverIp", "server"]) expect(out).toContain(`config ${key}: cannot be used with servers; move it under servers.<name> (ssh, publicIp, memoryMb/cpus/overcommit/diskGb)`);
  });

  test("with dns, every server needs a publicIp", () => {
    const { publicIp: _ip, ...noIp } = servers.c;
    const out = messages(config({ servers: { ...servers, c: noIp }, dns: { zoneId: "0123456789abcdef0123456789abcdef" } }));
    expect(out).toEqual(["config servers.c.publicIp: is required when dns is set (this server's tenants' records point at it)"]);
  });

  test("a tenant naming a server the stack does not have, and a port pinned twice on one server", () => {
    const out = messages(config(), [...roster, file("hank", "tier: light\nserver: zz\n"), file("ivy", "tier: light\nserver: a\nport: 18810\n")]);
    expect(out).toContain('tenant "hank", field server: names server zz, which is not in the stack\'s servers (a, b, c)');
    expect(out).toContain('tenant "ivy", field port: 18810 is pinned by more than one tenant: alice, ivy (on server a)');
  });

  test("a single-server stack is one server named default, and server: default is accepted there", () => {
    const { plan, problems } = checkHosting(config({ servers: undefined }), () => [file("alice", "tier: light\nserver: default\n")]);
    expect(problems.filter((p) => p.field !== "apiKeys")).toEqual([]);
    expect(plan?.servers.map((s) => s.name)).toEqual(["default"]);
    expect(plan?.caddyfile).toBe(plan?.servers[0].caddyfile);
  });
});

test("with several servers and dns, a roster over a Cloudflare Free zone's 200 records is warned about", () => {
  const many = Array.from({ length: 201 }, (_, i) => file(`t${i}`, `tier: light\nserver: ${["a", "b", "c"][i % 3]}\n`));
  const dns = { zoneId: "0123456789abcdef0123456789abcdef" };
  const big = Object.fromEntries(Object.entries(servers).map(([n, s]) => [n, { ...s, memoryMb: 65536, cpus: 64, portPool: { start: 20000, end: 20999 } }]));
  const warned = checkHosting(config({ servers: big, dns }), () => many).warnings.map(formatProblem);
  expect(warned).toContain("config dns: 201 tenants need 201 DNS records; a Cloudflare Free zone allows 200 (1,000 if created before 2024-09-01), paid plans 3,500");
  expect(checkHosting(config({ servers: big, dns }), () => many.slice(0, 200)).warnings.map(formatProblem).filter((w) => w.startsWith("config dns"))).toEqual([]);
});
