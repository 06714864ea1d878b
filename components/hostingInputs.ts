import * as pulumi from "@pulumi/pulumi";
import { checkHosting } from "../core/check";
import { readRoster } from "../core/load";
import { HostingPlan } from "../core/plan";
import { HostingInputError } from "../core/problems";
import { StackConfig } from "../core/stackConfig";

export interface HostingInputs {
  config: StackConfig;
  plan: HostingPlan;
  /** Each tenant's API key, wrapped as a Pulumi secret the moment it is read. */
  apiKeys: Record<string, pulumi.Output<string>>;
}

/** This stack's config without the `project:` prefix, as Pulumi hands it to the program. */
export function rawStackConfig(): Record<string, string> {
  const prefix = `${pulumi.getProject()}:`;
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
  }
  return raw;
}

/**
 * Secret config keys this stack holds in plaintext. Pulumi marks a top-level key secret when any
 * part of it was set with --secret, so a plaintext apiKeys here means every key in it is plaintext.
 */
export function plaintextSecretKeys(): string[] {
  const isConfigSecret = configSecretTest();
  if (isConfigSecret === undefined) return [];
  const all = pulumi.runtime.allConfig();
  const keys: string[] = [];
  const apiKeys = `${pulumi.getProject()}:apiKeys`;
  if (all[apiKeys] !== undefined && !isConfigSecret(apiKeys)) {
    let names: string[] = [];
    try {
      const parsed: unknown = JSON.parse(all[apiKeys]);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) names = Object.keys(parsed);
    } catch {
      names = ["(all)"];
    }
    keys.push(...names.map((name) => (name === "(all)" ? "apiKeys" : `apiKeys.${name}`)));
  }
  if (all["cloudflare:apiToken"] !== undefined && !isConfigSecret("cloudflare:apiToken")) keys.push("cloudflare:apiToken");
  return keys;
}

/**
 * Pulumi's own test for a secret config key: in runtime/config.js of @pulumi/pulumi 3.x, marked
 * internal, so not in the type declarations. Without it (another SDK version) the check is skipped.
 */
function configSecretTest(): ((key: string) => boolean) | undefined {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const config = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: unknown };
  return typeof config.isConfigSecret === "function" ? (config.isConfigSecret as (key: string) => boolean) : undefined;
}

/**
 * Reads and checks the stack config and the roster, and throws one error listing every problem
 * before a single resource is registered: a bad edit fails the preview and changes nothing.
 */
export function loadHostingInputs(repoRoot: string): HostingInputs {
  const checked = checkHosting(rawStackConfig(), (dir) => readRoster(repoRoot, dir), plaintextSecretKeys());
  if (checked.config === undefined || checked.plan === undefined || checked.problems.length > 0) {
    throw new HostingInputError(checked.problems);
  }
  for (const warning of checked.warnings) pulumi.log.warn(`config ${warning.field}: ${warning.message}`);
  const apiKeys: Record<string, pulumi.Output<string>> = {};
  for (const [name, key] of Object.entries(checked.config.apiKeys)) apiKeys[name] = pulumi.secret(key);
  return { config: checked.config, plan: checked.plan, apiKeys };
}
