import fc from "fast-check";
import { PortRequest, allocatePorts } from "../../../core/portPool";

const POOL = { start: 18800, end: 18899 };
const name = fc.stringMatching(/^[a-z][a-z0-9]{0,11}$/);

/** A roster of unique names, some pinned to unique ports inside the pool. */
const roster = fc
  .uniqueArray(name, { minLength: 1, maxLength: 60 })
  .chain((names) =>
    fc
      .tuple(
        fc.uniqueArray(fc.integer({ min: POOL.start, max: POOL.end }), { minLength: names.length, maxLength: names.length }),
        fc.array(fc.boolean(), { minLength: names.length, maxLength: names.length }),
      )
      .map(([ports, pinned]) => names.map((n, i): PortRequest => ({ name: n, pinned: pinned[i] ? ports[i] : undefined }))),
  );

function asObject(result: ReturnType<typeof allocatePorts>): Record<string, number> {
  return Object.fromEntries([...result.ports].sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe("allocatePorts", () => {
  test("every tenant gets a distinct port inside the pool", () => {
    fc.assert(
      fc.property(roster, (requests) => {
        const result = allocatePorts(requests, POOL);
        expect(result.problems).toEqual([]);
        const ports = [...result.ports.values()];
        expect(new Set(ports).size).toBe(requests.length);
        for (const p of ports) expect(p >= POOL.start && p <= POOL.end).toBe(true);
      }),
    );
  });

  test("the result is independent of file order", () => {
    fc.assert(
      fc.property(roster.chain((r) => fc.tuple(fc.constant(r), fc.shuffledSubarray(r, { minLength: r.length, maxLength: r.length }))), ([requests, shuffled]) => {
        expect(asObject(allocatePorts(shuffled, POOL))).toEqual(asObject(allocatePorts(requests, POOL)));
      }),
    );
  });

  test("a pinned port never changes", () => {
    fc.assert(
      fc.property(roster, (requests) => {
        const result = allocatePorts(requests, POOL);
        for (const r of requests) if (r.pinned !== undefined) expect(result.ports.get(r.name)).toBe(r.pinned);
      }),
    );
  });

  test("adding or removing a tenant never moves a pinned tenant", () => {
    fc.assert(
      fc.property(roster, name, fc.nat(), (requests, extra, which) => {
        const before = allocatePorts(requests, POOL).ports;
        const added = allocatePorts([...requests.filter((r) => r.name !== extra), { name: extra }], POOL).ports;
        const removedName = requests[which % requests.length].name;
        const removed = allocatePorts(requests.filter((r) => r.name !== removedName), POOL).ports;
        for (const r of requests) {
          if (r.pinned === undefined) continue;
          if (r.name !== extra) expect(added.get(r.name)).toBe(before.get(r.name));
          if (r.name !== removedName) expect(removed.get(r.name)).toBe(before.get(r.name));
        }
      }),
    );
  });

  test("once every port is pinned (npm run pin-ports), adding a tenant moves nobody", () => {
    fc.assert(
      fc.property(roster, name, (requests, extra) => {
        fc.pre(!requests.some((r) => r.name === extra) && requests.length < 100);
        const pinnedAll = [...allocatePorts(requests, POOL).ports].map(([n, p]) => ({ name: n, pinned: p }));
        const after = allocatePorts([...pinnedAll, { name: extra }], POOL).ports;
        for (const r of pinnedAll) expect(after.get(r.name)).toBe(r.pinned);
      }),
    );
  });

  test("duplicate pins name every tenant involved", () => {
    const result = allocatePorts([{ name: "alice", pinned: 18810 }, { name: "bob", pinned: 18810 }, { name: "carol" }], POOL);
    expect(result.problems.map((p) => p.tenant).sort()).toEqual(["alice", "bob"]);
    expect(result.problems[0].message).toContain("pinned by more than one tenant: alice, bob");
  });

  test("a pin outside the pool is an error on that tenant's port field", () => {
    const result = allocatePorts([{ name: "dave", pinned: 19000 }], POOL);
    expect(result.problems).toEqual([{ tenant: "dave", field: "port", message: "19000 is outside the port pool 18800-18899" }]);
  });

  test("an exhausted pool names the tenants left without a port", () => {
    const small = { start: 20000, end: 20001 };
    const result = allocatePorts([{ name: "a" }, { name: "b" }, { name: "c" }, { name: "d" }], small);
    expect(result.ports.size).toBe(2);
    expect(result.problems.map((p) => p.tenant)).toEqual(["c", "d"]);
    expect(result.problems[0].message).toContain("no free port");
  });
});
