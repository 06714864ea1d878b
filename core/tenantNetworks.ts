import { Problem } from "./problems";

/** Each tenant gets its own /28: room for the bridge gateway, the gateway container and a spare. */
export const TENANT_PREFIX = 28;

function toInt(ip: string): number {
  return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}
function toIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

export interface TenantSubnet {
  subnet: string;
  /** The bridge's own address: where a request published on 127.0.0.1 appears to come from. */
  gateway: string;
}

/** How many tenant subnets fit in the block. */
export function subnetCapacity(cidr: string): number {
  return 2 ** (TENANT_PREFIX - Number(cidr.split("/")[1]));
}

/**
 * The subnet of the tenant in slot `index`. Fixed subnets make the address the gateway sees known
 * at plan time, so it can be configured as the one trusted proxy before the container starts.
 */
export function tenantSubnet(cidr: string, index: number): TenantSubnet {
  const [base, bits] = cidr.split("/");
  const mask = 2 ** (32 - Number(bits));
  const start = toInt(base) - (toInt(base) % mask);
  const network = start + index * 2 ** (32 - TENANT_PREFIX);
  return { subnet: `${toIp(network)}/${TENANT_PREFIX}`, gateway: toIp(network + 1) };
}

export function checkNetworkCapacity(cidr: string, poolSize: number): Problem[] {
  const capacity = subnetCapacity(cidr);
  return capacity >= poolSize
    ? []
    : [{ field: "tenantNetworks", message: `${cidr} holds ${capacity} tenant subnets (/28) but the port pool has ${poolSize} ports; use a larger block` }];
}

/**
 * Ranges a tenant bridge must never overlap: the engine would refuse the network, or a tenant
 * would shadow addresses the host relies on. Docker's default pools are where it puts the default
 * bridge (172.17.0.0/16) and every network created without a subnet (compose, other tools).
 */
export const RESERVED_RANGES: readonly { range: string; what: string }[] = [
  { range: "0.0.0.0/8", what: "'this network', not routable" },
  { range: "127.0.0.0/8", what: "loopback" },
  { range: "169.254.0.0/16", what: "link-local, where cloud metadata services live" },
  { range: "172.17.0.0/16", what: "Docker's default bridge" },
  { range: "172.18.0.0/15", what: "Docker's default address pools (172.17-172.31)" },
  { range: "172.20.0.0/14", what: "Docker's default address pools (172.17-172.31)" },
  { range: "172.24.0.0/13", what: "Docker's default address pools (172.17-172.31)" },
  { range: "192.168.0.0/16", what: "Docker's default address pools (192.168.0.0/16)" },
  { range: "224.0.0.0/3", what: "multicast and reserved addresses" },
];

function bounds(cidr: string): [number, number] {
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  const start = toInt(base) - (toInt(base) % size);
  return [start, start + size - 1];
}

/** The first reserved range the block overlaps, if any. */
export function reservedRangeOverlap(cidr: string): { range: string; what: string } | undefined {
  const [start, end] = bounds(cidr);
  return RESERVED_RANGES.find((r) => {
    const [rs, re] = bounds(r.range);
    return start <= re && rs <= end;
  });
}

const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "0.0.0.0/8"];

/** True for an address the internet cannot reach (RFC 1918, loopback, CGNAT, link-local). */
export function isPrivateIpv4(ip: string): boolean {
  const n = toInt(ip);
  return PRIVATE_RANGES.some((r) => {
    const [rs, re] = bounds(r);
    return n >= rs && n <= re;
  });
}
