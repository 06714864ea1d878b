import { listRetainedData } from "../../../core/retainedData";

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
});
