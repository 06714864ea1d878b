/**
 * The one bounded-call helper: a call bounded in time, calls bounded in number at once, and a retry
 * bounded in attempts. Whatever a server or a daemon does, the program's server check and every
 * tool's wait ends. In the program's wing because the program may not import a tool.
 */

export class TimeoutError extends Error {}

/**
 * Rejects after `ms`, whatever the call does; the timer never keeps the process alive. The message
 * says `WHAT timed out after N ms`, or with `unit: "s"` (long waits, the launcher) `... after N s`.
 */
export function withTimeout<T>(what: string, ms: number, p: Promise<T>, unit: "ms" | "s" = "ms"): Promise<T> {
  const after = unit === "s" && ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${after}`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `fn` over `items` with at most `limit` in flight; the results keep the items' order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Runs `attempt` until `done` says so, at most `times` times, `delayMs` apart; returns the last result. */
export async function retry<T>(attempt: () => Promise<T>, done: (result: T) => boolean, times: number, delayMs: number): Promise<T> {
  let r = await attempt();
  for (let i = 1; i < times && !done(r); i++) {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    r = await attempt();
  }
  return r;
}

/** An error in words, for the one-line messages the tools print. */
export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
