// The dashboard over several servers, without a real engine: the pure parts in core (the row that
// stands for a tenant, what a history sample holds, reachability changes for the log) and the
// source asking three fake engines in parallel, one of which refuses, hangs, then comes back.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DockerTarget } from "../../../../core/dockerHost";
import {
  DesiredTenant, ServerResult, StatusReport, mergeServerResults, reachabilityChanges, rowOfTenant, sampleRows, tenantStatus,
} from "../../../../tools/shared/status";
import { History, sampleOf } from "../../../../tools/dashboard/history";
import { TenantMetrics } from "../../../../tools/dashboard/metrics";
import { EngineSource, WatchedServer } from "../../../../tools/dashboard/source";
import { FakeEngineState, fakeClient, syntheticEngine } from "../../../support/dashboard";
import { parsePrometheusText } from "../../../support/prometheus";

const MiB = 1024 * 1024;
const RULES = { memoryThresholdPercent: 90, diskThresholdPercent: 90 };
const META = { checkedAt: "2026-12-02T05:00:00Z", memoryThresholdPercent: 90, elapsedMs: 7 };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const history = (): History => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dash-servers-unit-"));
  dirs.push(dir);
  return new History({ dir, retentionMs: 24 * 3600e3, sampleMs: 1000 });
};

function running(tenant: string, server: string, usedMiB = 100): ReturnType<typeof tenantStatus> {
  return tenantStatus({
    tenant, server, volumes: [`openclaw-${tenant}-state`],
    inspect: {
      Id: `${tenant}-id`, Name: `/openclaw-${tenant}`, RestartCount: 0,
      State: { Status: "running", Running: true, Paused: false, Restarting: false, OOMKilled: false, ExitCode: 0, StartedAt: "2026-12-02T04:00:00Z" },
      Config: { Image: "img", Labels: { "managed-by": "openclaw-hosting", "openclaw.tenant": tenant, "openclaw.tier": "light" } },
      HostConfig: { Memory: 512 * MiB, NanoCpus: 5e8 },
    },
    stats: {
      cpu_stats: { cpu_usage: { total_usage: 2e9 }, system_cpu_usage: 2e11, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 1e9 }, system_cpu_usage: 1e11 },
      memory_stats: { usage: usedMiB * MiB, limit: 512 * MiB, stats: { inactive_file: 0 } },
    },
  }, RULES);
}
const volumesOnly = (tenant: string, server: string) => tenantStatus({ tenant, server, volumes: [`openclaw-${tenant}-state`] }, RULES);
const want = (tenant: string, server: string): DesiredTenant => ({ tenant, server, tier: "light", state: "active", memoryMb: 512, diskMb: 1024 });
const down = (server: string, desired: DesiredTenant[]): ServerResult => ({ server, engine: `ssh://root@${server}:22`, reachable: false, error: "ssh exited with 255: Connection refused", desired, elapsedMs: 12 });

describe("several servers, the pure parts", () => {
  // After a move: alice's old server (s1) keeps her volumes, s2 runs her.
  const moved = mergeServerResults([
    { server: "s1", engine: "e1", reachable: true, tenants: [volumesOnly("alice", "s1"), running("bob", "s1")], elapsedMs: 40 },
    { server: "s2", engine: "e2", reachable: true, tenants: [running("alice", "s2", 200)], elapsedMs: 55 },
    down("s3", [want("erin", "s3")]),
  ], { ...META, capacity: { s1: { memoryMb: 4096, cpus: 2, overcommit: 1 }, s2: { memoryMb: 2048, cpus: 4, overcommit: 1.5 } } }, RULES);

  test("each server's summary carries its time to answer and its CPUs; the unreachable one says why", () => {
    expect(moved.servers.map((s) => [s.server, s.reachable, s.elapsedMs, s.cpus, s.memoryCapacityBytes])).toEqual([
      ["s1", true, 40, 2, 4096 * MiB], ["s2", true, 55, 4, 2048 * MiB], ["s3", false, 12, null, null],
    ]);
    expect(moved.servers[2].error).toBe("ssh exited with 255: Connection refused");
  });

  test("the row standing for a tenant on two servers is the running one, unless a server is named", () => {
    expect(rowOfTenant(moved, "alice")?.server).toBe("s2");
    expect(rowOfTenant(moved, "alice", "s1")?.state).toBe("no container");
    expect(rowOfTenant(moved, "alice", "s3")).toBeUndefined();
    expect(rowOfTenant(moved, "nobody")).toBeUndefined();
  });

  test("a history sample: the servers that answered, one row per tenant (with its server); the silent server left out", () => {
    const rows = sampleRows(moved);
    expect(rows.servers.map((s) => s.server)).toEqual(["s1", "s2"]);
    expect(rows.tenants.map((t) => `${t.server}/${t.tenant}`).sort()).toEqual(["s1/bob", "s2/alice"]);
    const line = sampleOf(moved, 1000);
    expect(line.n).toEqual({ alice: [200, expect.any(Number), "s2"], bob: [100, expect.any(Number), "s1"] });
    expect(Object.keys(line.s)).toEqual(["s1", "s2"]);
  });

  test("reachability changes: one line when a server goes silent, one when it answers again, none while steady", () => {
    const up = mergeServerResults([{ server: "s3", engine: "e3", reachable: true, tenants: [] }], META, RULES).servers;
    const gone = mergeServerResults([down("s3", [])], META, RULES).servers;
    expect(reachabilityChanges(undefined, gone)).toEqual(["server s3 unreachable: ssh exited with 255: Connection refused (its roster tenants show as unknown)"]);
    expect(reachabilityChanges(gone, gone)).toEqual([]);
    expect(reachabilityChanges(gone, up)).toEqual(["server s3 answers again"]);
    expect(reachabilityChanges(up, up)).toEqual([]);
  });
});

describe("the source over three servers", () => {
  const names = (server: string) => (i: number) => `${server}-t${i}`;
  const engines = { s1: syntheticEngine(3, 1, names("s1")), s2: syntheticEngine(2, 2, names("s2")), s3: syntheticEngine(2, 3, names("s3")) };
  const states: Record<string, FakeEngineState> = { s1: { mode: "up", calls: 0 }, s2: { mode: "up", calls: 0 }, s3: { mode: "refused", calls: 0 } };
  const target = (server: string): DockerTarget => ({ kind: "ssh", host: `${server}.test`, port: 22, user: "root", display: `ssh://root@${server}.test:22` });
  const servers: WatchedServer[] = (["s1", "s2", "s3"] as const).map((name) => ({
    name, target: target(name), tenants: Array.from({ length: name === "s1" ? 3 : 2 }, (_, i) => want(`${name}-t${i}`, name)),
  }));
  const h = history();
  const metrics = new TenantMetrics();
  const connects: Record<string, number> = {};
  const lines: string[] = [];
  const source = new EngineSource({
    servers, timeoutMs: 300, refreshMs: 60e3, sampleMs: 0, diskMs: 60e3, where: "tenants/",
    capacity: { s1: { memoryMb: 8192, cpus: 4, overcommit: 1.5 }, s2: { memoryMb: 4096, cpus: 2, overcommit: 1 } },
    rules: RULES,
    connect: (t) => {
      const server = t.kind === "ssh" ? t.host.split(".")[0] as keyof typeof engines : "s1";
      connects[server] = (connects[server] ?? 0) + 1;
      return fakeClient(engines[server], server, states[server]);
    },
  }, h, metrics, (l) => lines.push(l));
  const perServer = (r: StatusReport) => r.servers.map((s) => [s.server, s.reachable, s.tenants, s.running]);

  test("one server refusing: it is marked unreachable with why, its roster tenants unknown; the other two list theirs", async () => {
    const r = await source.refresh(1_000_000);
    expect(perServer(r)).toEqual([["s1", true, 3, 3], ["s2", true, 2, 2], ["s3", false, 2, 0]]);
    expect(r.servers[2].error).toBe("connect ECONNREFUSED s3");
    expect(r.tenants.filter((t) => t.server === "s3").map((t) => [t.tenant, t.state])).toEqual([["s3-t0", "unknown"], ["s3-t1", "unknown"]]);
    expect(r.tenants.filter((t) => t.server !== "s3").every((t) => t.state === "running" && t.memoryUsedBytes !== null)).toBe(true);
    expect(lines).toEqual([expect.stringMatching(/^server s3 unreachable: connect ECONNREFUSED s3/)]);
    // History: the two that answered, each tenant with its server; nothing for s3.
    expect(h.series("tenant", "s1-t0").server).toEqual(["s1"]);
    expect(h.series("tenant", "s2-t1").memoryBytes[0]).toBeGreaterThan(0);
    expect(h.series("tenant", "s3-t0").memoryBytes).toEqual([null]);
    expect(h.series("server", "s2").server).toEqual(["s2"]);
    expect(h.series("server", "s3").memoryBytes).toEqual([null]);
  });

  test("metrics: a server label on every tenant, openclaw_server_up per server, no up sample for the silent server's tenants", async () => {
    const f = parsePrometheusText(await metrics.text(1_000_500));
    const up = (name: string) => Object.fromEntries((f.get(name)?.samples ?? []).map((s) => [s.labels.server, s.value]));
    expect(up("openclaw_server_up")).toEqual({ s1: 1, s2: 1, s3: 0 });
    expect(up("openclaw_server_tenants")).toEqual({ s1: 3, s2: 2, s3: 2 });
    expect(up("openclaw_server_cpus")).toEqual({ s1: 4, s2: 2 });
    expect(up("openclaw_server_memory_capacity_bytes")).toEqual({ s1: 8192 * MiB, s2: 4096 * MiB });
    expect(Object.keys(up("openclaw_server_memory_used_bytes"))).toEqual(["s1", "s2"]);
    const tenantUp = f.get("openclaw_tenant_up")?.samples ?? [];
    expect(tenantUp.map((s) => `${s.labels.server}/${s.labels.tenant}=${s.value}`).sort()).toEqual(["s1/s1-t0=1", "s1/s1-t1=1", "s1/s1-t2=1", "s2/s2-t0=1", "s2/s2-t1=1"]);
    expect(f.get("openclaw_tenant_flagged")?.samples.filter((s) => s.labels.server === "s3").map((s) => s.value)).toEqual([1, 1]);
  });

  test("a server that never answers costs its own timeout and leaves the others' rows", async () => {
    states.s3.mode = "hang";
    const t0 = Date.now();
    const r = await source.refresh(1_002_000);
    console.log(`refresh of three fake servers, one silent (300 ms timeout): ${Date.now() - t0} ms`);
    expect(perServer(r)).toEqual([["s1", true, 3, 3], ["s2", true, 2, 2], ["s3", false, 2, 0]]);
    expect(r.servers[2].error).toBe("ping s3 timed out after 300 ms");
    expect(lines).toHaveLength(1); // still down: no new line
  });

  test("the server answering again: logged once, its tenants listed, its history resumes", async () => {
    states.s3.mode = "up";
    const r = await source.refresh(1_004_000);
    expect(perServer(r)).toEqual([["s1", true, 3, 3], ["s2", true, 2, 2], ["s3", true, 2, 2]]);
    expect(lines.slice(1)).toEqual(["server s3 answers again"]);
    // A server's client is kept across refreshes, and dropped (connected afresh) after each failure.
    expect(connects).toEqual({ s1: 1, s2: 1, s3: 3 });
    expect(h.series("tenant", "s3-t0").server).toEqual([null, null, "s3"]);
  });

  test("a tenant's detail comes from its own server's engine", async () => {
    const d = await source.detail("s2-t1");
    expect(d).toMatchObject({ tenant: "s2-t1", server: "s2", error: null });
    expect(d?.logs).toEqual(["s2: openclaw-s2-t1 gateway listening", "OPENCLAW_GATEWAY_TOKEN=[redacted]"]);
    expect(await source.detail("s2-t1", "s1")).toBeNull();
  });
});
