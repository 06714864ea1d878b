/**
 * The status model: the live state one engine reports (inspect, one stats sample, volume sizes)
 * becomes one row per tenant, merged with the desired state from the roster when there is one, and
 * the rows of every server become a report with a summary per server. Both views (the CLI's
 * table/JSON and the dashboard) render this and nothing else.
 */
import { DISK_BUDGET_LABEL, TIER_LABEL, URL_LABEL } from "../../../core/labels";
import { ContainerInspect, InspectSchema, StatsSchema } from "./dockerApi";
import type { ServerCertificates } from "./certificates";
import { FlagRules, EXIT_FLAGGED, EXIT_OK, EXIT_UNREACHABLE, flagReasons } from "./flags";
import { MIB, memoryLimitBytes, memoryPercent } from "./metrics";
import { ContainerSample, sampleOfStats } from "./samples";
import { DataDisk } from "./serverDisk";
import { RepositoryCheckStatus } from "../../../core/backup";
import type { TenantBackup } from "./backups";

/** The server name when status asks one engine (DOCKER_HOST, no stack servers); every row and metric carries its server. */
export const DEFAULT_SERVER = "local";

export const CONTAINER_STATES = ["running", "restarting", "exited", "paused", "created", "dead", "removing"] as const;
export type ContainerState = (typeof CONTAINER_STATES)[number];
/** `no container`: only volumes are left (suspended or removed tenant; its data is kept). */
export type TenantState = ContainerState | "no container" | "not found" | "unknown";
export type Health = "healthy" | "unhealthy" | "starting" | "none";

/** What the roster wants for a tenant (from the plan), when status is compared against it. */
export interface DesiredTenant {
  tenant: string;
  server: string;
  tier: string;
  state: "active" | "suspended";
  memoryMb: number;
  diskMb: number;
}

export interface TenantStatus {
  tenant: string;
  /** The server (Docker engine) the tenant lives on. */
  server: string;
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
  /** When the running container started (ISO time), for its uptime; null when not running. */
  startedAt: string | null;
  /** The image reference the container runs (its tag is what the roster pinned). */
  image: string | null;
  url: string | null;
  tier: string | null;
  volumes: string[];
  /** Bytes in the tenant's volumes (GET /system/df); null when not measured. */
  diskUsedBytes: number | null;
  /** The tenant's disk budget (label openclaw.disk-budget-mb, else the roster's diskMb), bytes. */
  diskBudgetBytes: number | null;
  diskPercent: number | null;
  /** The roster's state for this tenant; null when not compared against a roster (or not in it). */
  desired: "active" | "suspended" | null;
  /** A Docker call that failed for this tenant (inspect or stats), e.g. a timeout. */
  error: string | null;
  /** Why the tenant needs attention; empty when it does not. */
  flags: string[];
  /** The tenant's last good snapshot and last run (absent: its server has no backups installed). */
  backup?: TenantBackup;
  /** Facts worth knowing that are not alarms. */
  notes: string[];
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

export interface TenantInput {
  tenant: string;
  /** The server this was read from (default `local`). */
  server?: string;
  /** The Docker API's inspect JSON of the tenant's container; absent when it has none. */
  inspect?: unknown;
  /** One stats sample (stream=false); absent when not running or when the call failed. */
  stats?: unknown;
  /** The same as a figure sample (see samples.ts), e.g. from one `docker stats` for a whole server; used instead of `stats`. */
  sample?: ContainerSample;
  /** How the sample was taken when that is worth a note (e.g. the server's one `docker stats` failed). */
  sampleNote?: string;
  /** Why stats (or inspect) could not be read, e.g. a timeout. */
  error?: string;
  volumes: string[];
  /** Further containers labelled for the same tenant (there should be none). */
  otherContainers?: string[];
  /** Bytes per volume name (from /system/df); absent when not measured. */
  volumeSizes?: ReadonlyMap<string, number>;
  /** The roster's entry for the tenant, when compared against one. */
  desired?: DesiredTenant;
  /** Compared against a roster that does not name this tenant. */
  notInRoster?: boolean;
}

/** Sum of the tenant's volumes' sizes; null when none of them was measured. */
export function diskUsedOf(volumes: readonly string[], sizes: ReadonlyMap<string, number> | undefined): number | null {
  if (sizes === undefined) return null;
  let total = 0;
  let seen = 0;
  for (const v of volumes) {
    const s = sizes.get(v);
    if (s !== undefined) {
      total += s;
      seen++;
    }
  }
  return seen === 0 ? null : total;
}

function budgetBytes(label: string | undefined, desired: DesiredTenant | undefined): number | null {
  const mb = label !== undefined && /^\d+$/.test(label) ? Number(label) : desired?.diskMb;
  return mb !== undefined && mb > 0 ? mb * MIB : null;
}

/** One tenant's status from what the API returned. Throws (zod) when inspect or stats have an unexpected shape. */
export function tenantStatus(input: TenantInput, rules: FlagRules): TenantStatus {
  const volumes = [...input.volumes].sort();
  const notes: string[] = [];
  const server = input.server ?? input.desired?.server ?? DEFAULT_SERVER;
  const desired = input.desired?.state ?? null;
  const diskUsedOfAll = diskUsedOf(volumes, input.volumeSizes);
  if (input.otherContainers !== undefined && input.otherContainers.length > 0) {
    notes.push(`other containers labelled for this tenant: ${input.otherContainers.join(", ")}`);
  }
  let base: Omit<TenantStatus, "flags">;
  if (input.inspect === undefined) {
    const error = input.error;
    const diskBudget = budgetBytes(undefined, input.desired);
    base = {
      tenant: input.tenant, server, container: null,
      state: error !== undefined ? "unknown" : volumes.length > 0 ? "no container" : "not found",
      health: "none", memoryUsedBytes: null, memoryLimitBytes: null, memoryPercent: null, cpuPercent: null,
      cpuLimit: null, restartCount: null, exitCode: null, oomKilled: false, startedAt: null, image: null, url: null,
      tier: input.desired?.tier ?? null, volumes, diskUsedBytes: diskUsedOfAll, diskBudgetBytes: diskBudget,
      diskPercent: memoryPercent(diskUsedOfAll, diskBudget), desired, error: error ?? null, notes,
    };
    if (base.state === "no container") notes.push("no container: data kept in its volumes");
  } else {
    const inspect = InspectSchema.parse(input.inspect);
    // After a restore the tenant has more volumes than it runs on: its disk is what its container mounts.
    const mounted = (inspect.Mounts ?? []).flatMap((m) => (m.Type === "volume" && m.Name !== undefined && volumes.includes(m.Name) ? [m.Name] : []));
    const kept = mounted.length > 0 ? volumes.filter((v) => !mounted.includes(v)) : [];
    if (kept.length > 0) notes.push(`kept copies of its data, not counted in its disk: ${kept.join(", ")}`);
    const diskUsedBytes = mounted.length > 0 ? diskUsedOf(mounted, input.volumeSizes) : diskUsedOfAll;
    const sample = input.sample ?? (input.stats === undefined ? undefined : sampleOfStats(StatsSchema.parse(input.stats)));
    const used = sample === undefined ? null : sample.memoryUsedBytes;
    const limit = memoryLimitBytes(inspect, sample);
    const labels = inspect.Config.Labels;
    const nano = inspect.HostConfig.NanoCpus ?? 0;
    const state = stateOf(inspect);
    const diskBudget = budgetBytes(labels[DISK_BUDGET_LABEL], input.desired);
    base = {
      tenant: input.tenant,
      server,
      container: inspect.Name.replace(/^\//, ""),
      state,
      // A stopped container keeps its last health status (often "unhealthy" from the stop): stale, not reported.
      health: state === "running" || state === "paused" ? healthOf(inspect) : "none",
      memoryUsedBytes: used,
      memoryLimitBytes: limit,
      memoryPercent: memoryPercent(used, limit),
      cpuPercent: sample === undefined ? null : sample.cpuPercent,
      cpuLimit: nano > 0 ? nano / 1e9 : null,
      restartCount: inspect.RestartCount,
      exitCode: state === "running" ? null : inspect.State.ExitCode,
      oomKilled: inspect.State.OOMKilled ?? false,
      startedAt: state === "running" && inspect.State.StartedAt !== undefined ? inspect.State.StartedAt : null,
      image: inspect.Config.Image ?? null,
      url: labels[URL_LABEL] ?? null,
      tier: labels[TIER_LABEL] ?? input.desired?.tier ?? null,
      volumes,
      diskUsedBytes,
      diskBudgetBytes: diskBudget,
      diskPercent: memoryPercent(diskUsedBytes, diskBudget),
      desired,
      error: input.error ?? null,
      notes,
    };
    if (input.error !== undefined) notes.push(`stats unavailable: ${input.error}`);
    if (input.sampleNote !== undefined) notes.push(input.sampleNote);
    if (inspect.State.Health === undefined || inspect.State.Health === null) notes.push("no health check configured");
    if (desired === "suspended" && state === "running") notes.push("suspended in the roster but still running (not yet applied?)");
  }
  if (input.notInRoster === true) notes.push("not in the roster (remove it there, or it was removed and its container left)");
  return { ...base, flags: flagReasons(base, rules) };
}

/**
 * The tenants to report on: those found on the engine plus, when there is a roster, those the
 * roster names that the engine does not have (so a missing tenant shows). `only` narrows both.
 */
export function tenantsToReport(found: readonly string[], desired: readonly DesiredTenant[] | undefined, only?: readonly string[]): string[] {
  if (only !== undefined) return [...new Set(only)];
  const names = new Set(found);
  for (const d of desired ?? []) names.add(d.tenant);
  return [...names].sort();
}

// ---------------------------------------------------------------------------------------------
// The report

/** A server's size from stack config (`server`), for memory committed against capacity. */
export interface ServerCapacity {
  memoryMb: number;
  cpus: number;
  overcommit: number;
}

export interface ServerSummary {
  server: string;
  /** Where the engine was reached (DOCKER_HOST, credentials removed). */
  engine: string;
  tenants: number;
  running: number;
  flagged: number;
  /** Sum of the memory limits of the tenants' containers (what is promised). */
  memoryCommittedBytes: number;
  /** The server's memory, when stack config gives it; committed may reach capacity x overcommit. */
  memoryCapacityBytes: number | null;
  overcommit: number | null;
  /** The server's CPUs, when stack config gives them (cpuPercent is against one core: 100 x cpus = all busy). */
  cpus: number | null;
  /** Committed over capacity (1.2 = 120 %); null without a capacity. */
  commitRatio: number | null;
  memoryUsedBytes: number;
  /** Sum of the tenants' CPU % (100 = one core). */
  cpuPercent: number;
  diskUsedBytes: number;
  /** The server's data filesystem (df of Docker's data root); null when not measured. */
  dataDisk: DataDisk | null;
  /** Its certificates and their expiry (the server's daily record); null when not read. */
  certificates: ServerCertificates | null;
  /** Why the server itself needs attention (its data disk filling up, a certificate expiring or not renewed); counted by exitCodeFor. */
  flags: string[];
  /** The backup repository's last check, on the server that maintains it (absent elsewhere). */
  backupCheck?: RepositoryCheckStatus;
  /** False when its engine could not be asked (its roster tenants then show as unknown). */
  reachable: boolean;
  /** Why it could not be asked; null when reachable. */
  error: string | null;
  /** How long this server took to answer (or to fail), ms; null when not measured per server. */
  elapsedMs: number | null;
}

export interface StatusReport {
  /** Where the engine was reached (DOCKER_HOST, credentials removed). */
  engine: string;
  checkedAt: string;
  memoryThresholdPercent: number;
  diskThresholdPercent: number;
  tenants: TenantStatus[];
  flagged: { tenant: string; reasons: string[] }[];
  summary: { tenants: number; running: number; noContainer: number; flagged: number };
  servers: ServerSummary[];
  /** How long the check took, in milliseconds. */
  elapsedMs: number;
}

export interface ReportMeta {
  engine: string;
  checkedAt: string;
  memoryThresholdPercent: number;
  diskThresholdPercent?: number;
  elapsedMs: number;
  /** Server sizes by server name (stack config); absent = unknown. */
  capacity?: Readonly<Record<string, ServerCapacity>>;
}

export function summariseServers(tenants: readonly TenantStatus[], engine: string, capacity?: Readonly<Record<string, ServerCapacity>>): ServerSummary[] {
  const by = new Map<string, TenantStatus[]>();
  for (const t of tenants) {
    const list = by.get(t.server) ?? [];
    list.push(t);
    by.set(t.server, list);
  }
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([server, rows]) => {
    const cap = capacity?.[server];
    const committed = rows.reduce((s, t) => s + (t.container !== null ? t.memoryLimitBytes ?? 0 : 0), 0);
    const capacityBytes = cap === undefined ? null : cap.memoryMb * MIB;
    return {
      server,
      engine,
      tenants: rows.length,
      running: rows.filter((t) => t.state === "running").length,
      flagged: rows.filter((t) => t.flags.length > 0).length,
      memoryCommittedBytes: committed,
      memoryCapacityBytes: capacityBytes,
      overcommit: cap?.overcommit ?? null,
      cpus: cap?.cpus ?? null,
      commitRatio: capacityBytes === null ? null : committed / capacityBytes,
      memoryUsedBytes: rows.reduce((s, t) => s + (t.memoryUsedBytes ?? 0), 0),
      cpuPercent: rows.reduce((s, t) => s + (t.cpuPercent ?? 0), 0),
      diskUsedBytes: rows.reduce((s, t) => s + (t.diskUsedBytes ?? 0), 0),
      dataDisk: null,
      certificates: null,
      flags: [],
      reachable: true,
      error: null,
      elapsedMs: null,
    };
  });
}

export function buildReport(tenants: TenantStatus[], meta: ReportMeta): StatusReport {
  const flagged = tenants.filter((t) => t.flags.length > 0).map((t) => ({ tenant: t.tenant, reasons: t.flags }));
  const { capacity, ...rest } = meta;
  return {
    ...rest,
    diskThresholdPercent: meta.diskThresholdPercent ?? 90,
    tenants,
    flagged,
    summary: {
      tenants: tenants.length,
      running: tenants.filter((t) => t.state === "running").length,
      noContainer: tenants.filter((t) => t.state === "no container").length,
      flagged: flagged.length,
    },
    servers: summariseServers(tenants, meta.engine, capacity),
  };
}

/** An unreachable server outranks a flagged tenant: a cron job must hear that part of the fleet is unseen. */
export function exitCodeFor(report: StatusReport): number {
  if (report.servers.some((s) => !s.reachable)) return EXIT_UNREACHABLE;
  return report.flagged.length > 0 || report.servers.some((s) => s.flags.length > 0) ? EXIT_FLAGGED : EXIT_OK;
}
