/** What `npm run move` decides before and after the copy, from the plan alone. No I/O. */
import { STOP_GRACE_SECONDS } from "../../core/gateway";
import { parseDocument } from "yaml";
import { HostingPlan, ServerPlan, TenantPlan } from "../../core/plan";
import { rosterTextAfter } from "../shared/tenantData";

export type MoveChoice = { tenant: TenantPlan; from: ServerPlan; to: ServerPlan } | { refused: string };

/** The tenant and both servers, or why the move is refused before any engine is touched. */
export function chooseMove(plan: HostingPlan, tenant: string, target: string): MoveChoice {
  const t = plan.tenants.find((x) => x.name === tenant);
  const from = plan.servers.find((s) => s.name === t?.server);
  const to = plan.servers.find((s) => s.name === target);
  if (t === undefined || from === undefined) return { refused: `tenant ${tenant} is not in the roster` };
  if (to === undefined) return { refused: `server ${target} is not in the stack's servers (${plan.servers.map((s) => s.name).join(", ")})` };
  if (to.name === from.name) return { refused: `tenant ${tenant} is already on server ${to.name}` };
  return { tenant: t, from, to };
}

/** The tenant's file after the move (see rosterTextAfter): `server: TO`, its `data:` as it was. */
export function rosterTextAfterMove(text: string, plan: HostingPlan, to: string): string {
  const tenant = parseDocument(text).get("name");
  return rosterTextAfter(text, plan, typeof tenant === "string" ? tenant : "", to);
}

export type { TargetVolumes } from "../shared/tenantData";
export { targetVolumes, tenantFileName } from "../shared/tenantData";

/**
 * How the move stops the old container: with the gateway's own stop grace (it drains for up to
 * 315 s on SIGTERM), so a stop never cuts a state write; the CLI call may take that long and more.
 */
export const STOP_FOR_MOVE = {
  args: (container: string): string[] => ["stop", "-t", String(STOP_GRACE_SECONDS), container],
  timeoutMs: (STOP_GRACE_SECONDS + 60) * 1000,
};

