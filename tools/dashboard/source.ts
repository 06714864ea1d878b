/**
 * Where the dashboard's figures come from: every watched server's engine (one, DOCKER_HOST, or each
 * server of a stack's `servers` map), asked in parallel on a fixed cadence through the same code as
 * `npm run status` (tools/shared/engine/servers.ts), each bounded by its own timeout: a server that does not
 * answer is shown as unreachable while the others keep their rows. State, health, memory and CPU
 * every `refresh`; volume sizes every `disk` per server, because the daemon walks every volume for
 * them; a history sample every `sample`. One refresh at a time: a slow server stretches the cadence
 * (at most by its timeout) instead of piling calls up.
 */
import Docker from "dockerode";
import { DockerTarget } from "../../core/dockerHost";
import {
  DesiredTenant, FlagRules, HealthLogEntry, InspectSchema, ServerCapacity, ServerCertificates, StatusReport, mergeServerResults, reachabilityChanges,
  redactLines, rowOfTenant,
} from "../shared/status";
import { message, withTimeout } from "../../program/bounded";
import { Client, dockerClient } from "../../program/dockerClient";
import { backupsOf, diskUsage, lastLogLines } from "../shared/engine/collect";
import { AskedServer, VolumeSizes, askServer, readCertificates } from "../shared/engine/servers";
import type { ServerBackups } from "../shared/status/backups";
import { History, sampleOf } from "./history";
import { TenantMetrics } from "./metrics";

/** How often the dashboard reads each server's backup status files (the shortest schedule is 5 min). */
export const BACKUPS_MS = 120_000;

export const LOG_LINES = 50;

export interface TenantDetail {
  tenant: string;
  /** The server the figures come from. */
  server: string;
  /** The last log lines, secrets redacted. */
  logs: string[];
  /** Docker's State.Health.Log (the last runs of the health check), output redacted. */
  healthLog: HealthLogEntry[];
  volumes: { name: string; sizeBytes: number | null }[];
  /** When the volume sizes were measured (ISO), null if never. */
  diskMeasuredAt: string | null;
  error: string | null;
}

export interface Source {
  /** The latest report, or null before the first refresh finishes. */
  current(): StatusReport | null;
  /** Called after every refresh; returns the unsubscribe function. */
  subscribe(listener: (report: StatusReport) => void): () => void;
  /** One tenant's logs, health checks and volumes (from `server`, else the server of its container). */
  detail(tenant: string, server?: string): Promise<TenantDetail | null>;
  /** What the roster wants (null when not compared against one), and where to change it. */
  readonly desired: { tenants: readonly DesiredTenant[]; where: string } | null;
}

/** A server the dashboard watches: its name, how to reach its engine, the roster's tenants there (absent = no roster). */
export type WatchedServer = AskedServer & { tenants?: DesiredTenant[] };

export interface EngineSourceOptions {
  servers: WatchedServer[];
  /** Bound on each Docker call, per server (and on its SSH connection). */
  timeoutMs: number;
  refreshMs: number;
  sampleMs: number;
  diskMs: number;
  rules: Required<FlagRules>;
  /** Server sizes (stack config), by server name. */
  capacity?: Record<string, ServerCapacity>;
  /** Where the roster is changed, when the servers carry roster tenants. */
  where?: string;
  /** How to reach an engine; default dockerClient (tests give fake engines). */
  connect?: (target: DockerTarget, timeoutMs: number) => Client;
}

export class EngineSource implements Source {
  private report: StatusReport | null = null;
  private readonly listeners = new Set<(r: StatusReport) => void>();
  /** Volume sizes per server, measured every `diskMs`. */
  private readonly sizes = new Map<string, { map: Map<string, number>; at: number }>();
  /** Each server's backup status files, read at most every BACKUPS_MS (a helper container per read). */
  private readonly backups = new Map<string, { value: ServerBackups | undefined; at: number }>();
  private lastSampleAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Each server's certificate record, read again every `diskMs` (a helper container per read). */
  private readonly certs = new Map<string, { record: ServerCertificates | undefined; at: number }>();
  /** Cost of the last /system/df per server, for the log. */
  readonly lastDiskMs = new Map<string, number>();
  /** One client per server, kept across refreshes (ssh:// connections reused); dropped when the server fails. */
  private readonly clients = new Map<string, Client>();

  constructor(
    private readonly opts: EngineSourceOptions,
    private readonly history: History,
    private readonly metrics: TenantMetrics,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  get desired(): Source["desired"] {
    const withRoster = this.opts.servers.filter((s) => s.tenants !== undefined);
    if (withRoster.length === 0 || this.opts.where === undefined) return null;
    return { tenants: withRoster.flatMap((s) => s.tenants ?? []), where: this.opts.where };
  }

  current(): StatusReport | null {
    return this.report;
  }

  subscribe(listener: (report: StatusReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    const loop = async (): Promise<void> => {
      const t0 = Date.now();
      try {
        await this.refresh();
      } catch (err) {
        this.log(`refresh failed: ${message(err)}`);
      }
      if (!this.stopped) this.timer = setTimeout(() => void loop(), Math.max(0, this.opts.refreshMs - (Date.now() - t0)));
    };
    void loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const name of [...this.clients.keys()]) this.drop(name);
  }

  private clientOf(server: WatchedServer): Client {
    let client = this.clients.get(server.name);
    if (client === undefined) {
      const connect = this.opts.connect ?? dockerClient;
      client = connect(server.target, this.opts.timeoutMs);
      this.clients.set(server.name, client);
    }
    return client;
  }

  /** Ends a server's connections (a hung one included); the next call connects afresh. */
  private drop(name: string): void {
    this.clients.get(name)?.close();
    this.clients.delete(name);
  }

  /** The server's volume sizes: measured again when older than `diskMs`; a failed measurement keeps the last ones. */
  private async backupsOf(server: string, docker: Docker, now: number): Promise<ServerBackups | undefined> {
    const known = this.backups.get(server);
    if (known !== undefined && now - known.at < BACKUPS_MS) return known.value;
    const value = await backupsOf(docker, this.opts.timeoutMs).catch(() => known?.value);
    this.backups.set(server, { value, at: now });
    return value;
  }

  private async sizesOf(server: string, docker: Docker, now: number): Promise<VolumeSizes> {
    const known = this.sizes.get(server);
    if (known !== undefined && now - known.at < this.opts.diskMs) return { sizes: known.map };
    try {
      const d = await diskUsage(docker, this.opts.timeoutMs);
      this.sizes.set(server, { map: d.sizes, at: now });
      this.lastDiskMs.set(server, d.ms);
      return { sizes: d.sizes };
    } catch (err) {
      this.log(`server ${server}: volume sizes not measured: ${message(err)}`);
      return known !== undefined ? { sizes: known.map } : { note: `disk usage not measured: ${message(err)}` };
    }
  }

  /** The server's certificate record: read again when older than `diskMs` (it changes at most daily). */
  private async certificatesOf(server: string, docker: Docker, now: number): Promise<ServerCertificates | undefined> {
    const known = this.certs.get(server);
    if (known !== undefined && now - known.at < this.opts.diskMs) return known.record;
    const record = await readCertificates(docker, this.opts.timeoutMs);
    this.certs.set(server, { record: record ?? known?.record, at: now });
    return record ?? known?.record;
  }

  async refresh(now = Date.now()): Promise<StatusReport> {
    const started = Date.now();
    const results = await Promise.all(this.opts.servers.map(async (server) => {
      const result = await askServer(server, {
        timeoutMs: this.opts.timeoutMs, rules: this.opts.rules,
        connect: () => ({ ...this.clientOf(server), close: () => undefined }), // kept: closed by drop()
        sizes: (docker) => this.sizesOf(server.name, docker, now),
        // A helper container per refresh is too much; npm run status (e.g. from cron) watches it.
        dataDisk: false,
        certificates: (docker) => this.certificatesOf(server.name, docker, now),
        // Snapshots run every few minutes at most: their status files are read every BACKUPS_MS.
        backups: (docker) => this.backupsOf(server.name, docker, now),
      });
      if (!result.reachable) this.drop(server.name);
      return result;
    }));
    const report = mergeServerResults(results, {
      checkedAt: new Date(now).toISOString(), memoryThresholdPercent: this.opts.rules.memoryThresholdPercent,
      diskThresholdPercent: this.opts.rules.diskThresholdPercent, elapsedMs: Date.now() - started, capacity: this.opts.capacity,
    }, this.opts.rules);
    for (const line of reachabilityChanges(this.report?.servers, report.servers)) this.log(line);
    this.report = report;
    this.metrics.update(report, this.desired?.tenants);
    // The servers that answered are sampled; one that did not leaves a gap (see sampleOf), not the others' history.
    if (report.servers.some((srv) => srv.reachable) && now - this.lastSampleAt >= this.opts.sampleMs) {
      this.history.append(sampleOf(report, now));
      this.lastSampleAt = now;
    }
    for (const l of this.listeners) l(report);
    return report;
  }

  async detail(tenant: string, server?: string): Promise<TenantDetail | null> {
    const row = this.report === null ? undefined : rowOfTenant(this.report, tenant, server);
    if (row === undefined) return null;
    const sizes = this.sizes.get(row.server);
    const out: TenantDetail = {
      tenant,
      server: row.server,
      logs: [],
      healthLog: [],
      volumes: row.volumes.map((name) => ({ name, sizeBytes: sizes?.map.get(name) ?? null })),
      diskMeasuredAt: sizes === undefined ? null : new Date(sizes.at).toISOString(),
      error: null,
    };
    const watched = this.opts.servers.find((s) => s.name === row.server);
    if (row.container === null || watched === undefined) return out;
    const { docker } = this.clientOf(watched);
    try {
      const inspect = InspectSchema.parse(await withTimeout(`inspecting ${row.container}`, this.opts.timeoutMs, docker.getContainer(row.container).inspect()));
      out.healthLog = (inspect.State.Health?.Log ?? []).map((h) => ({ ...h, Output: redactLines([h.Output ?? ""])[0] }));
      out.logs = redactLines(await lastLogLines(docker, row.container, LOG_LINES, this.opts.timeoutMs));
    } catch (err) {
      out.error = `server ${row.server}: ${message(err)}`;
    }
    return out;
  }
}
