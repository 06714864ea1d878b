import * as pulumi from "@pulumi/pulumi";
import { perTenantBurstWarning } from "../core/tls";
import { checkHosting } from "../core/check";
import { DEFAULT_ADMIN_ADDRESS, LEGACY_ADMIN_ADDRESS, withLegacyAdminDefault } from "../core/configText";
import { unpinnedMoves } from "../core/placement";
import { keepDiskImages } from "../core/diskBudget";
import { keepIdentities } from "../core/tenantIdentity";
import { HostingPlan } from "../core/plan";
import { HostingInputError } from "../core/problems";
import { deletionsTooEarly } from "../core/retainedData";
import { DEFAULT_SERVER } from "../core/servers";
import { StackConfig } from "../core/stackConfig";
import { plaintextBackupSecrets } from "../core/secrets";
import { PreviousDeployment, previousDeployment } from "./previousDeployment";
import { ServerConnection } from "./serverCommand";
import { serverConnections } from "./serverConnection";
import { readRoster } from "./rosterFolder";
import { serversNotAnswering } from "./serverCheck";

export interface HostingInputs {
  config: StackConfig;
  plan: HostingPlan;
  /** Each tenant's API key, wrapped as a Pulumi secret the moment it is read. */
  apiKeys: Record<string, pulumi.Output<string>>;
}

/** This stack's config without the `project:` prefix, as Pulumi hands it to the program. */
export function rawStackConfig(): Record<string, string> {
  const prefix = `${pulumi.getProject()}:`;
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
  }
  return raw;
}

/**
 * Secret config keys this stack holds in plaintext. Pulumi marks a top-level key secret when any
 * part of it was set with --secret, so a plaintext apiKeys here means every key in it is plaintext.
 * When Pulumi did not say which keys are secret, nothing is reported (`npm run check` still reads
 * the stack file itself, leaf by leaf).
 */
export function plaintextSecretKeys(): string[] {
  const secretKeys = configSecretKeys();
  if (secretKeys === undefined) return [];
  const all = pulumi.runtime.allConfig();
  const keys: string[] = [];
  const apiKeys = `${pulumi.getProject()}:apiKeys`;
  if (all[apiKeys] !== undefined && !secretKeys.has(apiKeys)) {
    try {
      const parsed: unknown = JSON.parse(all[apiKeys]);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) keys.push(...Object.keys(parsed).map((name) => `apiKeys.${name}`));
    } catch {
      keys.push("apiKeys");
    }
  }
  if (all["cloudflare:apiToken"] !== undefined && !secretKeys.has("cloudflare:apiToken")) keys.push("cloudflare:apiToken");
  // The backup block holds the repository password (and keys): set with --secret, the whole block is secret.
  const backup = `${pulumi.getProject()}:backup`;
  if (all[backup] !== undefined && !secretKeys.has(backup)) keys.push(...plaintextBackupSecrets(all[backup]));
  return keys;
}

/**
 * The config keys Pulumi holds as secrets: the language host passes them in PULUMI_CONFIG_SECRET_KEYS,
 * kept in the SDK's run state (internal in @pulumi/pulumi 3.x, so not in its type declarations; the
 * mock engine's setAllConfig fills the same place). Undefined when Pulumi did not pass the list.
 */
function configSecretKeys(): Set<string> | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const state = require("@pulumi/pulumi/runtime/state") as { getStore?: () => { config?: Record<string, string | undefined> } };
    const list = state.getStore?.().config?.PULUMI_CONFIG_SECRET_KEYS;
    if (list === undefined || list === "") return undefined;
    const parsed: unknown = JSON.parse(list);
    return Array.isArray(parsed) ? new Set(parsed.map(String)) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads and checks the stack config and the roster, and throws one error listing every problem
 * before a single resource is registered: a bad edit fails the preview and changes nothing.
 */
export function loadHostingInputs(repoRoot: string, previousAdminAddresses: readonly string[] = []): HostingInputs {
  const { raw, kept } = withLegacyAdminDefault(rawStackConfig(), previousAdminAddresses);
  if (kept) {
    pulumi.log.warn(
      `config caddy.adminAddress: not set, so this stack keeps Caddy's admin API on ${LEGACY_ADMIN_ADDRESS}, where it was when the stack was created; ` +
        `every local user can reach it there. New stacks use ${DEFAULT_ADMIN_ADDRESS} (root and Caddy's own user only): set caddy.adminAddress to it and the next update moves Caddy onto it (docs/security.md#caddys-admin-api).`,
    );
  }
  const checked = checkHosting(raw, (dir) => readRoster(repoRoot, dir), plaintextSecretKeys());
  if (checked.config === undefined || checked.plan === undefined || checked.problems.length > 0) {
    throw new HostingInputError(checked.problems);
  }
  // wildcard: lego answers DNS-01 with this token on every server; said here, in our words, not
  // as Pulumi's missing-config error halfway through the program.
  if (checked.config.tls.mode === "wildcard" && pulumi.runtime.allConfig()["cloudflare:apiToken"] === undefined) {
    throw new HostingInputError([{ field: "cloudflare:apiToken", message: "tls.mode is wildcard, which needs the Cloudflare token (DNS-01): pulumi config set --secret cloudflare:apiToken < token-file" }]);
  }
  // A second load of the same config (an existing stack keeping its admin address) says nothing new.
  if (!kept) for (const warning of checked.warnings) pulumi.log.warn(`config ${warning.field}: ${warning.message}`);
  const apiKeys: Record<string, pulumi.Output<string>> = {};
  for (const [name, key] of Object.entries(checked.config.apiKeys)) apiKeys[name] = pulumi.secret(key);
  return { config: checked.config, plan: checked.plan, apiKeys };
}

export interface Deployment extends HostingInputs {
  /** The last deployment: which server each tenant was on, and the data it kept. */
  previous: PreviousDeployment;
  /** Each server's SSH connection for remote commands (undefined: this machine), host key included. */
  connections: Map<string, ServerConnection | undefined>;
  /** Where entries from before servers were recorded are: `default`, else the first server. */
  fallbackServer: string;
}

/**
 * Everything the program needs before it registers a resource, and every check that can refuse the
 * update: config and roster, the last deployment (a tenant never changes server unless its file says
 * so), and every server's Docker engine answering (the error names the server that does not and its
 * tenants, instead of ssh's words halfway through an update).
 */
export async function readDeployment(repoRoot: string): Promise<Deployment> {
  // Config and roster are checked before the last deployment is read (nothing is registered before
  // they pass). A stack whose last Caddyfile had the old default admin address and that never set
  // caddy.adminAddress keeps it: the same config is loaded once more with that default (only then).
  const checked = loadHostingInputs(repoRoot);
  // Every remote server's host key is known (config or known_hosts), or nothing is registered.
  const connections = serverConnections(checked.plan.servers);
  const previous = await previousDeployment();
  const inputs = withLegacyAdminDefault(rawStackConfig(), previous.adminAddresses).kept ? loadHostingInputs(repoRoot, previous.adminAddresses) : checked;
  const { config, plan } = inputs;
  const fallbackServer = plan.servers.some((s) => s.name === DEFAULT_SERVER) ? DEFAULT_SERVER : plan.servers[0].name;
  const moves = unpinnedMoves(plan.tenants, plan.pinnedServers, previous.tenantServers, fallbackServer);
  const early = deletionsTooEarly(config.deleteData, previous.tenantServers, fallbackServer);
  if (moves.length > 0 || early.length > 0) throw new HostingInputError([...moves, ...early]);
  const silent = await serversNotAnswering(plan.servers);
  if (silent.length > 0) throw new HostingInputError(silent);
  // A deployed tenant keeps its uid (its files belong to it) unless its file pins another.
  const identities = keepIdentities(plan.tenants, plan.pinnedUids, previous.tenantUids);
  if (identities.problems.length > 0) throw new HostingInputError(identities.problems);
  // A tenant with a disk image keeps it when diskQuota changes: its data stays mounted and bounded.
  const kept = keepDiskImages(identities.tenants, previous.diskImages, config.diskQuota, Object.keys(previous.tenantServers).length > 0);
  for (const warning of kept.warnings) pulumi.log.warn(`config ${warning.field}: ${warning.message}`);
  // perTenant: more new hosts than Let's Encrypt certifies in a week (new = not in the last deployment).
  const deployedBefore = Object.keys(previous.tenantServers);
  const burst = perTenantBurstWarning(config.tls.mode, plan.tenants.map((t) => t.name).filter((n) => !deployedBefore.includes(n)), "tenants not in the last deployment");
  if (burst !== undefined && deployedBefore.length > 0) pulumi.log.warn(`config ${burst.field}: ${burst.message}`);
  return { ...inputs, plan: { ...plan, tenants: kept.tenants }, previous, fallbackServer, connections };
}
