import * as fs from "fs";
import * as path from "path";
import { sshGateCommand } from "../../core/dockerHost";
import { providerSshGate } from "../../program/providerSsh";
import { writableTmpfs } from "../../core/gateway";
import { allocateUids, ownerOf } from "../../core/tenantIdentity";
import { CapturedResource, runProgram } from "../support/program";
import {
  SERVERS_CONFIG, SERVERS_PREVIOUS_OUTPUTS, UPGRADE_CONFIGS, UPGRADE_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS,
} from "./fixtures/upgradeConfigs";

/**
 * Two recordings of what older versions registered, with test/support/program.ts's capture:
 * - fixtures/upgrade-baseline.json: commit 61a95ae, the last one before `servers` existed (the
 *   single-server stacks `remote` and `local`);
 * - fixtures/upgrade-baseline-main.json: main at a4f37b7, the last one before the Server component
 *   (the same two stacks and `servers`, three servers in the `servers` map).
 * An upgrade replaces or re-creates a resource exactly when its URN (or an alias of it), its
 * provider or a replacing input changes, so each recorded resource must be found again, by URN or
 * by alias, with the same provider, inputs and options.
 */
interface Recorded {
  urn: string;
  provider?: string;
  inputs: Record<string, unknown>;
  options: CapturedResource["options"];
}
/**
 * Deliberate changes since the recordings, applied to them here so the recordings stay what the
 * older versions registered. Each is an option or input that replaces nothing on upgrade:
 * - every gateway container gains replaceOnChanges (healthcheck, tmpfs, init; see
 *   providerGaps.test.ts). The option is not sent to the provider and is no input: upgrading shows
 *   no diff for it and replaces nothing. It only changes how a LATER change of one of those fields
 *   is applied (a replacement, instead of an update the provider never carries out).
 * The capture did not record replaceOnChanges when these were made. @pulumi/command 1.2.1 (the
 * same pin then and now) adds `triggers[*]` to every Command in its own constructor, so that one
 * is in both versions and only newly seen, not a change.
 */
const SDK_COMMAND = { replaceOnChanges: ["triggers[*]"] };
const DELIBERATE_OPTIONS: Record<string, Partial<Recorded["options"]>> = {
  "docker:index/container:Container": { replaceOnChanges: ["healthcheck", "tmpfs", "init"] },
  "command:remote:Command": SDK_COMMAND,
  "command:local:Command": SDK_COMMAND,
  "command:remote:CopyToRemote": SDK_COMMAND,
};
/**
 * - every ssh:// Docker provider's sshOpts gains ssh multiplexing (one shared connection per server;
 *   core/dockerHost.ts providerSshOpts). A provider input, so upgrading shows the provider as
 *   updated; it replaces nothing: @pulumi/docker's DiffConfig is the terraform bridge's, which
 *   replaces a provider (and so every resource it manages) only for config properties marked
 *   ForcesProviderReplace (pulumi/pulumi-terraform-bridge#1683), and pulumi-docker's
 *   provider/resources.go marks none (its Config overrides name only `host` and `registry_auth`).
 *   The resources keep their state and the next Docker call uses the new options.
 * - and then the gate (program/sshGate.js) as its ProxyCommand, so the calls the shared connection
 *   cannot carry wait for a connection slot instead of being dropped by sshd (issue 21). The same
 *   kind of provider update.
 */
const PROVIDER_MUX_OPTS = [
  "-o", "ControlMaster=auto", "-o", "ControlPath=~/.ssh/openclaw-mux/%C", "-o", "ControlPersist=60",
  "-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3",
  "-o", `ProxyCommand=${sshGateCommand(providerSshGate())}`, "-o", "ConnectTimeout=930",
];
/**
 * - every gateway container is REPLACED once, on purpose (issue 19, item 2, each tenant its own host
 *   identity): it runs as the tenant's own uid and gid instead of the shared 1000 (`user`, the cache
 *   tmpfs's uid/gid), sets HOME itself (a uid without a passwd entry), and mounts its volumes with
 *   noCopy (`volumes` becomes `mounts`), and it waits for one more dependency, the tenant's ownership
 *   step (a new command, below), which stops the old container and re-owns its files from 1000
 *   before the new one starts. The volumes themselves, and so the data, are untouched (kept by URN,
 *   same inputs): test/integration/gateway proves the switch keeps every byte on the real engine.
 */
function ownIdentity(inputs: Record<string, unknown>): Record<string, unknown> {
  const tenant = String(inputs.name).replace(/^openclaw-/, "");
  const uid = allocateUids([{ name: tenant }]).uids.get(tenant) as number;
  const { volumes, ...rest } = inputs as { volumes: Array<{ volumeName: string; containerPath: string }> } & Record<string, unknown>;
  const envs = (inputs.envs as string[]).flatMap((e) => (e.startsWith("NODE_OPTIONS=") ? [e, "HOME=/home/node"] : [e]));
  return {
    ...rest, user: ownerOf(uid), tmpfs: writableTmpfs(uid), envs,
    mounts: volumes.map((v) => ({ type: "volume", source: v.volumeName, target: v.containerPath, volumeOptions: { noCopy: true } })),
  };
}
const DELIBERATE_INPUTS: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>> = {
  "pulumi:providers:docker": (inputs) =>
    typeof inputs.sshOpts !== "string" ? inputs : { ...inputs, sshOpts: JSON.stringify([...(JSON.parse(inputs.sshOpts) as string[]), ...PROVIDER_MUX_OPTS]) },
  "docker:index/container:Container": ownIdentity,
};
/** One more dependency of each gateway container: its tenant's ownership step (see ownIdentity). */
const DELIBERATE_DEPENDENCIES: Record<string, number> = { "docker:index/container:Container": 1 };
function withDeliberateChanges(r: Recorded): Recorded {
  const type = r.urn.split("::")[2].split("$").pop() as string;
  const options = { ...r.options, ...(DELIBERATE_OPTIONS[type] ?? {}) };
  if (DELIBERATE_DEPENDENCIES[type] !== undefined) options.dependsOn = Number(options.dependsOn ?? 0) + DELIBERATE_DEPENDENCIES[type];
  return { ...r, inputs: (DELIBERATE_INPUTS[type] ?? ((i) => i))(r.inputs), options };
}
const baseline = (file: string) => {
  const recorded = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", file), "utf8")) as Record<string, Recorded[]>;
  return Object.fromEntries(Object.entries(recorded).map(([stack, rs]) => [stack, rs.map(withDeliberateChanges)]));
};
const BEFORE_SERVERS = baseline("upgrade-baseline.json");
const MAIN = baseline("upgrade-baseline-main.json");

const URN_PREFIX = "urn:pulumi:test::openclaw-hosting::";
const STACK = "pulumi:pulumi:Stack";

/**
 * The mock engine writes a URN's type as `<parent's own type>$<type>`, with the stack in front of a
 * top-level resource; the real engine writes every ancestor's type below the stack
 * (`Server$Edge$command:local:Command`). Re-parenting shows only in the real form, so these tests
 * compare real URNs, rebuilt from each resource's parent chain.
 */
function realUrns(resources: CapturedResource[]): Map<CapturedResource, string> {
  const byMockUrn = new Map(resources.map((r) => [r.urn, r]));
  const qualified = (r: CapturedResource): string[] => {
    const parent = r.parentUrn === undefined ? undefined : byMockUrn.get(r.parentUrn);
    return parent === undefined || parent.type === STACK ? [r.type] : [...qualified(parent), r.type];
  };
  return new Map(resources.map((r) => [r, `${URN_PREFIX}${qualified(r).join("$")}::${r.name}`]));
}

/** Main's resources are at most a component's children, so its mock URNs become real by dropping the stack. */
function realBaselineUrn(mockUrn: string): string {
  const real = mockUrn.replace(`${URN_PREFIX}${STACK}$`, URN_PREFIX);
  expect(real.slice(URN_PREFIX.length).split("::")[0].split("$").length).toBeLessThanOrEqual(2);
  return real;
}

const typeOfUrn = (urn: string): string => urn.slice(URN_PREFIX.length).split("::")[0];

/**
 * Every URN the engine will take as this resource's old one: its own `aliases` and, as the engine
 * does for children, each alias of its parent with the resource's own type and name below it.
 */
function aliasUrns(resources: CapturedResource[], real: Map<CapturedResource, string>): Map<CapturedResource, Set<string>> {
  const byMockUrn = new Map(resources.map((r) => [r.urn, r]));
  const out = new Map<CapturedResource, Set<string>>();
  const of = (r: CapturedResource): Set<string> => {
    const known = out.get(r);
    if (known !== undefined) return known;
    const urns = new Set<string>();
    const parent = r.parentUrn === undefined ? undefined : byMockUrn.get(r.parentUrn);
    for (const a of r.aliases ?? []) {
      if (typeof a === "string") urns.add(a);
      else {
        const aliasParent = a.parentUrn === undefined ? parent : a.parentUrn === null ? undefined : byMockUrn.get(a.parentUrn);
        const below = aliasParent === undefined || aliasParent.type === STACK ? "" : `${typeOfUrn(real.get(aliasParent) as string)}$`;
        urns.add(`${URN_PREFIX}${below}${a.type ?? r.type}::${a.name ?? r.name}`);
      }
    }
    if (parent !== undefined && parent.type !== STACK) for (const p of of(parent)) urns.add(`${URN_PREFIX}${typeOfUrn(p)}$${r.type}::${r.name}`);
    out.set(r, urns);
    return urns;
  };
  for (const r of resources) of(r);
  return out;
}

/**
 * Inputs this version changes on purpose, each an update in place, never a replacement (a command's
 * `create`, `delete` and `stdin` update it; only `triggers` would replace it, and they are still
 * compared), with why:
 * - the egress guard's command (issue 19, item 6): its script now checks Docker's firewall backend
 *   and covers IPv6, and its rules (`-4`/`-6` lines, only the tenant's own bridge exempt) changed;
 *   `apply` takes the server's name. The update re-runs `apply`, which reloads the chains in place.
 * - the edge's Caddyfile command (issue 22, item 1): the Caddyfile names no tenant any more (one
 *   `*.<domain>` site routed from files), so its stdin changes once; the update re-runs the install
 *   script, which reloads Caddy this one time. It now runs after the new routes command
 *   (dependsOn), an ordering option that replaces nothing.
 */
const EDGE_CADDYFILE = /\$command:(local|remote):Command::edge(-[a-z0-9-]+)?-caddyfile$/;
const UPDATED_IN_PLACE: ReadonlyArray<{ urn: RegExp; inputs: readonly string[] }> = [
  { urn: /\$command:(local|remote):Command::egress-guard(-[a-z0-9-]+)?-rules$/, inputs: ["create", "delete", "stdin"] },
  { urn: EDGE_CADDYFILE, inputs: ["stdin"] },
];

function withoutUpdatedInputs(urn: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const allowed = UPDATED_IN_PLACE.find((u) => u.urn.test(urn))?.inputs ?? [];
  return Object.fromEntries(Object.entries(inputs).filter(([key]) => !allowed.includes(key)));
}

interface Upgrade {
  /** Old URNs the new program registers again under the same URN. */
  kept: string[];
  /** Old URN -> the new URN that names it in its aliases. */
  aliased: Record<string, string>;
  /** New URNs that are no old resource: only components that create nothing themselves. */
  added: string[];
}

/**
 * Inputs an upgrade changes on purpose, each an update of a command in place (pulumi-command reruns
 * its create; every server script is idempotent), never a replacement:
 * - a remote command's connection gains the server's host key (issue 19, SSH), where the older
 *   version accepted any server;
 * - a server script's inlined text (server-scripts/*.sh) is the current file's. What the command
 *   runs it with (its arguments) and its stdin are still compared.
 */
const INLINED_SCRIPT = /<<'([A-Z_]+)'\n[\s\S]*?\n\1\n/g;
function withoutIntendedChanges(inputs: Record<string, unknown>, before: Record<string, unknown>): [Record<string, unknown>, Record<string, unknown>] {
  const scriptless = (i: Record<string, unknown>) => Object.fromEntries(Object.entries(i).map(([k, v]) => [k, (k === "create" || k === "delete") && typeof v === "string" ? v.replace(INLINED_SCRIPT, "<<'$1' (script) $1\n") : v]));
  const connection = inputs.connection as Record<string, unknown> | undefined;
  if (connection === undefined || (before.connection as Record<string, unknown> | undefined)?.hostKey !== undefined) return [scriptless(inputs), scriptless(before)];
  expect(typeof connection.hostKey === "string" ? "host key pinned" : "no host key").toBe("host key pinned");
  const { hostKey: _pinned, ...rest } = connection;
  return [scriptless({ ...inputs, connection: rest }), scriptless(before)];
}

/** Matches a recorded older deployment against this version's run; fails on anything lost or changed. */
function upgrade(before: Recorded[], resources: CapturedResource[]): Upgrade {
  const now = resources.filter((r) => r.type !== STACK);
  const real = realUrns(resources);
  const aliases = aliasUrns(resources, real);
  const byUrn = new Map(now.map((r) => [real.get(r) as string, r]));
  const aliasOwner = new Map<string, CapturedResource>();
  for (const r of now) {
    for (const a of aliases.get(r) ?? []) {
      // An alias may not name a resource that is still registered under it, nor two resources.
      expect(`${a} registered: ${byUrn.has(a)}`).toBe(`${a} registered: false`);
      expect(aliasOwner.has(a) ? `${a} claimed twice` : "ok").toBe("ok");
      aliasOwner.set(a, r);
    }
  }
  const result: Upgrade = { kept: [], aliased: {}, added: [] };
  const matched = new Set<CapturedResource>();
  for (const was of before) {
    const urn = realBaselineUrn(was.urn);
    const r = byUrn.get(urn) ?? aliasOwner.get(urn);
    expect(r === undefined ? `lost ${urn}` : "found").toBe("found");
    if (r === undefined) continue;
    matched.add(r);
    if (byUrn.get(urn) === r) result.kept.push(urn);
    else result.aliased[urn] = real.get(r) as string;
    const { parentName, ...options } = r.options;
    const { parentName: parentBefore, ...optionsBefore } = was.options;
    if (EDGE_CADDYFILE.test(urn)) {
      expect(options.dependsOn).toBe(1); // the edge's routes command, new in this version
      options.dependsOn = optionsBefore.dependsOn;
    }
    const [inputs, inputsBefore] = withoutIntendedChanges(withoutUpdatedInputs(urn, r.inputs), withoutUpdatedInputs(urn, was.inputs));
    const got = JSON.parse(JSON.stringify({ urn, provider: r.provider, inputs, options })) as unknown;
    expect(got).toEqual({ urn, provider: was.provider, inputs: inputsBefore, options: optionsBefore });
    // Only what was top-level and moved under a Server has a new parent; its children keep theirs.
    expect(parentName).toBe(byUrn.get(urn) !== r && parentBefore === undefined ? "Server" : parentBefore);
  }
  result.added = now.filter((r) => !matched.has(r)).map((r) => real.get(r) as string).sort();
  return result;
}

const SERVER_COMPONENT = (name: string) => `${URN_PREFIX}openclaw:hosting:Server::${name}`;
/**
 * New with each Server since the recordings: its certificate timer (components/certificates.ts), a
 * new command that replaces nothing (in perTenant mode the edge does not wait for it).
 */
const CERTIFICATES = (name: string, command: "local" | "remote") => [
  `${URN_PREFIX}openclaw:hosting:Server$openclaw:hosting:Certificates$command:${command}:Command::${name}-certificates-renewal`,
  `${URN_PREFIX}openclaw:hosting:Server$openclaw:hosting:Certificates::${name}-certificates`,
];
/** What moved under each Server: its egress guard and edge, and their commands with them. */
function movedUnderServer(guard: string, edge: string, command: "local" | "remote"): Record<string, string> {
  const under = `openclaw:hosting:Server`;
  return {
    [`${URN_PREFIX}openclaw:hosting:EgressGuard::${guard}`]: `${URN_PREFIX}${under}$openclaw:hosting:EgressGuard::${guard}`,
    [`${URN_PREFIX}openclaw:hosting:EgressGuard$command:${command}:Command::${guard}-rules`]:
      `${URN_PREFIX}${under}$openclaw:hosting:EgressGuard$command:${command}:Command::${guard}-rules`,
    [`${URN_PREFIX}openclaw:hosting:Edge::${edge}`]: `${URN_PREFIX}${under}$openclaw:hosting:Edge::${edge}`,
    [`${URN_PREFIX}openclaw:hosting:Edge$command:${command}:Command::${edge}-caddyfile`]:
      `${URN_PREFIX}${under}$openclaw:hosting:Edge$command:${command}:Command::${edge}-caddyfile`,
  };
}

/** The edge's routes command (issue 22): new in this version, created on upgrade; it replaces nothing. */
const EDGE_ROUTES = (edge: string, command: "local" | "remote") =>
  `${URN_PREFIX}openclaw:hosting:Server$openclaw:hosting:Edge$command:${command}:Command::${edge}-routes`;

/** The same stack written as servers.default, the one way a server is described now. */
function asServersMap(legacy: Record<string, unknown>): Record<string, unknown> {
  const { ssh, serverIp, server, portPool, tenantNetworks, ...rest } = legacy as Record<string, Record<string, unknown> | undefined>;
  const size = (server ?? { memoryMb: 8192, cpus: 4 }) as Record<string, unknown>;
  return {
    ...rest,
    servers: { default: { ...(ssh !== undefined ? { ssh } : { local: true }), ...(serverIp !== undefined ? { publicIp: serverIp } : {}), ...size, portPool, tenantNetworks } },
  };
}

const COMMAND_KIND: Record<string, "local" | "remote"> = { remote: "remote", local: "local" };

/** The new ownership step of each tenant that has a gateway (see ownIdentity), as `added` lists it. */
function ownershipSteps(resources: CapturedResource[]): string[] {
  return resources
    .filter((r) => r.type === "docker:index/container:Container")
    .map((c) => {
      const tenant = String(c.inputs.name).replace(/^openclaw-/, "");
      const step = resources.find((r) => r.name === `${tenant}-owner`) as CapturedResource;
      return `${URN_PREFIX}openclaw:hosting:TenantInstance$${step.type}::${tenant}-owner`;
    });
}

describe.each(Object.keys(UPGRADE_CONFIGS))("upgrading a single-server stack (%s) to this version", (name) => {
  const expectSingleServer = (result: Upgrade, total: number, resources: CapturedResource[]) => {
    expect(result.aliased).toEqual(movedUnderServer("egress-guard", "edge", COMMAND_KIND[name]));
    expect(result.kept.length + Object.keys(result.aliased).length).toBe(total);
    expect(result.added).toEqual([...CERTIFICATES("default", COMMAND_KIND[name]), SERVER_COMPONENT("default"), EDGE_ROUTES("edge", COMMAND_KIND[name]), ...ownershipSteps(resources)].sort());
  };

  test("from before `servers` existed (61a95ae): every resource kept by URN or alias, same providers, inputs and options", async () => {
    const run = await runProgram(UPGRADE_CONFIGS[name], UPGRADE_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS);
    expectSingleServer(upgrade(BEFORE_SERVERS[name], run.resources), BEFORE_SERVERS[name].length, run.resources);
  });

  test("from today's main (a4f37b7): the same", async () => {
    const run = await runProgram(UPGRADE_CONFIGS[name], UPGRADE_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS);
    expectSingleServer(upgrade(MAIN[name], run.resources), MAIN[name].length, run.resources);
  });

  test("the same stack written as servers.default registers the same resources too", async () => {
    const run = await runProgram(asServersMap(UPGRADE_CONFIGS[name]), UPGRADE_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS);
    expectSingleServer(upgrade(MAIN[name], run.resources), MAIN[name].length, run.resources);
  });
});

describe("upgrading a three-server `servers` stack from today's main (a4f37b7)", () => {
  test("every resource kept by URN or alias, same providers, inputs and options; only the Server components, the edges' routes commands and the ownership steps are new", async () => {
    const run = await runProgram(SERVERS_CONFIG, SERVERS_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS);
    const result = upgrade(MAIN.servers, run.resources);
    expect(result.aliased).toEqual({
      ...movedUnderServer("egress-guard-a", "edge-a", "local"),
      ...movedUnderServer("egress-guard-b", "edge-b", "remote"),
      ...movedUnderServer("egress-guard-c", "edge-c", "remote"),
    });
    expect(result.kept.length + Object.keys(result.aliased).length).toBe(MAIN.servers.length);
    expect(result.added).toEqual([
      ...["a", "b", "c"].map(SERVER_COMPONENT), ...CERTIFICATES("a", "local"), ...CERTIFICATES("b", "remote"), ...CERTIFICATES("c", "remote"),
      EDGE_ROUTES("edge-a", "local"), EDGE_ROUTES("edge-b", "remote"), EDGE_ROUTES("edge-c", "remote"), ...ownershipSteps(run.resources),
    ].sort());
    // The providers, tenants, DNS records and data deletions keep their URNs outright.
    expect(result.kept.filter((u) => u.includes("pulumi:providers:docker")).length).toBe(3);
  });
});
