// npm run move's decisions (tools/move/decide.ts): refusals before any engine, and the roster edit after the copy.
import { checkHosting } from "../../../../core/check";
import { chooseMove, rosterTextAfterMove, targetVolumes } from "../../../../tools/move/decide";

const config = {
  domain: "claw.example.com",
  image: "ghcr.io/openclaw/openclaw:2026.8.1-r20260820",
  caddy: JSON.stringify({ acmeEmail: "ops@example.com" }),
  servers: JSON.stringify({ a: { local: true, memoryMb: 8192, cpus: 4 }, b: { ssh: { host: "b.example.net", user: "deploy" }, memoryMb: 8192, cpus: 4 } }),
};
const roster = [
  { file: "alice.yaml", text: "tier: light\nserver: a\nport: 18801\n" },
  { file: "bob.yaml", text: "tier: light\nserver: b\nport: 18801\n" },
];
const plan = checkHosting(config, () => roster).plan;

describe("chooseMove", () => {
  test("the tenant and both servers, or why not", () => {
    if (plan === undefined) throw new Error("no plan");
    const ok = chooseMove(plan, "alice", "b");
    expect("refused" in ok ? ok.refused : [ok.tenant.name, ok.from.name, ok.to.name]).toEqual(["alice", "a", "b"]);
    expect(chooseMove(plan, "alice", "zz")).toEqual({ refused: "server zz is not in the stack's servers (a, b)" });
    expect(chooseMove(plan, "alice", "a")).toEqual({ refused: "tenant alice is already on server a" });
    expect(chooseMove(plan, "nobody", "b")).toEqual({ refused: "tenant nobody is not in the roster" });
  });

  test("after the copy: the file names the new server; a port taken there is dropped", () => {
    if (plan === undefined) throw new Error("no plan");
    expect(rosterTextAfterMove(roster[0].text, plan, "b")).toBe("tier: light\nserver: b\n");
    expect(rosterTextAfterMove("tier: light\nserver: a\nport: 18900 # kept\n", plan, "b")).toBe("tier: light\nserver: b\nport: 18900 # kept\n");
  });
});

describe("targetVolumes: the new server's volumes keep the tenant's disk budget, or the move is refused", () => {
  const none = { state: null, credentials: null };
  const bind = (key: string) => ({ type: "none", o: "bind", device: `/var/lib/openclaw-hosting/disks/alice/${key}` });

  test("diskQuota: image, or volumes that bind into a disk image whatever the config says now: refused, naming the tenant, the mode and the server", () => {
    const refusal = /^tenant alice's data is in its own disk image \(diskQuota: image\), which npm run move cannot create on server b; plain volumes there would drop its 2048 MB budget\. Nothing was changed\./;
    expect(targetVolumes({ name: "alice", diskMb: 2048, diskQuota: "image" }, "b", none)).toEqual({ refused: expect.stringMatching(refusal) });
    expect(targetVolumes({ name: "alice", diskMb: 2048, diskQuota: "off" }, "b", { state: bind("state"), credentials: bind("credentials") })).toEqual({ refused: expect.stringMatching(refusal) });
  });

  test("xfs sizes are made again on the new server (config or the source's own size option); plain volumes stay plain", () => {
    const sized = { opts: { state: ["--opt", "size=1984M"], credentials: ["--opt", "size=64M"] } };
    expect(targetVolumes({ name: "alice", diskMb: 2048, diskQuota: "xfs" }, "b", none)).toEqual(sized);
    expect(targetVolumes({ name: "alice", diskMb: 2048, diskQuota: "off" }, "b", { state: { size: "1984M" }, credentials: { size: "64M" } })).toEqual(sized);
    expect(targetVolumes({ name: "alice", diskMb: 2048, diskQuota: "off" }, "b", none)).toEqual({ opts: { state: [], credentials: [] } });
  });
});
