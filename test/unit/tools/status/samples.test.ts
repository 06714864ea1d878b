// One sample per running container: parsed from one `docker stats --no-stream` on a server (the
// ssh:// path), or taken one stats call each (the local socket, and whatever the one command missed).
import { collect } from "../../../../tools/shared/engine/collect";
import {
  ContainerSample, StatsSchema, parseCliBytes, parseCliPercent, parseStatsLines, sampleOfStats, statsCommand, tenantStatus,
} from "../../../../tools/shared/status";
import { fakeClient, syntheticEngine } from "../../../support/dashboard";

const MiB = 1024 * 1024;
const RULES = { memoryThresholdPercent: 90 };
const ID_A = "a".repeat(64);
const ID_B = `${"0123456789abcdef".repeat(4)}`;

/**
 * Lines as `docker stats --no-stream --no-trunc --format '{{json .}}'` prints them: LINE_REAL recorded
 * on test server s1 (docker CLI 28.2 against Docker 20.10, a 64 MiB stand-in container); LINE_A the
 * same shape with a busy CPU; LINE_B the CLI's "no figures" line.
 */
const ID_REAL = "d5e99c2534d088f6023eeee8fb30724b77ff7614d8631ce70f02babce88d5308";
const LINE_REAL = `{"BlockIO":"0B / 0B","CPUPerc":"0.00%","Container":"${ID_REAL}","ID":"${ID_REAL}","MemPerc":"14.31%","MemUsage":"9.156MiB / 64MiB","Name":"oc-sample-line","NetIO":"1.04kB / 0B","PIDs":"7"}`;
const LINE_A = JSON.stringify({
  BlockIO: "0B / 0B", CPUPerc: "12.34%", Container: ID_A, ID: ID_A, MemPerc: "2.34%", MemUsage: "1.496MiB / 64MiB",
  Name: "openclaw-alice", NetIO: "1.2kB / 0B", PIDs: "3",
});
const LINE_B = JSON.stringify({
  BlockIO: "--", CPUPerc: "--", Container: ID_B, ID: ID_B, MemPerc: "--", MemUsage: "-- / --", Name: "--", NetIO: "--", PIDs: "--",
});

describe("docker stats' figures (pure)", () => {
  test("sizes in the CLI's binary units, to the byte; '--' is unknown; anything else throws", () => {
    expect(parseCliBytes("0B")).toBe(0);
    expect(parseCliBytes("1.5KiB")).toBe(1536);
    expect(parseCliBytes("64MiB")).toBe(64 * MiB);
    expect(parseCliBytes("1.953GiB")).toBe(Math.round(1.953 * 1024 * MiB));
    expect(parseCliBytes(" 2TiB ")).toBe(2 * 2 ** 40);
    expect(parseCliBytes("--")).toBeNull();
    expect(() => parseCliBytes("1.5MB")).toThrow(/not a size: "1.5MB"/);
    expect(() => parseCliBytes("lots")).toThrow(/not a size/);
    expect(parseCliPercent("12.34%")).toBe(12.34);
    expect(parseCliPercent("--")).toBeNull();
    expect(() => parseCliPercent("12.34")).toThrow(/not a percentage/);
  });

  test("one sample per line, by full container ID; a container without figures has nulls, not zeros", () => {
    const samples = parseStatsLines(`${LINE_A}\n${LINE_B}\n\n`);
    expect([...samples.keys()]).toEqual([ID_A, ID_B]);
    expect(samples.get(ID_A)).toEqual({ cpuPercent: 12.34, memoryUsedBytes: Math.round(1.496 * MiB), memoryLimitBytes: 64 * MiB });
    expect(samples.get(ID_B)).toEqual({ cpuPercent: null, memoryUsedBytes: null, memoryLimitBytes: null });
    expect(parseStatsLines("").size).toBe(0);
    expect(parseStatsLines(`${LINE_REAL}\n`).get(ID_REAL)).toEqual({ cpuPercent: 0, memoryUsedBytes: Math.round(9.156 * MiB), memoryLimitBytes: 64 * MiB });
  });

  test("a line that is not what the CLI prints fails, naming the line (a changed format is not silent zeros)", () => {
    expect(() => parseStatsLines(`${LINE_A}\nError: no such container`)).toThrow(/docker stats line 2:/);
    expect(() => parseStatsLines(JSON.stringify({ Container: ID_A, ID: ID_A, CPUPerc: "1%" }))).toThrow(/docker stats line 1:.*MemUsage/s);
    expect(() => parseStatsLines(JSON.stringify({ Container: ID_A, ID: ID_A, CPUPerc: "1%", MemUsage: "1 GB / 2 GB" }))).toThrow(/docker stats line 1: not a size/);
  });

  test("the command: full IDs only, after docker's own options; nothing else can get into it", () => {
    expect(statsCommand([ID_A, ID_B])).toEqual(["docker", "stats", "--no-stream", "--no-trunc", "--format", "{{json .}}", ID_A, ID_B]);
    expect(() => statsCommand(["openclaw-alice"])).toThrow(/not a full container ID: "openclaw-alice"/);
    expect(() => statsCommand([`${ID_A}; rm -rf /`])).toThrow(/not a full container ID/);
    expect(() => statsCommand(["--all"])).toThrow(/not a full container ID/);
    expect(() => statsCommand([])).toThrow(/no containers/);
  });

  test("from the API's stats: the same math as docker stats (CPU over the host's delta times CPUs, memory without inactive file)", () => {
    const stats = StatsSchema.parse({
      cpu_stats: { cpu_usage: { total_usage: 3e9 }, system_cpu_usage: 2e11, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 1e9 }, system_cpu_usage: 1e11 },
      memory_stats: { usage: 300 * MiB, limit: 512 * MiB, stats: { inactive_file: 50 * MiB } },
    });
    expect(sampleOfStats(stats)).toEqual({ cpuPercent: 4, memoryUsedBytes: 250 * MiB, memoryLimitBytes: 512 * MiB });
    expect(sampleOfStats(StatsSchema.parse({}))).toEqual({ cpuPercent: null, memoryUsedBytes: null, memoryLimitBytes: null });
  });
});

describe("a tenant's row from a sample", () => {
  const inspect = (memory: number) => ({
    Id: ID_A, Name: "/openclaw-alice", RestartCount: 0,
    State: { Status: "running", Running: true, Paused: false, Restarting: false, OOMKilled: false, ExitCode: 0, StartedAt: "2026-12-06T03:00:00Z", Health: { Status: "healthy" } },
    Config: { Labels: {} }, HostConfig: { Memory: memory },
  });

  test("memory and CPU come from the sample; the limit is the container's own, else the sample's", () => {
    const sample: ContainerSample = { cpuPercent: 12.34, memoryUsedBytes: 480 * MiB, memoryLimitBytes: 8192 * MiB };
    const own = tenantStatus({ tenant: "alice", inspect: inspect(512 * MiB), sample, volumes: [] }, RULES);
    expect([own.cpuPercent, own.memoryUsedBytes, own.memoryLimitBytes, own.memoryPercent]).toEqual([12.34, 480 * MiB, 512 * MiB, 93.75]);
    expect(own.flags.join(" ")).toMatch(/memory/);
    const none = tenantStatus({ tenant: "alice", inspect: inspect(0), sample, volumes: [] }, RULES);
    expect(none.memoryLimitBytes).toBe(8192 * MiB);
  });

  test("a sample taken on its own after the server's one command failed says so", () => {
    const row = tenantStatus({ tenant: "alice", inspect: inspect(512 * MiB), sampleNote: "sampled on its own: docker stats on server s1 timed out after 10 ms", volumes: [] }, RULES);
    expect(row.notes).toContain("sampled on its own: docker stats on server s1 timed out after 10 ms");
  });
});

describe("collect: one sample per running container, all at once when the server can run one command", () => {
  const N = 40;
  const setup = () => {
    const engine = syntheticEngine(N);
    const state = { mode: "up" as const, calls: 0 };
    const { docker } = fakeClient(engine, "s1", state);
    const statsCalls: string[] = [];
    const base = docker.getContainer.bind(docker);
    (docker as unknown as { getContainer: (ref: string) => unknown }).getContainer = (ref: string) => {
      const c = base(ref) as unknown as { stats: () => Promise<unknown> };
      return { ...c, stats: () => { statsCalls.push(ref); return c.stats(); } };
    };
    const runningIds = (engine.containers as { Id: string; State: string }[]).filter((c) => c.State === "running").map((c) => c.Id);
    const fromApi = new Map(runningIds.map((id) => [id, sampleOfStats(StatsSchema.parse(engine.stats.get(id)))]));
    return { engine, docker, statsCalls, runningIds, fromApi };
  };

  test("every running container in one batch: no stats call each, and the rows are those of the calls", async () => {
    const { docker, statsCalls, runningIds, fromApi } = setup();
    const asked: string[][] = [];
    const batched = await collect(docker, { server: "s1", timeoutMs: 5000, concurrency: 8, sampleAll: async (ids) => { asked.push([...ids]); return fromApi; } });
    expect(asked).toEqual([runningIds]);
    expect(runningIds.length).toBe(N - 1); // tenant 30 is stopped: not sampled
    expect(statsCalls).toEqual([]);
    const oneByOne = await collect(docker, { server: "s1", timeoutMs: 5000, concurrency: 8 });
    expect(statsCalls.length).toBe(N - 1);
    const rows = (inputs: typeof batched) => inputs.map((i) => tenantStatus(i, RULES)).map((r) => [r.tenant, r.state, r.cpuPercent, r.memoryUsedBytes, r.memoryPercent, r.notes]);
    expect(rows(batched)).toEqual(rows(oneByOne));
  });

  test("a container the batch missed is sampled on its own; a failed batch samples every one on its own, with a note", async () => {
    const { docker, statsCalls, runningIds, fromApi } = setup();
    const partial = new Map([...fromApi].slice(1));
    const inputs = await collect(docker, { server: "s1", timeoutMs: 5000, concurrency: 8, sampleAll: async () => partial });
    expect(statsCalls).toEqual([runningIds[0]]);
    expect(inputs.every((i) => i.sampleNote === undefined)).toBe(true);
    statsCalls.length = 0;
    const failed = await collect(docker, {
      server: "s1", timeoutMs: 5000, concurrency: 8, sampleAll: () => Promise.reject(new Error("docker stats on server s1: ssh exited with 255: Connection closed")),
    });
    expect(statsCalls.sort()).toEqual([...runningIds].sort());
    const rows = failed.map((i) => tenantStatus(i, RULES));
    expect(rows.filter((r) => r.state === "running").every((r) => r.memoryUsedBytes !== null && r.notes.includes("sampled on its own: docker stats on server s1: ssh exited with 255: Connection closed"))).toBe(true);
  });

  test("stats: false samples nothing, not even the batch", async () => {
    const { docker, statsCalls } = setup();
    let asked = 0;
    await collect(docker, { server: "s1", timeoutMs: 5000, concurrency: 8, stats: false, sampleAll: async () => { asked++; return new Map(); } });
    expect([asked, statsCalls.length]).toEqual([0, 0]);
  });
});
