import * as path from "path";
import { ScriptRun, runTsScript } from "../support/cli";
import { REPO_ROOT } from "../support/program";
import { writeRoster } from "../support/roster";

function check(...args: string[]): ScriptRun {
  return runTsScript(path.join(REPO_ROOT, "scripts", "check.ts"), args);
}

describe("npm run check", () => {
  test("prints the sample roster's table with totals and exits 0", () => {
    const { status, stdout } = check();
    expect(status).toBe(0);
    expect(stdout).toMatch(/TENANT\s+URL\s+PORT\s+TIER\s+STATE\s+MEMORY\s+CPUS/);
    expect(stdout).toMatch(/alice\s+https:\/\/alice\.claw\.localhost\s+18879\s+standard\s+active\s+2048 MB\s+1\.0/);
    expect(stdout).toMatch(/carol\s+.*heavy\s+suspended\s+4096 MB\s+2\.0/);
    expect(stdout).toMatch(/TOTAL 3\s+2 active\s+3584 MB\s+1\.5/);
  });

  test("checks the prod stack file too", () => {
    const { status, stdout } = check("--stack", "prod");
    expect(status).toBe(0);
    expect(stdout).toContain("https://alice.claw.example.com");
  });

  test("a bad roster exits 1 and names every tenant and field at fault", () => {
    const dir = writeRoster([
      { name: "alice", tier: "huge" as never },
      { name: "bob", port: 18879 },
      { name: "carol", port: 18879 },
      { name: "admin" },
    ]);
    const { status, stderr } = check("--roster", dir);
    expect(status).toBe(1);
    expect(stderr).toContain('tenant "alice", field tier: must be one of light, standard, heavy');
    expect(stderr).toContain('tenant "bob", field port: 18879 is pinned by more than one tenant: bob, carol');
    expect(stderr).toContain('tenant "carol", field port');
    expect(stderr).toContain('tenant "admin", field name: is a reserved name');
  });
});
