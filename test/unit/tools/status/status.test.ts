// `npm run status`, the pure core: fixtures have the shapes Docker 20.10 returned for a tenant
// container (inspect, and stats?stream=false on a cgroup v1 host, recorded on the test engine) and
// the cgroup v2 shape of the same daemon (no percpu_usage, memory.stat keys: anon, file, inactive_file, ...).
import { DockerTarget, UsageError, parseDockerHost, sshDialArgs } from "../../../../core/dockerHost";
import {
  StatusReport, TenantInput, buildReport, cpuPercent, discoverTenants, exitCodeFor, flagReasons, memoryLimitBytes, memoryPercent, memoryUsedBytes, sampleOfStats, tenantStatus, InspectSchema, StatsSchema,
} from "../../../../tools/shared/status";
import { parseStatusArgs } from "../../../../tools/status/args";
import { renderJson, renderTable } from "../../../../tools/status/table";

const MiB = 1024 * 1024;
const RULES = { memoryThresholdPercent: 90 };

/** `docker inspect openclaw-<t>` of a running, healthy tenant (trimmed to a realistic subset). */
function inspect(tenant: string, over: { state?: Record<string, unknown>; health?: Record<string, unknown> | null; restartCount?: number; memory?: number } = {}): Record<string, unknown> {
  const health = over.health === null
    ? {}
    : { Health: { Status: "healthy", FailingStreak: 0, Log: [{ Start: "2026-11-23T23:15:31.05Z", End: "2026-11-23T23:15:31.11Z", ExitCode: 0, Output: "" }], ...over.health } };
  return {
    Id: `${tenant}0123456789abcdef`,
    Created: "2026-11-23T23:15:29.863114674Z",
    Path: "/sbin/docker-init",
    Name: `/openclaw-${tenant}`,
    RestartCount: over.restartCount ?? 0,
    State: {
      Status: "running", Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 8309,
      ExitCode: 0, Error: "", StartedAt: "2026-11-23T23:15:30.058011858Z", FinishedAt: "0001-01-01T00:00:00Z",
      ...health,
      ...over.state,
    },
    Config: {
      Image: "ghcr.io/openclaw/openclaw:2026.9.1-r20260901",
      Labels: {
        "managed-by": "openclaw-hosting",
        "openclaw.tenant": tenant,
        "openclaw.tier": "standard",
        "openclaw.url": `https://${tenant}.claw.example.com`,
      },
    },
    HostConfig: {
      Memory: over.memory ?? 512 * MiB, MemoryReservation: 384 * MiB, MemorySwap: over.memory ?? 512 * MiB, NanoCpus: 1e9,
      RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 },
    },
  };
}

/** stats?stream=false on a cgroup v1 host (Debian docker.io 20.10, cgroupfs), recorded. */
function statsV1(usage: number, totalInactiveFile: number, opts: { onlineCpus?: number | null } = {}): Record<string, unknown> {
  const cpu = (total: number, system: number) => ({
    cpu_usage: { total_usage: total, percpu_usage: [Math.floor(total * 0.3), total - Math.floor(total * 0.3)], usage_in_kernelmode: 20000000, usage_in_usermode: 30000000 },
    system_cpu_usage: system,
    ...(opts.onlineCpus === null ? {} : { online_cpus: opts.onlineCpus ?? 2 }),
    throttling_data: { periods: 5, throttled_periods: 0, throttled_time: 0 },
  });
  return {
    read: "2026-11-23T23:11:32.137762463Z",
    preread: "2026-11-23T23:11:31.133258574Z",
    pids_stats: { current: 7 },
    num_procs: 0,
    // 0.3 s of CPU in a 2 s window of host time (2 CPUs x ~1 s): 30 % in docker stats terms.
    cpu_stats: cpu(360226467, 3326210000000),
    precpu_stats: cpu(60226467, 3324210000000),
    memory_stats: {
      usage,
      max_usage: usage + 557056,
      stats: {
        active_anon: 4096, active_file: 0, cache: 4096, hierarchical_memory_limit: 536870912, hierarchical_memsw_limit: 536870912,
        inactive_anon: usage - totalInactiveFile, inactive_file: totalInactiveFile, rss: usage - totalInactiveFile,
        total_active_anon: 4096, total_cache: 4096, total_inactive_anon: usage - totalInactiveFile,
        total_inactive_file: totalInactiveFile, total_rss: usage - totalInactiveFile, total_pgfault: 3888,
      },
      limit: 536870912,
    },
    name: "/openclaw-alice",
    id: "04ebaac99309605e3078f0b3afced840d7334b696253c46224ccb3a73c8f0687",
    networks: { eth0: { rx_bytes: 736, rx_packets: 8, rx_errors: 0, rx_dropped: 0, tx_bytes: 0, tx_packets: 0, tx_errors: 0, tx_dropped: 0 } },
  };
}

/** The same daemon on a cgroup v2 host: no percpu_usage, memory.stat keys without total_*. */
function statsV2(usage: number, inactiveFile: number): Record<string, unknown> {
  return {
    read: "2026-11-23T23:20:02.511Z",
    preread: "2026-11-23T23:20:01.508Z",
    pids_stats: { current: 11, limit: 4915 },
    cpu_stats: {
      cpu_usage: { total_usage: 2213423000, usage_in_kernelmode: 361226000, usage_in_usermode: 852197000 },
      system_cpu_usage: 2346790000000,
      online_cpus: 4,
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    },
    precpu_stats: {
      cpu_usage: { total_usage: 2013423000, usage_in_kernelmode: 341226000, usage_in_usermode: 832197000 },
      system_cpu_usage: 2342790000000,
      online_cpus: 4,
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    },
    memory_stats: {
      usage,
      stats: {
        active_anon: 0, active_file: 2490368, anon: usage - inactiveFile - 2490368, anon_thp: 0, file: inactiveFile + 2490368,
        file_dirty: 0, file_mapped: 5353472, file_writeback: 0, inactive_anon: usage - inactiveFile - 2490368, inactive_file: inactiveFile,
        kernel_stack: 245760, pgfault: 20031, pgmajfault: 3, shmem: 0, slab: 1146504, sock: 0, unevictable: 0,
      },
      limit: 536870912,
    },
  };
}

/** What stats?stream=false returns for a container that is not running (recorded). */
const STATS_STOPPED = {
  cpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
  precpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
  memory_stats: {},
};

const VOLS = (t: string) => [`openclaw-${t}-state`, `openclaw-${t}-credentials`];
const status = (input: Partial<TenantInput> & { tenant: string }) => tenantStatus({ volumes: VOLS(input.tenant), ...input }, RULES);

describe("CPU percent, the way docker stats computes it", () => {
  test("cgroup v1: container delta / host delta x online CPUs", () => {
    // (300000000 / 2000000000) * 2 * 100
    expect(cpuPercent(StatsSchema.parse(statsV1(100 * MiB, 4096)))).toBeCloseTo(30, 10);
  });

  test("cgroup v1 without online_cpus (old daemons): counts percpu_usage", () => {
    expect(cpuPercent(StatsSchema.parse(statsV1(100 * MiB, 4096, { onlineCpus: null })))).toBeCloseTo(30, 10);
  });

  test("cgroup v2: no percpu_usage, online_cpus counts", () => {
    // (200000000 / 4000000000) * 4 * 100
    expect(cpuPercent(StatsSchema.parse(statsV2(100 * MiB, 0)))).toBeCloseTo(20, 10);
  });

  test("no movement is 0; a container that is not running has no CPU figure", () => {
    const idle = statsV1(100 * MiB, 4096) as { cpu_stats: unknown; precpu_stats: unknown };
    expect(cpuPercent(StatsSchema.parse({ ...idle, precpu_stats: idle.cpu_stats }))).toBe(0);
    expect(cpuPercent(StatsSchema.parse(STATS_STOPPED))).toBeNull();
  });
});

describe("memory, the way docker stats computes it", () => {
  test("cgroup v1: usage minus total_inactive_file", () => {
    expect(memoryUsedBytes(StatsSchema.parse(statsV1(300 * MiB, 20 * MiB)))).toBe(280 * MiB);
  });

  test("cgroup v2: usage minus inactive_file", () => {
    expect(memoryUsedBytes(StatsSchema.parse(statsV2(300 * MiB, 50 * MiB)))).toBe(250 * MiB);
  });

  test("inactive file larger than usage (a racing sample): usage as is; no usage at all: null", () => {
    expect(memoryUsedBytes(StatsSchema.parse({ memory_stats: { usage: 10, stats: { inactive_file: 20 } } }))).toBe(10);
    expect(memoryUsedBytes(StatsSchema.parse(STATS_STOPPED))).toBeNull();
  });

  test("the limit is the container's own; the cgroup's figure only when it has none", () => {
    const stats = sampleOfStats(StatsSchema.parse({ memory_stats: { usage: 1, limit: 8 * 1024 * MiB } }));
    expect(memoryLimitBytes(InspectSchema.parse(inspect("a")), stats)).toBe(512 * MiB);
    expect(memoryLimitBytes(InspectSchema.parse(inspect("a", { memory: 0 })), stats)).toBe(8 * 1024 * MiB);
    expect(memoryLimitBytes(InspectSchema.parse(inspect("a", { memory: 0 })), undefined)).toBeNull();
    expect(memoryPercent(256 * MiB, 512 * MiB)).toBe(50);
    expect(memoryPercent(null, 512 * MiB)).toBeNull();
  });
});

describe("one tenant's status and flags", () => {
  test("running, healthy, well under its limit (cgroup v1): nothing flagged", () => {
    const t = status({ tenant: "alice", inspect: inspect("alice"), stats: statsV1(300 * MiB, 20 * MiB) });
    expect(t).toMatchObject({
      tenant: "alice", container: "openclaw-alice", state: "running", health: "healthy",
      memoryUsedBytes: 280 * MiB, memoryLimitBytes: 512 * MiB, cpuLimit: 1, restartCount: 0,
      url: "https://alice.claw.example.com", tier: "standard", exitCode: null, flags: [], error: null,
      volumes: ["openclaw-alice-credentials", "openclaw-alice-state"],
    });
    expect(t.memoryPercent).toBeCloseTo(54.6875, 6);
    expect(t.cpuPercent).toBeCloseTo(30, 6);
  });

  test("cgroup v2 sample: same figures from the v2 fields", () => {
    const t = status({ tenant: "bob", inspect: inspect("bob"), stats: statsV2(300 * MiB, 50 * MiB) });
    expect(t.memoryUsedBytes).toBe(250 * MiB);
    expect(t.cpuPercent).toBeCloseTo(20, 6);
    expect(t.flags).toEqual([]);
  });

  test("unhealthy is flagged", () => {
    const t = status({ tenant: "carol", inspect: inspect("carol", { health: { Status: "unhealthy", FailingStreak: 4 } }), stats: statsV1(100 * MiB, 0) });
    expect(t.health).toBe("unhealthy");
    expect(t.flags).toEqual(["unhealthy"]);
  });

  test("near the limit: flagged at >= 90 %, not below", () => {
    const near = status({ tenant: "dave", inspect: inspect("dave"), stats: statsV2(490 * MiB, 0) });
    expect(near.memoryPercent).toBeCloseTo(95.7, 1);
    expect(near.flags).toEqual(["memory at 96% of its 512.0 MiB limit (>= 90%)"]);
    const exactly = status({ tenant: "dave", inspect: inspect("dave", { memory: 1000 * MiB }), stats: statsV2(900 * MiB, 0) });
    expect(exactly.memoryPercent).toBe(90);
    expect(exactly.flags).toHaveLength(1);
    const below = status({ tenant: "dave", inspect: inspect("dave", { memory: 1000 * MiB }), stats: statsV2(899 * MiB, 0) });
    expect(below.flags).toEqual([]);
    expect(tenantStatus({ tenant: "dave", volumes: [], inspect: inspect("dave"), stats: statsV2(470 * MiB, 0) }, { memoryThresholdPercent: 95 }).flags).toEqual([]);
  });

  test("health still starting is not an alarm", () => {
    expect(status({ tenant: "erin", inspect: inspect("erin", { health: { Status: "starting" } }), stats: statsV1(50 * MiB, 0) }).flags).toEqual([]);
  });

  test("no container, volumes kept (suspended or removed tenant): reported, not flagged", () => {
    const t = status({ tenant: "frank" });
    expect(t).toMatchObject({ state: "no container", container: null, health: "none", memoryUsedBytes: null, cpuPercent: null, restartCount: null, flags: [] });
    expect(t.notes).toContain("no container: data kept in its volumes");
  });

  test("a tenant asked for by name with nothing on the engine is flagged", () => {
    const t = tenantStatus({ tenant: "ghost", volumes: [] }, RULES);
    expect(t.state).toBe("not found");
    expect(t.flags).toEqual(["not found on the engine (no container, no volumes)"]);
  });

  test("restarting, exited (OOM) and dead are flagged, with restart count and exit code", () => {
    const restarting = status({ tenant: "gina", inspect: inspect("gina", { restartCount: 7, state: { Status: "restarting", Restarting: true, ExitCode: 1 } }) });
    expect(restarting.flags).toEqual(["restarting (7 restarts)"]);
    const oom = status({ tenant: "hank", inspect: inspect("hank", { restartCount: 2, health: { Status: "unhealthy" }, state: { Status: "exited", Running: false, ExitCode: 137, OOMKilled: true } }), stats: STATS_STOPPED });
    // The last health status of a stopped container is stale (Docker leaves "unhealthy" after a stop): not reported.
    expect(oom).toMatchObject({ state: "exited", health: "none", exitCode: 137, oomKilled: true, memoryUsedBytes: null, cpuPercent: null });
    expect(oom.flags).toEqual(["exited (exit code 137, OOM-killed)"]);
    expect(status({ tenant: "ida", inspect: inspect("ida", { state: { Status: "dead", Running: false, Dead: true, ExitCode: 0 } }) }).flags).toEqual(["dead (exit code 0)"]);
    expect(status({ tenant: "ida", inspect: inspect("ida", { state: { Status: "paused", Paused: true } }) }).flags).toEqual(["container paused"]);
  });

  test("a failed inspect is flagged with its reason; failed stats are only a note", () => {
    const lost = status({ tenant: "jan", error: "inspect failed: inspecting openclaw-jan timed out after 10000 ms" });
    expect(lost.state).toBe("unknown");
    expect(lost.flags).toEqual(["state unknown: inspect failed: inspecting openclaw-jan timed out after 10000 ms"]);
    const slow = status({ tenant: "jan", inspect: inspect("jan"), error: "stats of openclaw-jan timed out after 10000 ms" });
    expect(slow.flags).toEqual([]);
    expect(slow.notes).toContain("stats unavailable: stats of openclaw-jan timed out after 10000 ms");
    expect(slow.memoryUsedBytes).toBeNull();
  });

  test("no health check configured: health none, noted", () => {
    const t = status({ tenant: "kim", inspect: inspect("kim", { health: null }), stats: statsV1(50 * MiB, 0) });
    expect(t.health).toBe("none");
    expect(t.notes).toContain("no health check configured");
    expect(t.flags).toEqual([]);
  });

  test("an answer of an unexpected shape is rejected, not misread", () => {
    expect(() => status({ tenant: "x", inspect: { Id: "x", Name: "/openclaw-x" } })).toThrow();
    expect(() => status({ tenant: "x", inspect: inspect("x"), stats: { memory_stats: { usage: "lots" } } })).toThrow();
  });

  test("flagReasons can combine several reasons", () => {
    const base = status({ tenant: "lee", inspect: inspect("lee", { health: { Status: "unhealthy" } }), stats: statsV1(500 * MiB, 0) });
    expect(flagReasons(base, RULES)).toEqual(["unhealthy", "memory at 98% of its 512.0 MiB limit (>= 90%)"]);
  });
});

describe("finding tenants on the engine", () => {
  const containers = [
    { Id: "c1", Names: ["/openclaw-alice"], State: "running", Labels: { "managed-by": "openclaw-hosting", "openclaw.tenant": "alice" } },
    { Id: "c2", Names: ["/openclaw-bob"], State: "exited", Labels: { "managed-by": "openclaw-hosting", "openclaw.tenant": "bob" } },
    { Id: "c3", Names: ["/something-else"], State: "running", Labels: { "managed-by": "someone-else", "openclaw.tenant": "alice" } },
    { Id: "c4", Names: ["/openclaw-alice-debug"], State: "running", Labels: { "managed-by": "openclaw-hosting", "openclaw.tenant": "alice" } },
  ];
  const volumes = [
    ...VOLS("alice").map((Name) => ({ Name, Driver: "local", Labels: { "managed-by": "openclaw-hosting", "openclaw.tenant": "alice" } })),
    ...VOLS("carol").map((Name) => ({ Name, Driver: "local", Labels: { "managed-by": "openclaw-hosting", "openclaw.tenant": "carol" } })),
    { Name: "openclaw-dan-state", Driver: "local", Labels: { "managed-by": "openclaw-hosting" } },
    { Name: "unrelated", Driver: "local", Labels: null },
  ];

  test("groups containers and volumes by tenant, sorted; prefers the container named openclaw-<t>", () => {
    const found = discoverTenants(containers, volumes);
    expect(found.map((t) => t.tenant)).toEqual(["alice", "bob", "carol", "dan"]);
    expect(found[0]).toEqual({
      tenant: "alice", container: { id: "c1", name: "openclaw-alice" }, otherContainers: ["openclaw-alice-debug"],
      volumes: ["openclaw-alice-credentials", "openclaw-alice-state"],
    });
    expect(found[2]).toEqual({ tenant: "carol", container: null, otherContainers: [], volumes: ["openclaw-carol-credentials", "openclaw-carol-state"] });
    expect(found[3].volumes).toEqual(["openclaw-dan-state"]);
  });

  test("--only keeps the named tenants in the given order, including ones that are not there", () => {
    expect(discoverTenants(containers, volumes, ["carol", "zed", "alice"]).map((t) => [t.tenant, t.container?.name ?? null, t.volumes.length]))
      .toEqual([["carol", null, 2], ["zed", null, 0], ["alice", "openclaw-alice", 2]]);
  });

  test("null volume list (what an engine with no volumes may answer) and bad shapes", () => {
    expect(discoverTenants([], null)).toEqual([]);
    expect(() => discoverTenants([{ Names: ["/x"] }], [])).toThrow();
  });
});

describe("the report", () => {
  function sample(): StatusReport {
    const tenants = [
      status({ tenant: "alice", inspect: inspect("alice"), stats: statsV1(300 * MiB, 20 * MiB) }),
      status({ tenant: "carol", inspect: inspect("carol", { health: { Status: "unhealthy" } }), stats: statsV2(490 * MiB, 0) }),
      status({ tenant: "frank" }),
    ];
    return buildReport(tenants, { engine: "unix:///var/run/docker.sock", checkedAt: "2026-11-23T23:30:00.000Z", memoryThresholdPercent: 90, elapsedMs: 1042 });
  }

  test("flagged list, summary and exit code", () => {
    const r = sample();
    expect(r.flagged).toEqual([{ tenant: "carol", reasons: ["unhealthy", "memory at 96% of its 512.0 MiB limit (>= 90%)"] }]);
    expect(r.summary).toEqual({ tenants: 3, running: 2, noContainer: 1, flagged: 1 });
    expect(exitCodeFor(r)).toBe(1);
    expect(exitCodeFor(buildReport([r.tenants[0], r.tenants[2]], { engine: "e", checkedAt: "t", memoryThresholdPercent: 90, elapsedMs: 1 }))).toBe(0);
  });

  test("the table: one row per tenant, right-aligned numbers, flags and notes below", () => {
    const text = renderTable(sample());
    const lines = text.split("\n");
    expect(lines[0]).toBe("Engine unix:///var/run/docker.sock, 2026-11-23T23:30:00.000Z (1042 ms)");
    expect(lines[2]).toMatch(/^TENANT\s+STATE\s+HEALTH\s+MEMORY\s+MEM%\s+CPU%\s+RESTARTS\s+DISK\s+URL$/);
    expect(text).toMatch(/alice\s+running\s+healthy\s+280\.0 MiB \/ 512\.0 MiB\s+54\.7%\s+30\.0%\s+0\s+-\s+https:\/\/alice\.claw\.example\.com$/m);
    expect(text).toMatch(/carol\s+running\s+unhealthy\s+490\.0 MiB \/ 512\.0 MiB\s+95\.7%\s+20\.0%\s+0\s+-\s+https:\/\/carol\.claw\.example\.com\s+FLAGGED$/m);
    expect(text).toMatch(/frank\s+no container - data kept\s+none\s+-\s+-\s+-\s+-\s+-\s+-$/m);
    expect(text).toContain("3 tenant(s), 2 running, 1 without a container, 1 flagged");
    expect(text).toContain("  FLAGGED carol: unhealthy; memory at 96% of its 512.0 MiB limit (>= 90%)");
  });

  test("an empty engine says so", () => {
    const text = renderTable(buildReport([], { engine: "e", checkedAt: "t", memoryThresholdPercent: 90, elapsedMs: 1 }));
    expect(text).toContain("no tenants found (nothing labelled managed-by=openclaw-hosting)");
  });

  test("JSON is one object with tenants and flagged", () => {
    const parsed = JSON.parse(renderJson(sample())) as StatusReport;
    expect(parsed.tenants.map((t) => t.tenant)).toEqual(["alice", "carol", "frank"]);
    expect(parsed.flagged.map((f) => f.tenant)).toEqual(["carol"]);
    expect(parsed.tenants[2].state).toBe("no container");
  });
});

describe("options", () => {
  test("defaults and every option, both --x v and --x=v", () => {
    expect(parseStatusArgs([])).toEqual({ json: false, memoryThresholdPercent: 90, diskThresholdPercent: 90, timeoutMs: 10000, help: false });
    expect(parseStatusArgs(["--json", "--only", "alice,bob", "--only=carol", "--memory-threshold", "85", "--timeout=2500", "--disk-threshold=80", "--stack", "dev"]))
      .toEqual({ json: true, only: ["alice", "bob", "carol"], memoryThresholdPercent: 85, diskThresholdPercent: 80, stack: "dev", timeoutMs: 2500, help: false });
    expect(parseStatusArgs(["-h"]).help).toBe(true);
  });

  test.each([
    [["--bogus"], "unknown option --bogus"],
    [["--only"], "--only needs a value"],
    [["--only", "--json"], "--only needs a value"],
    [["--only", "Alice"], "--only: not a tenant name: Alice"],
    [["--only", ","], "--only needs at least one tenant name"],
    [["--memory-threshold", "0"], "--memory-threshold must be a percent in (0, 100]"],
    [["--memory-threshold", "abc"], "--memory-threshold must be a percent in (0, 100]"],
    [["--timeout", "5"], "--timeout must be milliseconds between 100 and 600000"],
    [["--disk-threshold", "101"], "--disk-threshold must be a percent in (0, 100]"],
    [["--stack", "../etc"], "--stack must be a stack name (Pulumi.<name>.yaml)"],
  ])("%j is a usage error", (argv, msg) => {
    expect(() => parseStatusArgs(argv)).toThrow(new UsageError(msg));
  });
});

describe("DOCKER_HOST", () => {
  test.each<[string | undefined, string | undefined, DockerTarget]>([
    [undefined, undefined, { kind: "unix", socketPath: "/var/run/docker.sock", display: "unix:///var/run/docker.sock" }],
    ["", undefined, { kind: "unix", socketPath: "/var/run/docker.sock", display: "unix:///var/run/docker.sock" }],
    ["unix:///run/openclaw-test/docker.sock", undefined, { kind: "unix", socketPath: "/run/openclaw-test/docker.sock", display: "unix:///run/openclaw-test/docker.sock" }],
    ["tcp://10.0.0.5:2375", undefined, { kind: "tcp", host: "10.0.0.5", port: 2375, tls: false, display: "tcp://10.0.0.5:2375" }],
    ["tcp://docker.internal", "1", { kind: "tcp", host: "docker.internal", port: 2376, tls: true, display: "tcp://docker.internal:2376 (TLS)" }],
    ["tcp://10.0.0.5:2376", undefined, { kind: "tcp", host: "10.0.0.5", port: 2376, tls: true, display: "tcp://10.0.0.5:2376 (TLS)" }],
    ["10.0.0.5:2375", undefined, { kind: "tcp", host: "10.0.0.5", port: 2375, tls: false, display: "tcp://10.0.0.5:2375" }],
    ["ssh://deploy@host.example.com:2222", undefined, { kind: "ssh", host: "host.example.com", port: 2222, user: "deploy", display: "ssh://deploy@host.example.com:2222" }],
    ["ssh://host.example.com", undefined, { kind: "ssh", host: "host.example.com", port: null, user: null, display: "ssh://host.example.com" }],
  ])("%s (DOCKER_TLS_VERIFY=%s)", (host, tls, expected) => {
    expect(parseDockerHost(host, tls)).toEqual(expected);
  });

  test("unsupported or broken addresses are usage errors that name DOCKER_HOST", () => {
    expect(() => parseDockerHost("npipe:////./pipe/docker_engine")).toThrow(/DOCKER_HOST=npipe.*unsupported scheme npipe:/);
    expect(() => parseDockerHost("ssh://u:secret@h")).toThrow(/password is not supported/);
    expect(() => parseDockerHost("tcp://")).toThrow(/DOCKER_HOST/);
  });

  test("ssh:// runs the remote's docker system dial-stdio, never prompting, host key checked by ssh", () => {
    const target = parseDockerHost("ssh://deploy@host.example.com:2222");
    if (target.kind !== "ssh") throw new Error("expected ssh");
    expect(sshDialArgs(target, 10)).toEqual([
      "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-l", "deploy", "-p", "2222", "--", "host.example.com", "docker", "system", "dial-stdio",
    ]);
    const bare = parseDockerHost("ssh://h");
    if (bare.kind !== "ssh") throw new Error("expected ssh");
    expect(sshDialArgs(bare, 0.2)).toEqual(["-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=1", "--", "h", "docker", "system", "dial-stdio"]);
  });
});
