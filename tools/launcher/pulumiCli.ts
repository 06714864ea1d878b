// Getting a Pulumi CLI for the Automation API: the one on PATH, or one installed for the SDK.
import { spawnSync } from "child_process";
import { PulumiCommand, PulumiCommandOptions } from "@pulumi/pulumi/automation";
import { CliChoice } from "./decisions";
import { message, withTimeout } from "../../program/bounded";

/** `pulumi version` of the CLI on PATH, or undefined when there is none (or it does not answer). */
export function pulumiOnPath(): string | undefined {
  const r = spawnSync("pulumi", ["version"], { encoding: "utf8", timeout: 20000, env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return r.stdout.trim();
}

export class CliInstallError extends Error {}

/** The download is bounded: PulumiCommand.install's own 2-minute limit covers only the script. */
export const CLI_INSTALL_TIMEOUT_MS = Number(process.env.OPENCLAW_START_CLI_TIMEOUT_MS ?? 300000);

/**
 * The chosen CLI as a PulumiCommand. `install` is PulumiCommand.install unless a test passes its
 * own; a failed or hung download ends in a CliInstallError that says what to do instead.
 */
export async function ensureCli(
  choice: CliChoice,
  install: (opts: PulumiCommandOptions) => Promise<PulumiCommand> = (o) => PulumiCommand.install(o),
  timeoutMs = CLI_INSTALL_TIMEOUT_MS,
): Promise<PulumiCommand> {
  if (choice.kind === "path") return PulumiCommand.get();
  try {
    return await withTimeout(`installing the Pulumi CLI ${choice.version}`, timeoutMs, install({ root: choice.root }), "s");
  } catch (err) {
    throw new CliInstallError(
      `could not install the Pulumi CLI ${choice.version} into ${choice.root}: ${message(err).split("\n")[0]}\n` +
        `  fix: this needs the internet (get.pulumi.com); or install the CLI yourself ` +
        `(https://www.pulumi.com/docs/install/, e.g. curl -fsSL https://get.pulumi.com | sh), put it on PATH, and run npm start again`,
    );
  }
}
