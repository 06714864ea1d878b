// npm start [-- --stack NAME] [-- --preview | --destroy | --refresh] [-- --yes] [-- --install]:
// the whole program from one command. Checks this machine first and changes nothing until every
// prerequisite is met; then gets a Pulumi CLI, a backend, a stack and a passphrase, and runs the
// update through Pulumi's Automation API with readable progress. The thin I/O shell: every decision
// is a pure function in core/launcher/.
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { version as sdkVersion } from "@pulumi/pulumi/version";
import { checkHosting } from "../core/check";
import { UsageError } from "../core/dockerHost";
import {
  BackendChoice, DEV_PLACEHOLDER_KEY, PassphraseChoice, chooseBackend, chooseCli, choosePassphrase, devPlaceholderKeys, pulumiCommandLine,
} from "../core/launcher/decisions";
import { EXIT_USAGE, LAUNCHER_USAGE, LauncherUsageError, launcherAction, parseLauncherArgs } from "../core/launcher/options";
import { ProgressEvent, TenantsOutput, failureMessage, newProgress, onEngineEvent, renderTenantTable } from "../core/launcher/progress";
import {
  CheckResult, checkCaddy, checkDocker, checkImage, checkPorts, checkRemoteServer, decideInstall, renderFailures,
} from "../core/launcher/prerequisites";
import { readRosterDir } from "../core/load";
import { HostingInputError, formatProblem } from "../core/problems";
import { StackConfig } from "../core/stackConfig";
import { PROJECT, readStackFile } from "../core/stackFile";
import { CaddyStartError, startCaddyForStack } from "./launcher/caddy";
import { CliInstallError, ensureCli, pulumiOnPath } from "./launcher/pulumiCli";
import { WantedPort, caddyAdminAnswers, message, probeCaddyVersion, probeDocker, probeImage, probePorts, withTimeout } from "./launcher/probes";
import Docker from "dockerode";
import { z } from "zod";

const REPO = path.resolve(__dirname, "..");
/** The project's own engine (scripts/runtime-env.sh), the one the tests use. */
const PROJECT_ENGINE_STATE = process.env.OPENCLAW_TEST_STATE ?? "/var/lib/openclaw-test";

/** The oldest CLI the SDK's Automation API accepts (an internal module of @pulumi/pulumi, read defensively). */
function sdkMinimumVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod: unknown = require("@pulumi/pulumi/automation/minimumVersion");
  const parsed = z.object({ minimumVersion: z.object({ version: z.string() }) }).safeParse(mod);
  return parsed.success ? parsed.data.minimumVersion.version : "3.0.0";
}

const say = (line: string): void => console.log(line);
const isRoot = (): boolean => typeof process.getuid === "function" && process.getuid() === 0;

class Stop extends Error {
  constructor(message: string, public readonly code = 1) {
    super(message);
  }
}

interface Inputs {
  config?: StackConfig;
  activeTenants: string[];
  placeholders: string[];
  tenantPorts: { tenant: string; port: number }[];
  /** Every image an active tenant runs (the stack's, and any per-tenant canary override). */
  images: string[];
  stackFileHasSalt: boolean;
}

/** The stack file and the roster, read and checked offline, as the program will see them. */
function readInputs(stack: string, mustBeValid: boolean): Inputs {
  const short = stack.split("/").pop() ?? stack;
  const file = path.join(REPO, `Pulumi.${short}.yaml`);
  if (!fs.existsSync(file)) {
    throw new Stop(`npm start: no stack file ${file}.\n  fix: copy Pulumi.prod.yaml to Pulumi.${short}.yaml and fill it in (README, "Running it"), or use --stack dev`);
  }
  const text = fs.readFileSync(file, "utf8");
  const { raw, encrypted } = readStackFile(text);
  const keysInFile = encrypted.filter((k) => k.startsWith("apiKeys.")).map((k) => k.slice("apiKeys.".length));
  const check = (withKeys: string[]) => {
    const keys = JSON.stringify(Object.fromEntries(withKeys.map((t) => [t, "(encrypted)"])));
    try {
      return checkHosting({ ...raw, ...(withKeys.length > 0 ? { apiKeys: keys } : {}) }, (dir) => readRosterDir(path.resolve(REPO, dir)));
    } catch (err) {
      if (err instanceof HostingInputError) return { problems: err.problems, warnings: [], config: undefined, plan: undefined };
      throw err;
    }
  };
  const first = check(keysInFile);
  const activeTenants = (first.plan?.tenants ?? []).filter((t) => t.state === "active").map((t) => t.name);
  const placeholders = devPlaceholderKeys(stack, activeTenants, keysInFile);
  const checked = placeholders.length > 0 ? check([...keysInFile, ...placeholders]) : first;
  if (mustBeValid && checked.problems.length > 0) {
    throw new Stop(`npm start: ${checked.problems.length} problem(s) in Pulumi.${short}.yaml or the roster; nothing was changed:\n` +
      checked.problems.map((p) => `  - ${formatProblem(p)}`).join("\n"));
  }
  return {
    config: checked.config,
    activeTenants,
    placeholders,
    tenantPorts: (checked.plan?.tenants ?? []).filter((t) => t.state === "active").map((t) => ({ tenant: t.name, port: t.port })),
    images: [...new Set((checked.plan?.tenants ?? []).filter((t) => t.state === "active").map((t) => t.image))].sort(),
    stackFileHasSalt: /^encryptionsalt:/m.test(text),
  };
}

function adminPort(adminAddress: string): number {
  return Number(/:(\d+)$/.exec(adminAddress)?.[1] ?? "2019");
}

/** Runs scripts/runtime-env.sh with a verb; its diagnostics go to the user's terminal. */
function runtimeEnv(verb: "install" | "start"): { ok: boolean; stdout: string } {
  const r = spawnSync("bash", [path.join(REPO, "scripts", "runtime-env.sh"), verb], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 30 * 60 * 1000 });
  return { ok: r.status === 0, stdout: r.stdout ?? "" };
}

interface Checked {
  results: CheckResult[];
  docker?: Docker;
  caddyRunning: boolean;
  /** Images not on the engine that its registry has: pulled once the checks pass. */
  toPull: string[];
}

/** Every prerequisite, observed and judged; nothing is changed here. */
async function checkPrerequisites(inputs: Inputs, action: string, applying: boolean): Promise<Checked> {
  const config = inputs.config;
  if (config?.ssh !== undefined) {
    return { results: [checkRemoteServer(`ssh://${config.ssh.user}@${config.ssh.host}:${config.ssh.port}`)], caddyRunning: false, toPull: [] };
  }
  const { facts, docker } = await probeDocker(process.env.DOCKER_HOST, PROJECT_ENGINE_STATE);
  const results: CheckResult[] = [checkDocker(facts)];
  if (action === "destroy" || action === "refresh" || config === undefined) return { results, docker, caddyRunning: false, toPull: [] };
  results.push(checkCaddy({ versionText: probeCaddyVersion() }));
  const caddyRunning = await caddyAdminAnswers(config.caddy.adminAddress);
  const wanted: WantedPort[] = [
    { port: config.caddy.ports?.http ?? 80, purpose: "Caddy http", host: "0.0.0.0", ownHolder: caddyRunning ? "caddy" : undefined },
    { port: config.caddy.ports?.https ?? 443, purpose: "Caddy https", host: "0.0.0.0", ownHolder: caddyRunning ? "caddy" : undefined },
    { port: adminPort(config.caddy.adminAddress), purpose: "Caddy admin", host: "127.0.0.1", ownHolder: caddyRunning ? "caddy" : undefined },
    ...inputs.tenantPorts.map((t) => ({ port: t.port, purpose: `tenant ${t.tenant}`, host: "127.0.0.1", ownHolder: `openclaw-${t.tenant}` })),
  ];
  results.push(checkPorts(await probePorts(wanted, docker)));
  const toPull: string[] = [];
  if (docker !== undefined && facts.reachable) {
    for (const image of inputs.images) {
      const found = await probeImage(docker, image);
      if (!found.present && found.pullable?.ok === true) toPull.push(image);
      results.push(checkImage(found));
    }
  }
  // A preview changes nothing, so only what it needs (the engine) stops it.
  if (!applying) for (const r of results) if (r.name !== "docker" && !r.ok) say(`  (not needed for a preview) ${r.message}`);
  return { results: applying ? results : results.filter((r) => r.name === "docker" || r.ok), docker, caddyRunning, toPull };
}

/** As root, with the project's engine set up here but stopped (the tests stop it): start it, as the tests do. */
async function startProjectEngineIfOurs(checked: Checked, justInstalled = false): Promise<boolean> {
  const dockerFailed = checked.results.some((r) => r.name === "docker" && !r.ok);
  const unset = process.env.DOCKER_HOST === undefined || process.env.DOCKER_HOST === "";
  if (!dockerFailed || !unset || !isRoot() || !(justInstalled || fs.existsSync(PROJECT_ENGINE_STATE))) return false;
  say(`  no engine on the default socket; starting the project's engine (scripts/runtime-env.sh start, as the tests do)`);
  const started = runtimeEnv("start");
  const host = /export DOCKER_HOST=(\S+)/.exec(started.stdout)?.[1];
  if (!started.ok || host === undefined) return false;
  process.env.DOCKER_HOST = host;
  say(`  using the project's engine: DOCKER_HOST=${host} (set it too for plain pulumi and npm run status)`);
  return true;
}

async function pullImage(docker: Docker, ref: string): Promise<void> {
  say(`  pulling ${ref} ...`);
  const stream = await docker.pull(ref);
  await withTimeout(`pulling ${ref}`, 30 * 60 * 1000, new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null) => (err !== null ? reject(err) : resolve()));
  }));
  say(`  pulled ${ref}`);
}

function writePassphrase(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, `${crypto.randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  fs.chmodSync(file, 0o600);
}

async function runAction(stack: Stack, action: string, apply: boolean): Promise<void> {
  const state = newProgress();
  const onEvent = (event: ProgressEvent): void => {
    for (const line of onEngineEvent(state, event, !apply || action === "preview")) say(line);
  };
  try {
    if (action === "up" && apply) await stack.up({ onEvent, color: "never" });
    else if (action === "up" || action === "preview") await stack.preview({ onEvent, color: "never" });
    else if (action === "destroy" && apply) await stack.destroy({ onEvent, color: "never" });
    else if (action === "destroy") await stack.previewDestroy({ onEvent, color: "never" });
    else if (action === "refresh" && apply) await stack.refresh({ onEvent, color: "never" });
    else await stack.previewRefresh({ onEvent, color: "never" });
  } catch (err) {
    throw new Stop(`npm start: ${action}${apply ? "" : " (preview)"} failed on stack ${stack.name}:\n${failureMessage(state, message(err))}`);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseLauncherArgs(argv);
  } catch (err) {
    if (!(err instanceof LauncherUsageError)) throw err;
    console.error(`npm start: ${err.message}\n\n${LAUNCHER_USAGE}`);
    return EXIT_USAGE;
  }
  if (options.help) {
    say(LAUNCHER_USAGE);
    return 0;
  }
  const { action, apply } = launcherAction(options);
  const stackName = options.stack;
  say(`npm start: stack ${stackName}: ${apply ? action : `${action === "preview" ? "up" : action}, preview only${options.stack !== "dev" && action !== "preview" ? " (add --yes to apply)" : ""}`}`);

  // 1. The stack's config and roster, checked offline.
  const inputs = readInputs(stackName, action === "up" || action === "preview");

  // 2. This machine, checked before anything changes.
  say("Checking prerequisites:");
  let checked = await checkPrerequisites(inputs, action, apply);
  if (await startProjectEngineIfOurs(checked)) checked = await checkPrerequisites(inputs, action, apply);
  for (const r of checked.results) if (r.ok) say(`  ok ${r.message}`);
  const install = decideInstall(checked.results, { install: options.install, isRoot: isRoot() });
  if (install.reason !== undefined) say(`  ${install.reason}`);
  if (install.run) {
    if (!runtimeEnv("install").ok) throw new Stop("npm start: scripts/runtime-env.sh install failed (see above); nothing else was changed");
    checked = await checkPrerequisites(inputs, action, apply);
    if (await startProjectEngineIfOurs(checked, true)) checked = await checkPrerequisites(inputs, action, apply);
  }
  if (checked.results.some((r) => !r.ok)) {
    console.error(renderFailures(checked.results));
    return 1;
  }

  // 3. The Pulumi side: which CLI, which backend, which passphrase (decided, then done).
  const pulumiHome = process.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi");
  const cliChoice = chooseCli({ onPath: pulumiOnPath(), sdkVersion, minimumVersion: sdkMinimumVersion(), pulumiHome });
  const credentials = path.join(pulumiHome, "credentials.json");
  const backend: BackendChoice = chooseBackend({
    backendUrlEnv: process.env.PULUMI_BACKEND_URL,
    credentialsJson: fs.existsSync(credentials) ? fs.readFileSync(credentials, "utf8") : undefined,
    projectDir: REPO,
  });
  const stateDir = backend.stateDir ?? path.join(REPO, ".pulumi-state");
  const launcherFile = path.join(stateDir, `${stackName.replace(/\//g, "_")}.passphrase`);
  const passphrase: PassphraseChoice = choosePassphrase({
    passphraseEnv: process.env.PULUMI_CONFIG_PASSPHRASE,
    passphraseFileEnv: process.env.PULUMI_CONFIG_PASSPHRASE_FILE,
    backendUrl: backend.url,
    stack: stackName,
    stackFileHasSalt: inputs.stackFileHasSalt,
    launcherFile,
    launcherFileExists: fs.existsSync(launcherFile),
  });
  if (passphrase.kind === "blocked") throw new Stop(`npm start: ${passphrase.message}`);

  say(`Pulumi: ${cliChoice.message}`);
  const cli = await ensureCli(cliChoice);
  const cliPath = cliChoice.kind === "install" ? path.join(cliChoice.root, "bin", "pulumi") : "pulumi";
  say(`  ${backend.message}`);
  if (backend.stateDir !== undefined) fs.mkdirSync(backend.stateDir, { recursive: true, mode: 0o700 });
  if (passphrase.kind === "file" && passphrase.create) writePassphrase(passphrase.path);
  say(`  ${passphrase.message}`);

  const envVars: Record<string, string> = { PULUMI_SKIP_UPDATE_CHECK: "true" };
  if (backend.kind === "local") envVars.PULUMI_BACKEND_URL = backend.url;
  if (passphrase.kind === "file") envVars.PULUMI_CONFIG_PASSPHRASE_FILE = passphrase.path;
  if (process.env.DOCKER_HOST !== undefined) envVars.DOCKER_HOST = process.env.DOCKER_HOST;

  const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir: REPO }, { pulumiCommand: cli, envVars });
  say(`  stack ${stackName} selected`);
  const ctx = { cli: cliPath, backend, passphrase, stack: stackName };
  if (inputs.placeholders.length > 0 && action !== "destroy") {
    for (const tenant of inputs.placeholders) {
      await stack.setConfig(`${PROJECT}:apiKeys.${tenant}`, { value: DEV_PLACEHOLDER_KEY, secret: true }, true);
    }
    say(`  dev stack: ${inputs.placeholders.join(", ")} got a placeholder model key (a Pulumi secret, "${DEV_PLACEHOLDER_KEY}"):`);
    say(`  their gateways start, but cannot call a model until you set a real key.`);
  }

  // 4. The machine's own services for a local stack, then the update.
  const config = inputs.config;
  if (apply && action === "up" && config !== undefined && config.ssh === undefined) {
    if (!checked.caddyRunning) {
      try {
        say(`  ${startCaddyForStack(config, stateDir)}`);
      } catch (err) {
        if (err instanceof CaddyStartError) throw new Stop(`npm start: ${err.message}`);
        throw err;
      }
    }
    if (checked.docker !== undefined) for (const image of checked.toPull) await pullImage(checked.docker, image);
  }
  say(`Running ${action}${apply ? "" : " (preview)"} on stack ${stackName}:`);
  await runAction(stack, action, apply);

  if (action === "up" && apply) {
    const outputs = await stack.outputs();
    const tenants = TenantsOutput.safeParse(outputs.tenants?.value);
    say("");
    say(tenants.success ? renderTenantTable(tenants.data) : "(the stack has no tenants output)");
    say("");
    say(`A tenant's gateway token (give each tenant only its own):\n  ${pulumiCommandLine(["stack", "output", "--show-secrets", "gatewayTokens"], ctx)}`);
    const example = inputs.activeTenants[0] ?? "alice";
    if (inputs.placeholders.length > 0 || stackName === "dev") {
      say(`A real model key for a tenant (then npm start again):\n  ${pulumiCommandLine(["config", "set", "--secret", "--path", `apiKeys.${example}`, "<key>"], ctx)}`);
    }
    if (config?.caddy.localCerts === true) {
      const root = path.join(config.caddy.storageDir ?? "~/.local/share/caddy", "pki", "authorities", "local", "root.crt");
      say(`HTTPS uses Caddy's local CA: trust it with \`caddy trust --address ${config.caddy.adminAddress}\`, or use \`curl --cacert ${root}\`, or \`curl -k\`.`);
    }
    say(`Plain pulumi works on the same stack: ${pulumiCommandLine(["up"], ctx)}`);
  } else if (!apply && action !== "preview") {
    say(`Nothing was changed. To apply: npm start -- --stack ${stackName}${action === "up" ? "" : ` --${action}`} --yes`);
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof Stop) {
        console.error(err.message);
        process.exit(err.code);
      }
      if (err instanceof CliInstallError || err instanceof UsageError) {
        console.error(`npm start: ${err.message}`);
        process.exit(err instanceof UsageError ? EXIT_USAGE : 1);
      }
      console.error(`npm start: ${message(err)}`);
      process.exit(1);
    },
  );
}
