import * as pulumi from "@pulumi/pulumi";
import { checkHosting } from "../core/check";
import { readRoster } from "./rosterFolder";
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
 * When Pulumi did not say which keys are secret, nothing is reported (`npm run check` still reads
 * the stack file itself, leaf by leaf).
 */
export function plaintextSecretKeys(): string[] {
  const secretKeys = configSecretKeys();
  if (secretKeys === undefined) return [];
  const all = pulumi.runtime.allConfig();
  const keys: string[] = [];
  const apiKeys = `${pulumi.getProject()}:apiKeys`;
  if (all[apiKeys] !== undefined && !secretKeys.has(apiKeys)) {
    try {
      const parsed: unknown = JSON.parse(all[apiKeys]);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) keys.push(...Object.keys(parsed).map((name) => `apiKeys.${name}`));
    } catch {
      keys.push("apiKeys");
    }
  }
  if (all["cloudflare:apiToken"] !== undefined && !secretKeys.has("cloudflare:apiToken")) keys.push("cloudflare:apiToken");
  return keys;
}

/**
 * The config keys Pulumi holds as secrets: the language host passes them in PULUMI_CONFIG_SECRET_KEYS,
 * kept in the SDK's run state (internal in @pulumi/pulumi 3.x, so not in its type declarations; the
 * mock engine's setAllConfig fills the same place). Undefined when Pulumi did not pass the list.
 */
function configSecretKeys(): Set<string> | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const state = require("@pulumi/pulumi/runtime/state") as { getStore?: () => { config?: Record<string, string | undefined> } };
    const list = state.getStore?.().config?.PULUMI_CONFIG_SECRET_KEYS;
    if (list === undefined || list === "") return undefined;
    const parsed: unknown = JSON.parse(list);
    return Array.isArray(parsed) ? new Set(parsed.map(String)) : undefined;
  } catch {
    return undefined;
  }
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
