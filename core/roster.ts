import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ImageRef, Port, TenantName } from "./names";
import { Problem, problemsFromZod } from "./problems";
import { TierName } from "./stackConfig";

/** Which environment variable a tenant's API key goes into. */
export const PROVIDER_KEY_ENV = {
  anthropic: "ANTHROPIC_API_KEY",
  openai: "OPENAI_API_KEY",
  gemini: "GEMINI_API_KEY",
  openrouter: "OPENROUTER_API_KEY",
} as const;
export const ProviderName = z.enum(Object.keys(PROVIDER_KEY_ENV) as [keyof typeof PROVIDER_KEY_ENV], {
  error: `must be one of ${Object.keys(PROVIDER_KEY_ENV).join(", ")}`,
});

/** Variables the program sets itself; a roster must not override them. */
const MANAGED_ENV = new Set([
  "OPENCLAW_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_PASSWORD", "OPENCLAW_GATEWAY_PORT", "OPENCLAW_STATE_DIR",
  "OPENCLAW_CONFIG_PATH", "OPENCLAW_HOSTING_SETTINGS", "OPENCLAW_DISABLE_BONJOUR", "NODE_OPTIONS", "HOME", "PATH",
  ...Object.values(PROVIDER_KEY_ENV),
]);
const SECRET_LOOKING_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/;
const SECRET_LOOKING_VALUE = /^(sk-|sk_|ghp_|xox[bp]-|AKIA)[A-Za-z0-9_-]{12,}/;

const EnvName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, { error: "must be an upper-case variable name" })
  .refine((k) => !MANAGED_ENV.has(k), { error: "is set by openclaw-hosting itself and cannot be overridden" })
  .refine((k) => !SECRET_LOOKING_NAME.test(k), {
    error: "looks like a secret; the roster is plaintext in git: put API keys in the stack's secret apiKeys",
  });
const EnvValue = z
  .string({ error: "must be a string (quote numbers and booleans)" })
  .refine((v) => !SECRET_LOOKING_VALUE.test(v), { error: "looks like a secret key; keep secrets out of the roster" });

/** One tenant file under the roster folder: the single source of truth for a tenant's shape. */
export const TenantSchema = z.strictObject({
  name: TenantName,
  tier: TierName,
  state: z.enum(["active", "suspended"], { error: "must be active or suspended" }).default("active"),
  port: Port.optional(),
  image: ImageRef.optional(),
  provider: ProviderName.default("anthropic"),
  env: z.record(EnvName, EnvValue).default({}),
});
export type Tenant = z.infer<typeof TenantSchema>;

export interface RosterFile {
  /** File name relative to the roster folder, e.g. `alice.yaml`. */
  file: string;
  text: string;
}

export const ROSTER_FILE = /^([^.][^/]*)\.ya?ml$/;

/**
 * Parses every tenant file and reports every problem, not just the first. A tenant's name is its
 * file name, so two pull requests adding tenants touch different files and never conflict.
 */
export function parseRoster(files: readonly RosterFile[]): { tenants: Tenant[]; problems: Problem[] } {
  const tenants: Tenant[] = [];
  const problems: Problem[] = [];
  const seen = new Map<string, string>();
  for (const { file, text } of [...files].sort((a, b) => a.file.localeCompare(b.file))) {
    const stem = ROSTER_FILE.exec(file)?.[1] ?? file;
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      problems.push({ tenant: stem, field: "(file)", message: `${file} is not valid YAML: ${(err as Error).message.split("\n")[0]}` });
      continue;
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
      problems.push({ tenant: stem, field: "(file)", message: `${file} must be a mapping of fields (name, tier, ...)` });
      continue;
    }
    const withName = { name: stem, ...(doc as Record<string, unknown>) };
    const parsed = TenantSchema.safeParse(withName);
    if (!parsed.success) {
      problems.push(...problemsFromZod(parsed.error, { tenant: stem }));
      continue;
    }
    if (parsed.data.name !== stem) {
      problems.push({ tenant: stem, field: "name", message: `"${parsed.data.name}" differs from the file name ${file}; rename one of them` });
      continue;
    }
    const other = seen.get(parsed.data.name);
    if (other !== undefined) {
      problems.push({ tenant: stem, field: "name", message: `is defined twice, in ${other} and ${file}` });
      continue;
    }
    seen.set(parsed.data.name, file);
    tenants.push(parsed.data);
  }
  return { tenants, problems };
}
