// `npm start [-- options]`: the launcher's own arguments, checked with one zod schema.
import { z } from "zod";
import { UsageError, parseToolArgs } from "../shared/args";

/** A bad option (sysexits' EX_USAGE, as `npm run status` uses). */
export const EXIT_USAGE = 64;

/** A bad option: a UsageError of its own, so `npm start` words it as the launcher. */
export class LauncherUsageError extends UsageError {}

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

/** Reads argv (after `npm start --`); throws LauncherUsageError naming the bad option. */
export function parseLauncherArgs(argv: readonly string[]): LauncherOptions {
  return parseToolArgs(argv, {
    flags: {
      stack: { type: "string" }, preview: { type: "boolean" }, destroy: { type: "boolean" }, refresh: { type: "boolean" },
      yes: { type: "boolean" }, install: { type: "boolean" }, help: { type: "boolean", short: "h" },
    },
    schema: LauncherOptionsSchema,
    error: LauncherUsageError,
    needsValue: () => "--stack needs a name, e.g. --stack prod",
    issues: (issues) => {
      const issue = issues[0];
      const field = issue.path.length > 0 ? `--${String(issue.path[0])}` : "options";
      if (issue.path[0] === "stack") return `--stack ${issue.message}`;
      return issue.message.startsWith("--") || issue.message.startsWith("choose") ? issue.message : `${field} ${issue.message}`;
    },
  }).values;
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
