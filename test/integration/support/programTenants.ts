/**
 * The one way a real-runtime suite gets tenant containers: the program's own Docker resources
 * (captured under Pulumi's mock engine by test/support/program.ts runProgram), translated field by
 * field (./docker.ts) and created on a real engine as the provider would. No suite writes a tenant
 * container by hand, so none can drift from the program's profile.
 *
 * A suite may depart from the program's inputs only through `TestDepartures`, each named and
 * explained where it is used; test/unit/machinery/suiteTenants.test.ts pins that nothing else
 * differs.
 */
import Docker from "dockerode";
import { CapturedResource, ProgramRun, TYPES } from "../../support/program";
import { TENANT_LABEL } from "../../../core/labels";
import { ownershipCommands, runServerCommand, withImage } from "./serverCommands";
import {
  TestHealthTiming, TranslatedContainer, translateContainer, translateNetwork, translateVolume, waitHealthy,
} from "./docker";

const MB = 1024 * 1024;

/** Which of the program's resources: one server's share (by its provider) and/or some tenants. */
export interface TenantSelection {
  /** The server whose provider registered them (`servers` map name). */
  server?: string;
  tenants?: readonly string[];
}

/**
 * TEST-ONLY departures from the program's container inputs, per tenant. Each exists because the
 * program's value would make a test slow or impossible on this machine, never to change what runs.
 */
export interface TestDepartures {
  /**
   * A smaller memory limit (MB) so a test can fill it (the program's tiers start at 1024 MB, its
   * memory floor): replaces the limit and swap, and the reservation at the program's own ratio.
   */
  memoryMb?: number;
  /** No health check: its exec'd node (about 30 MiB) would be charged to a deliberately full cgroup. */
  noHealthcheck?: boolean;
}

export interface SuiteTenantOptions {
  /** The image the containers run (the stand-in, or the real gateway). */
  image: string;
  /** Added to every object's labels so the suite's cleanup finds them (and nothing else). */
  extraLabels: Record<string, string>;
  /** TEST-ONLY health-check interval and start period (the program's 30 s would make every wait minutes). */
  healthTiming?: TestHealthTiming;
  /** TEST-ONLY departures for single tenants, by tenant name. */
  departures?: Readonly<Record<string, TestDepartures>>;
}

export interface SuiteTenant {
  tenant: string;
  /** The program's inputs for the container, exactly as registered. */
  inputs: Record<string, unknown>;
  container: TranslatedContainer;
}

export interface SuiteTenants {
  volumes: Docker.VolumeCreateOptions[];
  networks: Docker.NetworkCreateOptions[];
  /** Active tenants only: a suspended tenant has volumes and a network, no container. */
  containers: SuiteTenant[];
  /** The program's ownership steps of those tenants (the suite's image swapped in), run after the volumes. */
  ownership: Array<{ name: string; create: string }>;
}

/** Runs one ownership step's command where the tenant's engine is (default: this machine, DOCKER_HOST as set). */
export type OwnershipRunner = (step: { name: string; create: string }) => Promise<void>;

/**
 * The ownership steps of a remote server's tenants, as command.remote runs them: each step's command
 * over SSH on that server (`ssh` runs one command there and resolves with its exit code).
 */
export function overSsh(server: string, ssh: (command: string) => Promise<{ code: number | null; stderr: string }>): OwnershipRunner {
  return async (step) => {
    const r = await ssh(step.create);
    if (r.code !== 0) throw new Error(`${step.name} on ${server} exited ${r.code}: ${r.stderr}`);
  };
}

const runHere: OwnershipRunner = async (step) => {
  await runServerCommand({ name: step.name, inputs: { create: step.create } }, "create");
};

function labelOf(r: CapturedResource, label: string): string | undefined {
  const labels = r.inputs.labels as Array<{ label: string; value: string }> | undefined;
  return labels?.find((l) => l.label === label)?.value;
}

/** The program's inputs of `tenant`'s container, as registered. */
export function containerInputs(objects: SuiteTenants, tenant: string): Record<string, unknown> {
  const t = objects.containers.find((c) => c.tenant === tenant);
  if (t === undefined) throw new Error(`no container for ${tenant} in the program's run`);
  return t.inputs;
}

/** A label the program put on `tenant`'s container ("" when it put none). */
export function containerLabel(objects: SuiteTenants, tenant: string, label: string): string {
  return (containerInputs(objects, tenant).labels as Array<{ label: string; value: string }>).find((l) => l.label === label)?.value ?? "";
}

/** The program's volumes, networks and containers of the selection, in registration order. */
export function selectTenantResources(run: ProgramRun, selection: TenantSelection = {}): CapturedResource[] {
  const types: string[] = [TYPES.volume, TYPES.network, TYPES.container];
  return run.resources.filter((r) => {
    if (!types.includes(r.type)) return false;
    if (selection.server !== undefined && r.provider?.split("::")[3] !== `server-${selection.server}`) return false;
    const tenant = labelOf(r, TENANT_LABEL);
    return selection.tenants === undefined || (tenant !== undefined && selection.tenants.includes(tenant));
  });
}

/** Applies a tenant's TEST-ONLY departures to its translated container (a copy; the translation is untouched). */
export function applyDepartures(t: TranslatedContainer, d: TestDepartures | undefined): TranslatedContainer {
  if (d === undefined) return t;
  const host: Docker.HostConfig = { ...t.create.HostConfig };
  const create: Docker.ContainerCreateOptions = { ...t.create, HostConfig: host };
  let wait = t.wait;
  if (d.memoryMb !== undefined) {
    const ratio = (host.MemoryReservation ?? 0) / (host.Memory ?? 1);
    host.Memory = d.memoryMb * MB;
    host.MemorySwap = d.memoryMb * MB;
    host.MemoryReservation = Math.floor(d.memoryMb * ratio) * MB;
  }
  if (d.noHealthcheck === true) {
    create.Healthcheck = { Test: ["NONE"] };
    wait = { ...wait, healthy: false };
  }
  return { ...t, create, wait };
}

/**
 * The selection's objects, translated (an unknown input field throws here, before anything is
 * created), with the suite's image, labels, health timing and departures.
 */
export function suiteTenants(run: ProgramRun, options: SuiteTenantOptions, selection: TenantSelection = {}): SuiteTenants {
  const mine = selectTenantResources(run, selection);
  const departures = options.departures ?? {};
  for (const name of Object.keys(departures)) {
    if (!mine.some((r) => r.type === TYPES.container && labelOf(r, TENANT_LABEL) === name)) {
      throw new Error(`a departure names ${name}, which has no container in the program's run`);
    }
  }
  const active = mine.filter((r) => r.type === TYPES.container).map((r) => labelOf(r, TENANT_LABEL) ?? "");
  return {
    ownership: ownershipCommands(run, active).map((c) => ({ name: c.name, create: withImage(run, c, options.image) })),
    volumes: mine.filter((r) => r.type === TYPES.volume).map((r) => translateVolume(r.inputs, options.extraLabels)),
    networks: mine.filter((r) => r.type === TYPES.network).map((r) => translateNetwork(r.inputs, options.extraLabels)),
    containers: mine.filter((r) => r.type === TYPES.container).map((r) => {
      const tenant = labelOf(r, TENANT_LABEL) ?? String(r.inputs.name);
      const translated = translateContainer(r.inputs, { image: options.image, extraLabels: options.extraLabels, healthTiming: options.healthTiming });
      return { tenant, inputs: r.inputs, container: applyDepartures(translated, departures[tenant]) };
    }),
  };
}

/**
 * Creates the objects on `docker` as the provider would (volumes, networks, then each container,
 * started, after each tenant's ownership step); waits for each container with a health check to become healthy within `healthyWithinMs`.
 */
export async function createSuiteTenants(docker: Docker, objects: SuiteTenants, healthyWithinMs: number, runOwner: OwnershipRunner = runHere): Promise<void> {
  for (const v of objects.volumes) await docker.createVolume(v);
  for (const n of objects.networks) await docker.createNetwork(n);
  // As the program orders it: the volumes belong to each tenant's uid before its container starts.
  for (const step of objects.ownership) await runOwner(step);
  for (const { container } of objects.containers) await (await docker.createContainer(container.create)).start();
  await Promise.all(
    objects.containers
      .filter(({ container }) => container.wait.healthy)
      .map(({ container }) => waitHealthy(docker, container.name, Math.min(container.wait.timeoutSeconds * 1000, healthyWithinMs))),
  );
}
