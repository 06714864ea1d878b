/** `npm run status` options. */
import { UsageError } from "../../core/dockerHost";
import { TenantName } from "../../core/names";
import { DEFAULT_DISK_THRESHOLD_PERCENT, DEFAULT_MEMORY_THRESHOLD_PERCENT } from "../shared/status/flags";

export const DEFAULT_TIMEOUT_MS = 10000;

export interface StatusOptions {
  json: boolean;
  only?: string[];
  memoryThresholdPercent: number;
  diskThresholdPercent: number;
  /** Compare against this stack's roster (Pulumi.<stack>.yaml): missing tenants are flagged. */
  stack?: string;
  /** Bound on every single Docker API call (and on the SSH connection), in ms. */
  timeoutMs: number;
  help: boolean;
}

export const USAGE = `usage: npm run status [-- OPTIONS]

Shows every tenant found on the Docker engine (containers and volumes labelled
managed-by=openclaw-hosting): state, health, memory, CPU, restarts, disk and URL.
Exit 0 when all is well, 1 when a tenant is flagged (not running, unhealthy, at or
above the memory or disk threshold, or missing), 2 when the engine cannot be reached,
64 on a usage error.

Options:
  --json                  print one JSON object: {engine, tenants, flagged, summary, servers, ...}
  --only a,b,c            report only these tenants (a listed tenant with nothing on the engine is flagged)
  --stack NAME            compare against the roster of Pulumi.NAME.yaml: an active tenant with no container is flagged
                          (with a servers map: every server is asked in parallel; one unreachable = exit 2)
  --memory-threshold PCT  flag at or above PCT % of the memory limit (default ${DEFAULT_MEMORY_THRESHOLD_PERCENT})
  --disk-threshold PCT    flag at or above PCT % of the disk budget (default ${DEFAULT_DISK_THRESHOLD_PERCENT})
  --timeout MS            bound on each Docker API call, per server (default ${DEFAULT_TIMEOUT_MS})
  -h, --help              this text

The engine: DOCKER_HOST (unix:///path, tcp://host:port with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH,
ssh://user@host:port through the system ssh and the remote's \`docker system dial-stdio\`),
else unix:///var/run/docker.sock.`;

function percent(name: string, text: string): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0 || v > 100) throw new UsageError(`${name} must be a percent in (0, 100]`);
  return v;
}

export function parseStatusArgs(argv: readonly string[]): StatusOptions {
  const opts: StatusOptions = {
    json: false, memoryThresholdPercent: DEFAULT_MEMORY_THRESHOLD_PERCENT, diskThresholdPercent: DEFAULT_DISK_THRESHOLD_PERCENT,
    timeoutMs: DEFAULT_TIMEOUT_MS, help: false,
  };
  const value = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const [name, inline] = arg.startsWith("--") && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const take = (): string => {
      if (inline !== undefined) return inline;
      const v = value(i, name);
      i++;
      return v;
    };
    switch (name) {
      case "--json":
        opts.json = true;
        break;
      case "-h":
      case "--help":
        opts.help = true;
        break;
      case "--only": {
        const names = take().split(",").map((s) => s.trim()).filter((s) => s !== "");
        const bad = names.filter((n) => !TenantName.safeParse(n).success);
        if (names.length === 0) throw new UsageError("--only needs at least one tenant name");
        if (bad.length > 0) throw new UsageError(`--only: not a tenant name: ${bad.join(", ")}`);
        opts.only = [...(opts.only ?? []), ...names];
        break;
      }
      case "--stack": {
        const v = take();
        if (!/^[A-Za-z0-9_.-]+$/.test(v)) throw new UsageError("--stack must be a stack name (Pulumi.<name>.yaml)");
        opts.stack = v;
        break;
      }
      case "--memory-threshold":
        opts.memoryThresholdPercent = percent("--memory-threshold", take());
        break;
      case "--disk-threshold":
        opts.diskThresholdPercent = percent("--disk-threshold", take());
        break;
      case "--timeout": {
        const v = Number(take());
        if (!Number.isInteger(v) || v < 100 || v > 600000) throw new UsageError("--timeout must be milliseconds between 100 and 600000");
        opts.timeoutMs = v;
        break;
      }
      default:
        throw new UsageError(`unknown option ${arg}`);
    }
  }
  return opts;
}
