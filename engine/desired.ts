/** The desired state from a stack's file and its roster folder, read the way `npm run check` does. */
import * as fs from "fs";
import * as path from "path";
import { checkHosting } from "../core/check";
import { readRosterDir } from "../core/load";
import { formatProblem } from "../core/problems";
import { DesiredTenant, ServerCapacity, capacityFromConfig, desiredFromPlan } from "../core/status";
import { readStackFile } from "../core/stackFile";

export interface DesiredState {
  stack: string;
  rosterDir: string;
  tenants: DesiredTenant[];
  capacity: Record<string, ServerCapacity>;
}

/** Throws with the problems when the stack file or the roster cannot be read into a plan. */
export function loadDesired(repoRoot: string, stack: string, server: string): DesiredState {
  const stackPath = path.join(repoRoot, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(stackPath)) throw new Error(`no stack file ${stackPath}`);
  const { raw } = readStackFile(fs.readFileSync(stackPath, "utf8"));
  const checked = checkHosting(raw, (dir) => readRosterDir(path.resolve(repoRoot, dir)));
  if (checked.plan === undefined || checked.config === undefined) {
    throw new Error(`stack ${stack}: ${checked.problems.map(formatProblem).join("; ")}`);
  }
  return {
    stack,
    rosterDir: checked.config.rosterDir,
    tenants: desiredFromPlan(checked.plan, server),
    capacity: capacityFromConfig(checked.config, server),
  };
}
