/** What `npm run move` decides before and after the copy, from the plan alone. No I/O. */
import { parseDocument } from "yaml";
import { HostingPlan, ServerPlan, TenantPlan } from "../../core/plan";

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

/**
 * The tenant's file after the move: `server: TO`, and a pinned port dropped when another tenant
 * already has it on the new server (the pool then chooses; `npm run pin` pins it again).
 */
export function rosterTextAfterMove(text: string, plan: HostingPlan, to: string): string {
  const doc = parseDocument(text);
  doc.set("server", to);
  const port = doc.get("port");
  if (port !== undefined && plan.tenants.some((x) => x.server === to && x.port === port)) doc.delete("port");
  return doc.toString();
}
