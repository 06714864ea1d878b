import { BACKUP_SECRET_FIELDS } from "./backup";
import { Problem } from "./problems";

/** Config keys that must only ever hold Pulumi secrets (encrypted in the stack file). */
export const SECRET_CONFIG_KEYS = ["apiKeys", "cloudflare:apiToken", "backup"] as const;

/**
 * How to set a secret without putting it on a command line (where shell history and `ps` keep it):
 * with no value given, `pulumi config set` asks for it, or reads it from standard input.
 */
export const FROM_STDIN = "(no value on the command line: pulumi asks for it, or reads it from standard input, e.g. `< key.txt`)";

/** The `pulumi config set --secret` line for one secret config key (`apiKeys.alice`, `cloudflare:apiToken`), value from stdin. */
export function setSecretCommand(key: string): string {
  const path = key.startsWith("apiKeys.") || key.startsWith("backup.") ? `--path '${key}'` : key;
  return `pulumi config set --secret ${path} ${FROM_STDIN}`;
}

/**
 * One problem per secret found in plaintext, saying how to store it encrypted. `keys` are config
 * paths such as `apiKeys.alice` (a tenant's key), `apiKeys` (all of them) or `cloudflare:apiToken`.
 * The value itself is never part of the message.
 */
export function plaintextSecretProblems(keys: readonly string[]): Problem[] {
  return [...new Set(keys)].sort().map((key) => {
    const tenant = /^apiKeys\.(.+)$/.exec(key)?.[1];
    const command =
      key === "cloudflare:apiToken" || tenant !== undefined || key.startsWith("backup.") ? setSecretCommand(key)
        : `${setSecretCommand("apiKeys.<tenant>")} for each tenant`;
    return {
      field: key,
      message: `is stored in plaintext, readable by anyone with the stack file; remove it and set it as a secret: ${command}`,
    };
  });
}

/** The backup block's secret leaves present in a plaintext `backup` value (JSON text or object), as config paths. */
export function plaintextBackupSecrets(value: unknown, isSecure: (leaf: unknown) => boolean = () => false): string[] {
  let block: unknown = value;
  if (typeof value === "string") {
    try {
      block = JSON.parse(value);
    } catch {
      return [];
    }
  }
  if (block === null || typeof block !== "object" || Array.isArray(block)) return [];
  const found: string[] = [];
  for (const field of BACKUP_SECRET_FIELDS) {
    let leaf: unknown = block;
    for (const part of field.split(".")) leaf = leaf !== null && typeof leaf === "object" && !Array.isArray(leaf) ? (leaf as Record<string, unknown>)[part] : undefined;
    if (leaf !== undefined && !isSecure(leaf)) found.push(`backup.${field}`);
  }
  return found;
}
