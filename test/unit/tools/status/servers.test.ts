// Several servers in one status report: one unreachable server is marked so, with why, its roster
// tenants listed as unknown (flagged), the others shown as they are, and the exit code says 2.
import {
  DesiredTenant, EXIT_FLAGGED, EXIT_OK, EXIT_UNREACHABLE, ServerResult, exitCodeFor, mergeServerResults, parseDf, serverDiskReasons, tenantStatus, unreachableServers,
} from "../../../../tools/shared/status";
import { renderJson, renderTable } from "../../../../tools/status/table";
import * as fs from "fs";
import * as path from "path";
import { sshDialArgs } from "../../../../core/dockerHost";
import { loadStackServers } from "../../../../tools/shared/engine/desired";
import { REPO_ROOT } from "../../../support/program";
import { writeRoster } from "../../../support/roster";

const MiB = 1024 * 1024;
const RULES = { memoryThresholdPercent: 90, diskThresholdPercent: 90 };
const META = { checkedAt: "2026-11-25T21:00:00Z", memoryThresholdPercent: 90, elapsedMs: 5 };

function running(tenant: string, server: string): ReturnType<typeof tenantStatus> {
  return tenantStatus({
    tenant, server, volumes: [],
    inspect: {
      Id: `${tenant}-id`, Name: `/openclaw-${tenant}`, RestartCount: 0,
      State: { Status: "running", Running: true, Paused: false, Restarting: false, OOMKilled: false, ExitCode: 0, StartedAt: "2026-11-25T10:00:00Z", Health: { Status: "healthy", FailingStreak: 0, Log: [] } },
      Config: { Image: "img", Labels: { "managed-by": "openclaw-hosting", "openclaw.tenant": tenant, "openclaw.tier": "light" } },
      HostConfig: { Memory: 512 * MiB, NanoCpus: 5e8 },
    },
  }, RULES);
}
const want = (tenant: string, server: string): DesiredTenant => ({ tenant, server, tier: "light", state: "active", memoryMb: 512, diskMb: 1024 });

const s1: ServerResult = { server: "s1", engine: "ssh://root@10.0.0.1:22", reachable: true, tenants: [running("alice", "s1"), running("bob", "s1")] };
const s2: ServerResult = { server: "s2", engine: "ssh://root@10.0.0.2:22", reachable: true, tenants: [running("carol", "s2")] };
const s3Down: ServerResult = {
  server: "s3", engine: "ssh://root@10.0.0.3:22", reachable: false,
  error: "ssh exited with 255: connect to host 10.0.0.3 port 22: Connection refused", desired: [want("erin", "s3"), want("frank", "s3")],
};

describe("merging several servers' results", () => {
  test("all reachable: every tenant on its own server, servers in name order, exit 0", () => {
    const r = mergeServerResults([s2, s1], META, RULES);
    expect(r.tenants.map((t) => `${t.server}/${t.tenant}`)).toEqual(["s1/alice", "s1/bob", "s2/carol"]);
    expect(r.servers.map((s) => [s.server, s.engine, s.tenants, s.running, s.reachable, s.error])).toEqual([
      ["s1", "ssh://root@10.0.0.1:22", 2, 2, true, null],
      ["s2", "ssh://root@10.0.0.2:22", 1, 1, true, null],
    ]);
    expect(unreachableServers(r)).toEqual([]);
    expect(exitCodeFor(r)).toBe(EXIT_OK);
  });

  test("a server filling up: its data disk (df of Docker's data root) at or over 85 % flags the server, in JSON and the table, exit 1", () => {
    // df -P -k as busybox and coreutils print it; 90 GB used, 8 GB available of 100 GB: 92 %.
    const df = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n/dev/vda1        104857600 94371840   8388608      92% /data\n";
    const disk = parseDf(df, "/var/lib/docker");
    expect(disk).toEqual({ path: "/var/lib/docker", sizeBytes: 107374182400, usedBytes: 96636764160, availableBytes: 8589934592, percent: 92 });
    expect(() => parseDf("df: /data: No such file or directory\n", "/var/lib/docker")).toThrow(/no filesystem line/);
    expect(serverDiskReasons(disk)).toEqual(["data disk (/var/lib/docker) at 92%: 90.0 GB used, 8.0 GB free of 100.0 GB (>= 85%)"]);
    expect(serverDiskReasons({ ...disk, percent: 84 })).toEqual([]);
    expect(serverDiskReasons(null)).toEqual([]);
    const r = mergeServerResults([{ ...s1, dataDisk: disk }, s2], META, RULES);
    expect(r.servers.map((s) => [s.server, s.flags.length, s.dataDisk?.percent ?? null])).toEqual([["s1", 1, 92], ["s2", 0, null]]);
    expect(r.flagged).toEqual([]); // no tenant is flagged: the server is
    expect(exitCodeFor(r)).toBe(EXIT_FLAGGED);
    expect(renderTable(r)).toContain("FLAGGED server s1: data disk (/var/lib/docker) at 92%");
    expect(JSON.parse(renderJson(r)).servers[0].flags).toEqual(serverDiskReasons(disk));
  });

  test("one unreachable: marked with its error, its roster tenants unknown and flagged, the others intact, exit 2", () => {
    const r = mergeServerResults([s1, s3Down, s2], META, RULES);
    expect(unreachableServers(r)).toEqual(["s3"]);
    const s3 = r.servers.find((s) => s.server === "s3");
    expect(s3).toMatchObject({ reachable: false, error: s3Down.reachable ? null : s3Down.error, tenants: 2, running: 0 });
    expect(r.tenants.filter((t) => t.server === "s3").map((t) => [t.tenant, t.state, t.desired])).toEqual([["erin", "unknown", "active"], ["frank", "unknown", "active"]]);
    expect(r.flagged.map((f) => f.tenant)).toEqual(["erin", "frank"]);
    expect(r.flagged[0].reasons[0]).toMatch(/^state unknown: server s3 unreachable: ssh exited with 255/);
    expect(r.tenants.filter((t) => t.server !== "s3").every((t) => t.state === "running" && t.flags.length === 0)).toBe(true);
    expect(exitCodeFor(r)).toBe(EXIT_UNREACHABLE);
  });

  test("an unreachable server outranks a flagged tenant; a flagged tenant alone is 1", () => {
    const sick = { ...s1, tenants: [tenantStatus({ tenant: "gus", server: "s1", volumes: [], desired: want("gus", "s1") }, RULES)] };
    expect(exitCodeFor(mergeServerResults([sick, s2], META, RULES))).toBe(EXIT_FLAGGED);
    expect(exitCodeFor(mergeServerResults([sick, s3Down], META, RULES))).toBe(EXIT_UNREACHABLE);
  });

  test("an unreachable server with no roster tenants still has its row", () => {
    const r = mergeServerResults([s1, { ...s3Down, desired: [] }], META, RULES);
    expect(r.servers.map((s) => [s.server, s.reachable, s.tenants])).toEqual([["s1", true, 2], ["s3", false, 0]]);
    expect(exitCodeFor(r)).toBe(EXIT_UNREACHABLE);
  });

  test("capacity per server still gives the commit ratio", () => {
    const r = mergeServerResults([s1], { ...META, capacity: { s1: { memoryMb: 2048, cpus: 2, overcommit: 1.5 } } }, RULES);
    expect(r.servers[0]).toMatchObject({ memoryCommittedBytes: 1024 * MiB, memoryCapacityBytes: 2048 * MiB, commitRatio: 0.5 });
  });
});

describe("rendering several servers", () => {
  const r = mergeServerResults([s1, s2, s3Down], META, RULES);

  test("the table: a SERVER column, one line per server, the unreachable one with its error", () => {
    const text = renderTable(r);
    expect(text).toMatch(/^SERVER\s+TENANT\s+STATE/m);
    expect(text).toMatch(/^s1\s+alice\s+running\s+healthy/m);
    expect(text).toMatch(/^s3\s+erin\s+unknown\s+none/m);
    expect(text).toContain("  server s1 (ssh://root@10.0.0.1:22): 2 tenant(s), 2 running, 0 flagged");
    expect(text).toContain("  server s3 (ssh://root@10.0.0.3:22): UNREACHABLE: ssh exited with 255: connect to host 10.0.0.3 port 22: Connection refused");
  });

  test("one server: the table has no SERVER column and no server lines (as before)", () => {
    const one = renderTable(mergeServerResults([s1], META, RULES));
    expect(one).toMatch(/^TENANT\s+STATE/m);
    expect(one).not.toContain("  server s1");
  });

  test("--json: each server with reachable and its error", () => {
    const json = JSON.parse(renderJson(r)) as { servers: { server: string; reachable: boolean; error: string | null }[] };
    expect(json.servers.map((s) => [s.server, s.reachable, s.error === null])).toEqual([["s1", true, true], ["s2", true, true], ["s3", false, false]]);
  });
});

test("a stack server's privateKeyPath reaches ssh as -i, and only that key is offered", () => {
  const args = sshDialArgs({ kind: "ssh", host: "10.0.0.3", port: 22, user: "root", display: "ssh://root@10.0.0.3:22", identityFile: "/keys/id" }, 5);
  expect(args.slice(0, args.indexOf("--"))).toEqual(expect.arrayContaining(["-i", "/keys/id", "-o", "IdentitiesOnly=yes", "-l", "root", "-p", "22"]));
  expect(sshDialArgs({ kind: "ssh", host: "h", port: null, user: null, display: "ssh://h" }, 5)).not.toContain("-i");
});

describe("a stack's servers, as npm run status --stack reads them", () => {
  const stacks: string[] = [];
  afterAll(() => {
    for (const name of stacks) fs.rmSync(path.join(REPO_ROOT, `Pulumi.${name}.yaml`), { force: true });
  });

  test("each server with its engine (ssh with its key, or this machine) and the roster tenants placed on it", () => {
    const dir = writeRoster([{ name: "alice", tier: "light", extra: "server: b" }, { name: "bob", tier: "light", extra: "server: a" }, { name: "carol", tier: "light", extra: "server: b" }]);
    const name = `test-status-servers-${process.pid}`;
    stacks.push(name);
    fs.writeFileSync(path.join(REPO_ROOT, `Pulumi.${name}.yaml`), `config: ${JSON.stringify({
      "openclaw-hosting:domain": "claw.example.com",
      "openclaw-hosting:image": "ghcr.io/openclaw/openclaw:2026.8.1-r20260820",
      "openclaw-hosting:caddy": { acmeEmail: "ops@example.com" },
      "openclaw-hosting:rosterDir": path.relative(REPO_ROOT, dir),
      "openclaw-hosting:servers": {
        a: { local: true, memoryMb: 8192, cpus: 4 },
        b: { ssh: { host: "10.0.0.2", user: "deploy", privateKeyPath: "/keys/id_b" }, memoryMb: 4096, cpus: 2 },
      },
    })}\n`);
    const here = { kind: "unix" as const, socketPath: "/run/x.sock", display: "unix:///run/x.sock" };
    const s = loadStackServers(REPO_ROOT, name, here);
    expect(s?.servers.map((x) => [x.name, x.target.display, x.tenants.map((t) => t.tenant)])).toEqual([
      ["a", "unix:///run/x.sock", ["bob"]],
      ["b", "ssh://deploy@10.0.0.2:22", ["alice", "carol"]],
    ]);
    expect(s?.servers[1].target).toMatchObject({ kind: "ssh", identityFile: "/keys/id_b", port: 22 });
    expect(s?.servers[1].tenants.every((t) => t.server === "b")).toBe(true);
    expect(s?.capacity).toEqual({ a: { memoryMb: 8192, cpus: 4, overcommit: expect.any(Number) }, b: { memoryMb: 4096, cpus: 2, overcommit: expect.any(Number) } });
    // A single-server stack: none (status then asks DOCKER_HOST, as before).
    expect(loadStackServers(REPO_ROOT, "dev", here)).toBeUndefined();
  });
});
