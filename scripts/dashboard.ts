// npm run dashboard [-- --listen 127.0.0.1:3000] [-- --stack dev] [-- --token-file PATH]: the
// management dashboard on port 3000 (see dashboard/args.ts for every option). The thin shell:
// options, the access rule, the engine client, history and metrics, then the HTTP server.
import * as path from "path";
import { DockerTarget, UsageError, parseDockerHost } from "../core/dockerHost";
import { EXIT_UNREACHABLE, EXIT_USAGE } from "../core/status";
import { accessPolicy, readToken } from "../dashboard/auth";
import { DashboardArgs, USAGE, parseDashboardArgs } from "../dashboard/args";
import { History } from "../dashboard/history";
import { TenantMetrics } from "../dashboard/metrics";
import { createDashboardServer } from "../dashboard/server";
import { EngineSource } from "../dashboard/source";
import { CONCURRENCY, dockerClient, message, withTimeout } from "../engine/client";
import { DesiredState, loadDesired } from "../engine/desired";

const REPO_ROOT = path.resolve(__dirname, "..");
const log = (line: string): void => console.log(`[dashboard] ${line}`);

async function main(): Promise<number> {
  let args: DashboardArgs;
  let target: DockerTarget;
  let access: ReturnType<typeof accessPolicy>;
  let desired: DesiredState | undefined;
  try {
    args = parseDashboardArgs(process.argv.slice(2));
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    access = accessPolicy(args.listen.host, readToken(args["token-file"], process.env));
    target = parseDockerHost(process.env.DOCKER_HOST, process.env.DOCKER_TLS_VERIFY);
    if (args.stack !== undefined) {
      try {
        desired = loadDesired(REPO_ROOT, args.stack, args.server);
      } catch (err) {
        throw new UsageError(`--stack ${args.stack}: ${message(err)}`);
      }
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`dashboard: ${err.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }

  const { docker, close } = dockerClient(target, args.timeout);
  try {
    await withTimeout("ping", args.timeout, docker.ping());
  } catch (err) {
    console.error(`dashboard: cannot reach the Docker engine at ${target.display}: ${message(err)}`);
    close();
    return EXIT_UNREACHABLE;
  }
  const history = new History({ dir: args.stateDir, retentionMs: args.retention * 3600e3, sampleMs: args.sample * 1000 });
  const metrics = new TenantMetrics();
  const source = new EngineSource(docker, {
    server: args.server, engine: target.display, timeoutMs: args.timeout,
    concurrency: target.kind === "ssh" ? CONCURRENCY.ssh : CONCURRENCY.local,
    refreshMs: args.refresh * 1000, sampleMs: args.sample * 1000, diskMs: args.disk * 1000,
    rules: { memoryThresholdPercent: args["memory-threshold"], diskThresholdPercent: args["disk-threshold"] },
    desired: desired === undefined ? undefined : {
      tenants: desired.tenants, capacity: desired.capacity,
      where: `the roster: ${desired.rosterDir}/*.yaml of stack ${desired.stack}, in git (review the preview, then run the program)`,
    },
  }, history, metrics, log);
  const server = createDashboardServer({ token: access.token, listenHost: args.listen.host, source, history, metrics });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(args.listen.port, args.listen.host, () => resolve());
  }).catch((err: unknown) => {
    console.error(`dashboard: cannot listen on ${args.listen.host}:${args.listen.port}: ${message(err)}`);
    close();
    process.exit(EXIT_USAGE);
  });
  const shown = args.listen.host.includes(":") ? `[${args.listen.host}]` : args.listen.host;
  log(`listening on http://${shown}:${args.listen.port}/ (${access.banner})`);
  log(`engine ${target.display}; history in ${history.file} (${history.samples} samples kept, ${args.retention} h window)`);
  log(desired === undefined ? "not compared against a roster (--stack NAME to do so)" : `roster of stack ${desired.stack}: ${desired.tenants.length} tenant(s)`);
  log("read-only: tenants are added, changed and removed in the roster (git), never here");
  source.start();

  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  source.stop();
  server.close();
  server.closeAllConnections();
  close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`dashboard: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  },
);
