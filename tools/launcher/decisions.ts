// The launcher's decisions about the Pulumi side: which CLI, which backend, which passphrase, which
// placeholder keys. Pure functions of what the shell observed, so each one is tested directly.
import * as path from "path";
import { z } from "zod";
import { FROM_STDIN } from "../../core/secrets";

/** "3.270.0", "v3.270.0-alpha.x", "3.2.0-alpha" -> [major, minor, patch, isPrerelease]; undefined if unreadable. */
export function parseVersion(text: string): { major: number; minor: number; patch: number; prerelease: boolean } | undefined {
  const m = /v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?/.exec(text.trim());
  if (m === null) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] !== undefined };
}

/** a >= b, where a prerelease of x.y.z counts as below x.y.z (semver's rule). */
export function versionAtLeast(a: string, b: string): boolean {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if (va === undefined || vb === undefined) return false;
  for (const k of ["major", "minor", "patch"] as const) if (va[k] !== vb[k]) return va[k] > vb[k];
  return !va.prerelease || vb.prerelease;
}

export type CliChoice =
  | { kind: "path"; version: string; message: string }
  | { kind: "install"; version: string; root: string; message: string };

/**
 * The `pulumi` on PATH when the SDK's Automation API accepts it (same major, at least its minimum),
 * else the CLI matching the SDK, installed under the user's Pulumi home (~/.pulumi/versions/V).
 * `onPath` is the output of `pulumi version`, or undefined when there is none.
 */
export function chooseCli(facts: { onPath: string | undefined; sdkVersion: string; minimumVersion: string; pulumiHome: string }): CliChoice {
  const root = path.join(facts.pulumiHome, "versions", facts.sdkVersion);
  const install = (why: string): CliChoice => ({
    kind: "install",
    version: facts.sdkVersion,
    root,
    message: `${why}: installing Pulumi CLI ${facts.sdkVersion} (the SDK's version) into ${root}`,
  });
  if (facts.onPath === undefined) return install("no pulumi on PATH");
  const found = parseVersion(facts.onPath);
  const sdk = parseVersion(facts.sdkVersion);
  if (found === undefined || sdk === undefined) return install(`cannot read the version of the pulumi on PATH ("${facts.onPath.trim()}")`);
  const shown = facts.onPath.trim();
  if (found.major !== sdk.major) return install(`the pulumi on PATH is ${shown}, another major version than the SDK's ${facts.sdkVersion}`);
  if (!versionAtLeast(shown, facts.minimumVersion)) return install(`the pulumi on PATH is ${shown}, older than the SDK's minimum ${facts.minimumVersion}`);
  return { kind: "path", version: shown, message: `using the pulumi on PATH (${shown})` };
}

/** ~/.pulumi/credentials.json: `current` is the backend `pulumi login` chose last. */
const Credentials = z.looseObject({ current: z.string().optional() });

export type BackendChoice = {
  kind: "env" | "login" | "local";
  url: string;
  /** The project's own state folder, for the local backend (created by the shell). */
  stateDir?: string;
  message: string;
};

export const LOCAL_STATE_DIR = ".pulumi-state";

/**
 * PULUMI_BACKEND_URL when set, else the backend the user is logged in to, else a file backend in
 * the project's ignored .pulumi-state/ folder (nothing to sign up for, nothing leaves the machine).
 */
export function chooseBackend(facts: { backendUrlEnv: string | undefined; credentialsJson: string | undefined; projectDir: string }): BackendChoice {
  const fromEnv = facts.backendUrlEnv?.trim();
  if (fromEnv !== undefined && fromEnv !== "") return { kind: "env", url: fromEnv, message: `backend ${fromEnv} (from PULUMI_BACKEND_URL)` };
  if (facts.credentialsJson !== undefined) {
    let current: string | undefined;
    try {
      const parsed = Credentials.safeParse(JSON.parse(facts.credentialsJson));
      current = parsed.success ? parsed.data.current : undefined;
    } catch {
      current = undefined; // an unreadable file is as good as no login
    }
    if (current !== undefined && current.trim() !== "") {
      return { kind: "login", url: current.trim(), message: `backend ${current.trim()} (you are logged in: pulumi login)` };
    }
  }
  const stateDir = path.join(facts.projectDir, LOCAL_STATE_DIR);
  return { kind: "local", url: `file://${stateDir}`, stateDir, message: `backend: a local file backend in ${stateDir} (git-ignored; set PULUMI_BACKEND_URL or pulumi login to use another)` };
}

/** Pulumi Cloud (and self-hosted Pulumi Cloud) keep secrets themselves; DIY backends need a passphrase. */
export function backendKeepsSecrets(url: string): boolean {
  return /^https?:\/\//.test(url);
}

export type PassphraseChoice =
  | { kind: "env"; message: string }
  | { kind: "service"; message: string }
  | { kind: "file"; path: string; create: boolean; message: string }
  | { kind: "blocked"; message: string };

/**
 * Where the stack's secrets passphrase comes from. The launcher's own file (mode 0600) is created
 * only when nothing is configured and the stack file holds no secrets encrypted under another one.
 */
export function choosePassphrase(facts: {
  passphraseEnv: string | undefined;
  passphraseFileEnv: string | undefined;
  backendUrl: string;
  stack: string;
  /** The stack file already has an `encryptionsalt` (a passphrase stack was made before). */
  stackFileHasSalt: boolean;
  launcherFile: string;
  launcherFileExists: boolean;
}): PassphraseChoice {
  if (facts.passphraseEnv !== undefined) return { kind: "env", message: "secrets passphrase from PULUMI_CONFIG_PASSPHRASE" };
  if (facts.passphraseFileEnv !== undefined && facts.passphraseFileEnv !== "") {
    return { kind: "env", message: `secrets passphrase from PULUMI_CONFIG_PASSPHRASE_FILE (${facts.passphraseFileEnv})` };
  }
  if (backendKeepsSecrets(facts.backendUrl) && !facts.stackFileHasSalt) {
    return { kind: "service", message: `secrets encrypted by ${facts.backendUrl} (no passphrase needed)` };
  }
  if (facts.launcherFileExists) {
    return { kind: "file", path: facts.launcherFile, create: false, message: `secrets passphrase from ${facts.launcherFile}` };
  }
  if (facts.stackFileHasSalt) {
    return {
      kind: "blocked",
      message:
        `Pulumi.${facts.stack}.yaml holds secrets encrypted with a passphrase this machine does not have ` +
        `(its encryptionsalt), and neither PULUMI_CONFIG_PASSPHRASE nor PULUMI_CONFIG_PASSPHRASE_FILE is set. ` +
        `Fix: set PULUMI_CONFIG_PASSPHRASE_FILE to the file holding that passphrase, or, to start this stack's ` +
        `secrets over, delete the encryptionsalt line and every "secure:" value from Pulumi.${facts.stack}.yaml.`,
    };
  }
  return {
    kind: "file",
    path: facts.launcherFile,
    create: true,
    message: `created a random secrets passphrase in ${facts.launcherFile} (mode 0600, readable only by you; keep it with the stack's state)`,
  };
}

/** Not a key: the gateway starts with it but every model call fails, which is what a local try needs. */
export const DEV_PLACEHOLDER_KEY = "openclaw-dev-placeholder-not-a-real-key";

/**
 * The dev stack only: a placeholder model key (set as a Pulumi secret) for each active tenant that
 * has none, so the sample roster comes up without anyone's real key. Other stacks get nothing.
 */
export function devPlaceholderKeys(stack: string, activeTenants: readonly string[], keysInStackFile: readonly string[]): string[] {
  if (stack !== "dev") return [];
  const have = new Set(keysInStackFile);
  return activeTenants.filter((t) => !have.has(t)).sort();
}

/** Quotes one word for a POSIX shell, for the commands the launcher prints. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;
}

/**
 * The exact `pulumi` command line for this stack as the launcher ran it (same CLI, backend and
 * passphrase), for the hints it prints: reading tokens, setting real keys.
 */
export function pulumiCommandLine(args: readonly string[], ctx: { cli: string; backend: BackendChoice; passphrase: PassphraseChoice; stack: string }): string {
  const env: string[] = [];
  if (ctx.backend.kind === "local") env.push(`PULUMI_BACKEND_URL=${shellWord(ctx.backend.url)}`);
  if (ctx.passphrase.kind === "file") env.push(`PULUMI_CONFIG_PASSPHRASE_FILE=${shellWord(ctx.passphrase.path)}`);
  return [...env, shellWord(ctx.cli), ...args.map(shellWord), "--stack", shellWord(ctx.stack)].join(" ");
}

/**
 * The line that sets a tenant's real model key. The key is never part of it: with no value on the
 * command line, `pulumi config set` asks for it or reads standard input, so it stays out of shell
 * history and `ps`.
 */
export function setKeyLine(tenant: string, ctx: Parameters<typeof pulumiCommandLine>[1]): string {
  return `${pulumiCommandLine(["config", "set", "--secret", "--path", `apiKeys.${tenant}`], ctx)}\n  ${FROM_STDIN}`;
}
