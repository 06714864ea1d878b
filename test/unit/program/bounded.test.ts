// The one bounded-call helper (program/bounded.ts, shared by the program's server check and the tools): every wait ends, in the words the tools print.
import { TimeoutError, message, pool, retry, withTimeout } from "../../../program/bounded";

const never = new Promise<never>(() => undefined);

describe("bounded calls", () => {
  test("a call that does not answer is cut off, in ms or (long waits) in seconds", async () => {
    await expect(withTimeout("ping", 20, never)).rejects.toThrow(new TimeoutError("ping timed out after 20 ms"));
    await expect(withTimeout("pulling x", 1200, never, "s")).rejects.toThrow("pulling x timed out after 1 s");
    await expect(withTimeout("quick", 20, never, "s")).rejects.toThrow("quick timed out after 20 ms");
    await expect(withTimeout("ok", 1000, Promise.resolve(7))).resolves.toBe(7);
  });

  test("pool keeps at most `limit` calls in flight and the results in order", async () => {
    let running = 0;
    let most = 0;
    const out = await pool([5, 1, 4, 2, 3], 2, async (n) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });

  test("retry stops at the first good result, or after the last attempt", async () => {
    let n = 0;
    expect(await retry(async () => ++n, (x) => x >= 3, 10, 1)).toBe(3);
    n = 0;
    expect(await retry(async () => ++n, () => false, 4, 1)).toBe(4);
  });

  test("message: an error in words", () => {
    expect(message(new Error("boom"))).toBe("boom");
    expect(message("plain")).toBe("plain");
  });
});
