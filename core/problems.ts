import { z } from "zod";

/** One thing wrong with the roster or the stack config, named the way an operator would look for it. */
export interface Problem {
  /** The tenant the problem belongs to; absent for stack-wide config. */
  tenant?: string;
  /** The field, as a dotted path (`tier`, `portPool.end`, `apiKeys.alice`). */
  field: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  return p.tenant === undefined
    ? `config ${p.field}: ${p.message}`
    : `tenant "${p.tenant}", field ${p.field}: ${p.message}`;
}

/** Thrown by the program before any resource is registered, so a bad edit changes nothing. */
export class HostingInputError extends Error {
  constructor(public readonly problems: Problem[]) {
    super(
      `openclaw-hosting found ${problems.length} problem(s); nothing was changed:\n` +
        problems.map((p) => `  - ${formatProblem(p)}`).join("\n"),
    );
    this.name = "HostingInputError";
  }
}

/**
 * Turns zod issues into problems. Messages never include the rejected value, so a secret
 * that landed in the wrong field is not echoed into logs; they say what kind of value was found
 * (parse with `reportInput: true`) and what is expected, in the operator's words.
 */
export function problemsFromZod(error: z.ZodError, where: { tenant?: string; prefix?: string }): Problem[] {
  return error.issues.flatMap((issue) => {
    const base = [where.prefix, ...issue.path.map(String)].filter((s) => s !== undefined && s !== "").join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        tenant: where.tenant,
        field: base === "" ? shownKey(key) : `${base}.${shownKey(key)}`,
        message: "unknown field (check its spelling against the README)",
      }));
    }
    // A record key that fails its own schema carries the real reason one level down.
    const inner = issue.code === "invalid_key" && issue.issues.length > 0 ? issue.issues[0] : issue;
    return [{ tenant: where.tenant, field: base === "" ? "(file)" : shownField(base), message: operatorMessage(inner as z.core.$ZodIssue) }];
  });
}

/** zod's own messages ("Invalid input: expected number, received null") rewritten for an operator. */
function operatorMessage(issue: z.core.$ZodIssue): string {
  const found = "input" in issue ? describeValue(issue.input) : undefined;
  const isDefault = /^(Invalid|Too (small|big)|Expected)/.test(issue.message);
  let message = issue.message;
  if (isDefault) {
    switch (issue.code) {
      case "invalid_type":
        message = found === "missing" ? `is required (${expectedWords(issue.expected)})` : `must be ${expectedWords(issue.expected)}`;
        break;
      case "too_small":
        message = issue.origin === "string" ? (Number(issue.minimum) <= 1 ? "must not be empty" : `must have at least ${issue.minimum} characters`)
          : issue.origin === "array" ? `must have at least ${issue.minimum} entries`
          : `must be ${issue.inclusive === false ? "above" : "at least"} ${issue.minimum}`;
        break;
      case "too_big":
        message = issue.origin === "string" ? `must have at most ${issue.maximum} characters`
          : issue.origin === "array" ? `must have at most ${issue.maximum} entries`
          : `must be ${issue.inclusive === false ? "below" : "at most"} ${issue.maximum}`;
        break;
      case "invalid_value":
        message = `must be one of ${issue.values.map((v) => String(v)).join(", ")}`;
        break;
      case "invalid_format":
        message = `is not a valid ${issue.format}`;
        break;
      default:
        message = "is not a valid value here (see the README)";
    }
  }
  // Say what was found when the kind is the problem (NaN is a number to JavaScript, not to an operator).
  // (A fraction where a whole number belongs is a number too: "but it is a number" would say nothing.)
  if (issue.code === "invalid_type" && found !== undefined && found !== "missing" && found !== "a number") message += `, but it is ${found}`;
  return message;
}

function expectedWords(expected: string): string {
  const words: Record<string, string> = {
    number: "a number", int: "a whole number", string: "a string", boolean: "true or false", object: "a mapping of fields",
    record: "a mapping", array: "a list", undefined: "absent",
  };
  return words[expected] ?? `a ${expected}`;
}

/** The kind of a rejected value, never the value itself. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "empty (null)";
  if (typeof value === "number") return Number.isNaN(value) ? "NaN (not a number)" : Number.isFinite(value) ? "a number" : "infinite";
  if (typeof value === "string") return "text";
  if (typeof value === "boolean") return "true/false";
  if (Array.isArray(value)) return "a list";
  // YAML 1.1 tags (!!timestamp, !!set, !!omap, !!binary) make values a mapping is not.
  if (value instanceof Date) return "a date (quote it to make it text)";
  if (value instanceof Set) return "a set";
  if (value instanceof Map) return "an ordered map";
  if (value instanceof Uint8Array) return "binary data";
  return typeof value === "object" ? "a mapping" : typeof value;
}

/** Field names come from operators' files: keep them one short line. */
function shownField(field: string): string {
  const shown = field.replace(/[\p{Cc}\p{Cs}\p{Zl}\p{Zp}]/gu, "?");
  return shown.length > 160 ? `${shown.slice(0, 157)}...` : shown;
}
const shownKey = shownField;
