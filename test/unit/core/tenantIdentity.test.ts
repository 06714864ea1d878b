import fc from "fast-check";
import { parseRoster } from "../../../core/roster";
import { IdentityRequest, LEGACY_UID, UID_POOL, allocateUids, formerUids, inUidPool, keepIdentities, ownershipApply } from "../../../core/tenantIdentity";

const name = fc.stringMatching(/^[a-z][a-z0-9]{0,11}$/);
const poolUid = fc.integer({ min: UID_POOL.start, max: UID_POOL.end });

/** A roster of unique names, some pinned to unique uids, some with a previous uid. */
const roster = fc
  .uniqueArray(name, { minLength: 1, maxLength: 60 })
  .chain((names) =>
    fc
      .tuple(
        fc.uniqueArray(poolUid, { minLength: names.length * 2, maxLength: names.length * 2 }),
        fc.array(fc.constantFrom("pinned", "previous", "new"), { minLength: names.length, maxLength: names.length }),
      )
      .map(([uids, kinds]) =>
        names.map((n, i): IdentityRequest => (kinds[i] === "pinned" ? { name: n, pinned: uids[i] } : kinds[i] === "previous" ? { name: n, previous: uids[names.length + i] } : { name: n })),
      ),
  );

describe("allocateUids: each tenant its own host uid", () => {
  test("every tenant gets a distinct uid in the pool, far from ordinary users and subuid ranges", () => {
    fc.assert(
      fc.property(roster, (requests) => {
        const { uids, problems } = allocateUids(requests);
        expect(problems).toEqual([]);
        expect(new Set(uids.values()).size).toBe(requests.length);
        for (const uid of uids.values()) expect(inUidPool(uid)).toBe(true);
      }),
    );
    // Above systemd's container range and below 2^31.
    expect(UID_POOL.start).toBeGreaterThan(1_879_048_191);
    expect(UID_POOL.end).toBeLessThan(2 ** 31 - 1);
  });

  test("a pin never changes; a previous uid is kept; neither depends on file order or other tenants", () => {
    fc.assert(
      fc.property(roster, name, (requests, extra) => {
        fc.pre(!requests.some((r) => r.name === extra));
        const before = allocateUids(requests).uids;
        const after = allocateUids([...[...requests].reverse(), { name: extra }]).uids;
        for (const r of requests) {
          if (r.pinned !== undefined) expect(before.get(r.name)).toBe(r.pinned);
          if (r.previous !== undefined) expect(before.get(r.name)).toBe(r.previous);
          if (r.pinned !== undefined || r.previous !== undefined) expect(after.get(r.name)).toBe(before.get(r.name));
        }
      }),
    );
  });

  test("a new tenant's uid depends on its name alone (unless that slot is taken)", () => {
    const alone = allocateUids([{ name: "alice" }]).uids.get("alice");
    expect(allocateUids([{ name: "zed" }, { name: "alice" }, { name: "bob" }]).uids.get("alice")).toBe(alone);
    const taken = allocateUids([{ name: "other", pinned: alone }, { name: "alice" }]);
    expect(taken.uids.get("alice")).toBe((alone as number) + 1);
  });

  test("two equal pins name every tenant involved and the uid field", () => {
    const { problems } = allocateUids([{ name: "bob", pinned: UID_POOL.start }, { name: "alice", pinned: UID_POOL.start }, { name: "carol" }]);
    expect(problems).toEqual([
      { tenant: "alice", field: "uid", message: `${UID_POOL.start} is pinned by more than one tenant: alice, bob` },
      { tenant: "bob", field: "uid", message: `${UID_POOL.start} is pinned by more than one tenant: alice, bob` },
    ]);
  });

  test("a pin that takes a deployed tenant's uid is refused on the pinning tenant (the other's files belong to it)", () => {
    const { problems } = allocateUids([{ name: "alice", pinned: UID_POOL.start + 4 }, { name: "bob", previous: UID_POOL.start + 4 }]);
    expect(problems).toEqual([{ tenant: "alice", field: "uid", message: `${UID_POOL.start + 4} is bob's uid (its files belong to it); pin another uid` }]);
  });

  test("a pin outside the pool is refused on that tenant's uid field; the shared 1000 is never given", () => {
    expect(allocateUids([{ name: "dave", pinned: 1000 }]).problems).toEqual([
      { tenant: "dave", field: "uid", message: `1000 is outside the tenant uid pool ${UID_POOL.start}-${UID_POOL.end}` },
    ]);
    // A previous uid outside the pool (1000, from an older version) is not kept: the tenant gets its own.
    expect(inUidPool(allocateUids([{ name: "dave", previous: LEGACY_UID }]).uids.get("dave") as number)).toBe(true);
  });
});

describe("formerUids and keepIdentities: what is re-owned, and when", () => {
  test("the shared 1000 always, and the tenant's own previous uid when it changed; never its current uid", () => {
    expect(formerUids(UID_POOL.start, undefined)).toEqual([1000]);
    expect(formerUids(UID_POOL.start, UID_POOL.start)).toEqual([1000]);
    expect(formerUids(UID_POOL.start + 1, UID_POOL.start)).toEqual([1000, UID_POOL.start]);
  });

  test("keepIdentities keeps each deployed tenant's uid unless pinned otherwise, and reports clashes", () => {
    const plan = [{ name: "alice", uid: 1, formerUids: [1000] }, { name: "bob", uid: 2, formerUids: [1000] }];
    const kept = keepIdentities(plan, new Map([["bob", UID_POOL.start + 8]]), { alice: UID_POOL.start + 3, bob: UID_POOL.start + 7 });
    expect(kept.problems).toEqual([]);
    expect(kept.tenants).toEqual([
      { name: "alice", uid: UID_POOL.start + 3, formerUids: [1000] },
      { name: "bob", uid: UID_POOL.start + 8, formerUids: [1000, UID_POOL.start + 7] },
    ]);
  });

  test("the ownership step's command passes tenant, uid, former uids, grace, image, container and volumes as quoted words", () => {
    const cmd = ownershipApply("echo script", {
      tenant: "alice", uid: UID_POOL.start, formerUids: [1000, 5], graceSeconds: 330, image: "img:1", container: "openclaw-alice", volumes: ["s", "c"],
    });
    expect(cmd).toContain(`bash "$script" 'alice' '${UID_POOL.start}' '1000,5' '330' 'img:1' 'openclaw-alice' 's' 'c'`);
  });
});

describe("the roster's uid field", () => {
  const parse = (text: string) => parseRoster([{ file: "alice.yaml", text }]);

  test("a uid in the pool is accepted", () => {
    expect(parse(`tier: light\nuid: ${UID_POOL.start + 1}\n`).tenants[0].uid).toBe(UID_POOL.start + 1);
  });

  test.each([
    ["1000", "must be in the tenant uid pool"],
    ["0", "must be in the tenant uid pool"],
    [String(UID_POOL.end + 1), "must be in the tenant uid pool"],
    ["1900000000.5", "must be a whole number"],
    ['"1900000000"', "must be a number"],
  ])("uid: %s is refused, naming the tenant and the field", (value, message) => {
    const { problems } = parse(`tier: light\nuid: ${value}\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ tenant: "alice", field: "uid" });
    expect(problems[0].message).toContain(message);
  });
});
