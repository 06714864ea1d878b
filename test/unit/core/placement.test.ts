import fc from "fast-check";
import { PlacementServer, PlacementTenant, placeTenants, preferenceOrder, unpinnedMoves } from "../../../core/placement";

const SERVERS: PlacementServer[] = [
  { name: "a", size: { memoryMb: 8192, cpus: 4, overcommit: 1.5 } },
  { name: "b", size: { memoryMb: 16384, cpus: 8, overcommit: 1.5 } },
  { name: "c", size: { memoryMb: 4096, cpus: 2, overcommit: 1 } },
];
const SIZES = [{ memoryMb: 384, cpus: 0.5 }, { memoryMb: 512, cpus: 1 }, { memoryMb: 1024, cpus: 2 }];
const name = fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/);
const tenant = (n: string) =>
  fc.record({ pin: fc.option(fc.constantFrom("a", "b", "c"), { nil: undefined }), size: fc.constantFrom(...SIZES), active: fc.boolean() })
    .map(({ pin, size, active }): PlacementTenant => ({ name: n, server: pin, active, ...size }));
const roster = fc.uniqueArray(name, { minLength: 1, maxLength: 40 }).chain((names) => fc.tuple(...names.map(tenant)));
const asObject = (m: Map<string, string>) => Object.fromEntries([...m].sort(([x], [y]) => (x < y ? -1 : 1)));

describe("placement: which server each tenant runs on", () => {
  test("a tenant's server: is always where it runs", () => {
    fc.assert(fc.property(roster, (tenants) => {
      const { servers } = placeTenants(tenants, SERVERS);
      for (const t of tenants) if (t.server !== undefined) expect(servers.get(t.name)).toBe(t.server);
      expect(servers.size).toBe(tenants.length);
    }));
  });

  test("independent of file order", () => {
    fc.assert(fc.property(roster.chain((r) => fc.tuple(fc.constant(r), fc.shuffledSubarray(r, { minLength: r.length, maxLength: r.length }))), ([tenants, shuffled]) => {
      expect(asObject(placeTenants(shuffled, SERVERS).servers)).toEqual(asObject(placeTenants(tenants, SERVERS).servers));
    }));
  });

  test("adding an unpinned tenant, or removing any unpinned one, moves no other tenant", () => {
    fc.assert(fc.property(roster, name, fc.constantFrom(...SIZES), (tenants, newcomer, size) => {
      fc.pre(!tenants.some((t) => t.name === newcomer));
      const before = placeTenants(tenants, SERVERS).servers;
      const after = placeTenants([...tenants, { name: newcomer, active: true, ...size }], SERVERS).servers;
      for (const t of tenants) expect(after.get(t.name)).toBe(before.get(t.name));
      const gone = tenants.find((t) => t.server === undefined);
      if (gone !== undefined) {
        const without = placeTenants(tenants.filter((t) => t !== gone), SERVERS).servers;
        for (const t of tenants) if (t !== gone) expect(without.get(t.name)).toBe(before.get(t.name));
      }
    }));
  });

  test("pinning the current placement (what npm run pin writes) changes nobody's server, and then adding a server moves nobody", () => {
    fc.assert(fc.property(roster, (tenants) => {
      const placed = placeTenants(tenants, SERVERS).servers;
      const pinned = tenants.map((t) => ({ ...t, server: placed.get(t.name) }));
      expect(asObject(placeTenants(pinned, SERVERS).servers)).toEqual(asObject(placed));
      const bigger = [...SERVERS, { name: "d", size: { memoryMb: 65536, cpus: 32, overcommit: 1.5 } }];
      expect(asObject(placeTenants(pinned, bigger).servers)).toEqual(asObject(placed));
    }));
  });

  test("an unpinned tenant goes to a server that still fits it next to the pinned ones", () => {
    // c is first choice for some names; fill c with pinned tenants and those names must go elsewhere.
    const names = Array.from({ length: 200 }, (_, i) => `t${i}`);
    const preferC = names.filter((n) => preferenceOrder(n, SERVERS)[0] === "c");
    expect(preferC.length).toBeGreaterThan(0);
    const full = Array.from({ length: 8 }, (_, i): PlacementTenant => ({ name: `pin${i}`, server: "c", active: true, memoryMb: 512, cpus: 0.25 }));
    const { servers } = placeTenants([...full, ...preferC.map((n): PlacementTenant => ({ name: n, active: true, memoryMb: 512, cpus: 0.5 }))], SERVERS);
    for (const n of preferC) expect(servers.get(n)).not.toBe("c");
  });

  test("bigger servers get proportionally more of the suggestions", () => {
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 3000; i++) counts[preferenceOrder(`tenant${i}`, SERVERS)[0]]++;
    // weights 12288 : 24576 : 4096, i.e. 3 : 6 : 1
    expect(counts.b).toBeGreaterThan(counts.a * 1.6);
    expect(counts.a).toBeGreaterThan(counts.c * 2);
  });

  test("a server: that the stack does not have is a problem naming the tenant, the field and the servers", () => {
    const { problems } = placeTenants([{ name: "alice", server: "zz", active: true, memoryMb: 512, cpus: 1 }], SERVERS);
    expect(problems).toEqual([{ tenant: "alice", field: "server", message: "names server zz, which is not in the stack's servers (a, b, c)" }]);
  });

  test("the program's guard refuses a deployed, unpinned tenant that the rule would now put elsewhere", () => {
    const now = [{ name: "alice", server: "b" }, { name: "bob", server: "a" }, { name: "carol", server: "c" }];
    const problems = unpinnedMoves(now, new Set(["carol"]), { alice: "a", bob: "a", carol: "a" }, "default");
    expect(problems.map((p) => `${p.tenant} ${p.field}`)).toEqual(["alice server"]);
    expect(problems[0].message).toContain("runs on server a");
    expect(problems[0].message).toContain("write server: a");
    // deployed before servers were recorded: on the fallback server
    expect(unpinnedMoves([{ name: "alice", server: "default" }], new Set(), { alice: undefined }, "default")).toEqual([]);
    expect(unpinnedMoves([{ name: "dave", server: "b" }], new Set(), {}, "default")).toEqual([]);
  });
});
