/**
 * The host's address on a Docker bridge, read from what the engine or the interface really has.
 *
 * An engine started where its bridge interface does not exist yet (a freshly booted machine) creates
 * `docker0` but leaves `Gateway` out of the default network's IPAM config; only an engine started
 * while `docker0` already exists (a machine where an engine ran before) fills it in. So the IPAM
 * config is asked first and the bridge interface's own IPv4 address, inside the network's subnet,
 * second.
 */
import * as fs from "fs";
import * as os from "os";
import type Docker from "dockerode";

/** The part of a network inspection this needs (dockerode's NetworkInspectInfo fits). */
export interface BridgeInspection {
  Name: string;
  Options?: Record<string, string>;
  IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> };
}

/** os.networkInterfaces()'s shape. */
export type Interfaces = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

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
  const addresses = (name === undefined ? [] : interfaces[name] ?? []).filter((i) => i.family === "IPv4");
  const subnets = configs.flatMap((c) => (c.Subnet === undefined ? [] : [c.Subnet]));
  const match = addresses.find((i) => subnets.length === 0 || subnets.some((s) => inSubnet(i.address, s)));
  if (match !== undefined) return { address: match.address, from: "interface" };
  throw new Error(
    `network ${network.Name}: no host address: its IPAM config has no Gateway (${JSON.stringify(network.IPAM?.Config ?? [])}) and ` +
      (name === undefined
        ? "it names no bridge interface"
        : `interface ${name} has ${addresses.length === 0 ? "no IPv4 address on this host" : `no IPv4 address inside ${subnets.join(", ")} (it has ${addresses.map((a) => a.address).join(", ")})`}`),
  );
}

/** The host's address on the engine's network `name` (default: the default bridge, docker0). */
export async function hostAddressOnBridge(docker: Docker, name = "bridge"): Promise<{ address: string; from: "ipam" | "interface" }> {
  const network = (await docker.getNetwork(name).inspect()) as BridgeInspection;
  return bridgeGatewayAddress(network, os.networkInterfaces());
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
