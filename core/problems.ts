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
 * that landed in the wrong field is not echoed into logs.
 */
export function problemsFromZod(error: z.ZodError, where: { tenant?: string; prefix?: string }): Problem[] {
  return error.issues.flatMap((issue) => {
    const base = [where.prefix, ...issue.path.map(String)].filter((s) => s !== undefined && s !== "").join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        tenant: where.tenant,
        field: base === "" ? key : `${base}.${key}`,
        message: "unknown field (check its spelling against the README)",
      }));
    }
    // A record key that fails its own schema carries the real reason one level down.
    const message = issue.code === "invalid_key" && issue.issues.length > 0 ? issue.issues[0].message : issue.message;
    return [{ tenant: where.tenant, field: base === "" ? "(file)" : base, message }];
  });
}
