// The one argument parser of the tools (tools/shared/args.ts): how argv is split and how problems
// are worded. Each tool's own flags are pinned by its tests (status, dashboard, launcher, roster-diff).
import { z } from "zod";
import { ArgsSpec, UsageError, parseToolArgs } from "../../../../tools/shared/args";

const schema = z.strictObject({
  name: z.string().min(2, { message: "is too short" }).optional(),
  list: z.array(z.string()).optional(),
  yes: z.boolean().default(false),
  help: z.boolean().default(false),
});
const flags = { name: { type: "string" as const }, list: { type: "string" as const, multiple: true }, yes: { type: "boolean" as const }, help: { type: "boolean" as const, short: "h" } };
const parse = (argv: string[], extra: Omit<ArgsSpec<typeof schema>, "flags" | "schema"> = {}) => parseToolArgs(argv, { flags, schema, ...extra });

describe("parseToolArgs", () => {
  test("--x v and --x=v, booleans, -h, repeated flags, defaults from the schema", () => {
    expect(parse([]).values).toEqual({ yes: false, help: false });
    expect(parse(["--name", "ab", "--list=a", "--list", "b", "--yes", "-h"]).values).toEqual({ name: "ab", list: ["a", "b"], yes: true, help: true });
    expect(parse(["--name", "ab", "--name=cd"]).values.name).toBe("cd");
  });

  test.each([
    [["--bogus"], "unknown option --bogus"],
    [["--yes=1"], "unknown option --yes=1"],
    [["stray"], "unknown option stray"],
    [["--", "x"], "unknown option --"],
    [["--name"], "--name needs a value"],
    [["--name", "--yes"], "--name needs a value"],
    [["--name", "a"], "--name: is too short"],
  ])("%j: %s", (argv, message) => {
    expect(() => parse(argv)).toThrow(new UsageError(message));
  });

  test("each tool words its own problems, and may throw its own error class", () => {
    class MyError extends Error {}
    expect(() => parse(["--bogus"], { unknown: (u) => `what is ${u.arg} (${u.name ?? "positional"})?` })).toThrow("what is --bogus (bogus)?");
    expect(() => parse(["--name"], { needsValue: (n) => `give --${n} a name` })).toThrow("give --name a name");
    expect(() => parse(["--name", "a"], { issues: (i) => `bad: ${i.map((x) => x.path.join(".")).join(",")}` })).toThrow("bad: name");
    expect(() => parse(["--token", "t"], { refused: { token: "no tokens here" } })).toThrow("no tokens here");
    expect(() => parse(["--bogus"], { error: MyError })).toThrow(MyError);
  });

  test("positionals when the tool takes them; a value may start with -- when the schema judges it", () => {
    expect(parse(["alice", "--yes"], { positionals: 1 }).positionals).toEqual(["alice"]);
    expect(() => parse(["alice", "bob"], { positionals: 1 })).toThrow("unknown option bob");
    expect(parse(["--name", "--x"], { dashValues: true }).values.name).toBe("--x");
  });

  test("lenient (check, pin, move): unknown arguments are skipped, a value is whatever follows", () => {
    expect(parse(["--bogus", "1", "--name", "--yes", "--help"], { lenient: true }).values).toEqual({ name: "--yes", yes: false, help: true });
    expect(parse(["--name"], { lenient: true }).values.name).toBeUndefined();
  });
});
