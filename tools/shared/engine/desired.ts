/** The desired state from a stack's file and its roster folder, read by the tools' one loader (as `npm run check` reads them). */
import { HostingInputError, formatProblem } from "../../../core/problems";
import { DockerTarget } from "../../../core/dockerHost";
import { engineTarget, resolveServers } from "../../../core/servers";
import { DesiredTenant, ServerCapacity, capacityFromConfig, desiredFromPlan } from "../status";
import { loadStack } from "../load";

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

type Checked = ReturnType<typeof loadStack>;

function checkedStack(repoRoot: string, stack: string): { plan: NonNullable<Checked["plan"]>; config: NonNullable<Checked["config"]> } {
  const checked = loadStack(stack, { repo: repoRoot });
  // A roster folder that cannot be read is an error here; problems in the plan are status's to show.
  if (checked.rosterProblems.length > 0) throw new HostingInputError(checked.rosterProblems);
  if (checked.plan === undefined || checked.config === undefined) {
    throw new Error(`stack ${stack}: ${checked.problems.map(formatProblem).join("; ")}`);
  }
  return { plan: checked.plan, config: checked.config };
}

export interface SeveralServers {
  servers: StackServer[];
  capacity: Record<string, ServerCapacity>;
  rosterDir: string;
}

/**
 * What status and the dashboard ask for a stack, from one read of it: with a `servers` map, every
 * server with its engine (ssh:// with its key, or this machine's engine for `local: true`) and the
 * roster tenants placed on it; otherwise the one engine (DOCKER_HOST) with the roster as `server`.
 * Throws with the problems when the stack file or the roster cannot be read into a plan.
 */
export function loadStackView(repoRoot: string, stack: string, localSocket: DockerTarget, server: string): { several: SeveralServers } | { one: DesiredState } {
  const { plan, config } = checkedStack(repoRoot, stack);
  if (config.servers === undefined) {
    return { one: { stack, rosterDir: config.rosterDir, tenants: desiredFromPlan(plan, server), capacity: capacityFromConfig(config, server) } };
  }
  const capacity: Record<string, ServerCapacity> = {};
  const servers = resolveServers(config).map((s): StackServer => {
    if (s.size !== undefined) capacity[s.name] = { ...s.size };
    const target = engineTarget(s, localSocket);
    const tenants = desiredFromPlan(plan, s.name).filter((t) => plan.tenants.find((p) => p.name === t.tenant)?.server === s.name);
    return { name: s.name, target, tenants };
  });
  return { several: { servers, capacity, rosterDir: config.rosterDir } };
}

/** A stack's servers (see loadStackView); undefined for a single-server stack. */
export function loadStackServers(repoRoot: string, stack: string, localSocket: DockerTarget): SeveralServers | undefined {
  const view = loadStackView(repoRoot, stack, localSocket, "local");
  return "several" in view ? view.several : undefined;
}

/** A stack's roster as one engine's desired state (see loadStackView). */
export function loadDesired(repoRoot: string, stack: string, server: string): DesiredState {
  const { plan, config } = checkedStack(repoRoot, stack);
  return { stack, rosterDir: config.rosterDir, tenants: desiredFromPlan(plan, server), capacity: capacityFromConfig(config, server) };
}
