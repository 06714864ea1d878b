// npm run status [-- --json] [-- --only a,b] [-- --stack dev] [-- --memory-threshold 90] [-- --disk-threshold 90] [-- --timeout 10000]:
// per tenant on the Docker engine (DOCKER_HOST, or the local socket), or with --stack on every server of
// the stack's `servers` map in parallel: state, health, memory, CPU, restarts, disk and URL.
// Exit 0 = all well, 1 = something is flagged, 2 = an engine (a server) unreachable, 64 = usage.
// The thin I/O shell: the rules and numbers come from core/status/, the Docker calls from engine/.
import * as path from "path";
import { DockerTarget, UsageError, parseDockerHost } from "../../core/dockerHost";
import {
  DEFAULT_SERVER, EXIT_UNREACHABLE, EXIT_USAGE, buildReport, exitCodeFor, tenantStatus,
} from "../shared/status";
import { StatusOptions, USAGE, parseStatusArgs } from "./args";
import { renderJson, renderTable } from "./table";
import { message, withTimeout } from "../shared/bounded";
import { CONCURRENCY, dockerClient } from "../shared/engine/client";
import { collect, diskUsage } from "../shared/engine/collect";
import { DesiredState, StackServer, loadDesired, loadStackServers } from "../shared/engine/desired";
import { statusOfServers } from "../shared/engine/servers";

const REPO_ROOT = path.resolve(__dirname, "..", "..");

async function main(): Promise<number> {
  let opts: StatusOptions;
  let target: DockerTarget;
  let desired: DesiredState | undefined;
  let stack: { servers: StackServer[]; capacity: DesiredState["capacity"] } | undefined;
  const server = process.env.OPENCLAW_SERVER_NAME ?? DEFAULT_SERVER;
  try {
    opts = parseStatusArgs(process.argv.slice(2));
    target = parseDockerHost(process.env.DOCKER_HOST, process.env.DOCKER_TLS_VERIFY);
    if (opts.stack !== undefined) {
      try {
        stack = loadStackServers(REPO_ROOT, opts.stack, target); // local: true = this machine: DOCKER_HOST or the socket
        if (stack === undefined) desired = loadDesired(REPO_ROOT, opts.stack, server);
      } catch (err) {
        throw new UsageError(`--stack ${opts.stack}: ${message(err)}`);
      }
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`status: ${err.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const rules = { memoryThresholdPercent: opts.memoryThresholdPercent, diskThresholdPercent: opts.diskThresholdPercent };
  if (stack !== undefined) {
    // Several servers: each asked in parallel with --timeout; an unreachable one is a row, not the end.
    const report = await statusOfServers(stack.servers, { timeoutMs: opts.timeoutMs, only: opts.only, rules, capacity: stack.capacity });
    for (const s of report.servers) if (!s.reachable) console.error(`status: cannot reach server ${s.server} at ${s.engine}: ${s.error ?? "no answer"}`);
    console.log(opts.json ? renderJson(report) : renderTable(report));
    return exitCodeFor(report);
  }
  const started = Date.now();
  const checkedAt = new Date(started).toISOString();
  const { docker, close, failure } = dockerClient(target, opts.timeoutMs);
  try {
    try {
      await withTimeout("ping", opts.timeoutMs, docker.ping());
    } catch (err) {
      const where = process.env.DOCKER_HOST === undefined || process.env.DOCKER_HOST === ""
        ? `${target.display} (DOCKER_HOST is not set; set it to reach another engine)`
        : `${target.display} (DOCKER_HOST=${process.env.DOCKER_HOST})`;
      const text = `status: cannot reach the Docker engine at ${where}: ${(await failure()) ?? message(err)}`;
      console.error(text);
      if (opts.json) console.log(JSON.stringify({ engine: target.display, checkedAt, error: text, tenants: [], flagged: [] }, null, 2));
      return EXIT_UNREACHABLE;
    }
    // Volume sizes: one /system/df (the daemon walks every volume); a failure leaves disk unmeasured, not the report.
    let volumeSizes: Map<string, number> | undefined;
    let diskNote: string | undefined;
    try {
      volumeSizes = (await diskUsage(docker, opts.timeoutMs)).sizes;
    } catch (err) {
      diskNote = `disk usage not measured: ${message(err)}`;
    }
    const inputs = await collect(docker, {
      server, timeoutMs: opts.timeoutMs, concurrency: target.kind === "ssh" ? CONCURRENCY.ssh : CONCURRENCY.local,
      only: opts.only, desired: desired?.tenants, volumeSizes,
    });
    const tenants = inputs.map((i) => tenantStatus(i, rules));
    if (diskNote !== undefined) for (const t of tenants) t.notes.push(diskNote);
    const report = buildReport(tenants, {
      engine: target.display, checkedAt, memoryThresholdPercent: rules.memoryThresholdPercent,
      diskThresholdPercent: rules.diskThresholdPercent, elapsedMs: Date.now() - started, capacity: desired?.capacity,
    });
    console.log(opts.json ? renderJson(report) : renderTable(report));
    return exitCodeFor(report);
  } finally {
    close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A list call that failed mid-way or an API answer of an unexpected shape: not "all is well".
    console.error(`status: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(EXIT_UNREACHABLE);
  },
);
