import { SizedTenant, checkCapacity, checkDiskCapacity, utilisation } from "../../../core/capacity";
import { DEFAULT_TIERS } from "../../../core/stackConfig";

const tenant = (name: string, memoryMb: number, cpus: number, pinned = true, state: "active" | "suspended" = "active"): SizedTenant => ({
  name, state, memoryMb, reservationMb: Math.floor(memoryMb * 0.75), cpus, pinned,
});

describe("capacity", () => {
  const server = { memoryMb: 4096, cpus: 2, overcommit: 1.5 };

  test("a roster within the overcommitted server passes", () => {
    expect(checkCapacity([tenant("a", 1024, 1), tenant("b", 1024, 1)], server)).toEqual([]);
  });

  test("suspended tenants do not count", () => {
    const roster = [tenant("a", 4096, 2), tenant("b", 4096, 2, true, "suspended")];
    expect(checkCapacity(roster, server)).toEqual([]);
    expect(utilisation(roster, server).memoryLimitMb).toBe(4096);
  });

  test("over the limit says by how much and which tenants were added", () => {
    const roster = [tenant("a", 4096, 1), tenant("b", 1024, 1), tenant("newbie", 1024, 0.5, false), tenant("other", 512, 0.5, false)];
    const problems = checkCapacity(roster, server);
    expect(problems).toEqual([
      {
        field: "server.memoryMb",
        message:
          "the 4 active tenants need 6656 MB of memory limits, over the 6144 MB allowed (4096 MB x overcommit 1.5) by 512 MB. " +
          "Tenants added since the last pin-ports: newbie, other.",
      },
    ]);
  });

  test("CPUs are checked too", () => {
    const problems = checkCapacity([tenant("a", 512, 2), tenant("b", 512, 1.5)], server);
    expect(problems.map((p) => p.field)).toEqual(["server.cpus"]);
    expect(problems[0].message).toContain("need 3.5 CPUs, over the 3 allowed (2 x overcommit 1.5) by 0.5");
  });

  test("utilisation and a recommended server size", () => {
    const use = utilisation([tenant("a", 1024, 1), tenant("b", 1024, 1)], server);
    expect(use).toMatchObject({ activeTenants: 2, memoryLimitMb: 2048, memoryReservedMb: 1536, cpus: 2, memoryPercent: 33, cpuPercent: 67 });
    // reservations 1536 MB + 1024 MB system = 2560 MB -> the 4 GB size; 2 CPUs / 1.5 -> 2 CPUs
    expect(use.recommended).toEqual({ memoryGb: 4, cpus: 2 });
  });

  test("the default tiers: one tenant of each needs an 8 GB server, and 6 light tenants fit 16 GB", () => {
    const of = (name: string, tier: keyof typeof DEFAULT_TIERS): SizedTenant => ({ name, state: "active", pinned: true, ...DEFAULT_TIERS[tier] });
    const mixed = utilisation([of("a", "light"), of("b", "standard"), of("c", "heavy")], undefined);
    // limits 7680 MB / 1.5 + 1024 MB system = 6144 MB; reservations 4352 + 1024 = 5376 MB -> 8 GB
    expect(mixed).toMatchObject({ memoryLimitMb: 7680, memoryReservedMb: 4352, recommended: { memoryGb: 8, cpus: 4 } });
    const lights = Array.from({ length: 6 }, (_, i) => of(`l${i}`, "light"));
    expect(checkCapacity(lights, { memoryMb: 16384, cpus: 4, overcommit: 1.5 })).toEqual([]);
    expect(checkCapacity([...lights, ...lights, ...lights], { memoryMb: 16384, cpus: 8, overcommit: 1.5 }).map((p) => p.field)).toEqual(["server.memoryMb"]);
  });

  test("disk: without diskGb nothing is checked; the single server's field is server.diskGb", () => {
    const of = (name: string, diskMb: number): SizedTenant => ({ ...tenant(name, 1024, 1), diskMb });
    expect(checkDiskCapacity([of("a", 8192)], server)).toEqual({ problems: [], warnings: [] });
    expect(checkDiskCapacity([of("a", 8192), of("b", 4096)], { ...server, diskGb: 10 }).problems.map((p) => p.field)).toEqual(["server.diskGb"]);
    expect(checkDiskCapacity([of("a", 9216)], { ...server, diskGb: 10 }).warnings.map((p) => p.field)).toEqual(["server.diskGb"]);
    expect(checkDiskCapacity([of("a", 9215)], { ...server, diskGb: 10 })).toEqual({ problems: [], warnings: [] });
  });
});
