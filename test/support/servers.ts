import { baseConfig, fakeKey } from "./program";
import { writeRoster } from "./roster";

export const THREE_SERVERS = {
  a: { local: true, publicIp: "203.0.113.1", memoryMb: 8192, cpus: 4 },
  b: { ssh: { host: "b.example.net", user: "deploy", privateKeyPath: "test/program/fixtures/not-a-key" }, publicIp: "203.0.113.2", memoryMb: 8192, cpus: 4 },
  c: { ssh: { host: "198.51.100.3", user: "deploy", port: 2222, privateKeyPath: "test/program/fixtures/not-a-key" }, publicIp: "203.0.113.3", memoryMb: 8192, cpus: 4 },
};
export const DNS = { zoneId: "0123456789abcdef0123456789abcdef" };

/** Six tenants over three servers, pinned as `npm run pin` leaves them (ports repeat across servers). */
export const SIX_TENANTS = [
  { name: "alice", server: "a", port: 18810 },
  { name: "bob", server: "a", port: 18811, tier: "light" as const },
  { name: "carol", server: "b", port: 18810 },
  { name: "dave", server: "b", port: 18812, state: "suspended" as const },
  { name: "erin", server: "c", port: 18810, tier: "heavy" as const },
  { name: "frank", server: "c", port: 18811 },
];
export type ServerTenant = ((typeof SIX_TENANTS)[number] | { name: string; server?: string; port?: number; tier?: "light" | "standard" | "heavy"; state?: "active" | "suspended" }) & { data?: string };

export function serversRoster(tenants: readonly ServerTenant[] = SIX_TENANTS): string {
  return writeRoster(tenants.map(({ server, data, ...t }) => {
    const extra = [server !== undefined ? `server: ${server}` : "", data !== undefined ? `data: ${data}` : ""].filter((l) => l !== "").join("\n");
    return { ...t, extra: extra === "" ? undefined : extra };
  }));
}

export function serversConfig(tenants: readonly ServerTenant[] = SIX_TENANTS, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return baseConfig(serversRoster(tenants), {
    apiKeys: Object.fromEntries(tenants.map((t) => [t.name, fakeKey(t.name)])),
    servers: THREE_SERVERS,
    dns: DNS,
    ...overrides,
  });
}
