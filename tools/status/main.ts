// npm run status [-- --json] [-- --only a,b] [-- --stack dev] [-- --memory-threshold 90] [-- --disk-threshold 90] [-- --timeout 10000]:
// per tenant on the Docker engine (DOCKER_HOST, or the local socket), or with --stack on every server of
// the stack's `servers` map in parallel: state, health, memory, CPU, restarts, disk and URL.
// Exit 0 = all well, 1 = something is flagged, 2 = an engine (a server) unreachable, 64 = usage.
// The thin I/O shell: the rules and numbers come from tools/shared/status/, the Docker calls and the
// rows from tools/shared/engine/ (the same path the dashboard uses).
import { DockerTarget, UsageError, parseDockerHost } from "../../core/dockerHost";
import {
  DEFAULT_SERVER, EXIT_UNREACHABLE, EXIT_USAGE, buildReport, exitCodeFor, serverDiskReasons, certificateReasons,
} from "../shared/status";
import { StatusOptions, USAGE, parseStatusArgs } from "./args";
import { renderJson, renderTable } from "./table";
import { message, withTimeout } from "../../program/bounded";
import { dockerClient } from "../../program/dockerClient";
import { DesiredState, SeveralServers, loadStackView } from "../shared/engine/desired";
import { REPO } from "../shared/load";
import { concurrencyFor, measureDataDisk, readCertificates, statusOfServers, tenantRows } from "../shared/engine/servers";
import { backupsOf, statsOverSsh } from "../shared/engine/collect";
import { repositoryCheckReasons, withBackups } from "../shared/status";

async function main(): Promise<number> {
  let opts: StatusOptions;
  let target: DockerTarget;
  let desired: DesiredState | undefined;
  let stack: SeveralServers | undefined;
  const server = process.env.OPENCLAW_SERVER_NAME ?? DEFAULT_SERVER;
  try {
    opts = parseStatusArgs(process.argv.slice(2));
    target = parseDockerHost(process.env.DOCKER_HOST, process.env.DOCKER_TLS_VERIFY);
    if (opts.stack !== undefined) {
      try {
        const view = loadStackView(REPO, opts.stack, target, server); // local: true = this machine: DOCKER_HOST or the socket
        if ("several" in view) stack = view.several;
        else desired = view.one;
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
  const { docker, close, failure, run } = dockerClient(target, opts.timeoutMs);
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
    // The same rows as each server of a stack and the dashboard get (volume sizes, collect, flags).
    const rows = await tenantRows(docker, {
      server, timeoutMs: opts.timeoutMs, concurrency: concurrencyFor(target), only: opts.only, desired: desired?.tenants, rules,
      sampleAll: run === undefined ? undefined : statsOverSsh(run, server, opts.timeoutMs),
    });
    const backups = await backupsOf(docker, opts.timeoutMs).catch(() => undefined);
    const tenants = withBackups(rows, backups, new Date(checkedAt));
    const report = buildReport(tenants, {
      engine: target.display, checkedAt, memoryThresholdPercent: rules.memoryThresholdPercent,
      diskThresholdPercent: rules.diskThresholdPercent, elapsedMs: Date.now() - started, capacity: desired?.capacity,
    });
    const dataDisk = (await measureDataDisk(docker, opts.timeoutMs)) ?? null;
    const certificates = (await readCertificates(docker, opts.timeoutMs)) ?? null;
    report.servers = report.servers.map((s) => ({
      ...s, dataDisk, certificates, flags: [...serverDiskReasons(dataDisk), ...certificateReasons(certificates), ...repositoryCheckReasons(backups)],
      ...(backups?.check !== undefined ? { backupCheck: backups.check } : {}),
    }));
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
