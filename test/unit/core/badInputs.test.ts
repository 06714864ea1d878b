import { checkHosting } from "../../../core/check";
import { formatProblem } from "../../../core/problems";
import { RosterFile } from "../../../core/roster";

/** Shaped like a provider key, assembled here so no key-shaped string sits in the repository. */
const FAKE_KEY = ["sk", "ant", "abcdefghijklmnopqrstuvwxyz"].join("-");

const goodConfig = {
  domain: "claw.example.com",
  image: "ghcr.io/openclaw/openclaw:2026.9.6-r20260923",
  caddy: JSON.stringify({ acmeEmail: "ops@example.com" }),
  apiKeys: JSON.stringify({ alice: "k-alice", bob: "k-bob" }),
};
const goodRoster: RosterFile[] = [
  { file: "alice.yaml", text: "tier: standard\n" },
  { file: "bob.yaml", text: "tier: light\nprovider: openai\n" },
];

function messages(config: Record<string, unknown>, roster: RosterFile[]): string[] {
  return checkHosting(config, () => roster).problems.map(formatProblem);
}
const withFile = (file: string, text: string): RosterFile[] => [...goodRoster.filter((f) => f.file !== file), { file, text }];

type Case = [label: string, config: Record<string, unknown>, roster: RosterFile[], expected: string];

const cases: Case[] = [
  ["unknown tier", goodConfig, withFile("bob.yaml", "tier: huge\n"), 'tenant "bob", field tier: must be one of light, standard, heavy'],
  ["missing tier", goodConfig, withFile("bob.yaml", "provider: openai\n"), 'tenant "bob", field tier: must be one of light, standard, heavy'],
  ["misspelt field", goodConfig, withFile("bob.yaml", "tier: light\nteir: heavy\n"), 'tenant "bob", field teir: unknown field'],
  ["reserved name", goodConfig, [...goodRoster, { file: "www.yaml", text: "tier: light\n" }], 'tenant "www", field name: is a reserved name'],
  ["name not a DNS label", goodConfig, [...goodRoster, { file: "Dave_1.yaml", text: "tier: light\n" }], 'tenant "Dave_1", field name: must be a DNS label'],
  ["name differs from file", goodConfig, withFile("bob.yaml", "name: robert\ntier: light\nprovider: openai\n"), 'tenant "bob", field name: "robert" differs from the file name bob.yaml'],
  ["invalid YAML", goodConfig, withFile("bob.yaml", "tier: [light\n"), 'tenant "bob", field (file): bob.yaml is not valid YAML'],
  ["YAML not a mapping", goodConfig, withFile("bob.yaml", "- light\n"), 'tenant "bob", field (file): bob.yaml must be a mapping'],
  ["unknown state", goodConfig, withFile("bob.yaml", "tier: light\nstate: paused\n"), 'tenant "bob", field state: must be active or suspended'],
  ["unknown provider", goodConfig, withFile("bob.yaml", "tier: light\nprovider: mistral\n"), 'tenant "bob", field provider: must be one of anthropic, openai, gemini, openrouter'],
  ["port as a string", goodConfig, withFile("bob.yaml", "tier: light\nport: '18810'\n"), 'tenant "bob", field port: must be a number'],
  ["port outside the pool", goodConfig, withFile("bob.yaml", "tier: light\nport: 19500\n"), 'tenant "bob", field port: 19500 is outside the port pool 18800-18899'],
  ["duplicate pinned ports", goodConfig, [{ file: "alice.yaml", text: "tier: light\nport: 18810\n" }, { file: "bob.yaml", text: "tier: light\nport: 18810\n" }], 'tenant "alice", field port: 18810 is pinned by more than one tenant: alice, bob'],
  ["moving image tag on a tenant", goodConfig, withFile("bob.yaml", "tier: light\nimage: ghcr.io/openclaw/openclaw:latest\n"), 'tenant "bob", field image: must be pinned to a dated tag'],
  ["secret-looking env name", goodConfig, withFile("bob.yaml", "tier: light\nenv:\n  SLACK_TOKEN: abc\n"), 'tenant "bob", field env.SLACK_TOKEN: looks like a secret'],
  ["secret-looking env value", goodConfig, withFile("bob.yaml", `tier: light\nenv:\n  NOTE: ${FAKE_KEY}\n`), 'tenant "bob", field env.NOTE: looks like a secret key'],
  ["env overriding a managed variable", goodConfig, withFile("bob.yaml", "tier: light\nenv:\n  NODE_OPTIONS: --inspect\n"), 'tenant "bob", field env.NODE_OPTIONS: is set by openclaw-hosting itself'],
  ["env value not a string", goodConfig, withFile("bob.yaml", "tier: light\nenv:\n  OPENCLAW_TZ: 5\n"), 'tenant "bob", field env.OPENCLAW_TZ: must be a string'],
  ["duplicate tenant across .yaml and .yml", goodConfig, [...goodRoster, { file: "bob.yml", text: "tier: light\n" }], 'tenant "bob", field name: is defined twice, in bob.yaml and bob.yml'],
  ["active tenant without API key", { ...goodConfig, apiKeys: JSON.stringify({ alice: "k" }) }, goodRoster, "tenant \"bob\", field apiKeys: is active but has no API key; run: pulumi config set --secret --path 'apiKeys.bob' (no value on the command line: pulumi asks for it, or reads it from standard input, e.g. `< key.txt`)"],
  ["exhausted pool", { ...goodConfig, portPool: JSON.stringify({ start: 20000, end: 20000 }) }, goodRoster, 'tenant "bob", field port: no free port: the pool 20000-20000 has 1 ports and the roster needs 2'],
  ["missing domain", { ...goodConfig, domain: undefined }, goodRoster, "config domain: "],
  ["domain with scheme", { ...goodConfig, domain: "https://claw.example.com" }, goodRoster, "config domain: must be a lowercase domain"],
  ["stack image on latest", { ...goodConfig, image: "ghcr.io/openclaw/openclaw:latest" }, goodRoster, "config image: must be pinned"],
  ["untagged stack image", { ...goodConfig, image: "ghcr.io/openclaw/openclaw" }, goodRoster, "config image: must be pinned"],
  ["pool end below start", { ...goodConfig, portPool: JSON.stringify({ start: 18900, end: 18800 }) }, goodRoster, "config portPool.end: end must not be below start"],
  ["privileged pool port", { ...goodConfig, portPool: JSON.stringify({ start: 80, end: 180 }) }, goodRoster, "config portPool.start: must be at least 1024"],
  ["dns without serverIp", { ...goodConfig, dns: JSON.stringify({ zoneId: "0123456789abcdef0123456789abcdef" }) }, goodRoster, "config serverIp: is required when dns is set"],
  ["bad zone id", { ...goodConfig, serverIp: "203.0.113.10", dns: JSON.stringify({ zoneId: "example.com" }) }, goodRoster, "config dns.zoneId: must be a Cloudflare zone id"],
  ["bad server IP", { ...goodConfig, serverIp: "300.1.1.1" }, goodRoster, "config serverIp: must be an IPv4 address"],
  ["no ACME email without local certs", { ...goodConfig, caddy: JSON.stringify({}) }, goodRoster, "config caddy.acmeEmail: is required unless localCerts is true"],
  ["admin API not on loopback", { ...goodConfig, caddy: JSON.stringify({ acmeEmail: "ops@example.com", adminAddress: "0.0.0.0:2019" }) }, goodRoster, "config caddy.adminAddress: must be a unix socket such as unix//var/lib/caddy/admin.sock|0600 (absolute path of letters, digits and . _ - @ + /) or a loopback host:port"],
  ["tier reservation above limit", { ...goodConfig, tiers: JSON.stringify({ light: { reservationMb: 2000 } }) }, goodRoster, "config tiers.light.reservationMb: 2000 MB exceeds the memory limit of 1536 MB"],
  ["tier below the image's measured floor", { ...goodConfig, tiers: JSON.stringify({ light: { memoryMb: 768, reservationMb: 512 } }) }, goodRoster, "config tiers.light.memoryMb: 768 MB is below the 1024 MB the stack's image needs (measured for OpenClaw 2026.9.6): under it the gateway is killed before it is ready"],
  ["tier below the newest floor, image version not measured", { ...goodConfig, image: "ghcr.io/openclaw/openclaw:2027.1.2-r20270110", tiers: JSON.stringify({ standard: { memoryMb: 1000 } }) }, goodRoster, "config tiers.standard.memoryMb: 1000 MB is below the 1024 MB the stack's image needs (the newest measured floor; OpenClaw 2027.1.2 was not measured): under it the gateway is killed before it is ready"],
  ["unknown config key", { ...goodConfig, portpool: JSON.stringify({ start: 1, end: 2 }) }, goodRoster, "config portpool: unknown field"],
  ["network block too small for the pool", { ...goodConfig, tenantNetworks: "10.231.0.0/24" }, goodRoster, "config tenantNetworks: 10.231.0.0/24 holds 16 tenant subnets (/28) but the port pool has 100 ports"],
  ["roster over the server's capacity", { ...goodConfig, server: JSON.stringify({ memoryMb: 2048, cpus: 4, overcommit: 1 }) }, goodRoster, "config server.memoryMb: the 2 active tenants need 3584 MB of memory limits, over the 2048 MB allowed (2048 MB x overcommit 1) by 1536 MB. Tenants added since the last pin-ports: alice, bob."],
  ["overcommit out of range", { ...goodConfig, server: JSON.stringify({ memoryMb: 4096, cpus: 4, overcommit: 10 }) }, goodRoster, "config server.overcommit: must be at most 4"],
  ["deleting data of a live tenant", { ...goodConfig, deleteData: JSON.stringify(["bob"]) }, goodRoster, 'tenant "bob", field deleteData: is still in the roster'],
  ["config object is not JSON", { ...goodConfig, caddy: "{acmeEmail: ops}" }, goodRoster, "config caddy: "],
];

describe("bad rosters and bad configs fail with a message naming the tenant and field", () => {
  test("the good inputs pass", () => {
    expect(messages(goodConfig, goodRoster)).toEqual([]);
  });

  test.each(cases)("%s", (_label, config, roster, expected) => {
    const found = messages(config, roster);
    expect(found.some((m) => m.startsWith(expected))).toBe(true);
  });

  test("every problem is reported, not just the first", () => {
    const roster = [
      { file: "alice.yaml", text: "tier: huge\n" },
      { file: "bob.yaml", text: "tier: light\nport: 5\n" },
      { file: "admin.yaml", text: "tier: light\n" },
    ];
    const found = messages(goodConfig, roster);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('tenant "alice", field tier'),
        expect.stringContaining('tenant "bob", field port'),
        expect.stringContaining('tenant "admin", field name'),
      ]),
    );
  });

  test("no message ever contains an API key", () => {
    const secret = `${FAKE_KEY}-THIS-MUST-NOT-LEAK`;
    const config = { ...goodConfig, apiKeys: JSON.stringify({ alice: secret, "Not A Name": secret, bob: 42 }) };
    const found = messages(config, withFile("bob.yaml", `tier: light\nenv:\n  NOTE: ${secret}\n`));
    expect(found.length).toBeGreaterThan(0);
    for (const m of found) expect(m).not.toContain("THIS-MUST-NOT-LEAK");
  });
});
