/** The desired state from a stack's file and its roster folder, read the way `npm run check` does. */
import * as fs from "fs";
import * as path from "path";
import { checkHosting } from "../../../core/check";
import { readRosterDir } from "../../../core/load";
import { formatProblem } from "../../../core/problems";
import { DockerTarget } from "../../../core/dockerHost";
import { engineTarget, resolveServers } from "../../../core/servers";
import { DesiredTenant, ServerCapacity, capacityFromConfig, desiredFromPlan } from "../status";
import { readStackFile } from "../stackFile";

export interface DesiredState {
  stack: string;
  rosterDir: string;
  tenants: DesiredTenant[];
  capacity: Record<string, ServerCapacity>;
}

/** One server of a stack with a `servers` map: how to reach its engine and what the roster wants there. */
export interface StackServer {
  name: string;
  target: DockerTarget;
  tenants: DesiredTenant[];
}

type Checked = ReturnType<typeof checkHosting>;

function checkedStack(repoRoot: string, stack: string): { plan: NonNullable<Checked["plan"]>; config: NonNullable<Checked["config"]> } {
  const stackPath = path.join(repoRoot, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(stackPath)) throw new Error(`no stack file ${stackPath}`);
  const { raw } = readStackFile(fs.readFileSync(stackPath, "utf8"));
  const checked = checkHosting(raw, (dir) => readRosterDir(path.resolve(repoRoot, dir)));
  if (checked.plan === undefined || checked.config === undefined) {
    throw new Error(`stack ${stack}: ${checked.problems.map(formatProblem).join("; ")}`);
  }
  return { plan: checked.plan, config: checked.config };
}

/**
 * The servers of a stack with a `servers` map, each with its engine (ssh:// with its key, or this
 * machine's engine for `local: true`) and the roster tenants placed on it; undefined for a
 * single-server stack (status then asks DOCKER_HOST, as before).
 */
export function loadStackServers(repoRoot: string, stack: string, localSocket: DockerTarget): { servers: StackServer[]; capacity: Record<string, ServerCapacity>; rosterDir: string } | undefined {
  const { plan, config } = checkedStack(repoRoot, stack);
  if (config.servers === undefined) return undefined;
  const capacity: Record<string, ServerCapacity> = {};
  const servers = resolveServers(config).map((s): StackServer => {
    if (s.size !== undefined) capacity[s.name] = { ...s.size };
    const target = engineTarget(s, localSocket);
    const tenants = desiredFromPlan(plan, s.name).filter((t) => plan.tenants.find((p) => p.name === t.tenant)?.server === s.name);
    return { name: s.name, target, tenants };
  });
  return { servers, capacity, rosterDir: config.rosterDir };
}

/** Throws with the problems when the stack file or the roster cannot be read into a plan. */
export function loadDesired(repoRoot: string, stack: string, server: string): DesiredState {
  const checked = checkedStack(repoRoot, stack);
  return {
    stack,
    rosterDir: checked.config.rosterDir,
    tenants: desiredFromPlan(checked.plan, server),
    capacity: capacityFromConfig(checked.config, server),
  };
}
