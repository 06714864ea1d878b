/** The desired state: what the roster and stack config (through the plan) want on each server. */
import { HostingPlan } from "../../../core/plan";
import { StackConfig } from "../../../core/stackConfig";
import { DEFAULT_SERVER, DesiredTenant, ServerCapacity } from "./model";

export function desiredFromPlan(plan: HostingPlan, server = DEFAULT_SERVER): DesiredTenant[] {
  return plan.tenants.map((t) => ({ tenant: t.name, server, tier: t.tier, state: t.state, memoryMb: t.memoryMb, diskMb: t.diskMb }));
}

export function capacityFromConfig(config: StackConfig | undefined, server = DEFAULT_SERVER): Record<string, ServerCapacity> {
  return config?.server === undefined ? {} : { [server]: { ...config.server } };
}
