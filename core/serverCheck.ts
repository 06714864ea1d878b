/**
 * Before anything changes, the program asks every server's Docker engine whether it answers. A
 * server that does not stops the update with an error of its own that names the server, how it was
 * reached and the tenants it carries, instead of the provider's raw ssh error halfway through an
 * update (when some servers' changes would already be applied).
 */
import { z } from "zod";
import { Problem, problemsFromZod } from "./problems";

/** What one server's engine said to the check. */
export interface ServerAnswer {
  server: string;
  /** How it was reached, e.g. ssh://deploy@203.0.113.2:22 (never a secret). */
  engine: string;
  answered: boolean;
  /** Why not, in the transport's words (ssh's own message when there is one). */
  reason?: string;
  ms: number;
}

/**
 * The environment the check reads: OPENCLAW_SERVER_CHECK=off skips it (e.g. a preview on a machine
 * that cannot reach the servers); OPENCLAW_SERVER_CHECK_TIMEOUT is seconds per server.
 */
export const ServerCheckEnv = z.object({
  OPENCLAW_SERVER_CHECK: z.enum(["on", "off"], { error: "must be on or off" }).default("on"),
  OPENCLAW_SERVER_CHECK_TIMEOUT: z.coerce.number({ error: "must be a number of seconds" }).int({ error: "must be a whole number of seconds" })
    .min(1, { error: "must be at least 1 (seconds)" }).max(300, { error: "must be at most 300 (seconds)" }).default(10),
});
export type ServerCheckSettings = z.infer<typeof ServerCheckEnv>;

export function serverCheckSettings(env: NodeJS.ProcessEnv): { settings?: ServerCheckSettings; problems: Problem[] } {
  const parsed = ServerCheckEnv.safeParse({
    OPENCLAW_SERVER_CHECK: env.OPENCLAW_SERVER_CHECK === "" ? undefined : env.OPENCLAW_SERVER_CHECK,
    OPENCLAW_SERVER_CHECK_TIMEOUT: env.OPENCLAW_SERVER_CHECK_TIMEOUT === "" ? undefined : env.OPENCLAW_SERVER_CHECK_TIMEOUT,
  }, { reportInput: true });
  if (!parsed.success) return { problems: problemsFromZod(parsed.error, { prefix: "(environment)" }) };
  return { settings: parsed.data, problems: [] };
}

/** One problem per server that did not answer, in server order; none when all did. */
export function unansweredServerProblems(
  answers: readonly ServerAnswer[],
  servers: readonly { name: string; fieldPrefix: string; ssh?: unknown; tenants: readonly string[] }[],
  timeoutSeconds: number,
  multi: boolean,
): Problem[] {
  const byName = new Map(servers.map((s) => [s.name, s]));
  return answers
    .filter((a) => !a.answered)
    .sort((a, b) => (a.server < b.server ? -1 : 1))
    .map((a) => {
      const server = byName.get(a.server);
      const tenants = server?.tenants ?? [];
      const field = multi ? `servers.${a.server}.${server?.ssh !== undefined ? "ssh" : "local"}` : server?.ssh !== undefined ? "ssh" : "(this machine's Docker engine)";
      const who = multi ? `server ${a.server}` : "the server";
      return {
        field,
        message:
          `${who} does not answer at ${a.engine} within ${timeoutSeconds} s (${oneLine(a.reason ?? "no reason given")}). ` +
          `${tenants.length === 0 ? "It has no tenants" : `Its ${tenants.length} tenant(s) (${shortList(tenants)}) are down until it is back or they are moved`}; ` +
          `${multi ? "the other servers were not touched either" : "nothing was touched"}. ` +
          "Bring it back (is sshd up, is dockerd running?), or see the README, \"Losing a server\"; " +
          "OPENCLAW_SERVER_CHECK=off pulumi up --continue-on-error updates the servers that answer",
      };
    });
}

function shortList(names: readonly string[]): string {
  return names.length <= 10 ? names.join(", ") : `${names.slice(0, 10).join(", ")} and ${names.length - 10} more`;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= 300 ? flat : `${flat.slice(0, 297)}...`;
}
