// Reading Pulumi.<stack>.yaml offline: never a thrown error, bounded, and secrets in plaintext found.
import { checkHosting } from "../../../../core/check";
import { LIMITS } from "../../../../core/limits";
import { readStackFile } from "../../../../tools/shared/stackFile";

const head = [
  "config:",
  "  openclaw-hosting:domain: claw.example.com",
  "  openclaw-hosting:image: ghcr.io/openclaw/openclaw:2026.8.1-r20260820",
  "  openclaw-hosting:caddy:",
  "    acmeEmail: ops@example.com",
].join("\n");
const stack = (...lines: string[]) => [head, ...lines].join("\n") + "\n";
const billionLaughs = [
  "config:",
  '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  "  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
  "  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
  "  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
  "  openclaw-hosting:domain: *d",
].join("\n");

describe("a stack file that cannot be read is a problem, never a crash", () => {
  test.each([
    ["duplicate keys", stack("  openclaw-hosting:domain: evil.example.com"), 'has the key "openclaw-hosting:domain" twice'],
    ["duplicate keys inside an object", stack("    acmeEmail: other@example.com"), 'has the key "acmeEmail" twice'],
    ["an alias bomb", billionLaughs, "YAML alias"],
    ["not YAML", "config: [\n", "is not valid YAML"],
    ["a list instead of a mapping", "- config\n", "must be a mapping"],
    ["config as text", "config: hello\n", "must be a mapping"],
    ["over the size limit", stack(`# ${"x".repeat(LIMITS.stackFileBytes)}`), `over the limit of ${LIMITS.stackFileBytes} bytes`],
    ["deep nesting", `config:\n  x: ${"[".repeat(100_000)}`, "Pulumi.test.yaml"],
  ])("%s", (_label, text, fragment) => {
    const read = readStackFile(text, "Pulumi.test.yaml");
    expect(read.problems).toEqual([expect.objectContaining({ field: "(stack file)", message: expect.stringContaining(fragment) })]);
  });

  test("a good stack file has no problems and keeps objects as objects", () => {
    const read = readStackFile(stack(), "Pulumi.test.yaml");
    expect(read.problems).toEqual([]);
    expect(read.raw.caddy).toEqual({ acmeEmail: "ops@example.com" });
  });

  test("NaN in the stack file is reported as NaN, not as null", () => {
    const read = readStackFile(stack("  openclaw-hosting:tiers:", "    light:", "      cpus: .nan"), "Pulumi.test.yaml");
    const problems = checkHosting(read.raw, () => []).problems;
    expect(problems).toEqual([{ field: "tiers.light.cpus", message: "must be a number, but it is NaN (not a number)" }]);
  });
});

describe("secrets in plaintext are found", () => {
  const secure = "{secure: v1:AAAABBBBCCCC}";
  test.each([
    ["one tenant's key in plaintext", ["  openclaw-hosting:apiKeys:", "    alice: plain-key", `    bob: ${secure}`], ["apiKeys.alice"]],
    ["every key in plaintext", ["  openclaw-hosting:apiKeys:", "    alice: plain-key", "    bob: plain-key"], ["apiKeys.alice", "apiKeys.bob"]],
    ["apiKeys as one plaintext string", ["  openclaw-hosting:apiKeys: '{\"alice\": \"k\"}'"], ["apiKeys"]],
    ["the Cloudflare token in plaintext", ["  cloudflare:apiToken: plain-token"], ["cloudflare:apiToken"]],
    ["every key encrypted", ["  openclaw-hosting:apiKeys:", `    alice: ${secure}`, `    bob: ${secure}`, `  cloudflare:apiToken: ${secure}`], []],
    ["the whole apiKeys encrypted", [`  openclaw-hosting:apiKeys: ${secure}`], []],
  ])("%s", (_label, lines, expected) => {
    const read = readStackFile(stack(...lines), "Pulumi.test.yaml");
    expect(read.problems).toEqual([]);
    expect(read.plaintextSecrets.sort()).toEqual(expected);
  });
});
