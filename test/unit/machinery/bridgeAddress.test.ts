import { bridgeGatewayAddress, BridgeInspection, Interfaces } from "../../integration/support/bridgeAddress";


// What the default bridge looks like, inspected on an engine started on each kind of machine.
const startedWithDocker0: BridgeInspection = { Name: "bridge", IPAM: { Config: [{ Subnet: "172.17.0.0/16", Gateway: "172.17.0.1" }] } };
const startedWithoutDocker0: BridgeInspection = { Name: "bridge", IPAM: { Config: [{ Subnet: "172.17.0.0/16" }] } };

describe("the host's address on a Docker bridge", () => {
  test("an engine that found docker0 at start: the IPAM config's Gateway", () => {
    expect(bridgeGatewayAddress(startedWithDocker0, {})).toEqual({ address: "172.17.0.1", from: "ipam" });
  });

  test("an engine started where docker0 did not exist (a fresh machine): docker0's own address", () => {
    const interfaces: Interfaces = { lo: ["127.0.0.1"], docker0: ["fe80::42:1", "172.17.0.1"] };
    expect(bridgeGatewayAddress(startedWithoutDocker0, interfaces)).toEqual({ address: "172.17.0.1", from: "interface" });
  });

  test("a bridge named by its option, and an address outside the subnet is not taken", () => {
    const net: BridgeInspection = { Name: "t1", Options: { "com.docker.network.bridge.name": "oclab" }, IPAM: { Config: [{ Subnet: "10.99.0.0/28" }] } };
    expect(bridgeGatewayAddress(net, { oclab: ["192.0.2.9", "10.99.0.1"] })).toEqual({ address: "10.99.0.1", from: "interface" });
    expect(() => bridgeGatewayAddress(net, { oclab: ["192.0.2.9"] })).toThrow("network t1: no host address: its IPAM config has no Gateway ([{\"Subnet\":\"10.99.0.0/28\"}]) and interface oclab has no IPv4 address inside 10.99.0.0/28 (it has 192.0.2.9)");
  });

  test("no Gateway and no interface: an error that says both", () => {
    expect(() => bridgeGatewayAddress(startedWithoutDocker0, {})).toThrow(/network bridge: no host address: its IPAM config has no Gateway .* and interface docker0 has no IPv4 address on this host/);
  });
});
