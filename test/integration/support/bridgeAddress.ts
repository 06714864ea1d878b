/**
 * The host's address on a Docker bridge, read from what the engine or the interface really has.
 *
 * An engine started where its bridge interface does not exist yet (a freshly booted machine) creates
 * `docker0` but leaves `Gateway` out of the default network's IPAM config; only an engine started
 * while `docker0` already exists (a machine where an engine ran before) fills it in. So the IPAM
 * config is asked first and the bridge interface's own IPv4 address, inside the network's subnet,
 * second.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import type Docker from "dockerode";

/** The part of a network inspection this needs (dockerode's NetworkInspectInfo fits). */
export interface BridgeInspection {
  Name: string;
  Options?: Record<string, string>;
  IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> };
}

/** Each interface's IPv4 addresses, by interface name. */
export type Interfaces = Record<string, string[]>;

const ipv4ToInt = (a: string): number => a.split(".").reduce((n, part) => n * 256 + Number(part), 0);
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function inSubnet(address: string, subnet: string): boolean {
  const [base, bitsText] = subnet.split("/");
  const bits = Number(bitsText);
  if (!IPV4.test(base) || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(ipv4ToInt(address) / size) === Math.floor(ipv4ToInt(base) / size);
}

/** The bridge interface's name: the network's bridge-name option; the default network's is docker0. */
export function bridgeInterfaceName(network: BridgeInspection): string | undefined {
  return network.Options?.["com.docker.network.bridge.name"] ?? (network.Name === "bridge" ? "docker0" : undefined);
}

/** Pure: the host's IPv4 address on `network`, from its IPAM config or else from its interface. */
export function bridgeGatewayAddress(network: BridgeInspection, interfaces: Interfaces): { address: string; from: "ipam" | "interface" } {
  const configs = (network.IPAM?.Config ?? []).filter((c) => c.Subnet === undefined || !c.Subnet.includes(":"));
  const declared = configs.find((c) => c.Gateway !== undefined && IPV4.test(c.Gateway))?.Gateway;
  if (declared !== undefined) return { address: declared, from: "ipam" };
  const name = bridgeInterfaceName(network);
  const addresses = (name === undefined ? [] : interfaces[name] ?? []).filter((a) => IPV4.test(a));
  const subnets = configs.flatMap((c) => (c.Subnet === undefined ? [] : [c.Subnet]));
  const match = addresses.find((a) => subnets.length === 0 || subnets.some((s) => inSubnet(a, s)));
  if (match !== undefined) return { address: match, from: "interface" };
  throw new Error(
    `network ${network.Name}: no host address: its IPAM config has no Gateway (${JSON.stringify(network.IPAM?.Config ?? [])}) and ` +
      (name === undefined
        ? "it names no bridge interface"
        : `interface ${name} has ${addresses.length === 0 ? "no IPv4 address on this host" : `no IPv4 address inside ${subnets.join(", ")} (it has ${addresses.join(", ")})`}`),
  );
}

/**
 * An interface's IPv4 addresses as iproute2 reports them. Not os.networkInterfaces(): libuv leaves
 * out interfaces that are not running, and docker0 has no carrier until a container joins it.
 */
export function ipv4AddressesOf(name: string): string[] {
  let out: string;
  try {
    out = execFileSync("ip", ["-j", "-4", "addr", "show", "dev", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 });
  } catch {
    return []; // no such interface
  }
  const links = JSON.parse(out) as Array<{ addr_info?: Array<{ local?: string }> }>;
  return links.flatMap((l) => (l.addr_info ?? []).flatMap((a) => (a.local === undefined ? [] : [a.local])));
}

/** The host's address on the engine's network `name` (default: the default bridge, docker0). */
export async function hostAddressOnBridge(docker: Docker, name = "bridge"): Promise<{ address: string; from: "ipam" | "interface" }> {
  const network = (await docker.getNetwork(name).inspect()) as BridgeInspection;
  const bridge = bridgeInterfaceName(network);
  return bridgeGatewayAddress(network, bridge === undefined ? {} : { [bridge]: ipv4AddressesOf(bridge) });
}

/**
 * How the test engine started, as `runtime-env.sh start` recorded it: "fresh" (no docker0 and no
 * network store, a freshly booted machine's path, which the test runner's `--fresh-bridge` always
 * takes) or "kept" (either was left by an engine that ran before).
 */
export function bridgeAtEngineStart(): "fresh" | "kept" | undefined {
  const file = `${process.env.OPENCLAW_TEST_RUN ?? "/run/openclaw-test"}/bridge-at-start`;
  try {
    const text = fs.readFileSync(file, "utf8").trim();
    return text === "fresh" || text === "kept" ? text : undefined;
  } catch {
    return undefined;
  }
}
