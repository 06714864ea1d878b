import { LIMITS } from "../../core/limits";
import { Problem } from "../../core/problems";
import { plaintextBackupSecrets } from "../../core/secrets";
import { parseYamlText, printable } from "../../core/yamlText";

export const PROJECT = "openclaw-hosting";

export interface StackFileConfig {
  /**
   * Config values as the program would see them, secrets replaced by a marker. Top-level scalars
   * are strings as Pulumi passes them; objects stay objects, so a NaN inside one is reported as
   * NaN rather than as the `null` a JSON round trip would make of it.
   */
  raw: Record<string, unknown>;
  /** Config keys holding encrypted values, which cannot be read offline. */
  encrypted: string[];
  /** Keys that must be secrets but are written in plaintext (see core/secrets.ts). */
  plaintextSecrets: string[];
  /** The file itself could not be read: too large, not YAML, duplicate keys, aliases. */
  problems: Problem[];
}

export const ENCRYPTED = "(encrypted)";

const isSecure = (value: unknown): boolean =>
  value !== null && typeof value === "object" && !Array.isArray(value) &&
  Object.keys(value).length === 1 && typeof (value as Record<string, unknown>).secure === "string";

/**
 * Reads a `Pulumi.<stack>.yaml` without the Pulumi CLI, for offline checks. Encrypted leaves
 * (`{secure: ...}`) keep their place with a marker, so `apiKeys.alice` still shows alice has a key.
 * Never throws: a file that cannot be read is a problem on the stack, like any other.
 */
export function readStackFile(text: string, fileName = "the stack file"): StackFileConfig {
  const result: StackFileConfig = { raw: {}, encrypted: [], plaintextSecrets: [], problems: [] };
  const read = parseYamlText(text, fileName, LIMITS.stackFileBytes, LIMITS.stackFileTokens);
  if (read.error !== undefined) {
    result.problems.push({ field: "(stack file)", message: read.error });
    return result;
  }
  const doc = read.value ?? {};
  const config = typeof doc === "object" && !Array.isArray(doc) ? (doc as { config?: unknown }).config ?? {} : undefined;
  if (config === undefined || config === null || typeof config !== "object" || Array.isArray(config)) {
    result.problems.push({ field: "(stack file)", message: `${fileName} must be a mapping with a config: mapping inside` });
    return result;
  }
  const unseal = (value: unknown, key: string): unknown => {
    if (isSecure(value)) {
      result.encrypted.push(key);
      return ENCRYPTED;
    }
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unseal(v, `${key}.${k}`)]));
    }
    return Array.isArray(value) ? value.map((v, i) => unseal(v, `${key}[${i}]`)) : value;
  };
  for (const [fullKey, value] of Object.entries(config as Record<string, unknown>)) {
    if (fullKey === "cloudflare:apiToken" && !isSecure(value)) result.plaintextSecrets.push(fullKey);
    if (!fullKey.startsWith(`${PROJECT}:`)) continue;
    const key = fullKey.slice(PROJECT.length + 1);
    if (key === "apiKeys" && !isSecure(value)) {
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        for (const [tenant, v] of Object.entries(value)) if (!isSecure(v)) result.plaintextSecrets.push(`apiKeys.${printable(tenant)}`);
      } else if (value !== null && value !== undefined) {
        result.plaintextSecrets.push("apiKeys");
      }
    }
    if (key === "backup" && !isSecure(value)) result.plaintextSecrets.push(...plaintextBackupSecrets(value, isSecure));
    const plain = unseal(value, key);
    result.raw[key] = typeof plain === "string" || (plain !== null && typeof plain === "object") ? plain : JSON.stringify(plain);
  }
  return result;
}
