/**
 * What comes back from the Docker API, validated with zod: only the fields relied on (everything
 * else is ignored), so a daemon that adds fields changes nothing and one that drops them fails loudly.
 */
import { z } from "zod";

const Labels = z.record(z.string(), z.string()).nullish().transform((l) => l ?? {});

/** GET /containers/json?all=1 (one entry). */
export const ListedContainerSchema = z.object({
  Id: z.string().min(1),
  Names: z.array(z.string()).nullish().transform((n) => n ?? []),
  Labels,
  State: z.string().optional(),
});
export type ListedContainer = z.infer<typeof ListedContainerSchema>;

/** GET /volumes (one entry of `Volumes`). */
export const ListedVolumeSchema = z.object({ Name: z.string().min(1), Labels });
export type ListedVolume = z.infer<typeof ListedVolumeSchema>;

/** One entry of State.Health.Log: the last five health-check runs. */
export const HealthLogEntrySchema = z.object({
  Start: z.string(),
  End: z.string().optional(),
  ExitCode: z.number().int(),
  Output: z.string().optional(),
});
export type HealthLogEntry = z.infer<typeof HealthLogEntrySchema>;

/** GET /containers/{id}/json. */
export const InspectSchema = z.object({
  Id: z.string(),
  Name: z.string(),
  RestartCount: z.number().int().nonnegative(),
  State: z.object({
    Status: z.string(),
    Running: z.boolean(),
    Paused: z.boolean().optional(),
    Restarting: z.boolean(),
    OOMKilled: z.boolean().optional(),
    ExitCode: z.number().int(),
    StartedAt: z.string().optional(),
    Health: z
      .object({
        Status: z.string(),
        FailingStreak: z.number().int().optional(),
        Log: z.array(HealthLogEntrySchema).nullish(),
      })
      .nullish(),
  }),
  Config: z.object({ Labels, Image: z.string().optional() }),
  HostConfig: z.object({ Memory: z.number().nonnegative().optional(), NanoCpus: z.number().nonnegative().optional() }),
  /** What it mounts: a restored tenant runs on some of its volumes, and keeps the others (retainedData). */
  Mounts: z.array(z.looseObject({ Type: z.string().optional(), Name: z.string().optional() })).nullish(),
});
export type ContainerInspect = z.infer<typeof InspectSchema>;

const CpuStatsSchema = z.object({
  cpu_usage: z.object({
    total_usage: z.number().nonnegative().optional(),
    /** cgroup v1 only; absent (or null) on cgroup v2. */
    percpu_usage: z.array(z.number()).nullish(),
  }).optional(),
  /** Host CPU time in ns; absent for a container that is not running. */
  system_cpu_usage: z.number().nonnegative().optional(),
  /** Absent on old daemons: then the length of percpu_usage counts. */
  online_cpus: z.number().int().nonnegative().optional(),
});

/** GET /containers/{id}/stats?stream=false (one sample; precpu_stats is the sample before). */
export const StatsSchema = z.object({
  cpu_stats: CpuStatsSchema.optional(),
  precpu_stats: CpuStatsSchema.optional(),
  memory_stats: z.object({
    usage: z.number().nonnegative().optional(),
    limit: z.number().nonnegative().optional(),
    /** cgroup v1: total_inactive_file (and cache, ...); cgroup v2: inactive_file, anon, file, ... */
    stats: z.record(z.string(), z.number()).optional(),
  }).optional(),
});
export type ContainerStats = z.infer<typeof StatsSchema>;

/**
 * GET /system/df, the volumes part: UsageData.Size is the bytes on disk, or -1 when the daemon
 * could not measure it (a volume driver without sizes). The daemon walks every volume for this,
 * so callers run it less often than stats.
 */
export const DiskUsageSchema = z.object({
  Volumes: z
    .array(z.object({
      Name: z.string(),
      UsageData: z.object({ Size: z.number(), RefCount: z.number().optional() }).nullish(),
    }))
    .nullish()
    .transform((v) => v ?? []),
});

/** Bytes per volume name, from /system/df; volumes the daemon could not size are left out. */
export function volumeSizes(dfJson: unknown): Map<string, number> {
  const df = DiskUsageSchema.parse(dfJson);
  const out = new Map<string, number>();
  for (const v of df.Volumes) {
    const size = v.UsageData?.Size ?? -1;
    if (size >= 0) out.set(v.Name, size);
  }
  return out;
}
