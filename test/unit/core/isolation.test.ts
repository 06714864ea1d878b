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
  const policy = { tenantNetworks: "10.231.0.0/16", privateRanges: ["10.0.0.0/8", "192.168.0.0/16"] };
  const reject = "-j REJECT --reject-with icmp-admin-prohibited";

  test("IPv4: replies, then the tenant's own bridge, then metadata, the rest of the tenants' block and each private range", () => {
    const rules = egressRules(policy);
    expect(rules.filter((r) => r.startsWith("-4 -A OPENCLAW-EGRESS"))).toEqual([
      "-4 -A OPENCLAW-EGRESS -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
      "-4 -A OPENCLAW-EGRESS -m physdev --physdev-is-bridged -j RETURN",
      `-4 -A OPENCLAW-EGRESS -d 169.254.0.0/16 ${reject}`,
      `-4 -A OPENCLAW-EGRESS -d 10.231.0.0/16 ${reject}`,
      `-4 -A OPENCLAW-EGRESS -d 10.0.0.0/8 ${reject}`,
      `-4 -A OPENCLAW-EGRESS -d 192.168.0.0/16 ${reject}`,
    ]);
    expect(rules.filter((r) => r.startsWith("-4 -A OPENCLAW-INPUT"))).toEqual([
      "-4 -A OPENCLAW-INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
      `-4 -A OPENCLAW-INPUT ${reject}`,
    ]);
  });

  test("the tenants' block is never exempt by address: only bridged (own-bridge) traffic returns", () => {
    const rules = egressRules(policy);
    // Before this fix the block returned to Docker, so an address in it that is no bridge here (the
    // same block on another server, or a /28 no tenant uses) was reachable, and escaped privateRanges.
    expect(rules.some((r) => r.includes("-d 10.231.0.0/16 -j RETURN"))).toBe(false);
    expect(rules.filter((r) => r.endsWith("-j RETURN")).every((r) => /--ctstate|--physdev-is-bridged/.test(r))).toBe(true);
    // Even with no private ranges at all, the rest of the block stays closed.
    expect(egressRules({ tenantNetworks: "203.0.113.0/24", privateRanges: [] })).toContain(`-4 -A OPENCLAW-EGRESS -d 203.0.113.0/24 ${reject}`);
  });

  test("IPv6: tenants (IPv4 only) get nothing new over IPv6, to the host or forwarded, except on their own bridge", () => {
    const rules = egressRules(policy);
    const reject6 = "-j REJECT --reject-with icmp6-adm-prohibited";
    expect(rules.filter((r) => r.startsWith("-6 "))).toEqual([
      "-6 -A OPENCLAW-INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
      `-6 -A OPENCLAW-INPUT ${reject6}`,
      "-6 -A OPENCLAW-EGRESS -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
      "-6 -A OPENCLAW-EGRESS -m physdev --physdev-is-bridged -j RETURN",
      `-6 -A OPENCLAW-EGRESS ${reject6}`,
    ]);
    // Each chain's last IPv6 rule matches every destination: fe80::/10, fc00::/7 (fd00:ec2::254), global.
    for (const chain of ["OPENCLAW-INPUT", "OPENCLAW-EGRESS"]) {
      expect(rules.filter((r) => r.startsWith(`-6 -A ${chain}`)).slice(-1)[0]).toBe(`-6 -A ${chain} ${reject6}`);
    }
  });

  test("every line names its family, so one file feeds iptables-restore and ip6tables-restore", () => {
    for (const r of egressRules(policy)) expect(r).toMatch(/^-[46] -A OPENCLAW-(INPUT|EGRESS) [-A-Za-z0-9 ./,]+$/);
  });

  test("an empty privateRanges still blocks the host, link-local and the tenants' block", () => {
    const rules = egressRules({ tenantNetworks: "10.231.0.0/16", privateRanges: [] });
    expect(rules).toContain(`-4 -A OPENCLAW-EGRESS -d 169.254.0.0/16 ${reject}`);
    expect(rules).toContain(`-4 -A OPENCLAW-EGRESS -d 10.231.0.0/16 ${reject}`);
    expect(rules).toContain(`-4 -A OPENCLAW-INPUT ${reject}`);
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
