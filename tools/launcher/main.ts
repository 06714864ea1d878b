// npm start [-- --stack NAME] [-- --preview | --destroy | --refresh] [-- --yes] [-- --install]:
// the whole program from one command. Checks this machine first and changes nothing until every
// prerequisite is met; then gets a Pulumi CLI, a backend, a stack and a passphrase, and runs the
// update through Pulumi's Automation API with readable progress. The thin I/O shell: every decision
// is a pure function beside it (args, decisions, prerequisites, progress).
import { backupSummary } from "../../core/backup";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { version as sdkVersion } from "@pulumi/pulumi/version";
import Docker from "dockerode";
import { z } from "zod";
import { UsageError } from "../../core/dockerHost";
import { shellWord } from "../../core/shell";
import {
  BackendChoice, DEV_PLACEHOLDER_KEY, PassphraseChoice, chooseBackend, chooseCli, choosePassphrase, pulumiCommandLine, setKeyLine,
} from "./decisions";
import { EXIT_USAGE, LAUNCHER_USAGE, LauncherUsageError, launcherAction, parseLauncherArgs } from "./args";
import { decideInstall, renderFailures } from "./prerequisites";
import { ProgressEvent, TenantsOutput, failureMessage, newProgress, onEngineEvent, renderTenantTable } from "./progress";
import { REPO } from "../shared/load";
import { PROJECT } from "../shared/stackFile";
import { CaddyStartError, startCaddyForStack } from "./caddy";
import { Stop, readInputs } from "./inputs";
import { checkPrerequisites, isRoot, prepareCaddyDirs, runInstaller } from "./machine";
import { CliInstallError, ensureCli, pulumiOnPath } from "./pulumiCli";
import { message, withTimeout } from "../../program/bounded";


/** The oldest CLI the SDK's Automation API accepts (an internal module of @pulumi/pulumi, read defensively). */
function sdkMinimumVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod: unknown = require("@pulumi/pulumi/automation/minimumVersion");
  const parsed = z.object({ minimumVersion: z.object({ version: z.string() }) }).safeParse(mod);
  return parsed.success ? parsed.data.minimumVersion.version : "3.0.0";
}

const say = (line: string): void => console.log(line);

async function pullImage(docker: Docker, ref: string): Promise<void> {
  say(`  pulling ${ref} ...`);
  const stream = await docker.pull(ref);
  await withTimeout(`pulling ${ref}`, 30 * 60 * 1000, new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null) => (err !== null ? reject(err) : resolve()));
  }), "s");
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
  const inputs = readInputs(REPO, stackName, action === "up" || action === "preview");

  // 2. This machine, checked before anything changes. The launcher uses the machine's own Docker
  //    and Caddy; --install adds only what is absent, and nothing here stops, disables or replaces
  //    a service (the tests' engine script, which does, is never run from here).
  say("Checking prerequisites:");
  let checked = await checkPrerequisites(inputs, action, apply, say);
  for (const r of checked.results) if (r.ok) say(`  ok ${r.message}`);
  const install = decideInstall(checked.results, { install: options.install, isRoot: isRoot() });
  if (install.reason !== undefined) say(`  ${install.reason}`);
  if (install.run) {
    if (!runInstaller(install.packages)) throw new Stop("npm start: tools/launcher/install.sh failed (see above); nothing else was changed");
    checked = await checkPrerequisites(inputs, action, apply, say);
  }
  if (checked.results.some((r) => !r.ok)) {
    console.error(renderFailures(checked.results));
    return 1;
  }
  // The folders of Caddy's files, before anything else is written: a refusal changes nothing.
  if (apply && action === "up" && inputs.config !== undefined && checked.local) for (const line of prepareCaddyDirs(inputs.config)) say(`  ${line}`);

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

  // 4. For a stack with a server on this machine: a Caddy when none answers, the images; then the update. A stack whose servers are
  //    all remote gets none of this.
  const config = inputs.config;
  if (apply && action === "up" && config !== undefined && checked.local) {
    if (!checked.caddyRunning) {
      try {
        say(`  ${startCaddyForStack(config, stateDir)}`);
      } catch (err) {
        if (err instanceof CaddyStartError) throw new Stop(`npm start: ${err.message}`);
        throw err;
      }
    } else {
      say(`  using the Caddy that answers at ${config.caddy.adminAddress} (the stack loads its Caddyfile into it; npm start leaves it running)`);
    }
    if (checked.docker !== undefined) for (const image of checked.toPull) await pullImage(checked.docker, image);
  }
  if (config !== undefined && action !== "destroy") say(backupSummary(config.backup));
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
      say(`A real model key for a tenant (then npm start again):\n  ${setKeyLine(example, ctx)}`);
    }
    if (config?.caddy.localCerts === true) {
      const root = path.join(config.caddy.storageDir ?? "~/.local/share/caddy", "pki", "authorities", "local", "root.crt");
      say(`HTTPS uses Caddy's local CA: trust it with \`caddy trust --address ${shellWord(config.caddy.adminAddress)}\`, or use \`curl --cacert ${root}\`, or \`curl -k\`.`);
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
