import * as path from "path";
import { REPO_ROOT, baseConfig, fakeKey, runProgram } from "../support/program";

test("smoke", async () => {
  const run = await runProgram(baseConfig(path.join(REPO_ROOT, "tenants"), { apiKeys: { alice: fakeKey("alice"), bob: fakeKey("bob") } }));
  console.log(run.resources.map((r) => `${r.type} ${r.name} ${JSON.stringify(r.options)} ${r.secretInputs}`).join("\n"));
  expect(run.resources.length).toBeGreaterThan(5);
});
