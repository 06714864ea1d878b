import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { readRosterDir } from "../core/load";
import { HostingPlan, planHosting } from "../core/plan";
import { HostingInputError, Problem } from "../core/problems";
import { parseRoster } from "../core/roster";
import { StackConfig, parseStackConfig } from "../core/stackConfig";

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
  const parsed = parseStackConfig(rawStackConfig());
  if (parsed.config === undefined) throw new HostingInputError(parsed.problems);
  const config = parsed.config;
  const roster = parseRoster(readRosterDir(path.resolve(repoRoot, config.rosterDir)));
  const plan = planHosting(config, roster.tenants);
  const problems: Problem[] = [...roster.problems, ...plan.problems];
  if (problems.length > 0) throw new HostingInputError(problems);
  for (const warning of plan.warnings) pulumi.log.warn(`config ${warning.field}: ${warning.message}`);
  const apiKeys: Record<string, pulumi.Output<string>> = {};
  for (const [name, key] of Object.entries(config.apiKeys)) apiKeys[name] = pulumi.secret(key);
  return { config, plan, apiKeys };
}
