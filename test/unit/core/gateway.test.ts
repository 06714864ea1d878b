import { MEMORY_FLOORS, NON_HEAP_RESERVE_MB, gatewaySettings, heapCapMb, memoryFloor, openclawVersion } from "../../../core/gateway";
import { planHosting } from "../../../core/plan";
import { DEFAULT_TIERS, TIER_NAMES, parseStackConfig } from "../../../core/stackConfig";

describe("the gateway's memory rules", () => {
  test("the heap cap leaves the measured non-heap memory under the limit, and never exceeds 75 %", () => {
    expect(heapCapMb(1536)).toBe(896);
    expect(heapCapMb(2048)).toBe(1408);
    expect(heapCapMb(4096)).toBe(3072); // 75 % binds for large limits
    expect(heapCapMb(512)).toBe(256); // never below 256
    for (const tier of TIER_NAMES) {
      const { memoryMb } = DEFAULT_TIERS[tier];
      expect(heapCapMb(memoryMb) + NON_HEAP_RESERVE_MB).toBeLessThanOrEqual(memoryMb);
    }
  });

  test("the OpenClaw version comes from the image tag; digests and other tags have none", () => {
    expect(openclawVersion("ghcr.io/openclaw/openclaw:2026.9.6-r20260923")).toBe("2026.9.6");
    expect(openclawVersion("openclaw/openclaw:2026.9.6")).toBe("2026.9.6");
    expect(openclawVersion("openclaw-real:2026.9.6")).toBe("2026.9.6");
    expect(openclawVersion("registry.example.com:5000/openclaw:2026.10.12-slim")).toBe("2026.10.12");
    expect(openclawVersion("ghcr.io/openclaw/openclaw@sha256:" + "a".repeat(64))).toBeUndefined();
    expect(openclawVersion("ghcr.io/openclaw/openclaw:2026.9")).toBeUndefined();
    expect(openclawVersion("ghcr.io/openclaw/openclaw:2026.9.66.1")).toBeUndefined();
  });

  test("the floor is the measured one for a known version, else the newest", () => {
    expect(memoryFloor("ghcr.io/openclaw/openclaw:2026.9.6-r20260923")).toEqual({ version: "2026.9.6", floorMb: 1024, measured: true });
    const newest = MEMORY_FLOORS[MEMORY_FLOORS.length - 1].floorMb;
    expect(memoryFloor("ghcr.io/openclaw/openclaw:2027.1.1")).toEqual({ version: "2027.1.1", floorMb: newest, measured: false });
    expect(memoryFloor("ghcr.io/openclaw/openclaw@sha256:" + "b".repeat(64)).measured).toBe(false);
    // Every default tier clears every measured floor.
    for (const tier of TIER_NAMES) for (const f of MEMORY_FLOORS) expect(DEFAULT_TIERS[tier].memoryMb).toBeGreaterThanOrEqual(f.floorMb);
  });

  test("the managed settings include the bind mode, which openclaw doctor reads from the config", () => {
    expect(gatewaySettings("https://a.example.com", ["10.0.0.1"])).toEqual([
      { path: "gateway.mode", value: "local" },
      { path: "gateway.bind", value: "lan" },
      { path: "gateway.auth.mode", value: "token" },
      { path: "gateway.trustedProxies", value: ["10.0.0.1"] },
      { path: "gateway.controlUi.allowedOrigins", value: ["https://a.example.com"] },
    ]);
  });
});

describe("the allowed origin is the one a browser sends", () => {
  const plan = (caddy: Record<string, unknown>): unknown => {
    const { config } = parseStackConfig({ domain: "claw.example.com", image: "ghcr.io/openclaw/openclaw:2026.9.6-r20260923", caddy, apiKeys: { alice: "k" } });
    if (config === undefined) throw new Error("config rejected");
    const t = planHosting(config, [{ name: "alice", tier: "light", state: "active", provider: "anthropic", env: {} }]).tenants[0];
    return t.settings.find((s) => s.path === "gateway.controlUi.allowedOrigins")?.value;
  };

  test("on the default 443 the origin has no port; on another https port (the dev stack's 8443) it carries it", () => {
    expect(plan({ acmeEmail: "ops@example.com" })).toEqual(["https://alice.claw.example.com"]);
    expect(plan({ localCerts: true, ports: { http: 8080, https: 8443 } })).toEqual(["https://alice.claw.example.com:8443"]);
  });
});
