// Issue 10, second pass over bad input: one table per class of input that used to get through (or
// crash the check). Each case names the tenant (or none, for the stack), the field, and a fragment
// of the message an operator reads.
import { checkHosting } from "../../../core/check";
import { LIMITS } from "../../../core/limits";
import { kernelEnvProblems } from "../../../core/plan";
import { Problem } from "../../../core/problems";
import { RosterFile } from "../../../core/roster";
import { plaintextSecretProblems } from "../../../core/secrets";

const goodCaddy = { acmeEmail: "ops@example.com" };
const goodConfig: Record<string, unknown> = {
  domain: "claw.example.com",
  image: "ghcr.io/openclaw/openclaw:2026.8.1-r20260820",
  caddy: JSON.stringify(goodCaddy),
  apiKeys: JSON.stringify({ alice: "k-alice", bob: "k-bob" }),
};
const goodRoster: RosterFile[] = [
  { file: "alice.yaml", text: "tier: standard\n" },
  { file: "bob.yaml", text: "tier: light\nprovider: openai\n" },
];
const withFile = (file: string, text: string): RosterFile[] => [...goodRoster.filter((f) => f.file !== file), { file, text }];
const bobEnv = (lines: string): RosterFile[] => withFile("bob.yaml", `tier: light\nenv:\n${lines}`);
const caddy = (extra: Record<string, unknown>) => ({ ...goodConfig, caddy: JSON.stringify({ ...goodCaddy, ...extra }) });
const digest = "0123456789abcdef".repeat(4);

interface Expected {
  tenant?: string;
  field: string;
  fragment: string;
}
type Case = [label: string, config: Record<string, unknown>, roster: RosterFile[], expected: Expected];

function found(config: Record<string, unknown>, roster: RosterFile[]): Problem[] {
  return checkHosting(config, () => roster).problems;
}
function expectProblem(problems: Problem[], e: Expected): void {
  const match = problems.find((p) => p.tenant === e.tenant && p.field === e.field && p.message.includes(e.fragment));
  if (match === undefined) throw new Error(`no problem ${JSON.stringify(e)} among:\n${problems.map((p) => JSON.stringify(p)).join("\n")}`);
  expect(match.message).toContain(e.fragment);
}

const textReachingTheCaddyfile: Case[] = [
  ["newline in caddy.storageDir adds a site block", caddy({ storageDir: "/srv/caddy\n}\nevil.example.com {\n\treverse_proxy 10.0.0.1" }), goodRoster, { field: "caddy.storageDir", fragment: "no spaces, quotes or line breaks" }],
  ["space in caddy.storageDir", caddy({ storageDir: "/srv/caddy data" }), goodRoster, { field: "caddy.storageDir", fragment: "absolute path" }],
  ["brace in caddy.storageDir", caddy({ storageDir: "/srv/{env.HOME}" }), goodRoster, { field: "caddy.storageDir", fragment: "absolute path" }],
  ["newline in caddy.caddyfilePath", caddy({ caddyfilePath: "/etc/caddy/Caddyfile\nrm -rf /" }), goodRoster, { field: "caddy.caddyfilePath", fragment: "absolute path" }],
  ["quote in caddy.caddyfilePath", caddy({ caddyfilePath: "/etc/caddy/'Caddyfile" }), goodRoster, { field: "caddy.caddyfilePath", fragment: "absolute path" }],
  ["newline in caddy.acmeEmail", caddy({ acmeEmail: "ops@example.com\n}\nevil.example.com {" }), goodRoster, { field: "caddy.acmeEmail", fragment: "email address" }],
  ["space in caddy.acmeEmail", caddy({ acmeEmail: "ops @example.com" }), goodRoster, { field: "caddy.acmeEmail", fragment: "email address" }],
  ["brace in caddy.acmeCa", caddy({ acmeCa: "https://acme.example.com/{env.X}" }), goodRoster, { field: "caddy.acmeCa", fragment: "https:// URL" }],
  ["hash in caddy.acmeCa", caddy({ acmeCa: "https://acme.example.com/dir #x" }), goodRoster, { field: "caddy.acmeCa", fragment: "https:// URL" }],
  ["newline in caddy.adminAddress", caddy({ adminAddress: "localhost:2019\n}\nevil {" }), goodRoster, { field: "caddy.adminAddress", fragment: "loopback host:port" }],
  ["newline in the domain", { ...goodConfig, domain: "claw.example.com\nevil.example.com" }, goodRoster, { field: "domain", fragment: "lowercase domain" }],
  ["newline in ssh.privateKeyPath", { ...goodConfig, ssh: JSON.stringify({ host: "203.0.113.10", user: "deploy", privateKeyPath: "/k\n-oProxyCommand=x" }) }, goodRoster, { field: "ssh.privateKeyPath", fragment: "file path" }],
  ["newline in an env value", goodConfig, bobEnv('  OPENCLAW_TZ: "Europe/Berlin\\nX=1"\n'), { tenant: "bob", field: "env.OPENCLAW_TZ", fragment: "control character" }],
  ["NUL in an env value", goodConfig, bobEnv('  OPENCLAW_TZ: "a\\0b"\n'), { tenant: "bob", field: "env.OPENCLAW_TZ", fragment: "control character" }],
  ["tab in an env value", goodConfig, bobEnv('  OPENCLAW_TZ: "a\\tb"\n'), { tenant: "bob", field: "env.OPENCLAW_TZ", fragment: "control character" }],
  ["escape sequence in an env value", goodConfig, bobEnv('  OPENCLAW_TZ: "\\e[2J"\n'), { tenant: "bob", field: "env.OPENCLAW_TZ", fragment: "control character" }],
  ["line separator in an env value", goodConfig, bobEnv('  OPENCLAW_TZ: "a\\u2028b"\n'), { tenant: "bob", field: "env.OPENCLAW_TZ", fragment: "invisible formatting" }],
  ["right-to-left override in an env value", goodConfig, bobEnv('  OPENCLAW_TZ: "a\\u202eb"\n'), { tenant: "bob", field: "env.OPENCLAW_TZ", fragment: "invisible formatting" }],
  ["newline in an API key", { ...goodConfig, apiKeys: JSON.stringify({ alice: "k-alice\nX=1", bob: "k" }) }, goodRoster, { field: "apiKeys.alice", fragment: "printable ASCII" }],
  ["space in an API key", { ...goodConfig, apiKeys: JSON.stringify({ alice: "k alice", bob: "k" }) }, goodRoster, { field: "apiKeys.alice", fragment: "without spaces" }],
];

const rosterEntries: Case[] = [
  ["upper-case extension", goodConfig, [...goodRoster, { file: "carol.YAML", text: "tier: light\n" }], { tenant: "carol", field: "(file)", fragment: "lowercase .yaml or .yml" }],
  ["mixed-case .Yml extension", goodConfig, [goodRoster[0], { file: "bob.Yml", text: "tier: light\n" }], { tenant: "bob", field: "(file)", fragment: "lowercase .yaml or .yml" }],
  ["upper-case file name and extension", goodConfig, [...goodRoster, { file: "ALICE.YAML", text: "tier: light\n" }], { field: "rosterDir", fragment: "ALICE.YAML: a tenant file must end in lowercase" }],
  ["a file that is not a tenant file", goodConfig, [...goodRoster, { file: "notes.txt", text: "" }], { field: "rosterDir", fragment: "notes.txt is not a tenant file" }],
  ["a backup copy of a tenant file", goodConfig, [...goodRoster, { file: "alice.yaml.bak", text: "tier: light\n" }], { field: "rosterDir", fragment: "alice.yaml.bak is not a tenant file" }],
  ["a control character in a file name", goodConfig, [...goodRoster, { file: "car\nol.yaml", text: "tier: light\n" }], { tenant: "car?ol", field: "name", fragment: "DNS label" }],
];

const pathsLeavingTheProject: Case[] = [
  ["absolute rosterDir", { ...goodConfig, rosterDir: "/etc" }, goodRoster, { field: "rosterDir", fragment: "relative to the project" }],
  ["rosterDir climbing out", { ...goodConfig, rosterDir: "../other-project/tenants" }, goodRoster, { field: "rosterDir", fragment: "must not contain .." }],
  ["rosterDir climbing out half-way", { ...goodConfig, rosterDir: "tenants/../../x" }, goodRoster, { field: "rosterDir", fragment: "must not contain .." }],
  ["rosterDir with a newline", { ...goodConfig, rosterDir: "tenants\nx" }, goodRoster, { field: "rosterDir", fragment: "folder path" }],
  ["rosterDir with a home folder", { ...goodConfig, rosterDir: "~/tenants" }, goodRoster, { field: "rosterDir", fragment: "folder path" }],
];

const engineConflicts: Case[] = [
  ["tenant pinned on Caddy's admin port", { ...goodConfig, portPool: JSON.stringify({ start: 2000, end: 2099 }) }, withFile("bob.yaml", "tier: light\nport: 2019\n"), { tenant: "bob", field: "port", fragment: "Caddy's adminAddress port" }],
  ["tenant pinned on a configured admin port", { ...caddy({ adminAddress: "127.0.0.1:18810" }) }, withFile("bob.yaml", "tier: light\nport: 18810\n"), { tenant: "bob", field: "port", fragment: "Caddy's adminAddress port (caddy.adminAddress)" }],
  ["tenant pinned on Caddy's http port", caddy({ ports: { http: 18820, https: 18821 } }), withFile("bob.yaml", "tier: light\nport: 18820\n"), { tenant: "bob", field: "port", fragment: "Caddy's http port (caddy.ports.http)" }],
  ["tenant pinned on Caddy's https port", caddy({ ports: { http: 18820, https: 18821 } }), withFile("bob.yaml", "tier: light\nport: 18821\n"), { tenant: "bob", field: "port", fragment: "Caddy's https port" }],
  ["Caddy's http and https on one port", caddy({ ports: { http: 8443, https: 8443 } }), goodRoster, { field: "caddy.ports.https", fragment: "already Caddy's http port" }],
  ["Caddy's admin and https on one port", caddy({ adminAddress: "localhost:8443", ports: { https: 8443 } }), goodRoster, { field: "caddy.ports.https", fragment: "already Caddy's adminAddress port" }],
  ["two tenants on one port", goodConfig, [{ file: "alice.yaml", text: "tier: light\nport: 18810\n" }, { file: "bob.yaml", text: "tier: light\nport: 18810\n" }], { tenant: "bob", field: "port", fragment: "pinned by more than one tenant" }],
  ["tenantNetworks is Docker's default bridge", { ...goodConfig, tenantNetworks: "172.17.0.0/16" }, goodRoster, { field: "tenantNetworks", fragment: "Docker's default bridge" }],
  ["tenantNetworks covers Docker's default bridge", { ...goodConfig, tenantNetworks: "172.16.0.0/12" }, goodRoster, { field: "tenantNetworks", fragment: "Docker's default bridge" }],
  ["tenantNetworks in Docker's default pools", { ...goodConfig, tenantNetworks: "172.28.0.0/16" }, goodRoster, { field: "tenantNetworks", fragment: "default address pools" }],
  ["tenantNetworks in 192.168/16", { ...goodConfig, tenantNetworks: "192.168.64.0/20" }, goodRoster, { field: "tenantNetworks", fragment: "default address pools" }],
  ["tenantNetworks on loopback", { ...goodConfig, tenantNetworks: "127.0.0.0/16" }, goodRoster, { field: "tenantNetworks", fragment: "loopback" }],
  ["tenantNetworks on link-local", { ...goodConfig, tenantNetworks: "169.254.0.0/16" }, goodRoster, { field: "tenantNetworks", fragment: "link-local" }],
  ["tenantNetworks on multicast", { ...goodConfig, tenantNetworks: "224.0.0.0/16" }, goodRoster, { field: "tenantNetworks", fragment: "multicast" }],
  ["CPU share below Docker's minimum", { ...goodConfig, tiers: JSON.stringify({ light: { cpus: 0.005 } }) }, goodRoster, { field: "tiers.light.cpus", fragment: "at least 0.01" }],
  ["zero CPUs", { ...goodConfig, tiers: JSON.stringify({ light: { cpus: 0 } }) }, goodRoster, { field: "tiers.light.cpus", fragment: "at least 0.01" }],
  ["NaN CPUs", { ...goodConfig, tiers: { light: { cpus: Number.NaN } } }, goodRoster, { field: "tiers.light.cpus", fragment: "must be a number, but it is NaN" }],
  ["infinite CPUs", { ...goodConfig, tiers: { heavy: { cpus: Number.POSITIVE_INFINITY } } }, goodRoster, { field: "tiers.heavy.cpus", fragment: "but it is infinite" }],
  ["short digest", { ...goodConfig, image: "ghcr.io/openclaw/openclaw@sha256:0123abcd" }, goodRoster, { field: "image", fragment: "not a full sha256" }],
  ["upper-case digest", { ...goodConfig, image: `ghcr.io/openclaw/openclaw@sha256:${digest.toUpperCase()}` }, goodRoster, { field: "image", fragment: "64 lowercase hex" }],
  ["sha512 digest on a tenant", goodConfig, withFile("bob.yaml", `tier: light\nimage: ghcr.io/openclaw/openclaw@sha512:${digest}${digest}\n`), { tenant: "bob", field: "image", fragment: "not a full sha256" }],
  ["digest without algorithm", { ...goodConfig, image: `ghcr.io/openclaw/openclaw@${digest}` }, goodRoster, { field: "image", fragment: "not a full sha256" }],
];

const longName = "a".repeat(64);
const valuesOutsideTheirStandards: Case[] = [
  ["tenant name over 50 characters", goodConfig, [...goodRoster, { file: `${"c".repeat(51)}.yaml`, text: "tier: light\n" }], { tenant: "c".repeat(51), field: "name", fragment: "at most 50" }],
  ["domain label over 63 characters", { ...goodConfig, domain: `${longName}.example.com` }, goodRoster, { field: "domain", fragment: "longer than 63" }],
  ["domain over 200 characters", { ...goodConfig, domain: `${"abcdefghij.".repeat(20)}com` }, goodRoster, { field: "domain", fragment: "at most 200" }],
  ["image repository name over 255 characters", { ...goodConfig, image: `ghcr.io/${"openclaw/".repeat(30)}openclaw:2026.8.1` }, goodRoster, { field: "image", fragment: "at most 255" }],
  ["image tag over 128 characters", { ...goodConfig, image: `ghcr.io/openclaw/openclaw:${"1".repeat(129)}` }, goodRoster, { field: "image", fragment: "at most 128" }],
  ["image tag starting with a dot", { ...goodConfig, image: "ghcr.io/openclaw/openclaw:.2026" }, goodRoster, { field: "image", fragment: "tag that registries refuse" }],
  ["image repository in upper case", { ...goodConfig, image: "ghcr.io/OpenClaw/openclaw:2026.8.1" }, goodRoster, { field: "image", fragment: "lowercase" }],
  ["image with a double slash", { ...goodConfig, image: "ghcr.io//openclaw:2026.8.1" }, goodRoster, { field: "image", fragment: "not an image reference" }],
  ["image registry with a bad port", { ...goodConfig, image: "ghcr.io:http/openclaw:2026.8.1" }, goodRoster, { field: "image", fragment: "registry host" }],
  ["ACME CA over http", caddy({ acmeCa: "http://acme.example.com/directory" }), goodRoster, { field: "caddy.acmeCa", fragment: "https:// URL" }],
  ["ACME CA as a file URL", caddy({ acmeCa: "file:///etc/passwd" }), goodRoster, { field: "caddy.acmeCa", fragment: "https:// URL" }],
  ["SSH host that is an option", { ...goodConfig, ssh: JSON.stringify({ host: "-oProxyCommand=touch /tmp/x", user: "deploy" }) }, goodRoster, { field: "ssh.host", fragment: "must not start with -" }],
  ["SSH host with a space", { ...goodConfig, ssh: JSON.stringify({ host: "claw-1 -p 2222", user: "deploy" }) }, goodRoster, { field: "ssh.host", fragment: "host name" }],
  ["SSH host with a user part", { ...goodConfig, ssh: JSON.stringify({ host: "root@claw-1", user: "deploy" }) }, goodRoster, { field: "ssh.host", fragment: "host name" }],
  ["SSH host label over 63 characters", { ...goodConfig, ssh: JSON.stringify({ host: `${longName}.example.com`, user: "deploy" }) }, goodRoster, { field: "ssh.host", fragment: "host name" }],
  ["SSH user with upper case", { ...goodConfig, ssh: JSON.stringify({ host: "claw-1", user: "Deploy" }) }, goodRoster, { field: "ssh.user", fragment: "Unix user name" }],
  ["SSH user over 32 characters", { ...goodConfig, ssh: JSON.stringify({ host: "claw-1", user: "d".repeat(33) }) }, goodRoster, { field: "ssh.user", fragment: "at most 32" }],
  ["SSH key path that is an option", { ...goodConfig, ssh: JSON.stringify({ host: "claw-1", user: "deploy", privateKeyPath: "-oProxyCommand=x" }) }, goodRoster, { field: "ssh.privateKeyPath", fragment: "not starting with -" }],
  ["SSH key path with a space", { ...goodConfig, ssh: JSON.stringify({ host: "claw-1", user: "deploy", privateKeyPath: "/home/op/my key" }) }, goodRoster, { field: "ssh.privateKeyPath", fragment: "file path" }],
  ["LD_PRELOAD in env", goodConfig, bobEnv("  LD_PRELOAD: /tmp/x.so\n"), { tenant: "bob", field: "env.LD_PRELOAD", fragment: "changes how programs are loaded" }],
  ["LD_LIBRARY_PATH in env", goodConfig, bobEnv("  LD_LIBRARY_PATH: /tmp\n"), { tenant: "bob", field: "env.LD_LIBRARY_PATH", fragment: "changes how programs are loaded" }],
  ["LD_AUDIT in env", goodConfig, bobEnv("  LD_AUDIT: /tmp/x.so\n"), { tenant: "bob", field: "env.LD_AUDIT", fragment: "changes how programs are loaded" }],
  ["NODE_PATH in env", goodConfig, bobEnv("  NODE_PATH: /tmp\n"), { tenant: "bob", field: "env.NODE_PATH", fragment: "changes how programs are loaded" }],
  ["NODE_TLS_REJECT_UNAUTHORIZED in env", goodConfig, bobEnv('  NODE_TLS_REJECT_UNAUTHORIZED: "0"\n'), { tenant: "bob", field: "env.NODE_TLS_REJECT_UNAUTHORIZED", fragment: "changes how programs are loaded" }],
  ["BASH_ENV in env", goodConfig, bobEnv("  BASH_ENV: /tmp/x\n"), { tenant: "bob", field: "env.BASH_ENV", fragment: "changes how programs are loaded" }],
  ["ENV in env", goodConfig, bobEnv("  ENV: /tmp/x\n"), { tenant: "bob", field: "env.ENV", fragment: "changes how programs are loaded" }],
  ["GLIBC_TUNABLES in env", goodConfig, bobEnv("  GLIBC_TUNABLES: glibc.malloc.check=3\n"), { tenant: "bob", field: "env.GLIBC_TUNABLES", fragment: "changes how programs are loaded" }],
  ["PYTHONPATH in env", goodConfig, bobEnv("  PYTHONPATH: /tmp\n"), { tenant: "bob", field: "env.PYTHONPATH", fragment: "changes how programs are loaded" }],
  ["lower-case env name", goodConfig, bobEnv("  ld_preload: /tmp/x.so\n"), { tenant: "bob", field: "env.ld_preload", fragment: "upper-case variable name" }],
];

const parserAbuse: Case[] = [
  ["duplicate key in a tenant file", goodConfig, withFile("bob.yaml", "tier: light\ntier: heavy\n"), { tenant: "bob", field: "(file)", fragment: 'has the key "tier" twice' }],
  ["duplicate env key in a tenant file", goodConfig, bobEnv("  OPENCLAW_TZ: a\n  OPENCLAW_TZ: b\n"), { tenant: "bob", field: "(file)", fragment: 'has the key "OPENCLAW_TZ" twice' }],
  ["alias bomb in a tenant file", goodConfig, withFile("bob.yaml", `tier: light\na: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n`), { tenant: "bob", field: "(file)", fragment: "YAML alias" }],
  ["deeply nested tenant file", goodConfig, withFile("bob.yaml", "[".repeat(LIMITS.tenantFileBytes - 1)), { tenant: "bob", field: "(file)", fragment: "bob.yaml" }],
  ["tenant file over the size limit", goodConfig, withFile("bob.yaml", `tier: light\n# ${"x".repeat(LIMITS.tenantFileBytes)}\n`), { tenant: "bob", field: "(file)", fragment: `over the limit of ${LIMITS.tenantFileBytes} bytes` }],
  ["thousands of tiny entries (cheap to refuse: the lexer stops at the limit)", goodConfig, bobEnv(Array.from({ length: 800 }, (_, i) => `  K${i}: v\n`).join("")), { tenant: "bob", field: "(file)", fragment: `more than ${LIMITS.tenantFileTokens} YAML elements` }],
  ["a flow map of thousands of entries", goodConfig, withFile("bob.yaml", `{${Array.from({ length: 900 }, (_, i) => `k${i}: v`).join(",")}}\n`), { tenant: "bob", field: "(file)", fragment: "YAML elements" }],
  ["too many env keys", goodConfig, bobEnv(Array.from({ length: LIMITS.envKeys + 1 }, (_, i) => `  OPENCLAW_X${i}: v\n`).join("")), { tenant: "bob", field: "env", fragment: `at most ${LIMITS.envKeys}` }],
  ["env value over its limit", goodConfig, bobEnv(`  OPENCLAW_TZ: ${"x".repeat(LIMITS.envValueBytes + 1)}\n`), { tenant: "bob", field: "env.OPENCLAW_TZ", fragment: `at most ${LIMITS.envValueBytes} bytes` }],
  ["env value over its limit in UTF-8 bytes", goodConfig, bobEnv(`  OPENCLAW_TZ: ${"é".repeat(LIMITS.envValueBytes / 2 + 1)}\n`), { tenant: "bob", field: "env.OPENCLAW_TZ", fragment: `at most ${LIMITS.envValueBytes} bytes` }],
  ["env name over its limit", goodConfig, bobEnv(`  ${"X".repeat(LIMITS.envNameChars + 1)}: v\n`), { tenant: "bob", field: `env.${"X".repeat(LIMITS.envNameChars + 1)}`, fragment: `at most ${LIMITS.envNameChars} characters` }],
  ["__proto__ as an env name (would vanish silently)", goodConfig, bobEnv("  __proto__: x\n"), { tenant: "bob", field: "(file)", fragment: "__proto__" }],
  ["a YAML 1.1 date as an env value", goodConfig, withFile("bob.yaml", "%YAML 1.1\n---\ntier: light\nenv:\n  OPENCLAW_SINCE: 2001-12-14\n"), { tenant: "bob", field: "env.OPENCLAW_SINCE", fragment: "but it is a date (quote it" }],
  ["a YAML 1.1 set as env", goodConfig, withFile("bob.yaml", "%YAML 1.1\n---\ntier: light\nenv: !!set {a}\n"), { tenant: "bob", field: "env", fragment: "but it is a set" }],
  ["more tenant files than the limit", goodConfig, Array.from({ length: LIMITS.tenants + 1 }, (_, i) => ({ file: `t${i}.yaml`, text: "tier: light\n" })), { field: "rosterDir", fragment: `at most ${LIMITS.tenants} tenants` }],
  ["more API keys than tenants allowed", { ...goodConfig, apiKeys: JSON.stringify(Object.fromEntries(Array.from({ length: LIMITS.tenants + 1 }, (_, i) => [`t${i}`, "k"]))) }, goodRoster, { field: "apiKeys", fragment: `at most ${LIMITS.tenants} keys` }],
  ["a config value over its size limit", { ...goodConfig, domain: "x".repeat(LIMITS.configValueBytes + 1) }, goodRoster, { field: "domain", fragment: "over the limit" }],
  ["a long API key", { ...goodConfig, apiKeys: JSON.stringify({ alice: "k".repeat(LIMITS.apiKeyChars + 1), bob: "k" }) }, goodRoster, { field: "apiKeys.alice", fragment: `at most ${LIMITS.apiKeyChars}` }],
  ["a long caddy path", caddy({ storageDir: `/${"d".repeat(LIMITS.pathChars)}` }), goodRoster, { field: "caddy.storageDir", fragment: `at most ${LIMITS.pathChars}` }],
  ["deleteData over its limit", { ...goodConfig, deleteData: JSON.stringify(Array.from({ length: LIMITS.deleteData + 1 }, (_, i) => `gone${i}`)) }, goodRoster, { field: "deleteData", fragment: `at most ${LIMITS.deleteData} entries` }],
];

const misleadingReasons: Case[] = [
  ["NaN memory", { ...goodConfig, tiers: { light: { memoryMb: Number.NaN } } }, goodRoster, { field: "tiers.light.memoryMb", fragment: "must be a number, but it is NaN" }],
  ["null memory", { ...goodConfig, tiers: { light: { memoryMb: null } } }, goodRoster, { field: "tiers.light.memoryMb", fragment: "but it is empty (null)" }],
  ["port as text", goodConfig, withFile("bob.yaml", "tier: light\nport: '18810'\n"), { tenant: "bob", field: "port", fragment: "must be a number, but it is text" }],
  ["port as NaN", goodConfig, withFile("bob.yaml", "tier: light\nport: .nan\n"), { tenant: "bob", field: "port", fragment: "but it is NaN" }],
  ["tier as a list", goodConfig, withFile("bob.yaml", "tier: [light]\n"), { tenant: "bob", field: "tier", fragment: "must be one of light, standard, heavy" }],
  ["missing domain", { ...goodConfig, domain: undefined }, goodRoster, { field: "domain", fragment: "is required" }],
  ["portPool as text", { ...goodConfig, portPool: "18800-18899" }, goodRoster, { field: "portPool", fragment: "must be a mapping of fields, but it is text" }],
  ["server memory as a fraction", { ...goodConfig, server: JSON.stringify({ memoryMb: 4096.5, cpus: 2 }) }, goodRoster, { field: "server.memoryMb", fragment: "must be a whole number" }],
  ["port as a fraction (no 'but it is a number')", goodConfig, withFile("bob.yaml", "tier: light\nport: 18810.5\n"), { tenant: "bob", field: "port", fragment: "must be a whole number" }],
  ["env value as a list", goodConfig, bobEnv("  OPENCLAW_TZ: [a]\n"), { tenant: "bob", field: "env.OPENCLAW_TZ", fragment: "must be a string (quote numbers and booleans), but it is a list" }],
];

describe.each([
  ["text that would reach the Caddyfile, a command or an environment unescaped", textReachingTheCaddyfile],
  ["roster entries that used to be skipped or mis-read", rosterEntries],
  ["paths that leave the project", pathsLeavingTheProject],
  ["conflicts only the engine would have found", engineConflicts],
  ["values outside the standards they name", valuesOutsideTheirStandards],
  ["parser abuse and unbounded sizes", parserAbuse],
  ["reasons in the operator's words", misleadingReasons],
])("%s", (_class, cases) => {
  test.each(cases)("%s", (_label, config, roster, expected) => {
    expectProblem(found(config, roster), expected);
  });
});

describe("ignored roster entries and accepted edge values", () => {
  test("README.md, other notes and dotfiles are ignored, and nothing else is", () => {
    const roster = [...goodRoster, { file: "README.md", text: "# roster" }, { file: ".gitkeep", text: "" }, { file: ".alice.yaml.swp", text: "\0" }];
    const checked = checkHosting(goodConfig, () => roster);
    expect(checked.problems).toEqual([]);
    expect(checked.plan?.tenants.map((t) => t.name)).toEqual(["alice", "bob"]);
  });

  test.each([
    ["an IPv6 SSH host", { ...goodConfig, ssh: JSON.stringify({ host: "2001:db8::10", user: "deploy" }) }],
    ["a digest-pinned image", { ...goodConfig, image: `ghcr.io/openclaw/openclaw@sha256:${digest}` }],
    ["a tag plus digest", { ...goodConfig, image: `ghcr.io/openclaw/openclaw:2026.8.1@sha256:${digest}` }],
    ["a registry with a port", { ...goodConfig, image: "registry.example.com:5000/openclaw/openclaw:2026.8.1" }],
    ["the staging CA", caddy({ acmeCa: "https://acme-staging-v02.api.letsencrypt.org/directory" })],
    ["CPUs at Docker's minimum", { ...goodConfig, tiers: JSON.stringify({ light: { cpus: 0.01 } }) }],
    ["a 63-character domain label", { ...goodConfig, domain: `${"a".repeat(63)}.example.com` }],
  ])("%s is accepted", (_label, config) => {
    expect(found(config, goodRoster)).toEqual([]);
  });

  test("an env value at its limit with only printable unicode is accepted", () => {
    const value = "é".repeat(LIMITS.envValueBytes / 2);
    const checked = checkHosting(goodConfig, () => bobEnv(`  OPENCLAW_NOTE: ${value}\n`));
    expect(checked.problems).toEqual([]);
    expect(checked.plan?.tenants.find((t) => t.name === "bob")?.env.OPENCLAW_NOTE).toBe(value);
  });

  test("a private serverIp with DNS on is a warning, not an error", () => {
    for (const ip of ["10.1.2.3", "172.20.0.5", "192.168.1.10", "127.0.0.1", "100.64.0.1", "169.254.169.254"]) {
      const checked = checkHosting({ ...goodConfig, serverIp: ip, dns: JSON.stringify({ zoneId: "0123456789abcdef0123456789abcdef" }) }, () => goodRoster);
      expect(checked.problems).toEqual([]);
      expect(checked.warnings).toEqual(expect.arrayContaining([expect.objectContaining({ field: "serverIp", message: expect.stringContaining("private address") })]));
    }
    const publicIp = checkHosting({ ...goodConfig, serverIp: "203.0.113.10", dns: JSON.stringify({ zoneId: "0123456789abcdef0123456789abcdef" }) }, () => goodRoster);
    expect(publicIp.warnings.map((w) => w.field)).not.toContain("serverIp");
  });

  test("unpinned tenants are never given one of Caddy's ports", () => {
    const pool = { start: 2019, end: 2020 };
    const checked = checkHosting({ ...goodConfig, portPool: JSON.stringify(pool), tenantNetworks: "10.231.0.0/24" }, () => [goodRoster[0]]);
    expect(checked.problems).toEqual([]);
    expect(checked.plan?.tenants[0].port).toBe(2020);
    const full = checkHosting({ ...goodConfig, portPool: JSON.stringify(pool), tenantNetworks: "10.231.0.0/24" }, () => goodRoster);
    expectProblem(full.problems, { tenant: "bob", field: "port", fragment: "no free port" });
  });

  test("an environment string over the kernel's MAX_ARG_STRLEN is refused, naming tenant and variable", () => {
    const name = "OPENCLAW_BIG";
    const fits = "x".repeat(LIMITS.kernelEnvStringBytes - name.length - 1);
    expect(kernelEnvProblems("bob", { [name]: fits })).toEqual([]);
    const over = kernelEnvProblems("bob", { [name]: `${fits}x` });
    expectProblem(over, { tenant: "bob", field: `env.${name}`, fragment: "MAX_ARG_STRLEN" });
  });

  test("plaintext secrets: each says how to set it as a secret", () => {
    const problems = plaintextSecretProblems(["apiKeys.alice", "cloudflare:apiToken", "apiKeys"]);
    expectProblem(problems, { field: "apiKeys.alice", fragment: "pulumi config set --secret --path 'apiKeys.alice' (no value on the command line: pulumi asks for it, or reads it from standard input, e.g. `< key.txt`)" });
    expectProblem(problems, { field: "cloudflare:apiToken", fragment: "pulumi config set --secret cloudflare:apiToken (no value on the command line: pulumi asks for it, or reads it from standard input, e.g. `< key.txt`)" });
    expectProblem(problems, { field: "apiKeys", fragment: "for each tenant" });
    const checked = checkHosting(goodConfig, () => goodRoster, ["apiKeys.bob"]);
    expectProblem(checked.problems, { field: "apiKeys.bob", fragment: "stored in plaintext" });
  });
});

describe("every field's reasons are in the operator's words, never zod's defaults", () => {
  const wrongValues: unknown[] = [null, Number.NaN, Number.POSITIVE_INFINITY, -1, 0, 1.5, 1e9, "", "text", true, [], ["x"], {}, { x: 1 }];
  const configPaths = [
    "domain", "rosterDir", "image", "portPool", "portPool.start", "portPool.end", "tiers", "tiers.light", "tiers.light.memoryMb",
    "tiers.light.reservationMb", "tiers.light.cpus", "tiers.light.pidsLimit", "tiers.light.diskMb", "apiKeys", "apiKeys.alice", "serverIp", "dns", "dns.zoneId",
    "dns.proxied", "caddy", "caddy.caddyfilePath", "caddy.adminAddress", "caddy.acmeEmail", "caddy.acmeCa", "caddy.localCerts", "caddy.ports",
    "caddy.ports.http", "caddy.storageDir", "ssh", "ssh.host", "ssh.user", "ssh.port", "ssh.privateKeyPath", "tenantNetworks", "server",
    "server.memoryMb", "server.cpus", "server.overcommit", "deleteData",
  ];
  const tenantPaths = ["tier", "state", "port", "image", "provider", "env", "env.OPENCLAW_TZ"];
  const zodDefault = /Invalid (input|option|string|element|key|value)|expected \w+, received|Too (small|big)|Unrecognized/;
  const withPath = (base: Record<string, unknown>, dotted: string, value: unknown): Record<string, unknown> => {
    const [head, ...rest] = dotted.split(".");
    if (rest.length === 0) return { ...base, [head]: value };
    const inner = (base[head] !== null && typeof base[head] === "object" ? base[head] : {}) as Record<string, unknown>;
    return { ...base, [head]: withPath(inner, rest.join("."), value) };
  };
  const objectConfig = { ...goodConfig, caddy: goodCaddy, apiKeys: { alice: "k-alice", bob: "k-bob" }, ssh: { host: "claw-1", user: "deploy" }, server: { memoryMb: 8192, cpus: 4 }, dns: { zoneId: "0123456789abcdef0123456789abcdef" }, serverIp: "203.0.113.10" };

  test.each(configPaths)("config %s", (field) => {
    let reported = 0;
    for (const value of wrongValues) {
      for (const p of found(withPath(objectConfig, field, value), goodRoster)) {
        reported++;
        expect(`${p.field}: ${p.message}`).not.toMatch(zodDefault);
      }
    }
    expect(reported).toBeGreaterThan(0);
  });

  test.each(tenantPaths)("tenant %s", (field) => {
    let reported = 0;
    for (const value of wrongValues) {
      const doc = withPath({ tier: "light" }, field, value);
      for (const p of found(goodConfig, withFile("bob.yaml", JSON.stringify(doc)))) {
        reported++;
        expect(`${p.field}: ${p.message}`).not.toMatch(zodDefault);
      }
    }
    expect(reported).toBeGreaterThan(0);
  });
});
