import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { checkHosting } from "../core/check";
import { readRosterDir } from "../core/load";
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
 * Reads and checks the stack config and the roster, and throws one error listing every problem
 * before a single resource is registered: a bad edit fails the preview and changes nothing.
 */
export function loadHostingInputs(repoRoot: string): HostingInputs {
  const checked = checkHosting(rawStackConfig(), (dir) => readRosterDir(path.resolve(repoRoot, dir)));
  if (checked.config === undefined || checked.plan === undefined || checked.problems.length > 0) {
    throw new HostingInputError(checked.problems);
  }
  for (const warning of checked.warnings) pulumi.log.warn(`config ${warning.field}: ${warning.message}`);
  const apiKeys: Record<string, pulumi.Output<string>> = {};
  for (const [name, key] of Object.entries(checked.config.apiKeys)) apiKeys[name] = pulumi.secret(key);
  return { config: checked.config, plan: checked.plan, apiKeys };
}
