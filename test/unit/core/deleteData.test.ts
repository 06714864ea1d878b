import { checkHosting } from "../../../core/check";
import { formatProblem } from "../../../core/problems";
import { dataDeletions, deletionsTooEarly, listRetainedData } from "../../../core/retainedData";
import { RosterFile } from "../../../core/roster";
import { DeleteDataEntry } from "../../../core/stackConfig";

const servers = {
  s1: { local: true, memoryMb: 8192, cpus: 4 },
  s2: { ssh: { host: "s2.example.net", user: "deploy" }, memoryMb: 8192, cpus: 4 },
  s3: { ssh: { host: "s3.example.net", user: "deploy" }, memoryMb: 8192, cpus: 4 },
};
const config = (deleteData: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  domain: "claw.example.com",
  image: "ghcr.io/openclaw/openclaw:2026.8.1-r20260820",
  caddy: { acmeEmail: "ops@example.com" },
  servers,
  deleteData,
  ...overrides,
});
/** alice was moved from s1 to s2; dave left the roster. */
const roster: RosterFile[] = [
  { file: "alice.yaml", text: "tier: light\nserver: s2\n" },
  { file: "bob.yaml", text: "tier: light\nserver: s1\n" },
];
const check = (cfg: Record<string, unknown>) => checkHosting(cfg, () => roster);
const messages = (cfg: Record<string, unknown>) => check(cfg).problems.filter((p) => p.field !== "apiKeys").map(formatProblem);

describe("deleteData entries: tenant, or tenant@server", () => {
  test("both forms parse into a tenant and, for the second, one server", () => {
    const { config: parsed, problems } = check(config(["dave", "alice@s1"]));
    expect(problems.filter((p) => p.field !== "apiKeys")).toEqual([]);
    expect(parsed?.deleteData).toEqual([{ tenant: "dave" }, { tenant: "alice", server: "s1" }]);
  });

  test("the server must be one of the stack's servers", () => {
    expect(messages(config(["alice@s9"]))).toEqual(["config deleteData: alice@s9 names server s9, which is not in the stack's servers (s1, s2, s3)"]);
  });

  test("a single-server stack takes plain names only", () => {
    const single = { domain: "claw.example.com", image: "ghcr.io/openclaw/openclaw:2026.8.1-r20260820", caddy: { acmeEmail: "ops@example.com" }, deleteData: ["dave@default"] };
    expect(messages(single)).toEqual(["config deleteData: dave@default names a server, but this stack has one server (no servers map): write just dave"]);
  });

  test("the server the tenant runs on now is refused, naming the tenant, the field and the server", () => {
    expect(messages(config(["alice@s2"]))).toEqual([
      'tenant "alice", field deleteData: alice@s2 names server s2, where alice runs now; deleting a live tenant\'s data never happens (name the server it moved away from)',
    ]);
  });

  test("a live tenant by plain name is still refused, and the message offers the per-server form", () => {
    expect(messages(config(["alice"]))).toEqual([
      'tenant "alice", field deleteData: is still in the roster; remove its file first, or name only a server it left (alice@<server>) (deleting data never happens to a live tenant)',
    ]);
  });

  test.each([
    [["alice@s1", "alice@s1"], "alice@s1 repeats alice@s1; name each tenant's data once"],
    [["dave", "dave"], "dave repeats dave; name each tenant's data once"],
    [["dave", "dave@s3"], "dave@s3 repeats dave (dave alone means every server that keeps its data); name each tenant's data once"],
    [["dave@s3", "dave"], "dave repeats dave@s3 (dave alone means every server that keeps its data); name each tenant's data once"],
  ])("duplicates are refused: %j", (entries, message) => {
    expect(messages(config(entries))).toEqual([`config deleteData: ${message}`]);
  });

  test("the same tenant on two different servers is two entries, both kept", () => {
    expect(messages(config(["dave@s1", "dave@s3"]))).toEqual([]);
  });

  test.each([
    ["alice@s1@s2", "must be a tenant name, or tenant@server (one @ at most)"],
    ["@s1", "names a tenant that must not be empty"],
    ["alice@", "names a server after @ that must be a server name"],
    ["Alice@s1", "names a tenant that must be a DNS label"],
  ])("a malformed entry %j is refused without echoing it", (entry, fragment) => {
    const found = messages(config([entry]));
    expect(found).toEqual([expect.stringContaining(fragment)]);
    expect(found[0]).toMatch(/^config deleteData\.0: /);
  });
});

describe("what the entries delete", () => {
  const retained = listRetainedData({ alice: "s1", bob: "s1", dave: "s3" }, [{ tenant: "dave", server: "s2" }], { alice: "s2", bob: "s1" }, [], "s1");
  const entries = (...list: DeleteDataEntry[]) => list;

  test("the retained list names alice on s1 and dave on s2 and s3", () => {
    expect(retained.map((r) => `${r.tenant}@${r.server}`)).toEqual(["alice@s1", "dave@s2", "dave@s3"]);
  });

  test("alice@s1: exactly one deletion, on s1, named alice-on-s1; only that entry leaves the list", () => {
    const chosen = entries({ tenant: "alice", server: "s1" });
    expect(dataDeletions(chosen, retained, "s1", "default")).toEqual([{ name: "alice-on-s1", tenant: "alice", server: "s1", volumes: ["openclaw-alice-state", "openclaw-alice-credentials"] }]);
    const after = listRetainedData({ alice: "s2", bob: "s1" }, retained, { alice: "s2", bob: "s1" }, chosen, "s1");
    expect(after.map((r) => `${r.tenant}@${r.server}`)).toEqual(["dave@s2", "dave@s3"]);
  });

  test("plain dave: the fallback server and every server that lists dave, names as before", () => {
    expect(dataDeletions(entries({ tenant: "dave" }), retained, "s1", "default").map((d) => d.name)).toEqual(["dave-on-s1", "dave-on-s2", "dave-on-s3"]);
    expect(dataDeletions(entries({ tenant: "dave" }), [], "default", "default")).toEqual([{ name: "dave", tenant: "dave", server: "default", volumes: ["openclaw-dave-state", "openclaw-dave-credentials"] }]);
    expect(listRetainedData({}, retained, { alice: "s2", bob: "s1" }, entries({ tenant: "dave" }), "s1").map((r) => `${r.tenant}@${r.server}`)).toEqual(["alice@s1"]);
  });

  test("dave@s3 leaves dave's s2 volumes listed", () => {
    expect(listRetainedData({}, retained, { alice: "s2", bob: "s1" }, entries({ tenant: "dave", server: "s3" }), "s1").map((r) => `${r.tenant}@${r.server}`)).toEqual(["alice@s1", "dave@s2"]);
  });

  test("alice@s1 in the very update that moves alice off s1 is refused: the copy has not run yet", () => {
    expect(deletionsTooEarly(entries({ tenant: "alice", server: "s1" }), { alice: "s1" }, "s1")).toEqual([
      { tenant: "alice", field: "deleteData", message: "alice@s1: alice ran on server s1 at the last update; delete what it left there in a later update, once it runs on its new server" },
    ]);
    // A deployment from before servers were recorded counts as the fallback server.
    expect(deletionsTooEarly(entries({ tenant: "alice", server: "s1" }), { alice: undefined }, "s1")).toHaveLength(1);
    expect(deletionsTooEarly(entries({ tenant: "alice", server: "s1" }), { alice: "s2" }, "s1")).toEqual([]);
    expect(deletionsTooEarly(entries({ tenant: "dave", server: "s3" }), { alice: "s2" }, "s1")).toEqual([]);
    expect(deletionsTooEarly(entries({ tenant: "dave" }), { dave: "s1" }, "s1")).toEqual([]);
  });
});
