/**
 * A synthetic engine for the dashboard: Docker API answers (list, inspect, stats, system df) of the
 * shapes the real engine returns, for any number of tenants, and a fixed Source that serves the
 * model built from them. Used by the bench (1,000-tenant sampling cost, 100-tenant page load) and
 * the dashboard's server tests.
 *
 * Its tenants carry what the program gives a tenant (names, labels, tier sizes: the program's own
 * constants, never numbers of its own); test/unit/machinery/suiteTenants.test.ts compares them with
 * what the program registers.
 */
import Docker from "dockerode";
import { Client } from "../../program/dockerClient";
import { DISK_BUDGET_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL, TIER_LABEL, URL_LABEL } from "../../core/labels";
import { tenantVolumes } from "../../core/retainedData";
import { DEFAULT_TIERS, TIER_NAMES } from "../../core/stackConfig";
import { TEST_IMAGE } from "./program";
import {
  StatusReport, TenantInput, buildReport, discoverTenants, redactLines, tenantStatus, volumeSizes,
} from "../../tools/shared/status";
import { Source, TenantDetail } from "../../tools/dashboard/source";

const MiB = 1024 * 1024;

export interface SyntheticEngine {
  containers: unknown[];
  volumes: unknown[];
  inspects: Map<string, unknown>;
  stats: Map<string, unknown>;
  df: unknown;
}

export const tenantName = (i: number): string => `t${String(i).padStart(4, "0")}`;
/** The domain of the synthetic tenants' URLs (the test config's, test/support/program.ts baseConfig). */
export const SYNTHETIC_DOMAIN = "claw.example.com";
/** Tenant i's tier: the three in turn. */
export const syntheticTier = (i: number): (typeof TIER_NAMES)[number] => TIER_NAMES[i % 3];

/** n tenants: most running and healthy; every 17th unhealthy, every 23rd near its memory limit, every 31st stopped, every 37th near its disk budget. */
export function syntheticEngine(n: number, seed = 1, nameOf: (i: number) => string = tenantName): SyntheticEngine {
  const containers: unknown[] = [];
  const volumes: unknown[] = [];
  const inspects = new Map<string, unknown>();
  const stats = new Map<string, unknown>();
  const dfVolumes: unknown[] = [];
  let r = seed;
  const rand = (): number => ((r = (r * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < n; i++) {
    const t = nameOf(i);
    const tier = syntheticTier(i);
    const size = DEFAULT_TIERS[tier];
    const limit = size.memoryMb * MiB;
    const budget = size.diskMb;
    const stableLabels = { [TENANT_LABEL]: t, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
    const labels = {
      ...stableLabels, [TIER_LABEL]: tier, [URL_LABEL]: `https://${t}.${SYNTHETIC_DOMAIN}`, [DISK_BUDGET_LABEL]: String(budget),
    };
    const stopped = i % 31 === 30;
    const id = `${t}${"0".repeat(59)}`.slice(0, 64);
    containers.push({ Id: id, Names: [`/openclaw-${t}`], Labels: labels, State: stopped ? "exited" : "running", Image: TEST_IMAGE });
    const [stateVolume, credentialsVolume] = tenantVolumes(t);
    for (const name of [stateVolume, credentialsVolume]) {
      volumes.push({ Name: name, Driver: "local", Labels: stableLabels, Mountpoint: `/var/lib/docker/volumes/${name}/_data`, Scope: "local" });
      const used = name === credentialsVolume ? 4096 : i % 37 === 36 ? Math.floor(budget * MiB * 0.95) : Math.floor(budget * MiB * rand() * 0.5);
      dfVolumes.push({ Name: name, Driver: "local", Labels: {}, Mountpoint: "", Scope: "local", UsageData: { Size: used, RefCount: 1 } });
    }
    const health = i % 17 === 16 ? "unhealthy" : "healthy";
    inspects.set(id, {
      Id: id, Name: `/openclaw-${t}`, RestartCount: i % 29 === 28 ? 3 : 0,
      State: {
        Status: stopped ? "exited" : "running", Running: !stopped, Paused: false, Restarting: false, OOMKilled: false, ExitCode: stopped ? 137 : 0,
        StartedAt: new Date(Date.now() - (i + 1) * 3600e3).toISOString(),
        Health: { Status: stopped ? "unhealthy" : health, FailingStreak: health === "unhealthy" ? 3 : 0, Log: [{ Start: new Date().toISOString(), End: new Date().toISOString(), ExitCode: health === "unhealthy" ? 1 : 0, Output: "" }] },
      },
      Config: { Image: TEST_IMAGE, Labels: labels },
      HostConfig: { Memory: limit, MemoryReservation: size.reservationMb * MiB, NanoCpus: Math.round(size.cpus * 1e9) },
    });
    if (!stopped) {
      const used = i % 23 === 22 ? limit * 0.95 : limit * (0.2 + rand() * 0.5);
      const busy = rand() * 4e8;
      stats.set(id, {
        read: new Date().toISOString(), preread: new Date(Date.now() - 1000).toISOString(),
        cpu_stats: { cpu_usage: { total_usage: 5e10 + busy }, system_cpu_usage: 4e12 + 2e9, online_cpus: 2 },
        precpu_stats: { cpu_usage: { total_usage: 5e10 }, system_cpu_usage: 4e12, online_cpus: 2 },
        memory_stats: { usage: Math.floor(used + 8 * MiB), limit, stats: { inactive_file: 8 * MiB, anon: Math.floor(used), file: 10 * MiB } },
      });
    }
  }
  return { containers, volumes, inspects, stats, df: { LayersSize: 0, Images: [], Containers: [], Volumes: dfVolumes, BuildCache: [] } };
}

/** What the engine source does with one round of API answers: discovery, sizes, the model, the report. */
export function modelFrom(engine: SyntheticEngine, now = Date.now()): StatusReport {
  const sizes = volumeSizes(engine.df);
  const rules = { memoryThresholdPercent: 90, diskThresholdPercent: 90 };
  const tenants = discoverTenants(engine.containers, engine.volumes).map((d) => {
    const input: TenantInput = { tenant: d.tenant, server: "local", volumes: d.volumes, volumeSizes: sizes };
    if (d.container !== null) {
      input.inspect = engine.inspects.get(d.container.id);
      input.stats = engine.stats.get(d.container.id);
    }
    return tenantStatus(input, rules);
  });
  return buildReport(tenants, {
    engine: "synthetic", checkedAt: new Date(now).toISOString(), memoryThresholdPercent: 90, diskThresholdPercent: 90, elapsedMs: 0,
    capacity: { local: { memoryMb: 64 * 1024, cpus: 16, overcommit: 1.5 } },
  });
}

/** A Source that serves a fixed report (and synthetic, redacted logs). */
export class StaticSource implements Source {
  readonly desired = null;
  private readonly listeners = new Set<(r: StatusReport) => void>();
  constructor(private report: StatusReport) {}
  current(): StatusReport {
    return this.report;
  }
  set(report: StatusReport): void {
    this.report = report;
    for (const l of this.listeners) l(report);
  }
  subscribe(listener: (report: StatusReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async detail(tenant: string): Promise<TenantDetail | null> {
    const row = this.report.tenants.find((t) => t.tenant === tenant);
    if (row === undefined) return null;
    return {
      tenant, server: row.server, healthLog: [], diskMeasuredAt: null, error: null,
      volumes: row.volumes.map((name) => ({ name, sizeBytes: null })),
      logs: redactLines([`${tenant} gateway listening`, `OPENCLAW_GATEWAY_TOKEN=${tenant}-not-a-real-token-123`]),
    };
  }
}

/** How a fake engine behaves on the next calls: answering, refusing connections, or never answering. */
export interface FakeEngineState { mode: "up" | "refused" | "hang"; calls: number }

/**
 * A Client whose Docker answers from a synthetic engine, the calls collect/askServer/detail make
 * (ping, list, df, inspect, stats, logs); `state.mode` turns it off (refused) or silent (hang).
 */
export function fakeClient(engine: SyntheticEngine, label: string, state: FakeEngineState): Client {
  const answer = <T>(value: () => T): Promise<T> => {
    state.calls++;
    if (state.mode === "refused") return Promise.reject(new Error(`connect ECONNREFUSED ${label}`));
    if (state.mode === "hang") return new Promise<T>(() => undefined);
    return Promise.resolve(value());
  };
  const idOf = (ref: string): string => {
    const c = (engine.containers as { Id: string; Names: string[] }[]).find((x) => x.Id === ref || x.Names.includes(`/${ref}`));
    return c?.Id ?? ref;
  };
  const docker = {
    ping: () => answer(() => "OK"),
    listContainers: () => answer(() => engine.containers),
    listVolumes: () => answer(() => ({ Volumes: engine.volumes, Warnings: [] })),
    df: () => answer(() => engine.df),
    getContainer: (ref: string) => ({
      inspect: () => answer(() => engine.inspects.get(idOf(ref))),
      stats: () => answer(() => engine.stats.get(idOf(ref))),
      logs: () => answer(() => Buffer.from(`${label}: ${ref} gateway listening\nOPENCLAW_GATEWAY_TOKEN=${ref}-not-a-real-token-123\n`)),
    }),
  } as unknown as Docker;
  return { docker, close: () => undefined, failure: async () => undefined };
}
