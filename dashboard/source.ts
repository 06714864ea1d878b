/**
 * Where the dashboard's figures come from: the engine, refreshed on a fixed cadence (state, health,
 * memory and CPU every `refresh`; volume sizes every `disk`, because the daemon walks every volume
 * for them; a history sample every `sample`). One refresh at a time: a slow engine stretches the
 * cadence instead of piling calls up.
 */
import Docker from "dockerode";
import {
  DesiredTenant, FlagRules, HealthLogEntry, InspectSchema, ServerCapacity, StatusReport, buildReport, mergeServerResults, redactLines, tenantStatus,
} from "../core/status";
import { message, withTimeout } from "../engine/client";
import { collect, diskUsage, lastLogLines } from "../engine/collect";
import { History, sampleOf } from "./history";
import { TenantMetrics } from "./metrics";

export const LOG_LINES = 50;

export interface TenantDetail {
  tenant: string;
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
  detail(tenant: string): Promise<TenantDetail | null>;
  /** What the roster wants (null when not compared against one), and where to change it. */
  readonly desired: { tenants: readonly DesiredTenant[]; where: string } | null;
}

export interface EngineSourceOptions {
  server: string;
  engine: string;
  timeoutMs: number;
  concurrency: number;
  refreshMs: number;
  sampleMs: number;
  diskMs: number;
  rules: Required<FlagRules>;
  desired?: { tenants: DesiredTenant[]; capacity: Record<string, ServerCapacity>; where: string };
}

export class EngineSource implements Source {
  private report: StatusReport | null = null;
  private readonly listeners = new Set<(r: StatusReport) => void>();
  private sizes: { map: Map<string, number>; at: number } | null = null;
  private lastSampleAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Cost of the last /system/df, for the log. */
  lastDiskMs: number | null = null;

  constructor(
    private readonly docker: Docker,
    private readonly opts: EngineSourceOptions,
    private readonly history: History,
    private readonly metrics: TenantMetrics,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  get desired(): Source["desired"] {
    return this.opts.desired === undefined ? null : { tenants: this.opts.desired.tenants, where: this.opts.desired.where };
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
  }

  async refresh(now = Date.now()): Promise<StatusReport> {
    const started = Date.now();
    if (this.sizes === null || now - this.sizes.at >= this.opts.diskMs) {
      try {
        const d = await diskUsage(this.docker, this.opts.timeoutMs);
        this.sizes = { map: d.sizes, at: now };
        this.lastDiskMs = d.ms;
      } catch (err) {
        this.log(`volume sizes not measured: ${message(err)}`);
      }
    }
    let report: StatusReport;
    try {
      const inputs = await collect(this.docker, {
        server: this.opts.server, timeoutMs: this.opts.timeoutMs, concurrency: this.opts.concurrency,
        desired: this.opts.desired?.tenants, volumeSizes: this.sizes?.map,
      });
      const tenants = inputs.map((i) => tenantStatus(i, this.opts.rules));
      report = buildReport(tenants, {
        engine: this.opts.engine, checkedAt: new Date(now).toISOString(), memoryThresholdPercent: this.opts.rules.memoryThresholdPercent,
        diskThresholdPercent: this.opts.rules.diskThresholdPercent, elapsedMs: Date.now() - started, capacity: this.opts.desired?.capacity,
      });
    } catch (err) {
      // The engine did not answer: the page shows the server as unreachable (and the roster's tenants as
      // unknown) instead of the last good figures or nothing.
      this.log(`server ${this.opts.server} unreachable: ${message(err)}`);
      report = mergeServerResults([{
        server: this.opts.server, engine: this.opts.engine, reachable: false, error: message(err), desired: this.opts.desired?.tenants ?? [],
      }], {
        checkedAt: new Date(now).toISOString(), memoryThresholdPercent: this.opts.rules.memoryThresholdPercent,
        diskThresholdPercent: this.opts.rules.diskThresholdPercent, elapsedMs: Date.now() - started, capacity: this.opts.desired?.capacity,
      }, this.opts.rules);
    }
    this.report = report;
    this.metrics.update(report, this.opts.desired?.tenants);
    // No history sample while a server is unreachable: its zeros would read as an idle server.
    if (report.servers.every((srv) => srv.reachable) && now - this.lastSampleAt >= this.opts.sampleMs) {
      this.history.append(sampleOf(report, now));
      this.lastSampleAt = now;
    }
    for (const l of this.listeners) l(report);
    return report;
  }

  async detail(tenant: string): Promise<TenantDetail | null> {
    const row = this.report?.tenants.find((t) => t.tenant === tenant);
    if (row === undefined) return null;
    const out: TenantDetail = {
      tenant,
      logs: [],
      healthLog: [],
      volumes: row.volumes.map((name) => ({ name, sizeBytes: this.sizes?.map.get(name) ?? null })),
      diskMeasuredAt: this.sizes === null ? null : new Date(this.sizes.at).toISOString(),
      error: null,
    };
    if (row.container === null) return out;
    try {
      const inspect = InspectSchema.parse(await withTimeout(`inspecting ${row.container}`, this.opts.timeoutMs, this.docker.getContainer(row.container).inspect()));
      out.healthLog = (inspect.State.Health?.Log ?? []).map((h) => ({ ...h, Output: redactLines([h.Output ?? ""])[0] }));
      out.logs = redactLines(await lastLogLines(this.docker, row.container, LOG_LINES, this.opts.timeoutMs));
    } catch (err) {
      out.error = message(err);
    }
    return out;
  }
}
