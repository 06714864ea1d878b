/**
 * Replays the program's per-tenant server commands (the process limits) as local.Command runs them,
 * so a suite that creates the program's containers on the real engine also creates, and afterwards
 * removes, the limited parent cgroups those containers run under.
 */
import { CapturedResource, ProgramRun, TYPES, ofType } from "../../support/program";
import { runCommand } from "./caddy";

const applied = new Map<string, CapturedResource>();

export function processLimitCommands(run: ProgramRun): CapturedResource[] {
  return ofType(run, TYPES.localCommand).filter((c) => c.name.endsWith("-process-limit"));
}

/** Runs one captured local.Command as the provider would (interpreter, command, stdin). */
export async function runServerCommand(c: Pick<CapturedResource, "name" | "inputs">, which: "create" | "delete"): Promise<string> {
  const interpreter = (c.inputs.interpreter as string[] | undefined) ?? ["/bin/bash", "-c"];
  const stdin = c.inputs.stdin === undefined ? "" : String(c.inputs.stdin);
  const r = await runCommand(interpreter, String(c.inputs[which]), stdin, process.env, 60_000);
  if (r.exitCode !== 0) throw new Error(`${c.name} ${which} exited ${r.exitCode}: ${r.stderr}`);
  return r.stdout + r.stderr;
}

/** Before the containers, as the program orders it (each container depends on its limit). */
export async function applyProcessLimits(run: ProgramRun): Promise<void> {
  for (const c of processLimitCommands(run)) {
    await runServerCommand(c, "create");
    applied.set(c.name, c);
  }
}

/** After the containers are gone: every limit this process applied, via the program's own delete. */
export async function removeProcessLimits(): Promise<void> {
  for (const c of applied.values()) await runServerCommand(c, "delete");
  applied.clear();
}

/** The program's ownership steps (each tenant's `-owner` command, local or remote), optionally of some tenants only. */
export function ownershipCommands(run: ProgramRun, tenants?: readonly string[]): CapturedResource[] {
  return [...ofType(run, TYPES.localCommand), ...ofType(run, TYPES.remoteCommand)].filter((c) => c.name.endsWith("-owner") && (tenants === undefined || tenants.some((t) => c.name === `${t}-owner`)));
}

/**
 * TEST-ONLY: an ownership step's command with the suite's image in place of the program's (the
 * same swap the container translation makes): the step runs in the tenant's own image.
 */
export function withImage(run: ProgramRun, c: Pick<CapturedResource, "name" | "inputs">, image: string): string {
  const tenant = c.name.slice(0, -"-owner".length);
  const programImage = String(ofType(run, TYPES.container).find((x) => x.inputs.name === `openclaw-${tenant}`)?.inputs.image);
  const command = String(c.inputs.create);
  if (!command.includes(` '${programImage}' `)) throw new Error(`${c.name}: the program's image ${programImage} is not in its command`);
  return command.split(` '${programImage}' `).join(` '${image}' `);
}

/** Runs the program's ownership steps (after the volumes exist, before the containers, as the program orders them). */
export async function applyOwnership(run: ProgramRun, image: string, tenants?: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const c of ownershipCommands(run, tenants)) out.push(await runServerCommand({ name: c.name, inputs: { ...c.inputs, create: withImage(run, c, image) } }, "create"));
  return out;
}
