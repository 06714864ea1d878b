// Property-based: arbitrary text (unicode, control characters, structure characters, very long) in
// every free-text field. The check never throws, and whatever it accepts renders a Caddyfile with
// exactly its three fixed blocks, a route table with exactly one line per tenant, and a container spec, command and
// Docker host that carry the value verbatim and nothing else.
import fc from "fast-check";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { installCommand } from "../../../components/edge";
import { HostingCheck, checkHosting } from "../../../core/check";
import { parseDockerHost, sshDockerHost } from "../../../core/dockerHost";
import { containerEnv } from "../../../core/gateway";
import { readRoster } from "../../../program/rosterFolder";
import { RosterFile } from "../../../core/roster";
import { readStackFile } from "../../../tools/shared/stackFile";

const RUNS = 60;
const goodCaddy = { acmeEmail: "ops@example.com" };
const goodConfig: Record<string, unknown> = {
  domain: "claw.example.com",
  image: "ghcr.io/openclaw/openclaw:2026.8.1-r20260820",
  caddy: goodCaddy,
  apiKeys: { alice: "k-alice", bob: "k-bob" },
};
const alice: RosterFile = { file: "alice.yaml", text: "tier: standard\n" };
const bobFile = (doc: Record<string, unknown>): RosterFile => ({ file: "bob.yaml", text: stringify({ tier: "light", ...doc }) });

/** Text an attacker or a careless operator might write: any code unit, structure characters, unicode, very long. */
const pieces = ["\n", "\r", "\t", "\u0000", "\u001b", "{", "}", '"', "'", "`", "#", " ", "\\", "$(", ";", "-", "..", "/", ".", ":", "@", "a", "z", "0", "9", "A", "é", "😀", "\u2028", "\u202e", "\ud800", "sha256", "https://", "localhost", "[::1]", "*", "<<", "_", "=", "%", "\n}\nevil.example.com {\n"];
const hostile = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
  { weight: 3, arbitrary: fc.array(fc.constantFrom(...pieces), { maxLength: 30 }).map((p) => p.join("")) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 2000, maxLength: 20000 }) },
);
const injection = fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 8 }).map((p) => p.join(""));
/** Hostile text; valid values, so the accepted branch is exercised too; and valid values with hostile text inside. */
const anyOf = (plausible: fc.Arbitrary<string>) =>
  fc.oneof(hostile, plausible, fc.tuple(plausible, injection, plausible).map(([a, i, b]) => `${a}${i}${b}`), plausible.chain((a) => injection.map((i) => `${a}${i}`)));
const word = fc.stringMatching(/^[a-z0-9]{1,10}$/);

function check(config: Record<string, unknown>, roster: RosterFile[]): HostingCheck {
  return checkHosting(config, () => roster);
}

/** The comment lines the renderer writes between blocks (nothing from input). */
const OUR_COMMENTS = ["# Managed by openclaw-hosting", "# Caddy asks here before it obtains a certificate", "# Every tenant: its route folder"];

/** The Caddyfile's top-level blocks, asserting that nothing sits outside a block but the header comment. */
function topLevelBlocks(caddyfile: string): string[] {
  let depth = 0;
  const openers: string[] = [];
  for (const line of caddyfile.split("\n")) {
    const t = line.trim();
    if (t === "" || (depth === 0 && OUR_COMMENTS.some((c) => t.startsWith(c)))) continue;
    if (t.endsWith("{")) {
      if (depth === 0) openers.push(t);
      depth++;
    } else if (t === "}") {
      depth--;
      expect(depth).toBeGreaterThanOrEqual(0);
    } else {
      expect(depth).toBeGreaterThan(0);
    }
  }
  expect(depth).toBe(0);
  return openers;
}

/** What holds for every accepted input, whatever field the value went into. */
function expectWellFormed(checked: HostingCheck): void {
  const plan = checked.plan!;
  // The Caddyfile names no tenant: the global block, Caddy's certificate question, the one site.
  expect(topLevelBlocks(plan.caddyfile)).toEqual(["{", `http://127.0.0.1:${checked.config!.caddy.ports?.http ?? 80} {`, `*.${checked.config!.domain} {`]);
  // The route table: one line per tenant, its host and a port or `suspended`, nothing else.
  expect(plan.routes.split("\n").filter((l) => l !== "")).toEqual(
    [...plan.tenants].sort((a, b) => (a.host < b.host ? -1 : 1)).map((t) => `${t.host} ${t.state === "active" ? `port-${t.port}` : "suspended"}`),
  );
  for (const t of plan.tenants) {
    const env = containerEnv(t, "token", "key");
    expect(env).toHaveLength(6 + Object.keys(t.env).length);
    // Checked independently of the validator: no control character, lone surrogate or line separator.
    for (const entry of env) expect(/[\p{Cc}\p{Cs}\u2028\u2029]/u.test(entry)).toBe(false);
    for (const label of [t.name, t.tier, t.url, t.image]) expect(/^[\x21-\x7e]+$/.test(label)).toBe(true);
  }
}

interface Field {
  name: string;
  values: fc.Arbitrary<string>;
  apply(value: string): { config: Record<string, unknown>; roster: RosterFile[] };
  /** The value, when accepted, arrives verbatim where it is used. */
  verbatim(checked: HostingCheck, value: string): void;
}

/**
 * A Caddy option: the accepted value is one Caddyfile token, and the file is exactly the file
 * rendered with a known-good value, that value replaced by this one.
 */
const caddyField = (key: string, plausible: fc.Arbitrary<string>, placeholder: string, line: (v: string) => string): Field => ({
  name: `caddy.${key}`,
  values: anyOf(plausible),
  apply: (v) => ({ config: { ...goodConfig, caddy: { ...goodCaddy, [key]: v } }, roster: [alice] }),
  verbatim: (checked, v) => {
    expect(v).toMatch(/^[^\s{}"'`#\\]+$/u);
    const reference = check({ ...goodConfig, caddy: { ...goodCaddy, [key]: placeholder } }, [alice]).plan!.caddyfile;
    expect(checked.plan!.caddyfile).toBe(reference.split(line(placeholder)).join(line(v)));
  },
});

const fields: Field[] = [
  {
    name: "env name",
    values: anyOf(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,20}$/)),
    apply: (v) => ({ config: goodConfig, roster: [alice, bobFile({ env: { [v]: "x" } })] }),
    verbatim: (checked, v) => expect(containerEnv(checked.plan!.tenants.find((t) => t.name === "bob")!, "t", "k")).toContain(`${v}=x`),
  },
  {
    name: "env value",
    values: anyOf(fc.string({ unit: "grapheme", maxLength: 200 })),
    apply: (v) => ({ config: goodConfig, roster: [alice, bobFile({ env: { OPENCLAW_NOTE: v } })] }),
    verbatim: (checked, v) => {
      const env = containerEnv(checked.plan!.tenants.find((t) => t.name === "bob")!, "t", "k");
      expect(env.filter((e) => e.startsWith("OPENCLAW_NOTE="))).toEqual([`OPENCLAW_NOTE=${v}`]);
    },
  },
  {
    name: "tenant image",
    values: anyOf(fc.tuple(word, word, word).map(([a, b, c]) => `reg.example.com/${a}/${b}:${c}`)),
    apply: (v) => ({ config: goodConfig, roster: [alice, bobFile({ image: v })] }),
    verbatim: (checked, v) => expect(checked.plan!.tenants.find((t) => t.name === "bob")!.image).toBe(v),
  },
  {
    name: "stack image",
    values: anyOf(fc.tuple(word, word).map(([a, b]) => `${a}/${b}:2026.1.${a.length}`)),
    apply: (v) => ({ config: { ...goodConfig, image: v }, roster: [alice] }),
    verbatim: (checked, v) => expect(checked.plan!.tenants[0].image).toBe(v),
  },
  {
    name: "domain",
    values: anyOf(fc.tuple(word, word).map(([a, b]) => `${a}.${b}.com`)),
    apply: (v) => ({ config: { ...goodConfig, domain: v }, roster: [alice] }),
    verbatim: (checked, v) => {
      expect(checked.plan!.caddyfile).toContain(`\n*.${v} {\n`);
      expect(checked.plan!.routes).toContain(`alice.${v} port-`);
    },
  },
  caddyField("storageDir", fc.stringMatching(/^\/[a-z0-9._-]{1,12}(\/[a-z0-9._-]{1,12}){0,3}$/), "/placeholder", (v) => `\n\tstorage file_system ${v}\n`),
  caddyField("acmeEmail", fc.tuple(word, word).map(([a, b]) => `${a}@${b}.com`), "placeholder@example.com", (v) => `\n\temail ${v}\n`),
  caddyField("acmeCa", word.map((a) => `https://${a}.example.com/directory`), "https://placeholder.example.com/directory", (v) => `\n\tacme_ca ${v}\n`),
  caddyField("adminAddress", fc.integer({ min: 1, max: 65535 }).map((p) => `localhost:${p}`), "localhost:2999", (v) => `\n\tadmin ${v}\n`),
  {
    name: "caddy.caddyfilePath",
    values: anyOf(fc.stringMatching(/^\/[a-z0-9._-]{1,12}(\/[a-z0-9._-]{1,12}){0,3}$/)),
    apply: (v) => ({ config: { ...goodConfig, caddy: { ...goodCaddy, caddyfilePath: v } }, roster: [alice] }),
    verbatim: (checked, v) => {
      const script = "echo one\necho two\n";
      const command = installCommand(script, checked.config!.caddy.caddyfilePath, checked.config!.caddy.adminAddress);
      const lines = command.split("\n");
      expect(lines).toHaveLength(5);
      expect(lines[4].startsWith(`bash "$script" '${v}' 'unix//var/lib/caddy/admin.sock|0600';`)).toBe(true);
    },
  },
  ...(["host", "user"] as const).map(
    (key): Field => ({
      name: `ssh.${key}`,
      values: anyOf(key === "host" ? fc.tuple(word, word).map(([a, b]) => `${a}.${b}.net`) : fc.stringMatching(/^[a-z_][a-z0-9_-]{0,10}$/)),
      apply: (v) => ({ config: { ...goodConfig, ssh: { host: "claw-1", user: "deploy", [key]: v } }, roster: [alice] }),
      verbatim: (checked) => {
        const ssh = checked.config!.ssh!;
        const target = parseDockerHost(sshDockerHost(ssh.user, ssh.host, ssh.port));
        expect(target).toMatchObject({ kind: "ssh", host: ssh.host, user: ssh.user, port: ssh.port });
      },
    }),
  ),
  {
    name: "ssh.privateKeyPath",
    values: anyOf(fc.stringMatching(/^\/[a-z0-9._-]{1,12}(\/[a-z0-9._-]{1,12}){0,3}$/)),
    apply: (v) => ({ config: { ...goodConfig, ssh: { host: "claw-1", user: "deploy", privateKeyPath: v } }, roster: [alice] }),
    // It becomes one argument after ssh's -i: never an option of its own, never two arguments.
    verbatim: (checked, v) => expect(checked.config!.ssh!.privateKeyPath === v && !v.startsWith("-") && /^\S+$/.test(v)).toBe(true),
  },
  {
    name: "apiKeys value",
    values: anyOf(fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 100 })),
    apply: (v) => ({ config: { ...goodConfig, apiKeys: { alice: v } }, roster: [alice] }),
    verbatim: (checked, v) => expect(containerEnv(checked.plan!.tenants[0], "t", checked.config!.apiKeys.alice)).toContain(`ANTHROPIC_API_KEY=${v}`),
  },
  {
    name: "roster file name",
    values: anyOf(word.map((w) => `${w}.yaml`)),
    apply: (v) => ({ config: { ...goodConfig, apiKeys: {} }, roster: [{ file: v, text: "tier: light\nstate: suspended\n" }] }),
    verbatim: (checked, v) => {
      const names = checked.plan!.tenants.map((t) => t.name);
      expect(names.every((n) => v === `${n}.yaml` || v === `${n}.yml`)).toBe(true);
    },
  },
  {
    name: "tenant file text",
    values: anyOf(fc.constantFrom("tier: light\n", "tier: heavy\nport: 18810\n", "tier: light\nenv:\n  OPENCLAW_TZ: UTC\n")),
    apply: (v) => ({ config: goodConfig, roster: [alice, { file: "bob.yaml", text: v }] }),
    verbatim: () => undefined,
  },
];

describe("arbitrary text in every free-text field", () => {
  test.each(fields.map((f) => [f.name, f] as const))("%s: never throws; accepted values render one route per tenant and arrive verbatim", (_name, field) => {
    let accepted = 0;
    fc.assert(
      fc.property(field.values, (value) => {
        const { config, roster } = field.apply(value);
        const checked = check(config, roster);
        for (const p of checked.problems) expect(typeof p.message).toBe("string");
        if (checked.problems.length === 0) {
          accepted++;
          expectWellFormed(checked);
          field.verbatim(checked, value);
        }
      }),
      { numRuns: RUNS },
    );
    // The plausible half of the generator must reach the accepted branch, or the property proves little.
    expect(accepted).toBeGreaterThan(0);
  });

  test("rosterDir: never throws, and an accepted one never leads out of the project", () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "project-"));
    fs.mkdirSync(path.join(project, "tenants"));
    fs.writeFileSync(path.join(project, "tenants", "alice.yaml"), "tier: light\n");
    try {
      fc.assert(
        fc.property(anyOf(fc.constantFrom("tenants", "tenants/", "./tenants")), (value) => {
          const checked = checkHosting({ ...goodConfig, rosterDir: value }, (dir) => readRoster(project, dir));
          if (checked.config !== undefined) expect(path.resolve(project, checked.config.rosterDir).startsWith(project)).toBe(true);
        }),
        { numRuns: RUNS },
      );
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });

  test("a stack file of arbitrary text never throws", () => {
    fc.assert(
      fc.property(anyOf(fc.constantFrom("config:\n  openclaw-hosting:domain: a.example.com\n", "config: {}\n")), (text) => {
        const read = readStackFile(text, "Pulumi.x.yaml");
        if (read.problems.length === 0) checkHosting(read.raw, () => [], read.plaintextSecrets);
      }),
      { numRuns: RUNS },
    );
  });
});
