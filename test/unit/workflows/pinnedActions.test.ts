import * as fs from "fs";
import * as path from "path";

// A tag can be moved to other code by whoever controls the action's repository; a commit SHA cannot.
// Every step of the operator's workflows (which hold the Pulumi and Cloudflare tokens) is pinned.
const WORKFLOWS = path.join(__dirname, "..", "..", "..", ".github", "workflows");

/** The `uses:` references in a workflow's text that are not pinned to a full commit SHA. */
export function unpinnedActions(text: string): string[] {
  return [...text.matchAll(/^\s*-?\s*uses:\s*([^\s#]+)/gm)]
    .map((m) => m[1])
    .filter((ref) => !ref.startsWith("./") && !/@[0-9a-f]{40}$/.test(ref));
}

describe("the operator's GitHub workflows", () => {
  test("the checker finds a tag, a branch and a short SHA, and accepts a full SHA and a local action", () => {
    const text = [
      "      - uses: pulumi/actions@v6",
      "        uses: actions/checkout@main",
      "      - uses: a/b@8582a9e",
      "      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0",
      "      - uses: ./local-action",
    ].join("\n");
    expect(unpinnedActions(text)).toEqual(["pulumi/actions@v6", "actions/checkout@main", "a/b@8582a9e"]);
  });

  const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
  test.each(files)("%s pins every action to a commit SHA", (file) => {
    const text = fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
    expect(text).toMatch(/uses:/);
    expect(unpinnedActions(text)).toEqual([]);
  });
});
