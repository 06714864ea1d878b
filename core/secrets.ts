import { Problem } from "./problems";

/** Config keys that must only ever hold Pulumi secrets (encrypted in the stack file). */
export const SECRET_CONFIG_KEYS = ["apiKeys", "cloudflare:apiToken"] as const;

/**
 * One problem per secret found in plaintext, saying how to store it encrypted. `keys` are config
 * paths such as `apiKeys.alice` (a tenant's key), `apiKeys` (all of them) or `cloudflare:apiToken`.
 * The value itself is never part of the message.
 */
export function plaintextSecretProblems(keys: readonly string[]): Problem[] {
  return [...new Set(keys)].sort().map((key) => {
    const tenant = /^apiKeys\.(.+)$/.exec(key)?.[1];
    const command =
      key === "cloudflare:apiToken" ? "pulumi config set --secret cloudflare:apiToken <token>"
        : tenant !== undefined ? `pulumi config set --secret --path 'apiKeys.${tenant}' <key>`
          : "pulumi config set --secret --path 'apiKeys.<tenant>' <key> for each tenant";
    return {
      field: key,
      message: `is stored in plaintext, readable by anyone with the stack file; remove it and set it as a secret: ${command}`,
    };
  });
}
