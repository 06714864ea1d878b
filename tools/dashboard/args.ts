/**
 * `npm run dashboard` options, validated with zod. The access token is never an option: a command
 * line is visible to every user of the server (`ps`), so it comes from a file or the environment.
 */
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { STACK_NAME, parseToolArgs } from "../shared/args";
import { DEFAULT_DISK_THRESHOLD_PERCENT, DEFAULT_MEMORY_THRESHOLD_PERCENT, DEFAULT_SERVER } from "../shared/status";

export const TOKEN_ENV = "OPENCLAW_DASHBOARD_TOKEN";

const Listen = z.string().transform((text, ctx) => {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 1 && port <= 65535)) {
    ctx.addIssue({ code: "custom", message: "must be HOST:PORT, e.g. 127.0.0.1:3000 or [::1]:3000" });
    return z.NEVER;
  }
  return { host: m[1] ?? m[2], port };
});

const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const percent = z.coerce.number().gt(0).max(100);

export const DashboardArgsSchema = z.strictObject({
  listen: Listen.default({ host: "127.0.0.1", port: 3000 }),
  "token-file": z.string().min(1).optional(),
  stack: z.string().regex(STACK_NAME, { message: "must be a stack name (Pulumi.<name>.yaml)" }).optional(),
  "state-dir": z.string().min(1).optional(),
  server: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, { message: "must be a server name (a-z, 0-9, . and -)" }).default(DEFAULT_SERVER),
  /** Seconds between live refreshes (memory, CPU, state, health). */
  refresh: seconds(2, 3600).default(10),
  /** Seconds between history samples. */
  sample: seconds(5, 3600).default(60),
  /** Seconds between volume size measurements (GET /system/df walks every volume). */
  disk: seconds(10, 86400).default(300),
  /** Hours of history kept (at least 24). */
  retention: z.coerce.number().min(24).max(24 * 31).default(26),
  "memory-threshold": percent.default(DEFAULT_MEMORY_THRESHOLD_PERCENT),
  "disk-threshold": percent.default(DEFAULT_DISK_THRESHOLD_PERCENT),
  timeout: z.coerce.number().int().min(100).max(600000).default(10000),
  help: z.boolean().default(false),
});
export type DashboardArgs = z.infer<typeof DashboardArgsSchema> & { stateDir: string };

export const USAGE = `usage: npm run dashboard [-- OPTIONS]

Serves the management dashboard: every tenant's state, health, memory, CPU, disk and
history, and /metrics for Prometheus. Read-only: tenants change only in the roster (git).

Options:
  --listen HOST:PORT     where to listen (default 127.0.0.1:3000). Anything but loopback needs
                         an access token, from --token-file or ${TOKEN_ENV}
  --token-file PATH      file holding the access token (at least 16 characters)
  --stack NAME           compare against the roster of Pulumi.NAME.yaml (missing tenants, capacity);
                         with a servers map: watch every server of it in parallel (ssh:// for remote
                         ones), each with its own timeout; one that does not answer shows as unreachable
  --state-dir DIR        where history is kept (default ~/.local/state/openclaw-dashboard)
  --server NAME          the one engine's name in rows and metrics (default ${DEFAULT_SERVER}; not with a servers map)
  --refresh SECONDS      live refresh interval (default 10)
  --sample SECONDS       history sample interval (default 60)
  --disk SECONDS         volume size interval (default 300)
  --retention HOURS      history kept (default 26, at least 24)
  --memory-threshold PCT, --disk-threshold PCT   highlight at or above (default 90)
  --timeout MS           bound on each Docker API call, per server (default 10000)

The engine: DOCKER_HOST, as for npm run status (and the servers map's \`local: true\` server).`;

const FLAGS = Object.fromEntries(
  Object.keys(DashboardArgsSchema.shape).map((name) => [name, name === "help" ? { type: "boolean" as const, short: "h" } : { type: "string" as const }]),
);

const TOKEN_REFUSED = (flag: string): string =>
  `--${flag} is not accepted: a token on the command line is visible to every user (ps). Use --token-file PATH or ${TOKEN_ENV}`;

/** argv -> the options object, then zod; every problem is a UsageError naming the option. */
export function parseDashboardArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): DashboardArgs {
  const { values } = parseToolArgs(argv, {
    flags: FLAGS,
    schema: DashboardArgsSchema,
    refused: { token: TOKEN_REFUSED("token"), "access-token": TOKEN_REFUSED("access-token") },
    unknown: (u) => (u.name === undefined ? `unexpected argument ${u.arg}` : `unknown option --${u.name}`),
  });
  const stateDir = path.resolve(values["state-dir"] ?? env.OPENCLAW_DASHBOARD_STATE ?? path.join(os.homedir(), ".local", "state", "openclaw-dashboard"));
  return { ...values, stateDir };
}
