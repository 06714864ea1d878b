// `npm start [-- options]`: the launcher's own arguments, checked with one zod schema.
import { z } from "zod";

/** A bad option (sysexits' EX_USAGE, as `npm run status` uses). */
export const EXIT_USAGE = 64;

export class LauncherUsageError extends Error {}

export const LAUNCHER_USAGE = `usage: npm start [-- options]

Brings the roster up on a stack. The dev stack (the default) runs on this machine and applies
without asking; any other stack shows a preview and applies only with --yes.

  --stack NAME   the stack (default: dev)
  --preview      only show what would change
  --destroy      remove the stack's containers and networks (tenant volumes are kept)
  --refresh      update the recorded state from what really runs
  --yes          apply (needed for every stack but dev; without it a preview is shown)
  --install      as root: install what the prerequisite checks find missing, then go on
  --help         this text`;

const StackName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,100}(\/[A-Za-z0-9_.-]{1,100}){0,2}$/, {
    error: "must be a stack name such as dev or prod (letters, digits, . _ -; org/project/ prefixes allowed)",
  });

export const LauncherOptionsSchema = z
  .strictObject({
    stack: StackName.default("dev"),
    preview: z.boolean().default(false),
    destroy: z.boolean().default(false),
    refresh: z.boolean().default(false),
    yes: z.boolean().default(false),
    install: z.boolean().default(false),
    help: z.boolean().default(false),
  })
  .refine((o) => [o.preview, o.destroy, o.refresh].filter(Boolean).length <= 1, {
    error: "choose one of --preview, --destroy, --refresh",
    path: ["preview"],
  })
  .refine((o) => !(o.preview && o.yes), { error: "--preview and --yes contradict each other", path: ["yes"] });

export type LauncherOptions = z.infer<typeof LauncherOptionsSchema>;

const FLAGS = ["preview", "destroy", "refresh", "yes", "install", "help"] as const;

/** Reads argv (after `npm start --`); throws LauncherUsageError naming the bad option. */
export function parseLauncherArgs(argv: readonly string[]): LauncherOptions {
  const raw: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.startsWith("--") ? [arg.slice(2).split("=")[0], arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : undefined] : [arg, undefined];
    if (name === "stack") {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith("--")) throw new LauncherUsageError("--stack needs a name, e.g. --stack prod");
      raw.stack = value;
    } else if ((FLAGS as readonly string[]).includes(name) && arg.startsWith("--") && inline === undefined) {
      raw[name] = true;
    } else if (name === "h" || arg === "-h") {
      raw.help = true;
    } else {
      throw new LauncherUsageError(`unknown option ${arg}`);
    }
  }
  const parsed = LauncherOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.length > 0 ? `--${String(issue.path[0])}` : "options";
    throw new LauncherUsageError(issue.path[0] === "stack" ? `--stack ${issue.message}` : issue.message.startsWith("--") || issue.message.startsWith("choose") ? issue.message : `${field} ${issue.message}`);
  }
  return parsed.data;
}

export type LauncherAction = "up" | "preview" | "destroy" | "refresh";

/**
 * What runs: dev applies at once (the embedded default, no questions asked); every other stack
 * shows a preview of the same action and applies it only with --yes.
 */
export function launcherAction(options: LauncherOptions): { action: LauncherAction; apply: boolean } {
  const action: LauncherAction = options.preview ? "preview" : options.destroy ? "destroy" : options.refresh ? "refresh" : "up";
  if (action === "preview") return { action, apply: false };
  return { action, apply: options.stack === "dev" || options.yes };
}
