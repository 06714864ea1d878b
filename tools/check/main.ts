// npm run check [-- --stack dev] [-- --roster DIR]: validates a roster offline (no Pulumi CLI, no
// network), prints the tenant table with totals, and exits 1 listing every problem found.
import * as path from "path";
import { z } from "zod";
import { STACK_FLAGS, STACK_NAME, StackArgs, UsageError, parseToolArgs } from "../shared/args";
import { NoStackFile, loadStack } from "../shared/load";
import { checkReport } from "./report";

const CheckArgs = StackArgs.extend({
  stack: z
    .string()
    .refine((s) => STACK_NAME.test(s) && !s.startsWith("."), { message: "--stack takes a stack name (letters, digits, . _ -)" })
    .default("dev"),
});

function main(): number {
  let args: z.infer<typeof CheckArgs>;
  let loaded: ReturnType<typeof loadStack>;
  try {
    // Unknown arguments are ignored, as they always were.
    args = parseToolArgs(process.argv.slice(2), { flags: STACK_FLAGS, schema: CheckArgs, lenient: true, issues: (i) => i[0]?.message ?? "bad options" }).values;
    // --roster names a folder on this machine explicitly (e.g. a checkout under review), so it is read
    // wherever it is; the stack's own rosterDir must stay inside the project.
    loaded = loadStack(args.stack, { roster: args.roster !== undefined ? path.resolve(process.cwd(), args.roster) : undefined, plaintextSecrets: true });
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof NoStackFile)) throw err;
    console.error(`check: ${err instanceof NoStackFile ? err.hint : err.message}`);
    return 1;
  }
  // Keys are set with `pulumi config set --secret`; a stack file without any cannot be checked for them.
  const report = checkReport(args.stack, args.roster, loaded, loaded.stack.config.raw.apiKeys !== undefined);
  for (const line of report.stdout) console.log(line);
  for (const line of report.stderr) console.error(line);
  return report.code;
}

try {
  process.exit(main());
} catch (err) {
  // Every input problem is reported above; anything else is a bug, said in one line (OPENCLAW_FULL_STACKS=1 for the trace).
  const text = err instanceof Error ? (process.env.OPENCLAW_FULL_STACKS === "1" ? String(err.stack) : err.message.split("\n")[0]) : String(err);
  console.error(`check: unexpected error, please report it: ${text}`);
  process.exit(2);
}
