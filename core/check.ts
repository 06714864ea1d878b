import { HostingPlan, planHosting } from "./plan";
import { Problem } from "./problems";
import { RosterFile, parseRoster } from "./roster";
import { StackConfig, parseStackConfig } from "./stackConfig";

export interface HostingCheck {
  config?: StackConfig;
  plan?: HostingPlan;
  /** Every problem in config and roster together; empty means the inputs are good. */
  problems: Problem[];
  warnings: Problem[];
}

/**
 * Config and roster checked as one: the program and `npm run check` both call this, so they can
 * never disagree about what is valid. `readRoster` is the only effect, passed in.
 */
export function checkHosting(rawConfig: Record<string, unknown>, readRoster: (rosterDir: string) => RosterFile[]): HostingCheck {
  const parsed = parseStackConfig(rawConfig);
  if (parsed.config === undefined) return { problems: parsed.problems, warnings: [] };
  const roster = parseRoster(readRoster(parsed.config.rosterDir));
  const plan = planHosting(parsed.config, roster.tenants);
  return { config: parsed.config, plan, problems: [...roster.problems, ...plan.problems], warnings: plan.warnings };
}
