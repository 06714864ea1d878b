// Remote commands check the server's host key (issue 19, SSH): each remote command's connection
// carries the key the server must present, from config or the operator's known_hosts, and a server
// whose key is known nowhere is refused before anything is registered.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ProgramFailure, TEST_KNOWN_HOSTS, TYPES, ofType, runProgram } from "../support/program";
import { THREE_SERVERS, serversConfig } from "../support/servers";

const known = fs.readFileSync(TEST_KNOWN_HOSTS, "utf8");
const keyIn = (host: string, type: string): string => {
  const line = known.split("\n").find((l) => l.startsWith(`${host} ${type} `));
  if (line === undefined) throw new Error(`fixture has no ${type} key for ${host}`);
  return line.split(" ").slice(1).join(" ");
};

async function refusal(config: Record<string, unknown>, env: Record<string, string>): Promise<ProgramFailure> {
  const failure = await runProgram(config, {}, undefined, env).then(() => undefined, (err: unknown) => err);
  expect(failure).toBeInstanceOf(ProgramFailure);
  expect((failure as ProgramFailure).registered).toEqual([]);
  return failure as ProgramFailure;
}

describe("remote commands pin the server's host key", () => {
  test("every remote command's connection carries its server's key from known_hosts (the one the provider's handshake offers first)", async () => {
    const run = await runProgram(serversConfig());
    const remote = ofType(run, TYPES.remoteCommand);
    // Each remote server's edge, egress guard and its tenants' process limits.
    expect(remote.length).toBeGreaterThanOrEqual(4);
    const expected: Record<string, string> = {
      "b.example.net": keyIn("b.example.net", "ecdsa-sha2-nistp256"), // b has ed25519 and ECDSA keys: ECDSA is offered first
      "198.51.100.3": keyIn("[198.51.100.3]:2222", "ssh-ed25519"), // port 2222: known_hosts names it [host]:port
    };
    for (const c of remote) {
      const conn = c.inputs.connection as { host: string; hostKey?: string };
      expect(`${c.name}: ${conn.hostKey}`).toBe(`${c.name}: ${expected[conn.host]}`);
      expect(c.secretInputs).toContain("connection");
    }
  });

  test("a host key in config wins over known_hosts", async () => {
    const pinned = keyIn("203.0.113.10", "ssh-ed25519");
    const servers = { ...THREE_SERVERS, b: { ...THREE_SERVERS.b, ssh: { ...THREE_SERVERS.b.ssh, hostKey: pinned } } };
    const run = await runProgram(serversConfig(undefined, { servers }));
    const onB = ofType(run, TYPES.remoteCommand).filter((c) => (c.inputs.connection as { host: string }).host === "b.example.net");
    expect(onB.length).toBeGreaterThan(0);
    for (const c of onB) expect((c.inputs.connection as { hostKey: string }).hostKey).toBe(pinned);
  });

  test("a server whose key is known nowhere is refused, naming the server and the field, before anything is registered", async () => {
    const empty = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "known-hosts-")), "known_hosts");
    fs.writeFileSync(empty, known.split("\n").filter((l) => !l.startsWith("b.example.net ")).join("\n"));
    const failure = await refusal(serversConfig(), { OPENCLAW_KNOWN_HOSTS: empty });
    expect(failure.message).toContain("config servers.b.ssh.hostKey: server b: no host key is known for b.example.net");
    expect(failure.message).toContain("Remote commands never connect to a server whose key they cannot check");
    expect(failure.message).not.toContain("servers.c.ssh.hostKey"); // c's key is known
  });

  test("a key marked @revoked is not used, and the refusal says so", async () => {
    const revoked = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "known-hosts-")), "known_hosts");
    const cLine = known.split("\n").find((l) => l.startsWith("[198.51.100.3]:2222 ")) as string;
    fs.writeFileSync(revoked, `${known}\n@revoked ${cLine}\n`);
    const failure = await refusal(serversConfig(), { OPENCLAW_KNOWN_HOSTS: revoked });
    expect(failure.message).toContain("config servers.c.ssh.hostKey: server c: no host key is known for [198.51.100.3]:2222 (known_hosts marks its key @revoked)");
  });

  test("a single-server stack names its own field (ssh.hostKey)", async () => {
    const config = serversConfig([{ name: "alice" }], { servers: undefined, ssh: { host: "unknown.example.net", user: "deploy", privateKeyPath: "test/program/fixtures/not-a-key" }, serverIp: "203.0.113.9" });
    const failure = await refusal(config, {});
    expect(failure.message).toContain("config ssh.hostKey: server default: no host key is known for unknown.example.net");
  });

  test("a bad hostKey in config is refused by the schema, naming the field", async () => {
    const servers = { ...THREE_SERVERS, b: { ...THREE_SERVERS.b, ssh: { ...THREE_SERVERS.b.ssh, hostKey: "ssh-ed25519 AAAA\nevil" } } };
    const failure = await refusal(serversConfig(undefined, { servers }), {});
    expect(failure.message).toContain("config servers.b.ssh.hostKey: must be one public key as `type base64`");
  });
});
