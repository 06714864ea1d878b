import { TENANT_PREFIX } from "./tenantNetworks";

/** Every tenant bridge's interface name starts with this, so one iptables match (`ocl+`) names them all. */
export const BRIDGE_PREFIX = "ocl";
/** Docker's bridge driver option for the host-side interface name. */
export const BRIDGE_NAME_OPTION = "com.docker.network.bridge.name";

export const INPUT_CHAIN = "OPENCLAW-INPUT";
export const EGRESS_CHAIN = "OPENCLAW-EGRESS";
/** Link-local, which includes the cloud metadata address 169.254.169.254. */
export const LINK_LOCAL = "169.254.0.0/16";
/** RFC 1918 and carrier-grade NAT (RFC 6598): the operator's private networks, by default. */
export const DEFAULT_PRIVATE_RANGES: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];
const REJECT = "-j REJECT --reject-with icmp-admin-prohibited";

/**
 * The tenant bridge's interface name, from its subnet: `ocl` + the /28's number in hex (7 digits),
 * 10 characters (IFNAMSIZ allows 15). Docker refuses overlapping subnets, so no two bridges on a
 * server can share a name, and the name is known at plan time.
 */
export function bridgeName(subnet: string): string {
  const [base, bits] = subnet.split("/");
  if (Number(bits) !== TENANT_PREFIX) throw new Error(`bridgeName: expected a /${TENANT_PREFIX}, got ${subnet}`);
  const n = base.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
  return `${BRIDGE_PREFIX}${Math.floor(n / 2 ** (32 - TENANT_PREFIX)).toString(16).padStart(7, "0")}`;
}

export interface EgressPolicy {
  /** The block all tenant subnets come from: left to Docker's own isolation (each tenant reaches only its own). */
  tenantNetworks: string;
  /** Private ranges no tenant may open connections to. */
  privateRanges: readonly string[];
}

/**
 * The guard's rules, as `iptables` argument lines, in order. Chains are filled from empty on every
 * run (idempotent); the jumps into them (from INPUT and DOCKER-USER, for tenant bridges only) are
 * added by the script once. Replies to connections the host or the internet opened stay allowed.
 */
export function egressRules(policy: EgressPolicy): string[] {
  const established = "-m conntrack --ctstate ESTABLISHED,RELATED -j RETURN";
  return [
    // The host itself, by any of its addresses (every bridge's gateway, docker0, public, private).
    `-A ${INPUT_CHAIN} ${established}`,
    `-A ${INPUT_CHAIN} ${REJECT}`,
    // Forwarded traffic: metadata and link-local, then private ranges except the tenants' own block.
    `-A ${EGRESS_CHAIN} ${established}`,
    `-A ${EGRESS_CHAIN} -d ${LINK_LOCAL} ${REJECT}`,
    `-A ${EGRESS_CHAIN} -d ${policy.tenantNetworks} -j RETURN`,
    ...policy.privateRanges.map((range) => `-A ${EGRESS_CHAIN} -d ${range} ${REJECT}`),
  ];
}
