/** `npm run status` options. */
import { z } from "zod";
import { TenantName } from "../../core/names";
import { STACK_NAME, parseToolArgs } from "../shared/args";
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

/** A percent flag: a number in (0, 100], or a usage error naming the flag. */
const percent = (flag: string) =>
  z.string().transform((text, ctx) => {
    const v = Number(text);
    if (!Number.isFinite(v) || v <= 0 || v > 100) {
      ctx.addIssue({ code: "custom", message: `${flag} must be a percent in (0, 100]` });
      return z.NEVER;
    }
    return v;
  });

/** Each --only is a comma list of tenant names; repeated, the lists add up. */
const only = z.array(z.string()).transform((lists, ctx) => {
  const names: string[] = [];
  for (const list of lists) {
    const some = list.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const bad = some.filter((n) => !TenantName.safeParse(n).success);
    if (some.length === 0) ctx.addIssue({ code: "custom", message: "--only needs at least one tenant name" });
    else if (bad.length > 0) ctx.addIssue({ code: "custom", message: `--only: not a tenant name: ${bad.join(", ")}` });
    names.push(...some);
  }
  return names;
});

const StatusArgs = z
  .object({
    json: z.boolean().default(false),
    help: z.boolean().default(false),
    only: only.optional(),
    stack: z.string().regex(STACK_NAME, { message: "--stack must be a stack name (Pulumi.<name>.yaml)" }).optional(),
    "memory-threshold": percent("--memory-threshold").optional(),
    "disk-threshold": percent("--disk-threshold").optional(),
    timeout: z
      .string()
      .transform(Number)
      .refine((v) => Number.isInteger(v) && v >= 100 && v <= 600000, { message: "--timeout must be milliseconds between 100 and 600000" })
      .optional(),
  })
  .transform((o): StatusOptions => ({
    json: o.json,
    ...(o.only !== undefined ? { only: o.only } : {}),
    memoryThresholdPercent: o["memory-threshold"] ?? DEFAULT_MEMORY_THRESHOLD_PERCENT,
    diskThresholdPercent: o["disk-threshold"] ?? DEFAULT_DISK_THRESHOLD_PERCENT,
    ...(o.stack !== undefined ? { stack: o.stack } : {}),
    timeoutMs: o.timeout ?? DEFAULT_TIMEOUT_MS,
    help: o.help,
  }));

export function parseStatusArgs(argv: readonly string[]): StatusOptions {
  return parseToolArgs(argv, {
    flags: {
      json: { type: "boolean" }, help: { type: "boolean", short: "h" }, only: { type: "string", multiple: true },
      stack: { type: "string" }, "memory-threshold": { type: "string" }, "disk-threshold": { type: "string" }, timeout: { type: "string" },
    },
    schema: StatusArgs,
    // Each message already names its flag.
    issues: (issues) => issues[0]?.message ?? "invalid options",
  }).values;
}
