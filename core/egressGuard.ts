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
  /**
   * The block all tenant subnets come from. Only traffic that stays on a tenant's own bridge is
   * exempt; the rest of the block (other tenants' bridges, addresses no bridge uses, the same block
   * on another server) is rejected like a private range.
   */
  tenantNetworks: string;
  /** Private ranges no tenant may open connections to. */
  privateRanges: readonly string[];
}

/** ip6tables' reject: tenant networks are IPv4 only, so no IPv6 packet from a tenant bridge is needed. */
const REJECT6 = "-j REJECT --reject-with icmp6-adm-prohibited";

/**
 * The guard's rules, one iptables-restore line each, in order, for both families: `-4` lines are
 * loaded by iptables and skipped by ip6tables, `-6` lines the other way round (iptables(8)). Chains
 * are filled from empty on every run (idempotent); the jumps into them (from INPUT, DOCKER-USER and,
 * for IPv6, FORWARD; tenant bridges only) are added by the script. Replies to connections the host
 * or the internet opened stay allowed.
 *
 * The exemption is the tenant's own bridge, matched as "bridged, not routed" (`physdev
 * --physdev-is-bridged`): a packet that leaves by the bridge it came in on. Anything routed out of
 * it, even to an address in `tenantNetworks`, is not exempt.
 *
 * IPv6: tenant networks are IPv4 only (the program never enables IPv6 on them), yet every
 * container has a link-local address on its bridge, and the host one on each bridge. So the IPv6
 * rules refuse every new connection from a tenant bridge, to the host and forwarded (link-local
 * fe80::/10, ULA fc00::/7 with the metadata address fd00:ec2::254, global addresses alike), except
 * on the tenant's own bridge.
 */
export function egressRules(policy: EgressPolicy): string[] {
  const established = "-m conntrack --ctstate ESTABLISHED,RELATED -j RETURN";
  const ownBridge = "-m physdev --physdev-is-bridged -j RETURN";
  return [
    // The host itself, by any of its addresses (every bridge's gateway, docker0, public, private).
    `-4 -A ${INPUT_CHAIN} ${established}`,
    `-4 -A ${INPUT_CHAIN} ${REJECT}`,
    // Forwarded traffic: its own bridge only, then metadata and link-local, the rest of the
    // tenants' block, and the private ranges.
    `-4 -A ${EGRESS_CHAIN} ${established}`,
    `-4 -A ${EGRESS_CHAIN} ${ownBridge}`,
    `-4 -A ${EGRESS_CHAIN} -d ${LINK_LOCAL} ${REJECT}`,
    `-4 -A ${EGRESS_CHAIN} -d ${policy.tenantNetworks} ${REJECT}`,
    ...policy.privateRanges.map((range) => `-4 -A ${EGRESS_CHAIN} -d ${range} ${REJECT}`),
    `-6 -A ${INPUT_CHAIN} ${established}`,
    `-6 -A ${INPUT_CHAIN} ${REJECT6}`,
    `-6 -A ${EGRESS_CHAIN} ${established}`,
    `-6 -A ${EGRESS_CHAIN} ${ownBridge}`,
    `-6 -A ${EGRESS_CHAIN} ${REJECT6}`,
  ];
}
