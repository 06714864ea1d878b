// The three test servers (test/machinery/servers-env.sh), each with its own sshd and host key: the
// host key the program pins in every remote command's connection is the server's own key, a real
// ssh with StrictHostKeyChecking accepts the known_hosts line built from it, and refuses the server
// when the line holds another key (what a server in the middle would present). Loopback veths only.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { knownHostsLine } from "../../../core/knownHosts";
import { TYPES, baseConfig, fakeKey, ofType, runProgram } from "../../support/program";
import { projectTempDir, writeRoster } from "../../support/roster";

const ADDRESSES = (process.env.OPENCLAW_SERVERS ?? "").split(",").filter((a) => a !== "");
const KEY = process.env.OPENCLAW_SERVERS_KEY ?? "";
const RUN = process.env.OPENCLAW_SERVERS_RUN ?? "/run/openclaw-servers";
const NAMES = ["s1", "s2", "s3"];

/** A real ssh to `address` as root with the suite's key, trusting only `knownHosts`; bounded. */
function sshWith(address: string, knownHosts: string): { code: number | null; stderr: string; stdout: string } {
  const r = spawnSync("/usr/bin/ssh", [
    "-F", "/dev/null", "-i", KEY, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
    "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "GlobalKnownHostsFile=/dev/null",
    `root@${address}`, "echo host-key-accepted",
  ], { encoding: "utf8", timeout: 20_000 });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

let dir: string;
const pinned = new Map<string, string>();

beforeAll(async () => {
  if (ADDRESSES.length !== 3 || KEY === "") throw new Error("the three servers are not up: run this suite with test/machinery/servers-env.sh up (see test/machinery/README.md)");
  dir = projectTempDir("host-keys");
  const roster = NAMES.map((server, i) => ({ name: `hk${i + 1}`, server }));
  writeRoster(roster.map(({ name, server }) => ({ name, tier: "light" as const, extra: `server: ${server}` })), dir);
  const servers = Object.fromEntries(NAMES.map((name, i) => [name, { ssh: { host: ADDRESSES[i], user: "root", privateKeyPath: KEY }, publicIp: ADDRESSES[i], memoryMb: 4096, cpus: 2, tenantNetworks: "10.254.0.0/16" }]));
  const run = await runProgram(
    baseConfig(dir, { domain: "claw.test", image: "openclaw-standin:test", apiKeys: Object.fromEntries(roster.map((t) => [t.name, fakeKey(t.name)])), servers, caddy: { localCerts: true } }),
    {}, undefined,
    // The program reads the keys from the suite's known hosts, as from an operator's ~/.ssh/known_hosts.
    { OPENCLAW_KNOWN_HOSTS: path.join(path.dirname(KEY), "known_hosts") },
  );
  const remote = ofType(run, TYPES.remoteCommand);
  expect(remote.length).toBeGreaterThanOrEqual(6); // each server's edge and egress guard, and more
  for (const c of remote) {
    const conn = c.inputs.connection as { host: string; hostKey?: string };
    expect(`${c.name}: ${typeof conn.hostKey}`).toBe(`${c.name}: string`);
    const before = pinned.get(conn.host);
    expect(before === undefined || before === conn.hostKey).toBe(true); // one key per server, in every command
    pinned.set(conn.host, conn.hostKey as string);
  }
});

afterAll(() => {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

test.each([0, 1, 2])("server %i: the pinned key is the server's own host key, and ssh accepts it", (i) => {
  const address = ADDRESSES[i];
  // The key sshd was started with (servers-env.sh: -o HostKey=$run/host_key), read from the server's side.
  const own = fs.readFileSync(path.join(RUN, `s${i + 1}`, "host_key.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
  expect(pinned.get(address)).toBe(own);
  const known = path.join(dir, `known_hosts-${i}`);
  fs.writeFileSync(known, `${knownHostsLine(address, 22, own)}\n`);
  const r = sshWith(address, known);
  expect(`${r.code} ${r.stdout.trim()}`).toBe("0 host-key-accepted");
});

test.each([0, 1, 2])("server %i: ssh refuses it when the pinned key is another (a wrong key), and when none is known", (i) => {
  const address = ADDRESSES[i];
  const other = path.join(dir, `other-${i}`);
  spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other, "-C", "not-the-server"], { timeout: 10_000 });
  const wrong = fs.readFileSync(`${other}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  const known = path.join(dir, `wrong_hosts-${i}`);
  fs.writeFileSync(known, `${knownHostsLine(address, 22, wrong)}\n`);
  const r = sshWith(address, known);
  expect(r.code).toBe(255);
  expect(r.stderr).toContain("REMOTE HOST IDENTIFICATION HAS CHANGED");
  expect(r.stderr).toContain("Host key verification failed");
  expect(r.stdout).not.toContain("host-key-accepted");
  const none = sshWith(address, "/dev/null");
  expect([none.code, none.stderr.includes("Host key verification failed")]).toEqual([255, true]);
});
