// The one loader of the tools (tools/shared/load.ts): stack file + roster + check, as the program sees them.
import * as fs from "fs";
import * as path from "path";
import { LIMITS } from "../../../../core/limits";
import { NoStackFile, REPO, checkStack, loadStack, problemsWithoutKeys, readStack } from "../../../../tools/shared/load";
import { REPO_ROOT } from "../../../support/program";
import { outsideTempDir, writeRoster } from "../../../support/roster";
import { throwawayStacks } from "../support/stackFiles";

describe("the tools' loader", () => {
  const stackFile = throwawayStacks("test-load");

  test("is rooted at the project", () => {
    expect(REPO).toBe(REPO_ROOT);
  });

  test("the dev stack: its roster planned, only the API keys missing", () => {
    const dev = loadStack("dev");
    expect(dev.stack.file).toBe("Pulumi.dev.yaml");
    expect(dev.plan?.tenants.map((t) => t.name)).toEqual(["alice", "bob", "carol"]);
    expect(problemsWithoutKeys(dev)).toEqual([]);
    expect(dev.rosterProblems).toEqual([]);
  });

  test("no such stack file, a file over its limit, a file that is not a stack", () => {
    expect(() => readStack("no-such-stack")).toThrow(NoStackFile);
    expect(() => readStack("no-such-stack")).toThrow(/^no stack file .*Pulumi\.no-such-stack\.yaml$/);
    const big = stackFile(`config:\n  x: "${"a".repeat(LIMITS.stackFileBytes)}"\n`);
    expect(loadStack(big).problems.map((p) => p.message)).toEqual([expect.stringMatching(/over the limit of/)]);
    const list = stackFile("- not a mapping\n");
    expect(loadStack(list).problems[0].field).toBe("(stack file)");
  });

  test("--roster DIR is read wherever it is; its entry problems are told apart", () => {
    const dir = writeRoster([{ name: "alice" }], outsideTempDir());
    fs.symlinkSync(path.join(dir, "alice.yaml"), path.join(dir, "bob.yaml"));
    const checked = checkStack(readStack("dev"), { roster: dir });
    expect(checked.plan?.tenants.map((t) => t.name)).toEqual(["alice"]);
    expect(checked.rosterProblems.length).toBe(1);
    expect(checked.problems).toEqual(expect.arrayContaining(checked.rosterProblems));
  });

  test("config laid over the file's, and plaintext secrets reported only when asked", () => {
    const keys = JSON.stringify({ alice: "k", bob: "k" });
    expect(problemsWithoutKeys(checkStack(readStack("dev"), { override: { apiKeys: keys } }))).toEqual([]);
    expect(checkStack(readStack("dev"), { override: { apiKeys: keys } }).problems).toEqual([]);
    const plain = stackFile(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8") + "  cloudflare:apiToken: plain\n");
    expect(loadStack(plain).problems.some((p) => p.field === "cloudflare:apiToken")).toBe(false);
    expect(loadStack(plain, { plaintextSecrets: true }).problems.some((p) => p.field === "cloudflare:apiToken")).toBe(true);
  });
});
