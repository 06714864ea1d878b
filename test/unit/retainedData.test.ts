import { listRetainedData } from "../../core/retainedData";

describe("retained data of departed tenants", () => {
  test("a tenant deployed last time and gone from the roster is listed with both volumes", () => {
    expect(listRetainedData(["alice", "bob"], [], ["alice"], [])).toEqual([
      { tenant: "bob", volumes: ["openclaw-bob-state", "openclaw-bob-credentials"] },
    ]);
  });

  test("stays listed on later updates", () => {
    const kept = listRetainedData(["alice", "bob"], [], ["alice"], []);
    expect(listRetainedData(["alice"], kept, ["alice"], []).map((r) => r.tenant)).toEqual(["bob"]);
  });

  test("a tenant back in the roster gets its data back and leaves the list", () => {
    const kept = listRetainedData(["alice", "bob"], [], ["alice"], []);
    expect(listRetainedData(["alice"], kept, ["alice", "bob"], [])).toEqual([]);
  });

  test("only an explicit deleteData entry removes it from the list", () => {
    const kept = listRetainedData(["alice", "bob", "carol"], [], ["alice"], []);
    expect(listRetainedData(["alice"], kept, ["alice"], ["bob"]).map((r) => r.tenant)).toEqual(["carol"]);
  });
});
