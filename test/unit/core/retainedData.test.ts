import { dataDeletions, listRetainedData, tenantVolumes } from "../../../core/retainedData";

const on = (server: string, ...names: string[]) => Object.fromEntries(names.map((n) => [n, server]));

describe("retained data of departed tenants", () => {
  test("a tenant deployed last time and gone from the roster is listed with both volumes and its server", () => {
    expect(listRetainedData(on("default", "alice", "bob"), [], on("default", "alice"), [], "default")).toEqual([
      { tenant: "bob", server: "default", volumes: ["openclaw-bob-state", "openclaw-bob-credentials"] },
    ]);
  });

  test("a deployment from before servers were recorded counts as the fallback server", () => {
    expect(listRetainedData({ alice: undefined, bob: undefined }, [{ tenant: "carol" }], on("default", "alice"), [], "default")).toEqual([
      { tenant: "bob", server: "default", volumes: ["openclaw-bob-state", "openclaw-bob-credentials"] },
      { tenant: "carol", server: "default", volumes: ["openclaw-carol-state", "openclaw-carol-credentials"] },
    ]);
  });

  test("stays listed on later updates", () => {
    const kept = listRetainedData(on("default", "alice", "bob"), [], on("default", "alice"), [], "default");
    expect(listRetainedData(on("default", "alice"), kept, on("default", "alice"), [], "default").map((r) => r.tenant)).toEqual(["bob"]);
  });

  test("a tenant back in the roster gets its data back and leaves the list", () => {
    const kept = listRetainedData(on("default", "alice", "bob"), [], on("default", "alice"), [], "default");
    expect(listRetainedData(on("default", "alice"), kept, on("default", "alice", "bob"), [], "default")).toEqual([]);
  });

  test("only an explicit deleteData entry removes it from the list", () => {
    const kept = listRetainedData(on("default", "alice", "bob", "carol"), [], on("default", "alice"), [], "default");
    expect(listRetainedData(on("default", "alice"), kept, on("default", "alice"), [{ tenant: "bob" }], "default").map((r) => r.tenant)).toEqual(["carol"]);
  });

  test("a moved tenant's volumes stay listed on the server it left, and leave the list when it moves back", () => {
    const moved = listRetainedData({ ...on("a", "alice"), ...on("b", "bob") }, [], { ...on("b", "alice"), ...on("b", "bob") }, [], "a");
    expect(moved).toEqual([{ tenant: "alice", server: "a", volumes: ["openclaw-alice-state", "openclaw-alice-credentials"] }]);
    const again = listRetainedData(on("b", "alice", "bob"), moved, on("b", "alice", "bob"), [], "a");
    expect(again).toEqual(moved);
    expect(listRetainedData(on("b", "alice", "bob"), again, { ...on("a", "alice"), ...on("b", "bob") }, [], "a")).toEqual([
      { tenant: "alice", server: "b", volumes: ["openclaw-alice-state", "openclaw-alice-credentials"] },
    ]);
  });

  test("a restore in place (a new data label, same server) keeps the old volumes listed; another tenant's names are never made", () => {
    const restored = listRetainedData(on("a", "alice"), [], on("a", "alice"), [], "a", { current: { alice: "r1" } });
    expect(restored).toEqual([{ tenant: "alice", server: "a", volumes: ["openclaw-alice-state", "openclaw-alice-credentials"] }]);
    // The next update, on the same restored copy, still lists the first copy; a second restore lists both.
    expect(listRetainedData(on("a", "alice"), restored, on("a", "alice"), [], "a", { previous: { alice: "r1" }, current: { alice: "r1" } })).toEqual(restored);
    const twice = listRetainedData(on("a", "alice"), restored, on("a", "alice"), [], "a", { previous: { alice: "r1" }, current: { alice: "r2" } });
    expect(twice).toEqual([
      ...restored,
      { tenant: "alice", server: "a", data: "r1", volumes: ["openclaw-alice-state.r1", "openclaw-alice-credentials.r1"] },
    ]);
    // Back on a listed copy: that copy leaves the list.
    expect(listRetainedData(on("a", "alice"), twice, on("a", "alice"), [], "a", { previous: { alice: "r2" }, current: { alice: "r1" } }).map((r) => r.data)).toEqual([undefined, "r2"]);
    // A tenant name holds no dot: `a-r1`'s volumes are never `a`'s labelled ones.
    expect(tenantVolumes("a-r1")).not.toEqual(tenantVolumes("a", "r1"));
  });

  test("deleteData deletes every copy listed on that server", () => {
    const retained = [
      { tenant: "alice", server: "a", volumes: tenantVolumes("alice") },
      { tenant: "alice", server: "a", data: "r1", volumes: tenantVolumes("alice", "r1") },
    ];
    expect(dataDeletions([{ tenant: "alice", server: "a" }], retained, "a", "default")).toEqual([{
      name: "alice-on-a", tenant: "alice", server: "a",
      volumes: ["openclaw-alice-state", "openclaw-alice-credentials", "openclaw-alice-state.r1", "openclaw-alice-credentials.r1"],
    }]);
  });
});
