import { parse as parseYaml } from "yaml";

export const PROJECT = "openclaw-hosting";

export interface StackFileConfig {
  /** Config values as the program would see them (objects JSON-encoded), secrets replaced by a marker. */
  raw: Record<string, string>;
  /** Config keys holding encrypted values, which cannot be read offline. */
  encrypted: string[];
}

export const ENCRYPTED = "(encrypted)";

/**
 * Reads a `Pulumi.<stack>.yaml` without the Pulumi CLI, for offline checks. Encrypted leaves
 * (`{secure: ...}`) keep their place with a marker, so `apiKeys.alice` still shows alice has a key.
 */
export function readStackFile(text: string): StackFileConfig {
  const doc = (parseYaml(text) ?? {}) as { config?: Record<string, unknown> };
  const raw: Record<string, string> = {};
  const encrypted: string[] = [];
  const unseal = (value: unknown, key: string): unknown => {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const obj = value as Record<string, unknown>;
      if (Object.keys(obj).length === 1 && typeof obj.secure === "string") {
        encrypted.push(key);
        return ENCRYPTED;
      }
      return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unseal(v, `${key}.${k}`)]));
    }
    return Array.isArray(value) ? value.map((v, i) => unseal(v, `${key}[${i}]`)) : value;
  };
  for (const [fullKey, value] of Object.entries(doc.config ?? {})) {
    if (!fullKey.startsWith(`${PROJECT}:`)) continue;
    const key = fullKey.slice(PROJECT.length + 1);
    const plain = unseal(value, key);
    raw[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
  }
  return { raw, encrypted };
}
