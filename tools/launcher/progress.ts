// Readable progress from Pulumi's engine events, and the table printed at the end. Pure: the
// shell feeds events in and prints what comes out.
import { z } from "zod";

/** The parts of an engine event the launcher reads (a subset of automation's EngineEvent). */
export interface ProgressEvent {
  resourcePreEvent?: { metadata: { op: string; urn: string; type: string }; planning?: boolean };
  resOutputsEvent?: { metadata: { op: string; urn: string; type: string }; planning?: boolean };
  resOpFailedEvent?: { metadata: { op: string; urn: string; type: string } };
  diagnosticEvent?: { message: string; severity: string; urn?: string };
  summaryEvent?: { resourceChanges: Record<string, number | undefined>; durationSeconds: number };
}

const TENANT_TYPE = "openclaw:hosting:TenantInstance";
const VERB: Record<string, string> = {
  create: "creating", update: "updating", delete: "deleting", replace: "replacing", "create-replacement": "replacing",
  "delete-replaced": "removing the old", read: "reading", refresh: "refreshing",
};

/**
 * The tenant a resource belongs to: a TenantInstance's own name, or, for a resource inside one,
 * the longest known tenant name its own name starts with (children are named `<tenant>-...`;
 * tenant names may hold hyphens, so the known names decide).
 */
export function tenantOfUrn(urn: string, known: Iterable<string> = []): string | undefined {
  // urn:pulumi:STACK::PROJECT::parentType$childType::name
  const parts = urn.split("::");
  if (parts.length < 4) return undefined;
  const types = parts[2].split("$");
  const name = parts.slice(3).join("::");
  if (types[types.length - 1] === TENANT_TYPE) return name;
  if (!types.includes(TENANT_TYPE)) return undefined;
  return [...known].filter((t) => name.startsWith(`${t}-`)).sort((a, b) => b.length - a.length)[0];
}

export interface ProgressState {
  /** Resources whose step finished, by op. */
  done: Record<string, number>;
  started: number;
  /** Every TenantInstance the engine has mentioned, changed or not. */
  tenantsSeen: string[];
  failures: string[];
  errors: string[];
}

export function newProgress(): ProgressState {
  return { done: {}, started: 0, tenantsSeen: [], failures: [], errors: [] };
}

function counts(state: ProgressState): string {
  const total = Object.values(state.done).reduce((a, b) => a + b, 0);
  const parts = Object.entries(state.done)
    .filter(([op]) => op !== "same")
    .map(([op, n]) => `${n} ${op}`);
  const same = state.done.same ?? 0;
  return `${total} resource(s) done${parts.length > 0 ? `: ${parts.join(", ")}` : ""}${same > 0 ? `${parts.length > 0 ? "," : ":"} ${same} unchanged` : ""}`;
}

/**
 * Folds one event into the state; returns the lines to print (often none). Lines name the tenant
 * being worked on and keep a running count; raw engine logs are left out, errors are kept.
 */
export function onEngineEvent(state: ProgressState, event: ProgressEvent, preview = false): string[] {
  const lines: string[] = [];
  // A preview reports planned steps (what would happen); an update reports steps as they run.
  const verb = (op: string): string => (preview ? `would ${op}` : VERB[op] ?? op);
  if (event.resourcePreEvent !== undefined && (preview || event.resourcePreEvent.planning !== true)) {
    const { op, urn, type } = event.resourcePreEvent.metadata;
    state.started++;
    const tenant = tenantOfUrn(urn, state.tenantsSeen);
    if (type === TENANT_TYPE && tenant !== undefined && !state.tenantsSeen.includes(tenant)) state.tenantsSeen.push(tenant);
    if (op !== "same" && type === TENANT_TYPE && tenant !== undefined) {
      lines.push(`  tenant ${tenant}: ${verb(op)}`);
    } else if (op !== "same" && type === "docker:index/container:Container" && tenant !== undefined) {
      lines.push(`  tenant ${tenant}: ${verb(op)} its container${preview ? "" : " (waits until the gateway is healthy)"}`);
    } else if (op !== "same" && /^command:(local|remote):Command$/.test(type) && /caddyfile/.test(urn)) {
      lines.push(preview ? `  edge: would ${op} the Caddyfile (and reload Caddy)` : `  edge: installing the Caddyfile and reloading Caddy`);
    } else if (op !== "same" && /^command:(local|remote):Command$/.test(type) && /-routes$/.test(urn)) {
      lines.push(preview ? `  edge: would ${op} the routes (no reload)` : `  edge: writing the routes (no reload)`);
    }
  }
  if (event.resOutputsEvent !== undefined && !preview && event.resOutputsEvent.planning !== true) {
    const op = event.resOutputsEvent.metadata.op;
    state.done[op] = (state.done[op] ?? 0) + 1;
    const total = Object.values(state.done).reduce((a, b) => a + b, 0);
    if (op !== "same" || total % 10 === 0) lines.push(`  [${counts(state)}]`);
  }
  if (event.resOpFailedEvent !== undefined) {
    const { op, urn } = event.resOpFailedEvent.metadata;
    const tenant = tenantOfUrn(urn, state.tenantsSeen);
    const what = `${op} failed: ${urn.split("::").slice(-1)[0]}${tenant !== undefined ? ` (tenant ${tenant})` : ""}`;
    state.failures.push(what);
    lines.push(`  ! ${what}`);
  }
  if (event.diagnosticEvent !== undefined && event.diagnosticEvent.severity === "error") {
    const text = event.diagnosticEvent.message.trim();
    if (text !== "") {
      state.errors.push(text);
      lines.push(`  ! ${text}`);
    }
  } else if (event.diagnosticEvent !== undefined && event.diagnosticEvent.severity === "warning") {
    const text = event.diagnosticEvent.message.trim();
    if (text !== "") lines.push(`  warning: ${text}`);
  }
  if (event.summaryEvent !== undefined) {
    const changes = Object.entries(event.summaryEvent.resourceChanges)
      .filter(([, n]) => (n ?? 0) > 0)
      .map(([op, n]) => `${n} ${op}`)
      .join(", ");
    lines.push(`  done in ${Math.round(event.summaryEvent.durationSeconds)} s: ${changes === "" ? "no changes" : changes}`);
  }
  return lines;
}

/** The stack output `tenants` (index.ts): per tenant its url, port, tier and state. */
export const TenantsOutput = z.record(
  z.string(),
  z.looseObject({ url: z.string(), port: z.number(), tier: z.string(), state: z.string() }),
);
export type TenantsOutput = z.infer<typeof TenantsOutput>;

/**
 * The table printed after `up`. A suspended tenant's URL answers 503 by design; non-default HTTPS
 * ports are already part of each URL (the plan puts them there).
 */
export function renderTenantTable(tenants: TenantsOutput): string {
  const rows = [["TENANT", "URL", "PORT", "TIER", "STATE"]];
  for (const name of Object.keys(tenants).sort()) {
    const t = tenants[name];
    rows.push([name, t.url, String(t.port), t.tier, t.state === "active" ? "active" : `${t.state} (answers 503)`]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}

/** How an engine failure reads: the engine's own error lines, else the command's message. */
export function failureMessage(state: ProgressState, errorText: string): string {
  const fromEvents = [...new Set(state.errors)].filter((e) => !/^update failed$/i.test(e));
  if (fromEvents.length > 0) return fromEvents.join("\n");
  // A CommandError carries the whole stderr; its last lines say why.
  const lines = errorText.split("\n").map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
  return lines.slice(-12).join("\n");
}
