import Docker from "dockerode";
import { CPU_SAMPLE_GAP_MS, collect } from "../../../../tools/shared/engine/collect";
import { cpuPercent } from "../../../../tools/shared/status/metrics";
import { StatsSchema } from "../../../../tools/shared/status";

/**
 * CPU from two one-shot samples a second apart (tools/shared/engine/collect.ts): the daemon answers
 * each at once, so over ssh:// a few streams carry 100 tenants in two quick rounds (issue 21).
 */
const inspect = (name: string) => ({
  Id: `${name}-id`, Name: `/openclaw-${name}`, RestartCount: 0,
  State: { Status: "running", Running: true, Paused: false, Restarting: false, OOMKilled: false, ExitCode: 0, StartedAt: "2026-12-02T04:00:00Z" },
  Config: { Image: "img", Labels: { "managed-by": "openclaw-hosting", "openclaw.tenant": name, "openclaw.tier": "light" } },
  HostConfig: { Memory: 512 * 1024 * 1024, NanoCpus: 5e8 },
});
const sampleAt = (n: number) => ({
  cpu_stats: { cpu_usage: { total_usage: n * 1e8 }, system_cpu_usage: n * 1e9, online_cpus: 2 },
  precpu_stats: { cpu_usage: { total_usage: 0 } },
  memory_stats: { usage: 100 * 1024 * 1024, stats: { inactive_file: 0 } },
});

function fakeEngine(names: string[], oneShot: boolean) {
  const calls: { name: string; opts: unknown; at: number }[] = [];
  const count = new Map<string, number>();
  const docker = {
    listContainers: async () => names.map((n) => ({ Id: `${n}-id`, Names: [`/openclaw-${n}`], Labels: { "managed-by": "openclaw-hosting", "openclaw.tenant": n }, State: "running" })),
    listVolumes: async () => ({ Volumes: [] }),
    getContainer: (id: string) => {
      const name = id.replace(/-id$/, "");
      return {
        inspect: async () => inspect(name),
        stats: async (opts: unknown) => {
          calls.push({ name, opts, at: Date.now() });
          const n = (count.get(name) ?? 0) + 1;
          count.set(name, n);
          // An engine without one-shot waits for its next sample and fills precpu itself.
          return oneShot ? sampleAt(n) : { ...sampleAt(2), precpu_stats: sampleAt(1).cpu_stats };
        },
      };
    },
  } as unknown as Docker;
  return { docker, calls };
}

describe("CPU from two one-shot samples", () => {
  test("each running tenant is sampled twice, one-shot, a second or more apart; the first sample becomes the second's precpu", async () => {
    const { docker, calls } = fakeEngine(["alice", "bob", "carol"], true);
    const inputs = await collect(docker, { server: "s1", timeoutMs: 5000, concurrency: 2 });
    expect(calls).toHaveLength(6);
    expect(calls.every((c) => JSON.stringify(c.opts) === JSON.stringify({ stream: false, "one-shot": true }))).toBe(true);
    for (const name of ["alice", "bob", "carol"]) {
      const [first, second] = calls.filter((c) => c.name === name);
      expect(second.at - first.at).toBeGreaterThanOrEqual(CPU_SAMPLE_GAP_MS - 400); // the first round's start is the clock
    }
    for (const input of inputs) {
      const stats = StatsSchema.parse(input.stats);
      expect(stats.precpu_stats?.system_cpu_usage).toBe(1e9);
      // (2e8 - 1e8) / (2e9 - 1e9) x 2 CPUs = 20 %
      expect(cpuPercent(stats)).toBeCloseTo(20);
    }
  });

  test("an engine that ignores one-shot (it waits and fills precpu itself) is asked once per tenant", async () => {
    const { docker, calls } = fakeEngine(["alice", "bob"], false);
    const inputs = await collect(docker, { server: "s1", timeoutMs: 5000, concurrency: 2 });
    expect(calls).toHaveLength(2);
    for (const input of inputs) expect(cpuPercent(StatsSchema.parse(input.stats))).toBeCloseTo(20);
  });
});
