import * as fs from "fs";
import * as path from "path";
import { ProgramRun, baseConfig, runProgram } from "../support/program";
import { TestTenant, keysFor, tenantNames, writeRoster } from "../support/roster";

/** Resources whose inputs differ between two runs, plus those added or removed, as `type::name`. */
function changedResources(before: ProgramRun, after: ProgramRun): string[] {
  const index = (run: ProgramRun) => new Map(run.resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(r.inputs)]));
  const a = index(before);
  const b = index(after);
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

/** The resources that belong to one tenant, by the names TenantInstance gives its children. */
function isOwnedBy(key: string, tenant: string): boolean {
  const name = key.split("::")[1];
  return name === tenant || name.startsWith(`${tenant}-`);
}

/** A roster edit changes the edge's routes only: never the Caddyfile, so Caddy is not reloaded. */
const EDGE = "command:local:Command::edge-routes";
const names = tenantNames(50);

describe("blast radius: in a roster of 50, an edit to one tenant touches only that tenant and the edge's routes", () => {
  let pinned: TestTenant[];
  let baseline: ProgramRun;
  const apiKeys = keysFor([...names, "newcomer"]);

  beforeAll(async () => {
    // The committed roster after `npm run pin-ports`: every existing tenant has its port written down.
    const first = await runProgram(baseConfig(writeRoster(names.map((name) => ({ name }))), { apiKeys }));
    const ports = first.outputs.tenants as Record<string, { port: number }>;
    pinned = names.map((name, i) => ({ name, port: ports[name].port, tier: i % 3 === 0 ? "light" : "standard" }));
    baseline = await runProgram(baseConfig(writeRoster(pinned), { apiKeys }));
  });

  test("adding a tenant", async () => {
    const after = await runProgram(baseConfig(writeRoster([...pinned, { name: "newcomer" }]), { apiKeys }));
    const changed = changedResources(baseline, after);
    expect(changed.filter((k) => !isOwnedBy(k, "newcomer") && k !== EDGE)).toEqual([]);
    expect(changed).toContain(EDGE);
    // token, two volumes, network, process limit, ownership step, container
    expect(changed.filter((k) => isOwnedBy(k, "newcomer")).length).toBe(7 + 1);
  });

  test("removing a tenant", async () => {
    const after = await runProgram(baseConfig(writeRoster(pinned.filter((t) => t.name !== "tenant0017")), { apiKeys }));
    const changed = changedResources(baseline, after);
    expect(changed.filter((k) => !isOwnedBy(k, "tenant0017") && k !== EDGE)).toEqual([]);
    expect(changed.length).toBe(8 + 1);
  });

  test("re-tiering a tenant", async () => {
    const after = await runProgram(
      baseConfig(writeRoster(pinned.map((t) => (t.name === "tenant0030" ? { ...t, tier: "heavy" } : t))), { apiKeys }),
    );
    const changed = changedResources(baseline, after);
    // heavy has a higher process limit (1024) than standard (512): the limit is updated in place.
    expect(changed).toEqual(["command:local:Command::tenant0030-process-limit", "docker:index/container:Container::tenant0030-gateway"]);
  });

  test("reordering the roster (file order and creation times) changes nothing", async () => {
    const dir = writeRoster([...pinned].reverse());
    // Rewrite the files in reverse order so the folder listing differs as well.
    for (const file of fs.readdirSync(dir).reverse()) fs.utimesSync(path.join(dir, file), new Date(), new Date(0));
    const after = await runProgram(baseConfig(dir, { apiKeys }));
    expect(changedResources(baseline, after)).toEqual([]);
  });

  test("without pins, re-tiering still touches only that tenant (ports depend on names only)", async () => {
    const unpinned = pinned.map(({ port: _port, ...t }) => t);
    const before = await runProgram(baseConfig(writeRoster(unpinned), { apiKeys }));
    const after = await runProgram(
      baseConfig(writeRoster(unpinned.map((t) => (t.name === "tenant0005" ? { ...t, tier: "heavy" } : t))), { apiKeys }),
    );
    expect(changedResources(before, after)).toEqual([
      "command:local:Command::tenant0005-process-limit",
      "docker:index/container:Container::tenant0005-gateway",
    ]);
  });
});
