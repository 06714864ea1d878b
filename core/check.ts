import type { RosterRead } from "./roster";
import { HostingPlan, planHosting } from "./plan";
import { Problem } from "./problems";
import { RosterFile, parseRoster } from "./roster";
import { StackConfig, parseStackConfig } from "./stackConfig";
import { plaintextSecretProblems } from "./secrets";
import { perTenantBurstWarning } from "./tls";

export interface HostingCheck {
  config?: StackConfig;
  plan?: HostingPlan;
  /** Every problem in config and roster together; empty means the inputs are good. */
  problems: Problem[];
  warnings: Problem[];
  /**
   * `npm run check` only (the program compares with the last deployment instead): perTenant with
   * more unpinned tenants than Let's Encrypt certifies in a week.
   */
  certificateBurst?: Problem;
}

/**
 * Config and roster checked as one: the program and `npm run check` both call this, so they can
 * never disagree about what is valid. `readRoster` is the only effect, passed in.
 */
export function checkHosting(
  rawConfig: Record<string, unknown>,
  readRoster: (rosterDir: string) => RosterFile[] | RosterRead,
  /** Secret config keys the caller found in plaintext (see plaintextSecretProblems). */
  plaintextSecrets: readonly string[] = [],
): HostingCheck {
  const secretProblems = plaintextSecretProblems(plaintextSecrets);
  const parsed = parseStackConfig(rawConfig);
  if (parsed.config === undefined) return { problems: [...secretProblems, ...parsed.problems], warnings: [] };
  const read = readRoster(parsed.config.rosterDir);
  const { files, problems: readProblems } = Array.isArray(read) ? { files: read, problems: [] } : read;
  const roster = parseRoster(files);
  const plan = planHosting(parsed.config, roster.tenants);
  // Offline, a tenant whose file has no pinned port is one not yet deployed (`npm run pin` pins after
  // a deployment): more than Let's Encrypt certifies per week is worth a warning before the apply.
  const burst = perTenantBurstWarning(parsed.config.tls.mode, roster.tenants.filter((t) => t.port === undefined).map((t) => t.name), "tenants without a pinned port, i.e. not deployed and pinned yet");
  return {
    config: parsed.config,
    plan,
    problems: [...secretProblems, ...readProblems, ...roster.problems, ...plan.problems],
    warnings: plan.warnings,
    certificateBurst: burst,
  };
}
