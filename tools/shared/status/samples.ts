/**
 * One CPU and memory sample per running container, whichever way it was taken: from the Docker
 * API's stats (one call per container, the local socket) or from one `docker stats --no-stream` run
 * on the server (every container of a server sampled at once over SSH, where calls in flight are
 * limited by sshd's sessions per connection). The CLI does the API's math (stats_helpers.go) and
 * prints figures to 4 significant digits; that is what is parsed here.
 */
import { z } from "zod";
import { ContainerStats } from "./dockerApi";
import { cpuPercent, memoryUsedBytes } from "./metrics";

export interface ContainerSample {
  /** 100 = one busy core; null when unknown. */
  cpuPercent: number | null;
  /** In use without reclaimable page cache; null when unknown. */
  memoryUsedBytes: number | null;
  /** The limit the cgroup reports (the container's own, else the host's); null when unknown. */
  memoryLimitBytes: number | null;
}

/** A sample from the API's stats JSON (already validated). */
export function sampleOfStats(stats: ContainerStats): ContainerSample {
  const limit = stats.memory_stats?.limit ?? 0;
  return { cpuPercent: cpuPercent(stats), memoryUsedBytes: memoryUsedBytes(stats), memoryLimitBytes: limit > 0 ? limit : null };
}

/** Only full container IDs go into the command: nothing a shell or docker could read as more. */
const CONTAINER_ID = /^[0-9a-f]{64}$/;

/**
 * The command that samples `ids` at once on the server. `--no-stream`: one sample each (the CLI
 * asks the daemon for all of them in parallel); `--no-trunc`: full IDs back; one JSON object per
 * line, none of which carries a container's environment.
 */
export function statsCommand(ids: readonly string[]): string[] {
  const bad = ids.find((id) => !CONTAINER_ID.test(id));
  if (bad !== undefined) throw new Error(`not a full container ID: ${JSON.stringify(bad.slice(0, 80))}`);
  if (ids.length === 0) throw new Error("statsCommand: no containers to sample");
  return ["docker", "stats", "--no-stream", "--no-trunc", "--format", "{{json .}}", ...ids];
}

/** One line of `docker stats --format '{{json .}}'`: only the fields used (NetIO, BlockIO, ... ignored). */
export const StatsLineSchema = z.object({
  /** What the command was given (here the full ID). */
  Container: z.string(),
  ID: z.string(),
  /** "12.34%", or "--" when the CLI has no figure. */
  CPUPerc: z.string(),
  /** "1.5MiB / 64MiB", or "-- / --". */
  MemUsage: z.string(),
});

const UNITS: Record<string, number> = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40, PiB: 2 ** 50, EiB: 2 ** 60 };

/** "1.5MiB" → bytes (the CLI's binary units, go-units BytesSize); null for "--" or an empty figure; throws on anything else. */
export function parseCliBytes(text: string): number | null {
  const t = text.trim();
  if (t === "--" || t === "") return null;
  const m = /^(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*([KMGTPE]?i?B)$/.exec(t);
  const unit = m === null ? undefined : UNITS[m[2]];
  if (m === null || unit === undefined) throw new Error(`not a size: ${JSON.stringify(t.slice(0, 40))}`);
  return Math.round(Number(m[1]) * unit);
}

/** "12.34%" → 12.34; null for "--"; throws on anything else. */
export function parseCliPercent(text: string): number | null {
  const t = text.trim();
  if (t === "--" || t === "") return null;
  const m = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (m === null) throw new Error(`not a percentage: ${JSON.stringify(t.slice(0, 40))}`);
  return Number(m[1]);
}

/**
 * The samples in the command's output, by full container ID. A line that is not what the CLI
 * prints throws, naming the line: a changed format must not turn into silent zeros.
 */
export function parseStatsLines(text: string): Map<string, ContainerSample> {
  const out = new Map<string, ContainerSample>();
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  lines.forEach((line, i) => {
    try {
      const row = StatsLineSchema.parse(JSON.parse(line));
      const [used, limit] = row.MemUsage.split(" / ");
      const sample: ContainerSample = {
        cpuPercent: parseCliPercent(row.CPUPerc),
        memoryUsedBytes: parseCliBytes(used ?? ""),
        memoryLimitBytes: limit === undefined ? null : parseCliBytes(limit),
      };
      if (sample.memoryLimitBytes === 0) sample.memoryLimitBytes = null;
      const id = CONTAINER_ID.test(row.Container) ? row.Container : row.ID;
      out.set(id, sample);
    } catch (err) {
      throw new Error(`docker stats line ${i + 1}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  return out;
}
