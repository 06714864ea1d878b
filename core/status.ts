/**
 * `npm run status`, the pure part: what the Docker API says about each tenant (list, inspect and one
 * stats sample, validated with zod) becomes a TenantStatus; flag rules, CPU and memory math (the way
 * `docker stats` computes them), option parsing, DOCKER_HOST parsing and the table/JSON rendering.
 * No I/O here: scripts/status.ts does the Docker calls.
 */
import { z } from "zod";
import { UsageError } from "./dockerHost";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL, TIER_LABEL, URL_LABEL } from "./labels";
import { TenantName } from "./names";


export const DEFAULT_MEMORY_THRESHOLD_PERCENT = 90;
export const DEFAULT_TIMEOUT_MS = 10000;

/** Exit codes, so a cron job can alert: 1 = something is flagged, 2 = the engine is unreachable. */
export const EXIT_OK = 0;
export const EXIT_FLAGGED = 1;
export const EXIT_UNREACHABLE = 2;
export const EXIT_USAGE = 64;

// ---------------------------------------------------------------------------------------------
// What comes back from the Docker API (only the fields relied on; everything else is ignored)

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
    Health: z
      .object({ Status: z.string(), FailingStreak: z.number().int().optional() })
      .nullish(),
  }),
  Config: z.object({ Labels }),
  HostConfig: z.object({ Memory: z.number().nonnegative().optional(), NanoCpus: z.number().nonnegative().optional() }),
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

// ---------------------------------------------------------------------------------------------
// The math `docker stats` does (docker/cli cli/command/container/stats_helpers.go)

/**
 * CPU percent from one sample: the container's CPU time delta over the host's, times the online
 * CPUs (so one busy core is 100 %, two are 200 %). null when the sample carries no host CPU time
 * (a container that is not running).
 */
export function cpuPercent(stats: ContainerStats): number | null {
  const cur = stats.cpu_stats;
  const pre = stats.precpu_stats;
  if (cur?.system_cpu_usage === undefined) return null;
  const cpuDelta = (cur.cpu_usage?.total_usage ?? 0) - (pre?.cpu_usage?.total_usage ?? 0);
  const systemDelta = cur.system_cpu_usage - (pre?.system_cpu_usage ?? 0);
  let online = cur.online_cpus ?? 0;
  if (online === 0) online = cur.cpu_usage?.percpu_usage?.length ?? 0;
  if (systemDelta > 0 && cpuDelta > 0) return (cpuDelta / systemDelta) * online * 100;
  return 0;
}

/**
 * Memory in use without the reclaimable page cache: usage minus `total_inactive_file` (cgroup v1)
 * or `inactive_file` (cgroup v2). null when the sample has no usage (not running).
 */
export function memoryUsedBytes(stats: ContainerStats): number | null {
  const mem = stats.memory_stats;
  if (mem?.usage === undefined) return null;
  const s = mem.stats ?? {};
  const v1 = s.total_inactive_file;
  if (v1 !== undefined && v1 < mem.usage) return mem.usage - v1;
  const v2 = s.inactive_file ?? 0;
  if (v2 < mem.usage) return mem.usage - v2;
  return mem.usage;
}

/** The container's own limit (HostConfig.Memory) when set; else what the cgroup reports (host memory). */
export function memoryLimitBytes(inspect: ContainerInspect, stats: ContainerStats | undefined): number | null {
  const own = inspect.HostConfig.Memory ?? 0;
  if (own > 0) return own;
  const reported = stats?.memory_stats?.limit ?? 0;
  return reported > 0 ? reported : null;
}

export function memoryPercent(used: number | null, limit: number | null): number | null {
  if (used === null || limit === null || limit <= 0) return null;
  return (used / limit) * 100;
}

// ---------------------------------------------------------------------------------------------
// Tenants

export const CONTAINER_STATES = ["running", "restarting", "exited", "paused", "created", "dead", "removing"] as const;
export type ContainerState = (typeof CONTAINER_STATES)[number];
/** `no container`: only volumes are left (suspended or removed tenant; its data is kept). */
export type TenantState = ContainerState | "no container" | "not found" | "unknown";
export type Health = "healthy" | "unhealthy" | "starting" | "none";

export interface TenantStatus {
  tenant: string;
  /** The container's name, or null when the tenant has none. */
  container: string | null;
  state: TenantState;
  health: Health;
  /** Bytes in use (without reclaimable page cache), from one stats sample; null when not running. */
  memoryUsedBytes: number | null;
  memoryLimitBytes: number | null;
  memoryPercent: number | null;
  cpuPercent: number | null;
  /** CPUs the container may use (HostConfig.NanoCpus / 1e9), null when unlimited or unknown. */
  cpuLimit: number | null;
  restartCount: number | null;
  exitCode: number | null;
  oomKilled: boolean;
  url: string | null;
  tier: string | null;
  volumes: string[];
  /** A Docker call that failed for this tenant (inspect or stats), e.g. a timeout. */
  error: string | null;
  /** Why the tenant needs attention; empty when it does not. */
  flags: string[];
  /** Facts worth knowing that are not alarms. */
  notes: string[];
}

export interface FlagRules {
  /** Flag at or above this percent of the memory limit. */
  memoryThresholdPercent: number;
}

const MIB = 1024 * 1024;

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MIB) return `${(bytes / (1024 * MIB)).toFixed(2)} GiB`;
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

function healthOf(inspect: ContainerInspect): Health {
  const s = inspect.State.Health?.Status;
  return s === "healthy" || s === "unhealthy" || s === "starting" ? s : "none";
}

function stateOf(inspect: ContainerInspect): TenantState {
  const s = inspect.State.Status;
  if (inspect.State.Restarting || s === "restarting") return "restarting";
  return (CONTAINER_STATES as readonly string[]).includes(s) ? (s as ContainerState) : "unknown";
}

/** The flag rules: not running (restarting, exited, ...), unhealthy, at or above the memory threshold, not found. */
export function flagReasons(t: Omit<TenantStatus, "flags">, rules: FlagRules): string[] {
  const reasons: string[] = [];
  switch (t.state) {
    case "running":
    case "no container":
      break;
    case "restarting":
      reasons.push(`restarting (${t.restartCount ?? 0} restarts${t.oomKilled ? ", last exit OOM-killed" : ""})`);
      break;
    case "exited":
    case "dead":
      reasons.push(`${t.state} (exit code ${t.exitCode ?? "?"}${t.oomKilled ? ", OOM-killed" : ""})`);
      break;
    case "not found":
      reasons.push("not found on the engine (no container, no volumes)");
      break;
    case "unknown":
      reasons.push(`state unknown${t.error !== null ? `: ${t.error}` : ""}`);
      break;
    default:
      reasons.push(`container ${t.state}`);
  }
  if (t.health === "unhealthy") reasons.push("unhealthy");
  if (t.memoryPercent !== null && t.memoryPercent >= rules.memoryThresholdPercent && t.memoryLimitBytes !== null) {
    reasons.push(`memory at ${t.memoryPercent.toFixed(0)}% of its ${formatBytes(t.memoryLimitBytes)} limit (>= ${rules.memoryThresholdPercent}%)`);
  }
  return reasons;
}

export interface TenantInput {
  tenant: string;
  /** The Docker API's inspect JSON of the tenant's container; absent when it has none. */
  inspect?: unknown;
  /** One stats sample (stream=false); absent when not running or when the call failed. */
  stats?: unknown;
  /** Why stats (or inspect) could not be read, e.g. a timeout. */
  error?: string;
  volumes: string[];
  /** Further containers labelled for the same tenant (there should be none). */
  otherContainers?: string[];
}

/** One tenant's status from what the API returned. Throws (zod) when inspect or stats have an unexpected shape. */
export function tenantStatus(input: TenantInput, rules: FlagRules): TenantStatus {
  const volumes = [...input.volumes].sort();
  const notes: string[] = [];
  if (input.otherContainers !== undefined && input.otherContainers.length > 0) {
    notes.push(`other containers labelled for this tenant: ${input.otherContainers.join(", ")}`);
  }
  let base: Omit<TenantStatus, "flags">;
  if (input.inspect === undefined) {
    const error = input.error;
    base = {
      tenant: input.tenant, container: null,
      state: error !== undefined ? "unknown" : volumes.length > 0 ? "no container" : "not found",
      health: "none", memoryUsedBytes: null, memoryLimitBytes: null, memoryPercent: null, cpuPercent: null,
      cpuLimit: null, restartCount: null, exitCode: null, oomKilled: false, url: null, tier: null, volumes,
      error: error ?? null, notes,
    };
    if (base.state === "no container") notes.push("no container: data kept in its volumes");
  } else {
    const inspect = InspectSchema.parse(input.inspect);
    const stats = input.stats === undefined ? undefined : StatsSchema.parse(input.stats);
    const used = stats === undefined ? null : memoryUsedBytes(stats);
    const limit = memoryLimitBytes(inspect, stats);
    const labels = inspect.Config.Labels;
    const nano = inspect.HostConfig.NanoCpus ?? 0;
    const state = stateOf(inspect);
    base = {
      tenant: input.tenant,
      container: inspect.Name.replace(/^\//, ""),
      state,
      // A stopped container keeps its last health status (often "unhealthy" from the stop): stale, not reported.
      health: state === "running" || state === "paused" ? healthOf(inspect) : "none",
      memoryUsedBytes: used,
      memoryLimitBytes: limit,
      memoryPercent: memoryPercent(used, limit),
      cpuPercent: stats === undefined ? null : cpuPercent(stats),
      cpuLimit: nano > 0 ? nano / 1e9 : null,
      restartCount: inspect.RestartCount,
      exitCode: state === "running" ? null : inspect.State.ExitCode,
      oomKilled: inspect.State.OOMKilled ?? false,
      url: labels[URL_LABEL] ?? null,
      tier: labels[TIER_LABEL] ?? null,
      volumes,
      error: input.error ?? null,
      notes,
    };
    if (input.error !== undefined) notes.push(`stats unavailable: ${input.error}`);
    if (inspect.State.Health === undefined || inspect.State.Health === null) notes.push("no health check configured");
  }
  return { ...base, flags: flagReasons(base, rules) };
}

/** The tenant an object belongs to: its `openclaw.tenant` label, else its name (`openclaw-<t>`, `openclaw-<t>-state`). */
export function tenantOfContainer(c: ListedContainer): string | null {
  const label = c.Labels[TENANT_LABEL];
  if (label !== undefined && label !== "") return label;
  const name = (c.Names[0] ?? "").replace(/^\//, "");
  return name.startsWith("openclaw-") ? name.slice("openclaw-".length) : null;
}

export function tenantOfVolume(v: ListedVolume): string | null {
  const label = v.Labels[TENANT_LABEL];
  if (label !== undefined && label !== "") return label;
  const m = /^openclaw-(.+)-(state|credentials)$/.exec(v.Name);
  return m === null ? null : m[1];
}

export interface DiscoveredTenant {
  tenant: string;
  /** The container to report on (named `openclaw-<t>` when there is one), or null. */
  container: { id: string; name: string } | null;
  otherContainers: string[];
  volumes: string[];
}

/**
 * Groups what the list calls returned (already filtered to managed-by=openclaw-hosting) by tenant.
 * With `only`, keeps those tenants, in that order, and includes the ones with nothing on the engine.
 */
export function discoverTenants(containersJson: unknown, volumesJson: unknown, only?: readonly string[]): DiscoveredTenant[] {
  const containers = z.array(ListedContainerSchema).parse(containersJson);
  const volumes = z.array(ListedVolumeSchema).nullish().transform((v) => v ?? []).parse(volumesJson);
  const byTenant = new Map<string, { containers: { id: string; name: string }[]; volumes: string[] }>();
  const entry = (t: string) => {
    let e = byTenant.get(t);
    if (e === undefined) byTenant.set(t, (e = { containers: [], volumes: [] }));
    return e;
  };
  for (const c of containers) {
    if (c.Labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) continue;
    const t = tenantOfContainer(c);
    if (t !== null) entry(t).containers.push({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, "") });
  }
  for (const v of volumes) {
    if (v.Labels[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) continue;
    const t = tenantOfVolume(v);
    if (t !== null) entry(t).volumes.push(v.Name);
  }
  const names = only !== undefined ? [...new Set(only)] : [...byTenant.keys()].sort();
  return names.map((tenant) => {
    const e = byTenant.get(tenant) ?? { containers: [], volumes: [] };
    const preferred = e.containers.find((c) => c.name === `openclaw-${tenant}`) ?? e.containers[0] ?? null;
    return {
      tenant,
      container: preferred,
      otherContainers: e.containers.filter((c) => c !== preferred).map((c) => c.name).sort(),
      volumes: [...e.volumes].sort(),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// The report

export interface StatusReport {
  /** Where the engine was reached (DOCKER_HOST, credentials removed). */
  engine: string;
  checkedAt: string;
  memoryThresholdPercent: number;
  tenants: TenantStatus[];
  flagged: { tenant: string; reasons: string[] }[];
  summary: { tenants: number; running: number; noContainer: number; flagged: number };
  /** How long the check took, in milliseconds. */
  elapsedMs: number;
}

export function buildReport(tenants: TenantStatus[], meta: { engine: string; checkedAt: string; memoryThresholdPercent: number; elapsedMs: number }): StatusReport {
  const flagged = tenants.filter((t) => t.flags.length > 0).map((t) => ({ tenant: t.tenant, reasons: t.flags }));
  return {
    ...meta,
    tenants,
    flagged,
    summary: {
      tenants: tenants.length,
      running: tenants.filter((t) => t.state === "running").length,
      noContainer: tenants.filter((t) => t.state === "no container").length,
      flagged: flagged.length,
    },
  };
}

export function exitCodeFor(report: StatusReport): number {
  return report.flagged.length > 0 ? EXIT_FLAGGED : EXIT_OK;
}

export function renderJson(report: StatusReport): string {
  return JSON.stringify(report, null, 2);
}

function pct(v: number | null): string {
  return v === null ? "-" : `${v.toFixed(1)}%`;
}

export function renderTable(report: StatusReport): string {
  const header = ["TENANT", "STATE", "HEALTH", "MEMORY", "MEM%", "CPU%", "RESTARTS", "URL", ""];
  const rows = report.tenants.map((t) => [
    t.tenant,
    t.state === "no container" ? "no container - data kept" : t.state,
    t.health,
    t.memoryUsedBytes === null ? "-" : `${formatBytes(t.memoryUsedBytes)} / ${t.memoryLimitBytes === null ? "?" : formatBytes(t.memoryLimitBytes)}`,
    pct(t.memoryPercent),
    pct(t.cpuPercent),
    t.restartCount === null ? "-" : String(t.restartCount),
    t.url ?? "-",
    t.flags.length > 0 ? "FLAGGED" : "",
  ]);
  const all = [header, ...rows];
  const right = new Set([3, 4, 5, 6]);
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  const lines = all.map((r) => r.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd());
  const out = [`Engine ${report.engine}, ${report.checkedAt} (${report.elapsedMs} ms)`, "", ...lines, ""];
  if (report.tenants.length === 0) out.splice(2, lines.length, "no tenants found (nothing labelled managed-by=openclaw-hosting)");
  const s = report.summary;
  out.push(`${s.tenants} tenant(s), ${s.running} running, ${s.noContainer} without a container, ${s.flagged} flagged`);
  for (const f of report.flagged) out.push(`  FLAGGED ${f.tenant}: ${f.reasons.join("; ")}`);
  for (const t of report.tenants) for (const n of t.notes) if (!n.startsWith("no container:")) out.push(`  note ${t.tenant}: ${n}`);
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Options and DOCKER_HOST

export interface StatusOptions {
  json: boolean;
  only?: string[];
  memoryThresholdPercent: number;
  /** Bound on every single Docker API call (and on the SSH connection), in ms. */
  timeoutMs: number;
  help: boolean;
}

export const USAGE = `usage: npm run status [-- OPTIONS]

Shows every tenant found on the Docker engine (containers and volumes labelled
managed-by=openclaw-hosting): state, health, memory, CPU, restarts and URL.
Exit 0 when all is well, 1 when a tenant is flagged (not running, unhealthy, or at or
above the memory threshold), 2 when the engine cannot be reached, 64 on a usage error.

Options:
  --json                  print one JSON object: {engine, tenants, flagged, summary, ...}
  --only a,b,c            report only these tenants (a listed tenant with nothing on the engine is flagged)
  --memory-threshold PCT  flag at or above PCT % of the memory limit (default ${DEFAULT_MEMORY_THRESHOLD_PERCENT})
  --timeout MS            bound on each Docker API call (default ${DEFAULT_TIMEOUT_MS})
  -h, --help              this text

The engine: DOCKER_HOST (unix:///path, tcp://host:port with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH,
ssh://user@host:port through the system ssh and the remote's \`docker system dial-stdio\`),
else unix:///var/run/docker.sock.`;

export function parseStatusArgs(argv: readonly string[]): StatusOptions {
  const opts: StatusOptions = { json: false, memoryThresholdPercent: DEFAULT_MEMORY_THRESHOLD_PERCENT, timeoutMs: DEFAULT_TIMEOUT_MS, help: false };
  const value = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const [name, inline] = arg.startsWith("--") && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const take = (): string => {
      if (inline !== undefined) return inline;
      const v = value(i, name);
      i++;
      return v;
    };
    switch (name) {
      case "--json":
        opts.json = true;
        break;
      case "-h":
      case "--help":
        opts.help = true;
        break;
      case "--only": {
        const names = take().split(",").map((s) => s.trim()).filter((s) => s !== "");
        const bad = names.filter((n) => !TenantName.safeParse(n).success);
        if (names.length === 0) throw new UsageError("--only needs at least one tenant name");
        if (bad.length > 0) throw new UsageError(`--only: not a tenant name: ${bad.join(", ")}`);
        opts.only = [...(opts.only ?? []), ...names];
        break;
      }
      case "--memory-threshold": {
        const v = Number(take());
        if (!Number.isFinite(v) || v <= 0 || v > 100) throw new UsageError("--memory-threshold must be a percent in (0, 100]");
        opts.memoryThresholdPercent = v;
        break;
      }
      case "--timeout": {
        const v = Number(take());
        if (!Number.isInteger(v) || v < 100 || v > 600000) throw new UsageError("--timeout must be milliseconds between 100 and 600000");
        opts.timeoutMs = v;
        break;
      }
      default:
        throw new UsageError(`unknown option ${arg}`);
    }
  }
  return opts;
}
