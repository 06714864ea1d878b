/**
 * Every server of a stack asked at once, each through its own client and bounded by its own
 * timeout: a server that does not answer costs at most that long and leaves the others' rows intact.
 */
import Docker from "dockerode";
import { DockerTarget } from "../../../core/dockerHost";
import {
  DataDisk, DesiredTenant, FlagRules, ServerCapacity, ServerCertificates, ServerResult, StatusReport, TenantStatus, mergeServerResults, tenantStatus,
} from "../status";
import { message, withTimeout } from "../../../program/bounded";
import { CONCURRENCY, Client, dockerClient } from "../../../program/dockerClient";
import { SampleAll, backupsOf, certificatesOf, collect, dataDiskOf, diskUsage, statsOverSsh } from "./collect";
import { StackServer } from "./desired";
import type { ServerBackups } from "../status/backups";

/** Volume sizes for one ask: the map, or why there is none (the rows then say disk was not measured). */
export interface VolumeSizes { sizes?: ReadonlyMap<string, number>; note?: string }

export interface AskOptions {
  timeoutMs: number;
  only?: string[];
  rules: Required<FlagRules>;
  /** Where volume sizes come from; default: one /system/df now (the dashboard measures on its own, slower cadence). */
  sizes?: (docker: Docker) => Promise<VolumeSizes>;
  /** How to reach an engine; default dockerClient (tests give fake engines). */
  connect?: (target: DockerTarget, timeoutMs: number) => Client;
  /** false: the server's data filesystem is not measured (it runs a short helper container). */
  dataDisk?: boolean;
  /** The server's certificate record: default read now (a short helper container); the dashboard passes a cached reader. */
  certificates?: false | ((docker: Docker) => Promise<ServerCertificates | undefined>);
  /** Where the server's backup status comes from; default: read now, unless dataDisk is false (same helper cost). */
  backups?: (docker: Docker) => Promise<ServerBackups | undefined>;
}

/** A server to ask: a stack's server, or the one engine of DOCKER_HOST (tenants absent = no roster to compare with). */
export type AskedServer = Pick<StackServer, "name" | "target"> & { tenants?: readonly DesiredTenant[] };

async function measureNow(docker: Docker, timeoutMs: number): Promise<VolumeSizes> {
  try {
    return { sizes: (await diskUsage(docker, timeoutMs)).sizes };
  } catch (err) {
    return { note: `disk usage not measured: ${message(err)}` };
  }
}

/** The server's data filesystem, or undefined when it could not be measured (never throws). */
export async function measureDataDisk(docker: Docker, timeoutMs: number): Promise<DataDisk | undefined> {
  try {
    return await dataDiskOf(docker, timeoutMs);
  } catch {
    return undefined;
  }
}

/** The server's certificate record, or undefined when it could not be read (never throws). */
export async function readCertificates(docker: Docker, timeoutMs: number): Promise<ServerCertificates | undefined> {
  try {
    return await certificatesOf(docker, timeoutMs);
  } catch {
    return undefined;
  }
}

/** One server's rows, or why its engine could not be asked (never throws). */
export async function askServer(server: AskedServer, opts: AskOptions): Promise<ServerResult> {
  const started = Date.now();
  const { target } = server;
  const { docker, close, failure, run } = (opts.connect ?? dockerClient)(target, opts.timeoutMs);
  const unreachable = async (err: unknown): Promise<ServerResult> => ({
    server: server.name, engine: target.display, reachable: false, error: (await failure()) ?? message(err),
    desired: narrow(server, opts.only), elapsedMs: Date.now() - started,
  });
  try {
    try {
      await withTimeout(`ping ${server.name}`, opts.timeoutMs, docker.ping());
    } catch (err) {
      return await unreachable(err);
    }
    const tenants = await tenantRows(docker, {
      server: server.name, timeoutMs: opts.timeoutMs, concurrency: concurrencyFor(target), rules: opts.rules, sizes: opts.sizes,
      // --only per server: the named tenants the roster places here (else each would show "not found" elsewhere).
      only: server.tenants === undefined ? opts.only : opts.only?.filter((n) => server.tenants?.some((t) => t.tenant === n)),
      desired: server.tenants,
      // Over SSH, every container sampled by one command on the server instead of a call each.
      sampleAll: run === undefined ? undefined : statsOverSsh(run, server.name, opts.timeoutMs),
      // Bounded as a whole too: an engine that answers ping and then hangs is unreachable, not a stall.
      listBound: { what: `listing ${server.name}`, ms: opts.timeoutMs * 3 },
    });
    const dataDisk = opts.dataDisk === false ? undefined : await measureDataDisk(docker, opts.timeoutMs);
    const certificates = opts.certificates === false ? undefined : await (opts.certificates ?? ((d) => readCertificates(d, opts.timeoutMs)))(docker);
    const backups = opts.backups !== undefined ? await opts.backups(docker).catch(() => undefined)
      : opts.dataDisk === false ? undefined : await backupsOf(docker, opts.timeoutMs).catch(() => undefined);
    return { server: server.name, engine: target.display, reachable: true, tenants, dataDisk, certificates, backups, elapsedMs: Date.now() - started };
  } catch (err) {
    return await unreachable(err);
  } finally {
    close();
  }
}

export interface RowsOptions {
  /** The server's name in the rows. */
  server: string;
  timeoutMs: number;
  concurrency: number;
  rules: FlagRules;
  only?: readonly string[];
  /** The roster's tenants on this engine; absent = not compared against a roster. */
  desired?: readonly DesiredTenant[];
  /** Where volume sizes come from; default: one /system/df now. */
  sizes?: (docker: Docker) => Promise<VolumeSizes>;
  /** Samples every running container at once (see collect); absent = one stats call each. */
  sampleAll?: SampleAll;
  /** A bound on listing and inspecting as a whole (on top of each call's own). */
  listBound?: { what: string; ms: number };
}

/**
 * One engine's tenant rows: volume sizes (or why there are none), every tenant collected and
 * judged. The one path behind `npm run status` (one engine or several) and the dashboard.
 */
export async function tenantRows(docker: Docker, opts: RowsOptions): Promise<TenantStatus[]> {
  const { sizes: volumeSizes, note: diskNote } = await (opts.sizes ?? ((d) => measureNow(d, opts.timeoutMs)))(docker);
  const collecting = collect(docker, {
    server: opts.server, timeoutMs: opts.timeoutMs, concurrency: opts.concurrency, only: opts.only, desired: opts.desired, volumeSizes,
    sampleAll: opts.sampleAll,
  });
  const inputs = opts.listBound === undefined ? await collecting : await withTimeout(opts.listBound.what, opts.listBound.ms, collecting);
  const tenants = inputs.map((i) => tenantStatus(i, opts.rules));
  if (diskNote !== undefined) for (const t of tenants) t.notes.push(diskNote);
  return tenants;
}

/** How many containers are asked at once on this engine (see CONCURRENCY). */
export function concurrencyFor(target: DockerTarget): number {
  return target.kind === "ssh" ? CONCURRENCY.ssh : CONCURRENCY.local;
}

function narrow(server: AskedServer, only: readonly string[] | undefined): readonly DesiredTenant[] {
  const tenants = server.tenants ?? [];
  return only === undefined ? tenants : tenants.filter((t) => only.includes(t.tenant));
}

/** Every server in parallel, merged into one report (see tools/shared/status/servers.ts). */
export async function statusOfServers(
  servers: readonly StackServer[], opts: AskOptions & { capacity?: Record<string, ServerCapacity> },
): Promise<StatusReport> {
  const started = Date.now();
  const results = await Promise.all(servers.map((s) => askServer(s, opts)));
  return mergeServerResults(results, {
    checkedAt: new Date(started).toISOString(), memoryThresholdPercent: opts.rules.memoryThresholdPercent,
    diskThresholdPercent: opts.rules.diskThresholdPercent, elapsedMs: Date.now() - started, capacity: opts.capacity,
  }, opts.rules);
}
