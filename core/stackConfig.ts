import { z } from "zod";
import { AbsolutePath, AcmeCa, AcmeEmail, AdminAddress, DEFAULT_ADMIN_ADDRESS, ApiKey, KeyPath, RosterDir, SshHost, SshUser, adminPort } from "./configText";
import { SshHostKey } from "./knownHosts";
import { LIMITS } from "./limits";
import { ImageRef, Port, ServerName, TenantName, dnsNameProblem } from "./names";
import { memoryFloor } from "./gateway";
import { Problem, problemsFromZod } from "./problems";
import { reservedRangeOverlap } from "./tenantNetworks";
import { printable } from "./yamlText";
import { DISK_QUOTA_MODES } from "./diskBudget";
import { DEFAULT_PRIVATE_RANGES } from "./egressGuard";
import { CGROUP_DRIVERS } from "./processLimit";
import { TLS_MODES } from "./tls";
import { BackupConfigSchema } from "./backup";
import { DEFAULT_SERVER } from "./servers";

export const TIER_NAMES = ["light", "standard", "heavy"] as const;
export const TierName = z.enum(TIER_NAMES, { error: `must be one of ${TIER_NAMES.join(", ")}` });
export type TierName = z.infer<typeof TierName>;

const TierSize = z.strictObject({
  memoryMb: z.number().int().min(128, { error: "must be at least 128 (MB)" }).max(1_048_576, { error: "must be at most 1048576 (MB, 1 TB)" }),
  reservationMb: z.number().int().min(0).max(1_048_576, { error: "must be at most 1048576 (MB, 1 TB)" }),
  cpus: z.number().min(0.01, { error: "must be at least 0.01 (the smallest CPU share Docker accepts)" }).max(64),
  /** Kernel limit on the tenant's processes and threads (cgroup pids.max). */
  pidsLimit: z.number().int().min(64, { error: "must be at least 64 (the gateway itself runs dozens of threads)" }).max(65536),
  /** Disk budget for the tenant's two volumes together, in MB. */
  diskMb: z.number().int().min(256, { error: "must be at least 256 (MB)" }).max(10_485_760),
});
export type TierSize = z.infer<typeof TierSize>;

/**
 * Sized from the real gateway (openclaw 2026.9.6, Node 24.21, measured here; README "The real
 * gateway"): it idles at 650-870 MB (`docker stats`), 20 WebSocket sessions add about 25 MB, and an
 * `openclaw` command run inside the container (pairing approval, doctor) adds about 500-600 MB.
 * light: the gateway plus one such command (peak 1,491 MB at 1,536); the gateway itself warns of
 * memory pressure at idle (its warning starts at half the limit). standard: upstream's recommended
 * 2 GB, no pressure warning at idle. heavy: room for concurrent sessions and plugins.
 * Reservations cover the idle footprint (up to about 900 MB) plus headroom.
 */
export const DEFAULT_TIERS: Record<TierName, TierSize> = {
  light: { memoryMb: 1536, reservationMb: 1024, cpus: 0.5, pidsLimit: 512, diskMb: 2048 },
  standard: { memoryMb: 2048, reservationMb: 1280, cpus: 1.0, pidsLimit: 512, diskMb: 5120 },
  heavy: { memoryMb: 4096, reservationMb: 2048, cpus: 2.0, pidsLimit: 1024, diskMb: 10240 },
};

const Hostname = z
  .string()
  .regex(/^(?=.{4,200}$)([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$/, {
    error: "must be a lowercase domain such as claw.example.com (no scheme, no trailing dot, at most 200 characters)",
  })
  .refine((d) => dnsNameProblem(d) === undefined, { error: "has a label longer than 63 characters (DNS allows at most 63 between dots)" });

export const PortPool = z
  .strictObject({ start: Port, end: Port })
  .refine((p) => p.end >= p.start, { error: "end must not be below start", path: ["end"] });

const Caddy = z
  .strictObject({
    caddyfilePath: AbsolutePath.default("/etc/caddy/Caddyfile"),
    /** The route files Caddy reads per request (one folder per routed host); default: `routes` beside the Caddyfile. */
    routesDir: AbsolutePath.optional(),
    adminAddress: AdminAddress.default(DEFAULT_ADMIN_ADDRESS),
    acmeEmail: AcmeEmail.optional(),
    acmeCa: AcmeCa.optional(),
    localCerts: z.boolean().default(false),
    ports: z.strictObject({ http: Port.optional(), https: Port.optional() }).optional(),
    storageDir: AbsolutePath.optional(),
  })
  .refine((c) => c.localCerts || c.acmeEmail !== undefined, {
    error: "is required unless localCerts is true (Let's Encrypt needs a contact address)",
    path: ["acmeEmail"],
  })
  .superRefine((c, ctx) => {
    // Caddy binds these itself; two of them on one port, and Caddy does not start.
    const used = new Map<number, string>();
    for (const [field, port] of caddyPorts(c)) {
      const other = used.get(port);
      if (other !== undefined) ctx.addIssue({ code: "custom", path: field.split(".").slice(1), message: `${port} is already Caddy's ${other} port` });
      else used.set(port, field.split(".").pop() ?? field);
    }
  });

/** Caddy's own ports (admin, http, https; defaults 2019, 80, 443), by the config field that sets each. */
export function caddyPorts(caddy: { adminAddress: string; ports?: { http?: number; https?: number } }): [field: string, port: number][] {
  return [
    ["caddy.adminAddress", adminPort(caddy.adminAddress)],
    ["caddy.ports.http", caddy.ports?.http ?? 80],
    ["caddy.ports.https", caddy.ports?.https ?? 443],
  ];
}

/** How tenant hosts get certificates (core/tls.ts, docs/certificates.md). The ACME directory and email are caddy.acmeCa and caddy.acmeEmail. */
const Tls = z.strictObject({
  mode: z.enum(TLS_MODES, { error: `must be one of ${TLS_MODES.join(", ")}` }).default("perTenant"),
  /** wildcard: renew when fewer days than this are left (Let's Encrypt certificates last 90). */
  renewDays: z.number().int().min(7, { error: "must be at least 7 (days)" }).max(60, { error: "must be at most 60 (days; Let's Encrypt certificates last 90)" }).default(30),
});

const Ssh = z.strictObject({
  host: SshHost,
  user: SshUser,
  port: z.number().int().min(1).max(65535).default(22),
  /** A key file on the operator's machine; without it, the SSH agent is used. Never the key itself. */
  privateKeyPath: KeyPath.optional(),
  /** The server's public host key (`type base64`); without it, the operator's known_hosts must know the server. */
  hostKey: SshHostKey.optional(),
});

const Cidr4 = z
  .cidrv4({ error: "must be an IPv4 CIDR such as 10.231.0.0/16" })
  .refine((c) => Number(c.split("/")[1]) <= 28, { error: "must be /28 or larger (each tenant gets a /28)" })
  .superRefine((c, ctx) => {
    const clash = reservedRangeOverlap(c);
    if (clash !== undefined) ctx.addIssue({ code: "custom", message: `overlaps ${clash.range} (${clash.what}); pick a block such as 10.231.0.0/16` });
  });

/** Docker's cgroup driver on a server (`docker info -f '{{.CgroupDriver}}'`): where process limits live. */
const CgroupDriverName = z.enum(CGROUP_DRIVERS, { error: `must be one of ${CGROUP_DRIVERS.join(", ")} (docker info -f '{{.CgroupDriver}}')` });

const ServerSize = {
  memoryMb: z.number().int().min(512, { error: "must be at least 512 (MB)" }),
  cpus: z.number().positive(),
  overcommit: z.number().min(1, { error: "must be at least 1" }).max(4, { error: "must be at most 4" }).default(1.5),
  /** The filesystem holding the tenants' data (GB): the sum of their diskMb must fit in it. */
  diskGb: z.number().positive({ error: "must be a positive number of GB" }).max(1_048_576, { error: "must be at most 1048576 (GB)" }).optional(),
};

/** One machine of several: how to reach it, where DNS sends its tenants, and how big it is. */
const ServerSpec = z
  .strictObject({
    /** Docker over `ssh://` and the Caddy command over the same login. */
    ssh: Ssh.optional(),
    /** The machine `pulumi up` runs on (its Docker engine, or DOCKER_HOST). */
    local: z.literal(true, { error: "must be true (or leave it out and set ssh)" }).optional(),
    /** Where this server's tenants' DNS records point; required when the stack manages DNS. */
    publicIp: z.ipv4({ error: "must be an IPv4 address" }).optional(),
    ...ServerSize,
    /** Defaults to the stack's portPool: ports may repeat across servers. */
    portPool: PortPool.optional(),
    /** Defaults to the stack's tenantNetworks: each server's engine has its own bridges. */
    tenantNetworks: Cidr4.optional(),
    /** Defaults to the stack's cgroupDriver: servers of one stack may run different init systems. */
    cgroupDriver: CgroupDriverName.optional(),
  })
  .refine((s) => (s.ssh === undefined) !== (s.local === undefined), {
    error: "set exactly one of ssh (a remote server) or local: true (this machine)",
    path: ["ssh"],
  });
export type ServerSpec = z.infer<typeof ServerSpec>;

/**
 * One `deleteData` entry: `dave` deletes dave's volumes on every server that keeps some; `alice@s1`
 * only those on s1 (what a moved tenant left behind). The value is echoed in errors only once it is
 * known to be names, never as given (a secret pasted here stays out of logs).
 */
export const DeleteDataEntry = z.string({ error: "must be a tenant name, or tenant@server for one server's volumes" }).transform((text, ctx) => {
  const [tenant, server, ...rest] = text.split("@");
  if (rest.length > 0) {
    ctx.addIssue({ code: "custom", message: "must be a tenant name, or tenant@server (one @ at most)" });
    return z.NEVER;
  }
  const t = TenantName.safeParse(tenant);
  if (!t.success) {
    ctx.addIssue({ code: "custom", message: `names a tenant that ${t.error.issues[0].message}` });
    return z.NEVER;
  }
  if (server === undefined) return { tenant };
  const s = ServerName.safeParse(server);
  if (!s.success) {
    ctx.addIssue({ code: "custom", message: `names a server after @ that ${s.error.issues[0].message}` });
    return z.NEVER;
  }
  return { tenant, server };
});
export type DeleteDataEntry = z.infer<typeof DeleteDataEntry>;
export const formatDeleteDataEntry = (e: DeleteDataEntry): string => (e.server === undefined ? e.tenant : `${e.tenant}@${e.server}`);

/** The single-server keys that a `servers` map replaces; with both, which one wins would be a guess. */
const SINGLE_SERVER_KEYS = ["server", "ssh", "serverIp"] as const;

export const StackConfigSchema = z
  .strictObject({
    domain: Hostname,
    rosterDir: RosterDir.default("tenants"),
    image: ImageRef,
    portPool: PortPool.default({ start: 18800, end: 18899 }),
    tiers: z
      .strictObject({ light: TierSize.partial().optional(), standard: TierSize.partial().optional(), heavy: TierSize.partial().optional() })
      .default({}),
    apiKeys: z
      .record(z.string(), ApiKey)
      .refine((keys) => Object.keys(keys).length <= LIMITS.tenants, { error: `must have at most ${LIMITS.tenants} keys (one per tenant)` })
      .default({}),
    serverIp: z.ipv4({ error: "must be an IPv4 address" }).optional(),
    dns: z
      .strictObject({
        zoneId: z.string().regex(/^[0-9a-f]{32}$/, { error: "must be a Cloudflare zone id (32 hex characters)" }),
        proxied: z.boolean().default(false),
      })
      .optional(),
    caddy: Caddy.prefault({}),
    tls: Tls.prefault({}),
    ssh: Ssh.optional(),
    tenantNetworks: Cidr4.default("10.231.0.0/16"),
    /** Private ranges tenants may not open connections to (the egress guard); link-local is always blocked. */
    privateRanges: z.array(z.cidrv4({ error: "must be an IPv4 CIDR such as 10.0.0.0/8" })).default([...DEFAULT_PRIVATE_RANGES]),
    /** How the tiers' diskMb is enforced: off (reported only), image (a filesystem per tenant) or xfs (project quotas). */
    diskQuota: z.enum(DISK_QUOTA_MODES, { error: `must be one of ${DISK_QUOTA_MODES.join(", ")}` }).default("off"),
    /** Docker's cgroup driver on the server (`docker info -f '{{.CgroupDriver}}'`): where process limits live. */
    cgroupDriver: CgroupDriverName.default("systemd"),
    server: z.strictObject(ServerSize).optional(),
    /** Several servers by name; without it, the single-server keys above describe the one server. */
    servers: z
      .record(ServerName, ServerSpec)
      .refine((servers) => Object.keys(servers).length >= 1, { error: "must name at least one server (or leave it out)" })
      .refine((servers) => Object.keys(servers).length <= LIMITS.servers, { error: `must have at most ${LIMITS.servers} servers` })
      .optional(),
    /** Tenants whose retained volumes this stack deletes: the explicit, reviewed act of deleting data. */
    deleteData: z.array(DeleteDataEntry).max(LIMITS.deleteData, { error: `must have at most ${LIMITS.deleteData} entries` }).default([]),
    /** Scheduled restic snapshots of every tenant (docs/backups.md); without it, tenants have no backups. */
    backup: BackupConfigSchema.optional(),
  })
  .superRefine((c, ctx) => {
    const named = c.backup?.maintenanceServer;
    if (named === undefined) return;
    const servers = c.servers === undefined ? [DEFAULT_SERVER] : Object.keys(c.servers);
    if (!servers.includes(named)) ctx.addIssue({ code: "custom", path: ["backup", "maintenanceServer"], message: `must be one of the stack's servers (${servers.sort().join(", ")})` });
  })
  .superRefine((c, ctx) => {
    // `tenant@server` names one of this stack's servers; each tenant's data is named once.
    for (const [i, entry] of c.deleteData.entries()) {
      const shown = formatDeleteDataEntry(entry);
      const issue = (message: string) => ctx.addIssue({ code: "custom", path: ["deleteData"], message });
      if (entry.server !== undefined && c.servers === undefined) issue(`${shown} names a server, but this stack has one server (no servers map): write just ${entry.tenant}`);
      else if (entry.server !== undefined && c.servers !== undefined && !Object.hasOwn(c.servers, entry.server)) {
        issue(`${shown} names server ${entry.server}, which is not in the stack's servers (${Object.keys(c.servers).sort().join(", ")})`);
      }
      const earlier = c.deleteData.slice(0, i).find((e) => e.tenant === entry.tenant && (e.server === undefined || entry.server === undefined || e.server === entry.server));
      if (earlier !== undefined) {
        issue(`${shown} repeats ${formatDeleteDataEntry(earlier)}${(earlier.server === undefined) !== (entry.server === undefined) ? ` (${entry.tenant} alone means every server that keeps its data)` : ""}; name each tenant's data once`);
      }
    }
  })
  .superRefine((c, ctx) => {
    if (c.tls.mode !== "wildcard") return;
    // DNS-01 through Cloudflare: the stack's zone and token; a public ACME CA (not Caddy's internal one).
    if (c.dns === undefined) ctx.addIssue({ code: "custom", path: ["tls", "mode"], message: "wildcard needs dns (the Cloudflare zone; and cloudflare:apiToken, secret) to answer DNS-01 challenges" });
    if (c.caddy.localCerts) ctx.addIssue({ code: "custom", path: ["tls", "mode"], message: "wildcard cannot be used with caddy.localCerts (Caddy's internal CA issues no DNS-01 certificate); set one of them" });
  })
  .refine((c) => c.servers !== undefined || c.dns === undefined || c.serverIp !== undefined, {
    error: "is required when dns is set (the wildcard record points at it)",
    path: ["serverIp"],
  })
  .superRefine((c, ctx) => {
    if (c.servers === undefined) return;
    for (const key of SINGLE_SERVER_KEYS) {
      if (c[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "cannot be used with servers; move it under servers.<name> (ssh, publicIp, memoryMb/cpus/overcommit/diskGb)" });
    }
    const engines = new Map<string, string>();
    for (const [name, server] of Object.entries(c.servers)) {
      if (c.dns !== undefined && server.publicIp === undefined) {
        ctx.addIssue({ code: "custom", path: ["servers", name, "publicIp"], message: "is required when dns is set (this server's tenants' records point at it)" });
      }
      // Two servers on one engine would fight over the same container and network names.
      const engine = server.ssh !== undefined ? `ssh ${server.ssh.host}:${server.ssh.port}` : "this machine (local)";
      const other = engines.get(engine);
      if (other !== undefined) ctx.addIssue({ code: "custom", path: ["servers", name, server.ssh !== undefined ? "ssh" : "local"], message: `reaches the same engine as server ${other} (${engine})` });
      else engines.set(engine, name);
    }
  });

export type StackConfig = z.infer<typeof StackConfigSchema>;

/** Tier sizes after the stack's overrides, checked as a whole. */
export function resolveTiers(config: StackConfig): { tiers: Record<TierName, TierSize>; problems: Problem[] } {
  const problems: Problem[] = [];
  const tiers = {} as Record<TierName, TierSize>;
  const floor = memoryFloor(config.image);
  for (const name of TIER_NAMES) {
    const size = { ...DEFAULT_TIERS[name], ...config.tiers[name] };
    if (size.reservationMb > size.memoryMb) {
      problems.push({ field: `tiers.${name}.reservationMb`, message: `${size.reservationMb} MB exceeds the memory limit of ${size.memoryMb} MB` });
    }
    if (size.memoryMb < floor.floorMb) {
      problems.push({
        field: `tiers.${name}.memoryMb`,
        message:
          `${size.memoryMb} MB is below the ${floor.floorMb} MB the stack's image needs ` +
          `(${floor.measured ? `measured for OpenClaw ${floor.version}` : `the newest measured floor; OpenClaw ${floor.version ?? "of this image"} was not measured`}): ` +
          "under it the gateway is killed before it is ready",
      });
    }
    tiers[name] = size;
  }
  return { tiers, problems };
}

/**
 * Pulumi hands config to the program as strings (objects JSON-encoded), keyed `project:key`.
 * `raw` has the project prefix already removed.
 */
export function parseStackConfig(raw: Record<string, unknown>): { config?: StackConfig; problems: Problem[] } {
  const decoded: Record<string, unknown> = {};
  const tooLong: Problem[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === "string" && Buffer.byteLength(value, "utf8") > LIMITS.configValueBytes) {
      tooLong.push({ field: key, message: `is ${Buffer.byteLength(value, "utf8")} bytes, over the limit of ${LIMITS.configValueBytes} bytes` });
      continue;
    }
    decoded[key] = typeof value === "string" && /^[\[{]/.test(value.trim()) ? safeJson(value) : value;
  }
  if (tooLong.length > 0) return { problems: tooLong };
  const parsed = StackConfigSchema.safeParse(decoded, { reportInput: true });
  if (!parsed.success) return { problems: problemsFromZod(parsed.error, {}) };
  const problems = Object.keys(parsed.data.apiKeys)
    .filter((name) => !TenantName.safeParse(name).success)
    .map((name) => ({ field: `apiKeys.${printable(name)}`, message: "is not a valid tenant name" }));
  problems.push(...resolveTiers(parsed.data).problems);
  return problems.length > 0 ? { problems } : { config: parsed.data, problems };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // left for the schema to reject with a field name
  }
}
