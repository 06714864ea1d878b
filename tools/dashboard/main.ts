// npm run dashboard [-- --listen 127.0.0.1:3000] [-- --stack dev] [-- --token-file PATH]: the
// management dashboard on port 3000 (see tools/dashboard/args.ts for every option). One engine (DOCKER_HOST),
// or with --stack of a stack with a `servers` map every server of it, asked in parallel like
// `npm run status --stack`. The thin shell: options, the access rule, the servers, history and
// metrics, then the HTTP server.
import { DockerTarget, UsageError, parseDockerHost } from "../../core/dockerHost";
import { EXIT_UNREACHABLE, EXIT_USAGE, ServerCapacity } from "../shared/status";
import { accessPolicy, readToken } from "./auth";
import { DashboardArgs, USAGE, parseDashboardArgs } from "./args";
import { History } from "./history";
import { TenantMetrics } from "./metrics";
import { createDashboardServer } from "./server";
import { EngineSource, WatchedServer } from "./source";
import { message, withTimeout } from "../../program/bounded";
import { dockerClient } from "../../program/dockerClient";
import { loadStackView } from "../shared/engine/desired";
import { REPO } from "../shared/load";

const log = (line: string): void => console.log(`[dashboard] ${line}`);

interface Watch {
  servers: WatchedServer[];
  capacity: Record<string, ServerCapacity>;
  /** Where the roster is changed; undefined = not compared against one. */
  where?: string;
  /** A stack's `servers` map (each server asked; none is required to answer at start). */
  several: boolean;
}

/** What to watch: the stack's servers, or the one engine of DOCKER_HOST (with the stack's roster, if given). */
function watchOf(args: DashboardArgs, target: DockerTarget, argv: readonly string[]): Watch {
  if (args.stack === undefined) return { servers: [{ name: args.server, target }], capacity: {}, several: false };
  try {
    const view = loadStackView(REPO, args.stack, target, args.server); // local: true = this machine: DOCKER_HOST or the socket
    if ("several" in view) {
      if (argv.some((a) => a === "--server" || a.startsWith("--server="))) {
        throw new UsageError(`--server: stack ${args.stack} has a servers map; each server shows under its own name`);
      }
      const where = `the roster: ${view.several.rosterDir}/*.yaml of stack ${args.stack}, in git (review the preview, then run the program)`;
      return { servers: view.several.servers, capacity: view.several.capacity, where, several: true };
    }
    const desired = view.one;
    const where = `the roster: ${desired.rosterDir}/*.yaml of stack ${desired.stack}, in git (review the preview, then run the program)`;
    return { servers: [{ name: args.server, target, tenants: desired.tenants }], capacity: desired.capacity, where, several: false };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--stack ${args.stack}: ${message(err)}`);
  }
}

async function main(): Promise<number> {
  let args: DashboardArgs;
  let target: DockerTarget;
  let access: ReturnType<typeof accessPolicy>;
  let watch: Watch;
  const argv = process.argv.slice(2);
  try {
    args = parseDashboardArgs(argv);
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    access = accessPolicy(args.listen.host, readToken(args["token-file"], process.env));
    target = parseDockerHost(process.env.DOCKER_HOST, process.env.DOCKER_TLS_VERIFY);
    watch = watchOf(args, target, argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`dashboard: ${err.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }

  if (!watch.several) {
    // One engine: one that does not answer at start is a mistake to report, not a page to serve.
    const { docker, close } = dockerClient(target, args.timeout);
    try {
      await withTimeout("ping", args.timeout, docker.ping());
    } catch (err) {
      console.error(`dashboard: cannot reach the Docker engine at ${target.display}: ${message(err)}`);
      return EXIT_UNREACHABLE;
    } finally {
      close();
    }
  }
  const history = new History({ dir: args.stateDir, retentionMs: args.retention * 3600e3, sampleMs: args.sample * 1000 });
  const metrics = new TenantMetrics();
  const source = new EngineSource({
    servers: watch.servers, timeoutMs: args.timeout, capacity: watch.capacity, where: watch.where,
    refreshMs: args.refresh * 1000, sampleMs: args.sample * 1000, diskMs: args.disk * 1000,
    rules: { memoryThresholdPercent: args["memory-threshold"], diskThresholdPercent: args["disk-threshold"] },
  }, history, metrics, log);
  const server = createDashboardServer({ token: access.token, listenHost: args.listen.host, source, history, metrics });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(args.listen.port, args.listen.host, () => resolve());
  }).catch((err: unknown) => {
    console.error(`dashboard: cannot listen on ${args.listen.host}:${args.listen.port}: ${message(err)}`);
    process.exit(EXIT_USAGE);
  });
  const shown = args.listen.host.includes(":") ? `[${args.listen.host}]` : args.listen.host;
  log(`listening on http://${shown}:${args.listen.port}/ (${access.banner})`);
  log(watch.several
    ? `servers of stack ${args.stack ?? ""}, each asked in parallel (timeout ${args.timeout} ms per call): ${watch.servers.map((s) => `${s.name}=${s.target.display}`).join(", ")}`
    : `engine ${target.display}`);
  log(`history in ${history.file} (${history.samples} samples kept, ${args.retention} h window)`);
  const roster = source.desired;
  log(roster === null ? "not compared against a roster (--stack NAME to do so)" : `roster of stack ${args.stack ?? ""}: ${roster.tenants.length} tenant(s)`);
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
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`dashboard: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  },
);
