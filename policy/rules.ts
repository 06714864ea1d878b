// The policy pack's rules as pure functions: resource name and inputs in, violation messages out.
// `index.ts` wires them into a PolicyPack; the unit tests call them directly and through `policies`.
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { z } from "zod";

export const CONTAINER = "docker:index/container:Container";
export const DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord";

/** One mandatory rule: which resource type it applies to and how to check one resource. */
export interface Rule {
  name: string;
  description: string;
  resourceType: string;
  configSchema?: ResourceValidationPolicy["configSchema"];
  /** Every violation of the rule, each naming the resource and the field; empty when it passes. */
  check(resource: string, props: unknown, config?: unknown): string[];
}

/**
 * Reads one top-level input. Only the named field is touched: under `pulumi preview` the policy SDK
 * throws on reading a value that is not known yet, which marks the rule "not applicable" for that
 * resource instead of failing it, so a rule must never read fields it does not check.
 */
function field(props: unknown, key: string): unknown {
  return props !== null && typeof props === "object" ? (props as Record<string, unknown>)[key] : undefined;
}

function where(kind: string, resource: string, fieldPath: string): string {
  return `${kind} "${resource}", field ${fieldPath}`;
}

const Memory = z.number().positive();

/** A memory limit above zero (MB); without one, one tenant can starve every other tenant. */
export function checkMemoryLimit(resource: string, props: unknown): string[] {
  const memory = field(props, "memory");
  if (memory === undefined || memory === null) {
    return [`${where("container", resource, "memory")}: is not set; every container needs a memory limit above 0 MB`];
  }
  if (!Memory.safeParse(memory).success) {
    return [`${where("container", resource, "memory")}: must be a memory limit above 0 MB, got ${JSON.stringify(memory)}`];
  }
  return [];
}

/** A read-only root file system (writable paths are the named volumes and a small /tmp tmpfs). */
export function checkReadOnlyRootfs(resource: string, props: unknown): string[] {
  const readOnly = field(props, "readOnly");
  return readOnly === true
    ? []
    : [`${where("container", resource, "readOnly")}: must be true (read-only root file system), got ${JSON.stringify(readOnly ?? null)}`];
}

const Capabilities = z.object({ drops: z.array(z.string()).optional() }).optional().nullable();

/** Every Linux capability dropped (`capabilities.drops` includes ALL). */
export function checkDropsAllCapabilities(resource: string, props: unknown): string[] {
  const parsed = Capabilities.safeParse(field(props, "capabilities"));
  if (!parsed.success) return [`${where("container", resource, "capabilities.drops")}: must be a list of capability names including ALL`];
  const drops = parsed.data?.drops ?? [];
  return drops.some((d) => d.toUpperCase() === "ALL")
    ? []
    : [`${where("container", resource, "capabilities.drops")}: must include ALL (drop every Linux capability), got ${JSON.stringify(drops)}`];
}

const StringList = z.array(z.string()).optional().nullable();
const NO_NEW_PRIVILEGES = new Set(["no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"]);

/** `no-new-privileges`: setuid binaries cannot raise a compromised process's privileges. */
export function checkNoNewPrivileges(resource: string, props: unknown): string[] {
  const parsed = StringList.safeParse(field(props, "securityOpts"));
  if (!parsed.success) return [`${where("container", resource, "securityOpts")}: must be a list of strings including no-new-privileges:true`];
  const opts = parsed.data ?? [];
  return opts.some((o) => NO_NEW_PRIVILEGES.has(o.trim().toLowerCase()))
    ? []
    : [`${where("container", resource, "securityOpts")}: must include no-new-privileges:true, got ${JSON.stringify(opts)}`];
}

export const LOOPBACK_IPS: readonly string[] = ["127.0.0.1", "::1"];
const PortList = z.array(z.unknown()).optional().nullable();
const PortIp = z.string().optional().nullable();

/** The host port, for the message only; it may be unknown during preview, which must not hide the violation. */
function hostPort(port: unknown): string {
  try {
    const external = field(port, "external");
    return typeof external === "number" ? ` (host port ${external})` : "";
  } catch {
    return "";
  }
}

/**
 * Every published port bound to loopback: Docker publishes on 0.0.0.0 (every host address) when `ip`
 * is missing, which would put a gateway on the internet without TLS, around Caddy.
 */
export function checkLoopbackPorts(resource: string, props: unknown): string[] {
  const ports = PortList.safeParse(field(props, "ports"));
  if (!ports.success) return [`${where("container", resource, "ports")}: must be a list of {internal, external, ip} entries`];
  return (ports.data ?? []).flatMap((port, i) => {
    const ip = PortIp.safeParse(field(port, "ip"));
    if (ip.success && ip.data !== undefined && ip.data !== null && LOOPBACK_IPS.includes(ip.data)) return [];
    const got = !ip.success
      ? "a value that is not a string"
      : ip.data === undefined || ip.data === null || ip.data === ""
        ? "missing (Docker then publishes on 0.0.0.0)"
        : `"${ip.data}"`;
    return [`${where("container", resource, `ports[${i}].ip`)}${hostPort(port)}: must be 127.0.0.1 or ::1, got ${got}`];
  });
}

const CgroupParent = z.string().regex(/^(\/openclaw\/[a-z0-9]([a-z0-9-]*[a-z0-9])?|openclaw-[a-z0-9\\]([a-z0-9\\]*[a-z0-9])?\.slice)$/);

/**
 * A tenant's own parent cgroup (`/openclaw/<tenant>` with cgroupfs, `openclaw-<tenant>.slice` with
 * systemd), which carries its process limit. Without it a tenant can take every PID on the host: the
 * Docker provider has no pidsLimit, so this is the only place the limit can come from.
 */
export function checkProcessLimitParent(resource: string, props: unknown): string[] {
  const parent = field(props, "cgroupParent");
  if (CgroupParent.safeParse(parent).success) return [];
  return [
    `${where("container", resource, "cgroupParent")}: must be the tenant's own limited parent (/openclaw/<tenant> or openclaw-<tenant>.slice), got ${JSON.stringify(parent ?? null)}`,
  ];
}

/**
 * The tenant uid pool (core/tenantIdentity.ts UID_POOL; the pack stays self-contained, and
 * test/unit/policy/rules.test.ts checks the two agree).
 */
export const TENANT_UID_POOL = { start: 1_900_000_000, end: 1_900_999_999 } as const;

/**
 * Each tenant its own host uid and gid (`user: "N:N"`, N from the tenant pool): never root, never a
 * name, never the shared 1000 that let any process of that uid read every gateway's environment.
 */
export function checkOwnUid(resource: string, props: unknown): string[] {
  const user = field(props, "user");
  const m = typeof user === "string" ? /^(\d+):(\d+)$/.exec(user) : null;
  if (m !== null && m[1] === m[2] && Number(m[1]) >= TENANT_UID_POOL.start && Number(m[1]) <= TENANT_UID_POOL.end) return [];
  return [
    `${where("container", resource, "user")}: must be the tenant's own uid:gid (one number, ${TENANT_UID_POOL.start}-${TENANT_UID_POOL.end}), got ${JSON.stringify(user ?? null)}`,
  ];
}

/** The pack's config for the DNS rule (`--policy-pack-config`): `{"dns-record-not-proxied": {"allowProxiedDns": true}}`. */
export const DnsPolicyConfig = z.object({ allowProxiedDns: z.boolean().default(false) });

/**
 * DNS-only (grey cloud) records: Caddy terminates TLS and answers ACME challenges itself, which a
 * Cloudflare proxy in front would break. A stack that really wants the proxy opts in via config.
 */
export function checkDnsNotProxied(resource: string, props: unknown, config: unknown = {}): string[] {
  const parsedConfig = DnsPolicyConfig.safeParse(config ?? {});
  if (!parsedConfig.success) return [`policy config dns-record-not-proxied, field allowProxiedDns: must be true or false`];
  if (parsedConfig.data.allowProxiedDns) return [];
  return field(props, "proxied") === true
    ? [`${where("DNS record", resource, "proxied")}: must be false (DNS-only: Caddy terminates TLS and answers ACME itself); set the policy config allowProxiedDns: true to allow it`]
    : [];
}

export const RULES: readonly Rule[] = [
  {
    name: "container-memory-limit",
    description: "Every container has a memory limit above 0 MB.",
    resourceType: CONTAINER,
    check: checkMemoryLimit,
  },
  {
    name: "container-read-only-rootfs",
    description: "Every container runs with a read-only root file system (readOnly: true).",
    resourceType: CONTAINER,
    check: checkReadOnlyRootfs,
  },
  {
    name: "container-drop-all-capabilities",
    description: "Every container drops all Linux capabilities (capabilities.drops includes ALL).",
    resourceType: CONTAINER,
    check: checkDropsAllCapabilities,
  },
  {
    name: "container-no-new-privileges",
    description: "Every container sets securityOpts no-new-privileges:true.",
    resourceType: CONTAINER,
    check: checkNoNewPrivileges,
  },
  {
    name: "container-ports-loopback-only",
    description: "Every published container port is bound to 127.0.0.1 or ::1 (a missing ip means 0.0.0.0).",
    resourceType: CONTAINER,
    check: checkLoopbackPorts,
  },
  {
    name: "container-own-uid",
    description: "Every container runs as its tenant's own uid:gid from the tenant pool (never root, never the shared 1000).",
    resourceType: CONTAINER,
    check: checkOwnUid,
  },
  {
    name: "container-process-limit",
    description: "Every container runs under its tenant's own parent cgroup, which carries the tenant's process limit (cgroupParent).",
    resourceType: CONTAINER,
    check: checkProcessLimitParent,
  },
  {
    name: "dns-record-not-proxied",
    description: "Cloudflare DNS records are DNS-only (proxied: false) unless the config allows proxied records.",
    resourceType: DNS_RECORD,
    configSchema: { properties: { allowProxiedDns: { type: "boolean", default: false } } },
    check: checkDnsNotProxied,
  },
];

/** A rule as a mandatory Pulumi resource policy. */
export function toPolicy(rule: Rule): ResourceValidationPolicy {
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory",
    ...(rule.configSchema === undefined ? {} : { configSchema: rule.configSchema }),
    validateResource: (args: ResourceValidationArgs, reportViolation: (message: string) => void) => {
      if (args.type !== rule.resourceType) return;
      const config = rule.configSchema === undefined ? undefined : args.getConfig<Record<string, unknown>>();
      for (const message of rule.check(args.name, args.props, config)) reportViolation(message);
    },
  };
}

export const policies: ResourceValidationPolicy[] = RULES.map(toPolicy);
