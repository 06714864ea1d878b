import { z } from "zod";
import { LIMITS } from "./limits";
import { DataLabel, ImageRef, Port, ServerName, TenantName, UNSAFE_TEXT } from "./names";
import { Problem, problemsFromZod } from "./problems";
import { TierName } from "./stackConfig";
import { UID_POOL } from "./tenantIdentity";
import { parseYamlText, printable } from "./yamlText";

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
/**
 * Variables that change how a program is loaded or run rather than what it does: the dynamic
 * loader's (LD_PRELOAD, LD_AUDIT, GLIBC_TUNABLES, ...), Node's own (NODE_OPTIONS can --require any
 * file), shells' start-up files (BASH_ENV, ENV), and other interpreters' equivalents. A roster edit
 * must not be able to run code in the gateway before the gateway's own code.
 */
export const DENIED_ENV_PREFIXES = ["LD_", "NODE_", "DYLD_", "BASH_FUNC_", "MALLOC_", "PYTHON", "PERL", "RUBY", "JAVA_", "_JAVA_"] as const;
export const DENIED_ENV = new Set([
  "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "IFS", "PROMPT_COMMAND", "CDPATH",
  "GLIBC_TUNABLES", "GCONV_PATH", "LOCPATH", "NLSPATH", "HOSTALIASES", "RES_OPTIONS", "LOCALDOMAIN",
  "OPENSSL_CONF", "OPENSSL_MODULES", "SSL_CERT_FILE", "SSL_CERT_DIR", "UV_THREADPOOL_SIZE",
]);
const SECRET_LOOKING_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/;
const SECRET_LOOKING_VALUE = /^(sk-|sk_|ghp_|xox[bp]-|AKIA)[A-Za-z0-9_-]{12,}/;

const EnvName = z
  .string()
  .max(LIMITS.envNameChars, { error: `must be at most ${LIMITS.envNameChars} characters` })
  .regex(/^[A-Z_][A-Z0-9_]*$/, { error: "must be an upper-case variable name (A-Z, 0-9, _)" })
  .refine((k) => !MANAGED_ENV.has(k), { error: "is set by openclaw-hosting itself and cannot be overridden" })
  .refine((k) => !DENIED_ENV.has(k) && !DENIED_ENV_PREFIXES.some((p) => k.startsWith(p)), {
    error: "changes how programs are loaded (LD_*, NODE_*, BASH_ENV, ENV, ...) and is not allowed; see the README's env deny list",
  })
  .refine((k) => !SECRET_LOOKING_NAME.test(k), {
    error: "looks like a secret; the roster is plaintext in git: put API keys in the stack's secret apiKeys",
  });
const EnvValue = z
  .string({ error: "must be a string (quote numbers and booleans)" })
  .refine((v) => Buffer.byteLength(v, "utf8") <= LIMITS.envValueBytes, { error: `must be at most ${LIMITS.envValueBytes} bytes` })
  .refine((v) => !UNSAFE_TEXT.test(v), {
    error: "contains a control character (newline, NUL, tab, ...) or an invisible formatting character; use plain one-line text",
  })
  .refine((v) => !SECRET_LOOKING_VALUE.test(v), { error: "looks like a secret key; keep secrets out of the roster" });

const Env = z
  .record(EnvName, EnvValue)
  .refine((env) => Object.keys(env).length <= LIMITS.envKeys, { error: `must have at most ${LIMITS.envKeys} variables` });

/** One tenant file under the roster folder: the single source of truth for a tenant's shape. */
export const TenantSchema = z.strictObject({
  name: TenantName,
  tier: TierName,
  state: z.enum(["active", "suspended"], { error: "must be active or suspended" }).default("active"),
  port: Port.optional(),
  /** The host uid (and gid) the tenant's gateway runs as and its files belong to; `npm run pin` writes it. */
  uid: z
    .number({ error: "must be a number" })
    .int({ error: "must be a whole number" })
    .min(UID_POOL.start, { error: `must be in the tenant uid pool ${UID_POOL.start}-${UID_POOL.end}` })
    .max(UID_POOL.end, { error: `must be in the tenant uid pool ${UID_POOL.start}-${UID_POOL.end}` })
    .optional(),
  /** The server the tenant runs on (a name from the stack's `servers`); without it, the placement rule picks one. */
  server: ServerName.optional(),
  /**
   * Which copy of its data the tenant runs on: absent for the volumes it was created with, a label
   * for the fresh volumes `npm run restore` filled (see core/retainedData.ts, tenantVolumes).
   */
  data: DataLabel.optional(),
  image: ImageRef.optional(),
  provider: ProviderName.default("anthropic"),
  env: Env.default({}),
});
export type Tenant = z.infer<typeof TenantSchema>;

export interface RosterFile {
  /** File name relative to the roster folder, e.g. `alice.yaml`. */
  file: string;
  text: string;
}

export const ROSTER_FILE = /^([^.][^/]*)\.ya?ml$/;

/**
 * What one entry of the roster folder is, by its name alone. Every entry is a tenant file, an
 * ignored kind (dotfiles such as .gitkeep or editor swap files, and notes ending in .md such as
 * README.md), or a problem: a tenant file that is skipped silently would remove a live tenant.
 */
export type RosterEntry =
  | { kind: "tenant"; stem: string }
  | { kind: "ignored" }
  | { kind: "problem"; stem: string; message: string };

export function classifyRosterEntry(file: string): RosterEntry {
  if (file.startsWith(".") || /\.md$/i.test(file)) return { kind: "ignored" };
  const exact = ROSTER_FILE.exec(file);
  if (exact !== null) return { kind: "tenant", stem: exact[1] };
  const anyCase = /^(.+)\.(ya?ml)$/i.exec(file);
  if (anyCase !== null) {
    return { kind: "problem", stem: anyCase[1], message: `${printable(file)}: a tenant file must end in lowercase .yaml or .yml; rename it` };
  }
  return {
    kind: "problem",
    stem: file,
    message: `${printable(file)} is not a tenant file (<name>.yaml); only README.md, other .md notes and dotfiles may sit beside tenant files`,
  };
}

/** A problem with the roster folder itself, or an entry in it that is not a readable tenant file. */
export function rosterEntryProblem(file: string, message: string): Problem {
  // Only a file named like a tenant's belongs to that tenant; anything else is the folder's problem.
  const stem = /^(.+)\.ya?ml$/i.exec(file)?.[1];
  return stem !== undefined && TenantName.safeParse(stem).success ? { tenant: stem, field: "(file)", message } : { field: "rosterDir", message };
}

/**
 * Parses every tenant file and reports every problem, not just the first. A tenant's name is its
 * file name, so two pull requests adding tenants touch different files and never conflict.
 */
export function parseRoster(files: readonly RosterFile[]): { tenants: Tenant[]; problems: Problem[] } {
  const tenants: Tenant[] = [];
  const problems: Problem[] = [];
  const tenantFiles: { file: string; stem: string; text: string }[] = [];
  for (const { file, text } of files) {
    const entry = classifyRosterEntry(file);
    if (entry.kind === "tenant") tenantFiles.push({ file, stem: entry.stem, text });
    else if (entry.kind === "problem") problems.push(rosterEntryProblem(file, entry.message));
  }
  if (tenantFiles.length > LIMITS.tenants) {
    problems.push({ field: "rosterDir", message: `holds ${tenantFiles.length} tenant files; a stack may have at most ${LIMITS.tenants} tenants` });
    return { tenants, problems };
  }
  const seen = new Map<string, string>();
  for (const { file, stem: rawStem, text } of tenantFiles.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    const stem = printable(rawStem);
    const shownFile = printable(file);
    const read = parseYamlText(text, shownFile, LIMITS.tenantFileBytes, LIMITS.tenantFileTokens);
    if (read.error !== undefined) {
      problems.push({ tenant: stem, field: "(file)", message: read.error });
      continue;
    }
    const doc = read.value;
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
      problems.push({ tenant: stem, field: "(file)", message: `${shownFile} must be a mapping of fields (name, tier, ...)` });
      continue;
    }
    // Counted before the schema runs, so a file of thousands of variables costs no per-variable checks.
    const env = (doc as Record<string, unknown>).env;
    if (env !== null && typeof env === "object" && !Array.isArray(env) && Object.keys(env).length > LIMITS.envKeys) {
      problems.push({ tenant: stem, field: "env", message: `has ${Object.keys(env).length} variables; a tenant may have at most ${LIMITS.envKeys}` });
      continue;
    }
    const withName = { name: rawStem, ...(doc as Record<string, unknown>) };
    const parsed = TenantSchema.safeParse(withName, { reportInput: true });
    if (!parsed.success) {
      problems.push(...problemsFromZod(parsed.error, { tenant: stem }));
      continue;
    }
    if (parsed.data.name !== rawStem) {
      problems.push({ tenant: stem, field: "name", message: `"${parsed.data.name}" differs from the file name ${shownFile}; rename one of them` });
      continue;
    }
    const other = seen.get(parsed.data.name);
    if (other !== undefined) {
      problems.push({ tenant: stem, field: "name", message: `is defined twice, in ${other} and ${shownFile}` });
      continue;
    }
    seen.set(parsed.data.name, shownFile);
    tenants.push(parsed.data);
  }
  return { tenants, problems };
}

/** The roster folder as read: the tenant files, and every entry that could not be one. */
export interface RosterRead {
  files: RosterFile[];
  problems: Problem[];
}
