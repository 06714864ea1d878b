/**
 * The one argument parser of the tools: node's util.parseArgs splits argv (`--x v`, `--x=v`, `-h`),
 * a zod schema per tool checks and shapes the values, and every problem is one UsageError whose
 * message names the flag. The tools differ only in what they declare here, not in how they parse.
 */
import { parseArgs } from "util";
import { z } from "zod";
import { UsageError } from "../../core/dockerHost";

export { UsageError };

export interface Flag {
  type: "string" | "boolean";
  /** A one-letter alias (`-h`). */
  short?: string;
  /** Repeatable: the values are collected into an array (status's --only). */
  multiple?: boolean;
}

/** One argv entry the tool does not know: an option (with its name) or a positional. */
export interface Unknown {
  /** The argv entry as typed, e.g. `--yes=1` or `prod`. */
  arg: string;
  /** The option's name without dashes; undefined for a positional. */
  name?: string;
}

export interface ArgsSpec<S extends z.ZodType> {
  flags: Record<string, Flag>;
  /** Checks the flags' raw values (strings, booleans, arrays for `multiple`); its output is the tool's options. */
  schema: S;
  /** How many positionals the tool takes (default none). */
  positionals?: number;
  /**
   * Unknown options and surplus positionals are skipped, and a value is whatever follows its flag
   * (check, pin and move have always worked so; their flags are few and never dangerous).
   */
  lenient?: boolean;
  /** A value may start with `--` (the schema then judges it; roster-diff's refs). */
  dashValues?: boolean;
  /** The message for something the tool does not know (default `unknown option ARG`). */
  unknown?: (u: Unknown) => string;
  /** The message for a string flag with no value (default `--NAME needs a value`). */
  needsValue?: (name: string) => string;
  /** Flags refused outright, with the reason as the message (the dashboard's --token). */
  refused?: Record<string, string>;
  /** The schema's issues in words (default: the first, as `--FLAG: MESSAGE`). */
  issues?: (issues: z.ZodError["issues"]) => string;
  /** The error class thrown (default UsageError). */
  error?: new (message: string) => Error;
}

export interface Parsed<T> {
  values: T;
  positionals: string[];
}

/** `--FLAG: MESSAGE` for the first issue: the default wording of a bad value. */
export const firstIssue = (issues: z.ZodError["issues"]): string => `--${String(issues[0]?.path[0] ?? "(options)")}: ${issues[0]?.message ?? "invalid"}`;

export function parseToolArgs<S extends z.ZodType>(argv: readonly string[], spec: ArgsSpec<S>): Parsed<z.output<S>> {
  const fail = (message: string): never => {
    throw new (spec.error ?? UsageError)(message);
  };
  const options = Object.fromEntries(
    Object.entries(spec.flags).map(([name, f]) => [name, f.short !== undefined ? { type: f.type, short: f.short } : { type: f.type }]),
  );
  // strict: false so that this module, not node, words every problem (and names the flag).
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const raw: Record<string, unknown> = {};
  const positionals: string[] = [];
  const unknown = (u: Unknown): void => {
    if (spec.lenient !== true) fail(spec.unknown?.(u) ?? `unknown option ${u.arg}`);
  };
  for (const token of tokens) {
    if (token.kind === "option-terminator") {
      unknown({ arg: "--" });
      continue;
    }
    if (token.kind === "positional") {
      if (positionals.length < (spec.positionals ?? 0)) positionals.push(token.value);
      else unknown({ arg: token.value });
      continue;
    }
    const arg = argv[token.index];
    const refused = spec.refused?.[token.name];
    if (refused !== undefined) fail(refused);
    const flag = Object.prototype.hasOwnProperty.call(spec.flags, token.name) ? spec.flags[token.name] : undefined;
    if (flag === undefined || (flag.type === "boolean" && token.inlineValue === true)) {
      unknown({ arg, name: token.name });
      continue;
    }
    if (flag.type === "boolean") {
      raw[token.name] = true;
      continue;
    }
    const value = token.value;
    if (value === undefined || (token.inlineValue !== true && value.startsWith("--") && spec.dashValues !== true && spec.lenient !== true)) {
      if (spec.lenient === true) continue;
      fail(spec.needsValue?.(token.name) ?? `--${token.name} needs a value`);
    } else {
      raw[token.name] = flag.multiple === true ? [...((raw[token.name] as string[] | undefined) ?? []), value] : value;
    }
  }
  const parsed = spec.schema.safeParse(raw);
  if (!parsed.success) fail((spec.issues ?? firstIssue)(parsed.error.issues));
  return { values: (parsed as { data: z.output<S> }).data, positionals };
}

/** A stack name as every tool takes it (Pulumi.<name>.yaml beside the program). */
export const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

/** The flags of the tools that read one stack and its roster (check, pin, move): --stack NAME, --roster DIR. */
export const STACK_FLAGS: Record<"stack" | "roster", Flag> = { stack: { type: "string" }, roster: { type: "string" } };

/** --stack (default dev) and --roster, as check, pin and move have always taken them. */
export const StackArgs = z.object({ stack: z.string().default("dev"), roster: z.string().optional() });
