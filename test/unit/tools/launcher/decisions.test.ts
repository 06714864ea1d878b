// The launcher's decisions (npm start), each a pure function: arguments, which CLI, which backend,
// which passphrase, which placeholder keys, and the dev stack passing the check with those defaults.
import * as fs from "fs";
import * as path from "path";
import {
  DEV_PLACEHOLDER_KEY, chooseBackend, chooseCli, choosePassphrase, devPlaceholderKeys, pulumiCommandLine, setKeyLine, versionAtLeast,
} from "../../../../tools/launcher/decisions";
import { EXIT_USAGE, LauncherUsageError, launcherAction, parseLauncherArgs } from "../../../../tools/launcher/args";
import { checkStack, readStack } from "../../../../tools/shared/load";

const REPO = path.resolve(__dirname, "..", "..", "..", "..");

describe("npm start arguments", () => {
  it("defaults to the dev stack, applied at once", () => {
    const o = parseLauncherArgs([]);
    expect(o).toMatchObject({ stack: "dev", preview: false, destroy: false, refresh: false, yes: false, install: false });
    expect(launcherAction(o)).toEqual({ action: "up", apply: true });
  });

  it("previews any other stack and applies it only with --yes", () => {
    expect(launcherAction(parseLauncherArgs(["--stack", "prod"]))).toEqual({ action: "up", apply: false });
    expect(launcherAction(parseLauncherArgs(["--stack=prod", "--yes"]))).toEqual({ action: "up", apply: true });
    expect(launcherAction(parseLauncherArgs(["--stack", "prod", "--destroy"]))).toEqual({ action: "destroy", apply: false });
    expect(launcherAction(parseLauncherArgs(["--stack", "prod", "--refresh", "--yes"]))).toEqual({ action: "refresh", apply: true });
    expect(launcherAction(parseLauncherArgs(["--destroy"]))).toEqual({ action: "destroy", apply: true });
    expect(launcherAction(parseLauncherArgs(["--preview"]))).toEqual({ action: "preview", apply: false });
    expect(parseLauncherArgs(["--stack", "acme/openclaw-hosting/prod"]).stack).toBe("acme/openclaw-hosting/prod");
  });

  it.each([
    [["--bogus"], "unknown option --bogus"],
    [["prod"], "unknown option prod"],
    [["--stack"], "--stack needs a name"],
    [["--stack", "--yes"], "--stack needs a name"],
    [["--stack", "a b"], "--stack must be a stack name"],
    [["--yes=1"], "unknown option --yes=1"],
    [["--preview", "--destroy"], "choose one of --preview, --destroy, --refresh"],
    [["--preview", "--yes"], "--preview and --yes contradict each other"],
  ])("rejects %j: %s", (argv, expected) => {
    expect(() => parseLauncherArgs(argv)).toThrow(LauncherUsageError);
    expect(() => parseLauncherArgs(argv)).toThrow(expected);
  });

  it("uses exit code 64 for a bad option, as npm run status does", () => {
    expect(EXIT_USAGE).toBe(64);
  });
});

describe("which Pulumi CLI", () => {
  const base = { sdkVersion: "3.270.0", minimumVersion: "3.2.0-alpha", pulumiHome: "/home/u/.pulumi" };

  it("installs the SDK's version into the Pulumi home when there is no pulumi on PATH", () => {
    expect(chooseCli({ ...base, onPath: undefined })).toEqual({
      kind: "install",
      version: "3.270.0",
      root: "/home/u/.pulumi/versions/3.270.0",
      message: "no pulumi on PATH: installing Pulumi CLI 3.270.0 (the SDK's version) into /home/u/.pulumi/versions/3.270.0",
    });
  });

  it("uses the pulumi on PATH when the SDK accepts it", () => {
    expect(chooseCli({ ...base, onPath: "v3.150.0\n" })).toMatchObject({ kind: "path", version: "v3.150.0" });
    expect(chooseCli({ ...base, onPath: "v3.2.0" })).toMatchObject({ kind: "path" });
  });

  it.each([
    ["v3.1.9", "older than the SDK's minimum 3.2.0-alpha"],
    ["v2.25.2", "another major version"],
    ["v4.0.0", "another major version"],
    ["unknown", "cannot read the version"],
  ])("installs instead of using pulumi %s (%s)", (found, why) => {
    const choice = chooseCli({ ...base, onPath: found });
    expect(choice.kind).toBe("install");
    expect(choice.message).toContain(why);
  });

  it("compares versions the semver way", () => {
    expect(versionAtLeast("3.2.0", "3.2.0-alpha")).toBe(true);
    expect(versionAtLeast("3.2.0-alpha", "3.2.0")).toBe(false);
    expect(versionAtLeast("2.11.2", "2.7.0")).toBe(true);
    expect(versionAtLeast("2.6.2", "2.7.0")).toBe(false);
    expect(versionAtLeast("10.0.0", "9.9.9")).toBe(true);
    expect(versionAtLeast("nonsense", "1.0.0")).toBe(false);
  });
});

describe("which backend", () => {
  const projectDir = "/srv/openclaw-hosting";

  it("is a git-ignored file backend inside the project when nothing is configured", () => {
    const b = chooseBackend({ backendUrlEnv: undefined, credentialsJson: undefined, projectDir });
    expect(b).toMatchObject({ kind: "local", url: "file:///srv/openclaw-hosting/.pulumi-state", stateDir: "/srv/openclaw-hosting/.pulumi-state" });
    expect(fs.readFileSync(path.join(REPO, ".gitignore"), "utf8").split("\n")).toContain(".pulumi-state/");
  });

  it("is PULUMI_BACKEND_URL when set, even when logged in", () => {
    const b = chooseBackend({ backendUrlEnv: "s3://bucket/state", credentialsJson: '{"current":"https://api.pulumi.com"}', projectDir });
    expect(b).toMatchObject({ kind: "env", url: "s3://bucket/state" });
  });

  it("is the backend the user is logged in to", () => {
    const b = chooseBackend({ backendUrlEnv: "", credentialsJson: '{"current":"https://api.pulumi.com","accessTokens":{}}', projectDir });
    expect(b).toMatchObject({ kind: "login", url: "https://api.pulumi.com" });
  });

  it.each([['{"current":""}'], ["{}"], ["not json"], ['{"current": 3}']])("treats credentials %s as not logged in", (json) => {
    expect(chooseBackend({ backendUrlEnv: undefined, credentialsJson: json, projectDir }).kind).toBe("local");
  });
});

describe("which secrets passphrase", () => {
  const base = {
    passphraseEnv: undefined, passphraseFileEnv: undefined, backendUrl: "file:///p/.pulumi-state", stack: "dev",
    stackFileHasSalt: false, launcherFile: "/p/.pulumi-state/dev.passphrase", launcherFileExists: false,
  };

  it("creates a random one in a file when none is configured", () => {
    expect(choosePassphrase(base)).toMatchObject({ kind: "file", path: "/p/.pulumi-state/dev.passphrase", create: true });
    expect(choosePassphrase(base).message).toContain("mode 0600");
  });

  it("reuses the launcher's file on later runs", () => {
    expect(choosePassphrase({ ...base, launcherFileExists: true, stackFileHasSalt: true })).toMatchObject({ kind: "file", create: false });
  });

  it("takes PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE first (an empty passphrase is a passphrase)", () => {
    expect(choosePassphrase({ ...base, passphraseEnv: "" }).kind).toBe("env");
    expect(choosePassphrase({ ...base, passphraseFileEnv: "/secrets/p" })).toMatchObject({ kind: "env", message: expect.stringContaining("/secrets/p") });
  });

  it("needs none on Pulumi Cloud", () => {
    expect(choosePassphrase({ ...base, backendUrl: "https://api.pulumi.com" }).kind).toBe("service");
  });

  it("refuses to make a new one for a stack file whose secrets another passphrase encrypted", () => {
    const c = choosePassphrase({ ...base, stackFileHasSalt: true });
    expect(c.kind).toBe("blocked");
    expect(c.message).toContain("Pulumi.dev.yaml holds secrets encrypted with a passphrase this machine does not have");
    expect(c.message).toContain("PULUMI_CONFIG_PASSPHRASE_FILE");
  });
});

describe("what the dev stack's tenants get", () => {
  it("a placeholder key for each active tenant without one, on dev only", () => {
    expect(devPlaceholderKeys("dev", ["bob", "alice"], [])).toEqual(["alice", "bob"]);
    expect(devPlaceholderKeys("dev", ["bob", "alice"], ["alice"])).toEqual(["bob"]);
    expect(devPlaceholderKeys("prod", ["bob", "alice"], [])).toEqual([]);
    expect(DEV_PLACEHOLDER_KEY).toMatch(/placeholder/);
    expect(DEV_PLACEHOLDER_KEY).not.toMatch(/^sk-/);
  });

  it("the dev stack file passes the check with the launcher's defaults, serving https://<tenant>.claw.localhost:8443", () => {
    const dev = readStack("dev", REPO);
    expect(dev.config.encrypted).toEqual([]);
    const without = checkStack(dev, { repo: REPO });
    expect(without.problems.map((p) => `${p.tenant}:${p.field}`)).toEqual(["alice:apiKeys", "bob:apiKeys"]);
    const active = (without.plan?.tenants ?? []).filter((t) => t.state === "active").map((t) => t.name);
    const keys = Object.fromEntries(devPlaceholderKeys("dev", active, []).map((t) => [t, DEV_PLACEHOLDER_KEY]));
    const checked = checkStack(dev, { repo: REPO, override: { apiKeys: JSON.stringify(keys) } });
    expect(checked.problems).toEqual([]);
    const tenants = checked.plan?.tenants ?? [];
    expect(tenants.map((t) => t.url)).toEqual(["https://alice.claw.localhost:8443", "https://bob.claw.localhost:8443", "https://carol.claw.localhost:8443"]);
    // The Control UI's origin is what the browser sends, port included.
    const origins = tenants[0].settings.find((s) => s.path === "gateway.controlUi.allowedOrigins");
    expect(origins?.value).toEqual(["https://alice.claw.localhost:8443"]);
    expect(checked.plan?.caddyfile).toMatch(/local_certs/);
    expect(checked.plan?.caddyfile).toMatch(/https_port 8443/);
  });
});

describe("the pulumi command lines the launcher prints", () => {
  it("carry the backend and passphrase file the launcher used", () => {
    const line = pulumiCommandLine(["stack", "output", "--show-secrets", "gatewayTokens"], {
      cli: "/root/.pulumi/versions/3.270.0/bin/pulumi",
      backend: { kind: "local", url: "file:///srv/o h/.pulumi-state", message: "" },
      passphrase: { kind: "file", path: "/srv/o h/.pulumi-state/dev.passphrase", create: false, message: "" },
      stack: "dev",
    });
    expect(line).toBe(
      "PULUMI_BACKEND_URL='file:///srv/o h/.pulumi-state' PULUMI_CONFIG_PASSPHRASE_FILE='/srv/o h/.pulumi-state/dev.passphrase' " +
        "/root/.pulumi/versions/3.270.0/bin/pulumi stack output --show-secrets gatewayTokens --stack dev",
    );
  });

  it("add nothing when the user's own settings apply", () => {
    const line = pulumiCommandLine(["up"], {
      cli: "pulumi", backend: { kind: "login", url: "https://api.pulumi.com", message: "" }, passphrase: { kind: "service", message: "" }, stack: "prod",
    });
    expect(line).toBe("pulumi up --stack prod");
  });
});

describe("the line that sets a real model key", () => {
  it("has no value on the command line (shell history, ps): pulumi asks for it or reads standard input", () => {
    const ctx = {
      cli: "pulumi", backend: { kind: "local" as const, url: "file:///srv/p/.pulumi-state", message: "" },
      passphrase: { kind: "file" as const, path: "/srv/p/.pulumi-state/dev.passphrase", create: false, message: "" }, stack: "dev",
    };
    const [command, hint] = setKeyLine("alice", ctx).split("\n  ");
    expect(command).toBe(
      "PULUMI_BACKEND_URL=file:///srv/p/.pulumi-state PULUMI_CONFIG_PASSPHRASE_FILE=/srv/p/.pulumi-state/dev.passphrase " +
        "pulumi config set --secret --path apiKeys.alice --stack dev",
    );
    expect(hint).toBe("(no value on the command line: pulumi asks for it, or reads it from standard input, e.g. `< key.txt`)");
    expect(command).not.toMatch(/<key>|sk-/);
  });
});
