import { BRIDGE_PREFIX, bridgeName, egressRules } from "../../../core/egressGuard";
import { cgroupParent } from "../../../core/processLimit";
import { volumeDriverOpts } from "../../../core/diskBudget";
import { subnetCapacity, tenantSubnet } from "../../../core/tenantNetworks";

describe("bridge names", () => {
  test("every /28 of a /16 gets its own name of at most 15 characters (IFNAMSIZ), matched by ocl+", () => {
    const names = new Set<string>();
    for (let i = 0; i < subnetCapacity("10.231.0.0/16"); i++) {
      const name = bridgeName(tenantSubnet("10.231.0.0/16", i).subnet);
      expect(name.length).toBeLessThanOrEqual(15);
      expect(name.startsWith(BRIDGE_PREFIX)).toBe(true);
      names.add(name);
    }
    expect(names.size).toBe(4096);
  });

  test("is refused for anything but a /28", () => {
    expect(() => bridgeName("10.231.0.0/24")).toThrow(/expected a \/28/);
  });
});

describe("egress rules", () => {
  test("replies first, then metadata, the tenants' block, then each private range, in that order", () => {
    const rules = egressRules({ tenantNetworks: "10.231.0.0/16", privateRanges: ["10.0.0.0/8", "192.168.0.0/16"] });
    expect(rules.filter((r) => r.startsWith("-A OPENCLAW-EGRESS"))).toEqual([
      "-A OPENCLAW-EGRESS -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
      "-A OPENCLAW-EGRESS -d 169.254.0.0/16 -j REJECT --reject-with icmp-admin-prohibited",
      "-A OPENCLAW-EGRESS -d 10.231.0.0/16 -j RETURN",
      "-A OPENCLAW-EGRESS -d 10.0.0.0/8 -j REJECT --reject-with icmp-admin-prohibited",
      "-A OPENCLAW-EGRESS -d 192.168.0.0/16 -j REJECT --reject-with icmp-admin-prohibited",
    ]);
    expect(rules.filter((r) => r.startsWith("-A OPENCLAW-INPUT"))).toEqual([
      "-A OPENCLAW-INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
      "-A OPENCLAW-INPUT -j REJECT --reject-with icmp-admin-prohibited",
    ]);
  });

  test("an empty privateRanges still blocks the host and link-local", () => {
    const rules = egressRules({ tenantNetworks: "10.231.0.0/16", privateRanges: [] });
    expect(rules).toContain("-A OPENCLAW-EGRESS -d 169.254.0.0/16 -j REJECT --reject-with icmp-admin-prohibited");
    expect(rules).toContain("-A OPENCLAW-INPUT -j REJECT --reject-with icmp-admin-prohibited");
  });
});

describe("process limit parents and disk shares", () => {
  test("cgroupfs parents are paths; systemd slices escape hyphens so no tenant nests inside another", () => {
    expect(cgroupParent("alice", "cgroupfs")).toBe("/openclaw/alice");
    expect(cgroupParent("my-shop", "systemd")).toBe("openclaw-my\\x2dshop.slice");
    expect(cgroupParent("my", "systemd")).toBe("openclaw-my.slice");
  });

  test("xfs: the two volumes share the budget exactly; image: bind mounts into the tenant's disk; off: nothing", () => {
    expect(volumeDriverOpts("alice", "state", 2048, "xfs")).toEqual({ size: "1984M" });
    expect(volumeDriverOpts("alice", "credentials", 2048, "xfs")).toEqual({ size: "64M" });
    expect(volumeDriverOpts("alice", "state", 2048, "image")).toEqual({ type: "none", o: "bind", device: "/var/lib/openclaw-hosting/disks/alice/state" });
    expect(volumeDriverOpts("alice", "credentials", 2048, "off")).toBeUndefined();
  });
});
