// Caddy's admin API under the mock engine (issue 19): a new stack's edge reloads through a root-only
// unix socket; an existing stack that never set caddy.adminAddress keeps localhost:2019 and is told
// how to move.
import { ProgramRun, TYPES, baseConfig, fakeKey, ofType, runProgram } from "../support/program";
import { writeRoster } from "../support/roster";

const SOCKET = "unix//var/lib/caddy/admin.sock|0600";
const edgeOf = (run: ProgramRun) => {
  const edge = ofType(run, TYPES.localCommand).find((c) => c.name === "edge-caddyfile");
  if (edge === undefined) throw new Error("no edge command");
  return { create: String(edge.inputs.create), caddyfile: String(edge.inputs.stdin) };
};
/** The Caddyfile output of a stack deployed before the socket default (its global block). */
const OLD_CADDYFILE = "{\n\tadmin localhost:2019\n\temail ops@example.com\n}\n";
const config = () => baseConfig(writeRoster([{ name: "alice" }]), { apiKeys: { alice: fakeKey("alice") } });

describe("Caddy's admin address", () => {
  test("a new stack: the Caddyfile puts the admin API on the socket, and the edge reloads through it", async () => {
    const edge = edgeOf(await runProgram(config()));
    expect(edge.caddyfile).toContain(`\tadmin ${SOCKET}\n`);
    // Quoted as one shell word: the | is the mode separator, not a pipe.
    expect(edge.create).toMatch(new RegExp(`bash "\\$script" '/etc/caddy/Caddyfile' '${SOCKET.replace(/[|/]/g, "\\$&")}'; status`));
  });

  test("an existing stack without the key, whose last Caddyfile had localhost:2019, keeps it (its Caddy listens there)", async () => {
    const edge = edgeOf(await runProgram(config(), { tenants: { alice: {} }, retainedData: [], caddyfile: OLD_CADDYFILE }));
    expect(edge.caddyfile).toContain("\tadmin localhost:2019\n");
    expect(edge.create).toContain("'/etc/caddy/Caddyfile' 'localhost:2019'; status");
  });

  test("an existing stack that sets the socket moves to it", async () => {
    const c = { ...config(), caddy: { acmeEmail: "ops@example.com", adminAddress: "unix//var/lib/caddy/admin.sock" } };
    const edge = edgeOf(await runProgram(c, { tenants: { alice: {} }, retainedData: [], caddyfile: OLD_CADDYFILE }));
    expect(edge.caddyfile).toContain(`\tadmin ${SOCKET}\n`);
  });

  test("a stack created with the socket keeps it on its next update (the key still unset)", async () => {
    const first = await runProgram(config());
    const edge = edgeOf(await runProgram(config(), { tenants: first.outputs.tenants, retainedData: [], caddyfile: first.outputs.caddyfile }));
    expect(edge.caddyfile).toContain(`\tadmin ${SOCKET}\n`);
  });
});
