// `npm start` itself, up to where it stops without touching this machine: options and the
// offline check of the stack file and roster.
import { runTsScript } from "../../../support/cli";

describe("npm start (no engine needed)", () => {
  it("--help prints the options and exits 0", () => {
    const r = runTsScript("tools/launcher/main.ts", ["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("usage: npm start [-- options]");
    expect(r.stdout).toContain("--stack NAME");
  });

  it("a bad option exits 64 with the usage", () => {
    const r = runTsScript("tools/launcher/main.ts", ["--stack", "prod", "--force"]);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain("npm start: unknown option --force");
  });

  it("a stack without a stack file says how to make one", () => {
    const r = runTsScript("tools/launcher/main.ts", ["--stack", "staging"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Pulumi.staging.yaml");
    expect(r.stderr).toContain("fix: copy Pulumi.prod.yaml to Pulumi.staging.yaml");
  });

  it("prod without its tenants' keys stops before anything changes, naming each tenant (no placeholders outside dev)", () => {
    const r = runTsScript("tools/launcher/main.ts", ["--stack", "prod"]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("npm start: stack prod: up, preview only (add --yes to apply)");
    expect(r.stderr).toContain("npm start: 2 problem(s) in Pulumi.prod.yaml or the roster; nothing was changed:");
    expect(r.stderr).toContain(`tenant "alice", field apiKeys: is active but has no API key`);
    expect(r.stderr).toContain(`tenant "bob", field apiKeys: is active but has no API key`);
    expect(r.stdout).not.toContain("Checking prerequisites");
  });
});
