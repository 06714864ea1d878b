import * as fs from "fs";
import * as path from "path";
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
const baseline = (file: string) => JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", file), "utf8")) as Record<string, Recorded[]>;
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
 * A server script shipped inline (core/shell.ts: a heredoc between `<<'MARKER'` and `MARKER`) may
 * change between versions: a changed `create` of a command resource is an in-place update that runs
 * the (idempotent) script again, never a replacement (pulumi-command runs `create` again when no
 * `update` is given). So the body is compared with the current script file instead of the recording;
 * everything else, the arguments included, must be as recorded.
 */
const INLINE_SCRIPT = /(cat > "\$script" <<'([A-Z_]+)'\n)([\s\S]*?)\n\2\n/g;
const SCRIPTS_BY_MARKER: Record<string, string> = {
  OPENCLAW_TENANT_DISK_EOF: fs.readFileSync(path.join(__dirname, "..", "..", "server-scripts", "tenant-disk.sh"), "utf8").trimEnd(),
};
function withoutScriptBodies(value: unknown, current = false): unknown {
  if (typeof value === "string") {
    return value.replace(INLINE_SCRIPT, (_m, head: string, marker: string, body: string) => {
      if (current && marker in SCRIPTS_BY_MARKER) expect(body).toBe(SCRIPTS_BY_MARKER[marker]);
      return `${head}<${marker in SCRIPTS_BY_MARKER ? "server script" : body}>\n${marker}\n`;
    });
  }
  if (Array.isArray(value)) return value.map((v) => withoutScriptBodies(v, current));
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutScriptBodies(v, current)]));
  return value;
}

interface Upgrade {
  /** Old URNs the new program registers again under the same URN. */
  kept: string[];
  /** Old URN -> the new URN that names it in its aliases. */
  aliased: Record<string, string>;
  /** New URNs that are no old resource: only components that create nothing themselves. */
  added: string[];
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
    const got = JSON.parse(JSON.stringify({ urn, provider: r.provider, inputs: withoutScriptBodies(r.inputs, true), options })) as unknown;
    expect(got).toEqual({ urn, provider: was.provider, inputs: withoutScriptBodies(was.inputs), options: optionsBefore });
    // Only what was top-level and moved under a Server has a new parent; its children keep theirs.
    expect(parentName).toBe(byUrn.get(urn) !== r && parentBefore === undefined ? "Server" : parentBefore);
  }
  result.added = now.filter((r) => !matched.has(r)).map((r) => real.get(r) as string).sort();
  return result;
}

const SERVER_COMPONENT = (name: string) => `${URN_PREFIX}openclaw:hosting:Server::${name}`;
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

describe.each(Object.keys(UPGRADE_CONFIGS))("upgrading a single-server stack (%s) to this version", (name) => {
  const expectSingleServer = (result: Upgrade, total: number) => {
    expect(result.aliased).toEqual(movedUnderServer("egress-guard", "edge", COMMAND_KIND[name]));
    expect(result.kept.length + Object.keys(result.aliased).length).toBe(total);
    expect(result.added).toEqual([SERVER_COMPONENT("default")]);
  };

  test("from before `servers` existed (61a95ae): every resource kept by URN or alias, same providers, inputs and options", async () => {
    const run = await runProgram(UPGRADE_CONFIGS[name], UPGRADE_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS);
    expectSingleServer(upgrade(BEFORE_SERVERS[name], run.resources), BEFORE_SERVERS[name].length);
  });

  test("from today's main (a4f37b7): the same", async () => {
    const run = await runProgram(UPGRADE_CONFIGS[name], UPGRADE_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS);
    expectSingleServer(upgrade(MAIN[name], run.resources), MAIN[name].length);
  });

  test("the same stack written as servers.default registers the same resources too", async () => {
    const run = await runProgram(asServersMap(UPGRADE_CONFIGS[name]), UPGRADE_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS);
    expectSingleServer(upgrade(MAIN[name], run.resources), MAIN[name].length);
  });
});

describe("upgrading a three-server `servers` stack from today's main (a4f37b7)", () => {
  test("every resource kept by URN or alias, same providers, inputs and options; only the Server components are new", async () => {
    const run = await runProgram(SERVERS_CONFIG, SERVERS_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS);
    const result = upgrade(MAIN.servers, run.resources);
    expect(result.aliased).toEqual({
      ...movedUnderServer("egress-guard-a", "edge-a", "local"),
      ...movedUnderServer("egress-guard-b", "edge-b", "remote"),
      ...movedUnderServer("egress-guard-c", "edge-c", "remote"),
    });
    expect(result.kept.length + Object.keys(result.aliased).length).toBe(MAIN.servers.length);
    expect(result.added).toEqual(["a", "b", "c"].map(SERVER_COMPONENT));
    // The providers, tenants, DNS records and data deletions keep their URNs outright.
    expect(result.kept.filter((u) => u.includes("pulumi:providers:docker")).length).toBe(3);
  });
});
