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
