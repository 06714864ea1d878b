import { TenantPlan } from "../../core/plan";
import { PROVIDER_KEY_ENV } from "../../core/roster";

/** What a reviewer needs to see of one tenant in a roster diff. */
export interface TenantSummary {
  name: string;
  url: string;
  port: number;
  tier: TenantPlan["tier"];
  state: TenantPlan["state"];
  memoryMb: number;
  cpus: number;
}

/** One field of one tenant that differs between base and head; `env.NAME` for an environment variable. */
export interface FieldChange {
  field: string;
  before: string;
  after: string;
}

export interface TenantChange {
  name: string;
  before: TenantSummary;
  after: TenantSummary;
  changes: FieldChange[];
  /** What the change does to the running gateway, in an operator's words. */
  effect: string;
}

export interface RosterTotals {
  tenants: number;
  active: number;
  /** Memory limits and CPUs of the active tenants (suspended ones have no container). */
  memoryMb: number;
  cpus: number;
}

export interface RosterDiff {
  added: TenantSummary[];
  removed: TenantSummary[];
  changed: TenantChange[];
  unchanged: string[];
  totals: { base: RosterTotals; head: RosterTotals };
}

const PROVIDER_BY_ENV = new Map<string, string>(Object.entries(PROVIDER_KEY_ENV).map(([provider, env]) => [env, provider]));

function summary(t: TenantPlan): TenantSummary {
  return { name: t.name, url: t.url, port: t.port, tier: t.tier, state: t.state, memoryMb: t.memoryMb, cpus: t.cpus };
}

function totals(plans: readonly TenantPlan[]): RosterTotals {
  const active = plans.filter((t) => t.state === "active");
  return {
    tenants: plans.length,
    active: active.length,
    memoryMb: active.reduce((sum, t) => sum + t.memoryMb, 0),
    // Rounded to avoid 0.1 + 0.2 artefacts in a sum of tier sizes.
    cpus: Math.round(active.reduce((sum, t) => sum + t.cpus, 0) * 1000) / 1000,
  };
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Env changes by variable name only: values stay in the roster file's own diff. */
function envChanges(before: Record<string, string>, after: Record<string, string>): FieldChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.flatMap((key): FieldChange[] => {
    const b = before[key];
    const a = after[key];
    if (b === a) return [];
    return [{ field: `env.${key}`, before: b === undefined ? "(unset)" : "(set)", after: a === undefined ? "(unset)" : b === undefined ? "(set)" : "(changed)" }];
  });
}

function fieldChanges(before: TenantPlan, after: TenantPlan): FieldChange[] {
  const provider = (t: TenantPlan): string => PROVIDER_BY_ENV.get(t.apiKeyEnv) ?? t.apiKeyEnv;
  const scalar: [string, (t: TenantPlan) => string][] = [
    ["tier", (t) => t.tier],
    ["state", (t) => t.state],
    ["port", (t) => String(t.port)],
    ["image", (t) => t.image],
    ["provider", provider],
    ["memoryMb", (t) => String(t.memoryMb)],
    ["reservationMb", (t) => String(t.reservationMb)],
    ["cpus", (t) => String(t.cpus)],
    ["url", (t) => t.url],
  ];
  const changes = scalar.flatMap(([field, get]): FieldChange[] =>
    get(before) === get(after) ? [] : [{ field, before: get(before), after: get(after) }],
  );
  return [...changes, ...envChanges(before.env, after.env)];
}

function effectOf(before: TenantPlan, after: TenantPlan): string {
  if (before.state === "active" && after.state === "suspended") return "gateway container removed (suspended); token, network and volumes kept";
  if (before.state === "suspended" && after.state === "active") return "gateway container created (resumed) on the kept volumes";
  if (after.state === "suspended") return "suspended: no container; takes effect on resume";
  if (before.port !== after.port) return "gateway container and network recreated on the new port (brief outage; volumes kept)";
  return "gateway container recreated (brief restart; volumes kept)";
}

/**
 * The difference between two planned rosters (both planned with the same stack config): tenants
 * added, removed, and changed with every changed field. Pure; order of the inputs does not matter.
 */
export function diffRosters(base: readonly TenantPlan[], head: readonly TenantPlan[]): RosterDiff {
  const baseByName = new Map(base.map((t) => [t.name, t]));
  const headByName = new Map(head.map((t) => [t.name, t]));
  const added = head.filter((t) => !baseByName.has(t.name)).map(summary).sort(byName);
  const removed = base.filter((t) => !headByName.has(t.name)).map(summary).sort(byName);
  const changed: TenantChange[] = [];
  const unchanged: string[] = [];
  for (const after of [...head].sort(byName)) {
    const before = baseByName.get(after.name);
    if (before === undefined) continue;
    const changes = fieldChanges(before, after);
    if (changes.length === 0) unchanged.push(after.name);
    else changed.push({ name: after.name, before: summary(before), after: summary(after), changes, effect: effectOf(before, after) });
  }
  return { added, removed, changed, unchanged, totals: { base: totals(base), head: totals(head) } };
}

export function isEmptyDiff(diff: RosterDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
}

function arrow(before: string, after: string): string {
  return before === after ? after : `${before} → ${after}`;
}

function cpuText(cpus: number): string {
  return cpus.toFixed(1);
}

function countsLine(diff: RosterDiff): string {
  const { base, head } = diff.totals;
  return (
    `${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged.length} unchanged. ` +
    `Tenants ${arrow(String(base.tenants), String(head.tenants))}, active ${arrow(String(base.active), String(head.active))}, ` +
    `memory ${arrow(`${base.memoryMb} MB`, `${head.memoryMb} MB`)}, CPUs ${arrow(cpuText(base.cpus), cpuText(head.cpus))}.`
  );
}

function changeText(c: FieldChange): string {
  return c.field.startsWith("env.") ? `${c.field} ${c.before === "(unset)" ? "added" : c.after === "(unset)" ? "removed" : "changed"}` : `${c.field} ${c.before} → ${c.after}`;
}

const REMOVED_EFFECT = "container and network removed; volumes kept on the server";

/** Plain text for a terminal. */
export function formatDiffText(diff: RosterDiff, title: string): string {
  const lines = [title, countsLine(diff)];
  for (const t of diff.added) lines.push(`  + ${t.name}  ${t.url}  port ${t.port}  ${t.tier}  ${t.state}`);
  for (const t of diff.removed) lines.push(`  - ${t.name}  ${t.url}  port ${t.port}  ${t.tier}  ${t.state}  (${REMOVED_EFFECT})`);
  for (const c of diff.changed) {
    lines.push(`  ~ ${c.name}  ${c.after.url}  port ${arrow(String(c.before.port), String(c.after.port))}  ${arrow(c.before.tier, c.after.tier)}  ${arrow(c.before.state, c.after.state)}`);
    lines.push(`      ${c.changes.map(changeText).join("; ")}`);
    lines.push(`      effect: ${c.effect}`);
  }
  if (isEmptyDiff(diff)) lines.push("No tenant changes.");
  return lines.join("\n");
}

/** Markdown cells must not break the table. */
function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** A Markdown section for a pull-request comment or `$GITHUB_STEP_SUMMARY`. */
export function formatDiffMarkdown(diff: RosterDiff, title: string): string {
  const lines = [`### ${cell(title)}`, "", countsLine(diff), ""];
  if (isEmptyDiff(diff)) {
    lines.push("No tenant changes.");
    return lines.join("\n");
  }
  lines.push("| change | tenant | URL | port | tier | state | details |", "|---|---|---|---:|---|---|---|");
  const row = (cells: string[]): string => `| ${cells.map(cell).join(" | ")} |`;
  for (const t of diff.added) lines.push(row(["added", t.name, t.url, String(t.port), t.tier, t.state, t.state === "active" ? "new gateway" : "token, network and volumes only"]));
  for (const t of diff.removed) lines.push(row(["removed", t.name, t.url, String(t.port), t.tier, t.state, REMOVED_EFFECT]));
  for (const c of diff.changed) {
    lines.push(
      row([
        "changed",
        c.name,
        c.after.url,
        arrow(String(c.before.port), String(c.after.port)),
        arrow(c.before.tier, c.after.tier),
        arrow(c.before.state, c.after.state),
        `${c.changes.map(changeText).join("; ")}. Effect: ${c.effect}`,
      ]),
    );
  }
  return lines.join("\n");
}
