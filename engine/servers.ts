/**
 * Every server of a stack asked at once, each through its own client and bounded by its own
 * timeout: a server that does not answer costs at most that long and leaves the others' rows intact.
 */
import { DockerTarget } from "../core/dockerHost";
import {
  FlagRules, ServerCapacity, ServerResult, StatusReport, mergeServerResults, tenantStatus,
} from "../core/status";
import { CONCURRENCY, dockerClient, message, withTimeout } from "./client";
import { collect, diskUsage } from "./collect";
import { StackServer } from "./desired";

export interface AskOptions {
  timeoutMs: number;
  only?: string[];
  rules: Required<FlagRules>;
}

/** One server's rows, or why its engine could not be asked (never throws). */
export async function askServer(server: StackServer, opts: AskOptions): Promise<ServerResult> {
  const { target } = server;
  const { docker, close, failure } = dockerClient(target, opts.timeoutMs);
  const unreachable = async (err: unknown): Promise<ServerResult> =>
    ({ server: server.name, engine: target.display, reachable: false, error: (await failure()) ?? message(err), desired: narrow(server, opts.only) });
  try {
    try {
      await withTimeout(`ping ${server.name}`, opts.timeoutMs, docker.ping());
    } catch (err) {
      return await unreachable(err);
    }
    let volumeSizes: Map<string, number> | undefined;
    let diskNote: string | undefined;
    try {
      volumeSizes = (await diskUsage(docker, opts.timeoutMs)).sizes;
    } catch (err) {
      diskNote = `disk usage not measured: ${message(err)}`;
    }
    // Bounded as a whole too: an engine that answers ping and then hangs is unreachable, not a stall.
    const inputs = await withTimeout(`listing ${server.name}`, opts.timeoutMs * 3, collect(docker, {
      server: server.name, timeoutMs: opts.timeoutMs, concurrency: concurrencyFor(target),
      // --only per server: the named tenants the roster places here (else each would show "not found" elsewhere).
      only: opts.only?.filter((n) => server.tenants.some((t) => t.tenant === n)), desired: server.tenants, volumeSizes,
    }));
    const tenants = inputs.map((i) => tenantStatus(i, opts.rules));
    if (diskNote !== undefined) for (const t of tenants) t.notes.push(diskNote);
    return { server: server.name, engine: target.display, reachable: true, tenants };
  } catch (err) {
    return await unreachable(err);
  } finally {
    close();
  }
}

function concurrencyFor(target: DockerTarget): number {
  return target.kind === "ssh" ? CONCURRENCY.ssh : CONCURRENCY.local;
}

function narrow(server: StackServer, only: readonly string[] | undefined): StackServer["tenants"] {
  return only === undefined ? server.tenants : server.tenants.filter((t) => only.includes(t.tenant));
}

/** Every server in parallel, merged into one report (see core/status/servers.ts). */
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
