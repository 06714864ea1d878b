// Caddy's admin API address (issue 19): a root-only unix socket by default, TCP loopback still
// supported, every other value refused naming caddy.adminAddress.
import { DEFAULT_ADMIN_ADDRESS, adminPort, adminSocketPath, withLegacyAdminDefault } from "../../../core/configText";
import { renderCaddyfile } from "../../../core/caddyfile";
import { caddyPorts, parseStackConfig } from "../../../core/stackConfig";

const base = { domain: "claw.example.com", image: "ghcr.io/openclaw/openclaw:2026.9.6-r20260923" };
const parse = (caddy: Record<string, unknown>) => parseStackConfig({ ...base, caddy: JSON.stringify({ acmeEmail: "ops@example.com", ...caddy }) });
const adminOf = (caddy: Record<string, unknown>) => parse(caddy).config?.caddy.adminAddress;
const problemOf = (caddy: Record<string, unknown>) => parse(caddy).problems.map((p) => `${p.field}: ${p.message}`);

describe("caddy.adminAddress", () => {
  test("a new stack's default is a unix socket of mode 0600", () => {
    expect(DEFAULT_ADMIN_ADDRESS).toBe("unix//var/lib/caddy/admin.sock|0600");
    expect(adminOf({})).toBe(DEFAULT_ADMIN_ADDRESS);
    expect(adminSocketPath(DEFAULT_ADMIN_ADDRESS)).toBe("/var/lib/caddy/admin.sock");
  });

  test("a socket without a mode gets 0600, never Caddy's own default mode", () => {
    expect(adminOf({ adminAddress: "unix//run/caddy-admin/admin.sock" })).toBe("unix//run/caddy-admin/admin.sock|0600");
    expect(adminOf({ adminAddress: "unix//run/caddy-admin/admin.sock|0660" })).toBe("unix//run/caddy-admin/admin.sock|0660");
  });

  test("TCP on loopback stays supported", () => {
    for (const a of ["localhost:2019", "127.0.0.1:2999", "[::1]:2019"]) expect(adminOf({ adminAddress: a })).toBe(a);
  });

  test.each([
    ["a mode others can use", "unix//run/admin.sock|0666", "must give the socket mode 0600 or 0660"],
    ["a mode of the group and others", "unix//run/admin.sock|0777", "must give the socket mode 0600 or 0660"],
    ["a relative path", "unix/run/admin.sock", "must be a unix socket such as"],
    ["..", "unix//var/lib/../../tmp/admin.sock", "without .."],
    ["a space", "unix//run/ad min.sock", "must be a unix socket such as"],
    ["a line break", "unix//run/admin.sock\n}\nevil {", "must be a unix socket such as"],
    ["a quote", "unix//run/admin'.sock", "must be a unix socket such as"],
    ["a path over the kernel's limit", `unix//${"a".repeat(120)}.sock`, "at most 107 characters"],
    ["a host that is not loopback", "0.0.0.0:2019", "must be a unix socket such as"],
    ["tcp/ network prefix", "tcp/localhost:2019", "must be a unix socket such as"],
  ])("refuses %s, naming the field", (_what, adminAddress, fragment) => {
    const problems = problemOf({ adminAddress });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^caddy\.adminAddress: /);
    expect(problems[0]).toContain(fragment);
  });

  test("the Caddyfile names the socket with its mode", () => {
    const text = renderCaddyfile({ adminAddress: DEFAULT_ADMIN_ADDRESS, domain: "claw.example.com", routesDir: "/etc/caddy/routes", acmeEmail: "ops@example.com", localCerts: false });
    expect(text).toContain("\tadmin unix//var/lib/caddy/admin.sock|0600\n");
  });

  test("with a socket, port 2019 stays reserved (Caddy listens there until the edge's first reload moves it)", () => {
    expect(adminPort(DEFAULT_ADMIN_ADDRESS)).toBe(2019);
    expect(caddyPorts({ adminAddress: DEFAULT_ADMIN_ADDRESS })[0]).toEqual(["caddy.adminAddress", 2019]);
  });
});

describe("an existing stack that never set caddy.adminAddress", () => {
  test("keeps localhost:2019 when its last Caddyfile had it (no surprise on upgrade), and says so", () => {
    const { raw, kept } = withLegacyAdminDefault({ ...base, caddy: JSON.stringify({ acmeEmail: "ops@example.com" }) }, ["localhost:2019"]);
    expect(kept).toBe(true);
    expect(parseStackConfig(raw).config?.caddy.adminAddress).toBe("localhost:2019");
  });

  test("an address it set is kept as set; a new stack, and one created with the socket, get the socket", () => {
    const set = { ...base, caddy: JSON.stringify({ acmeEmail: "ops@example.com", adminAddress: "127.0.0.1:2999" }) };
    expect(withLegacyAdminDefault(set, ["localhost:2019"])).toEqual({ raw: set, kept: false });
    const fresh = { ...base, caddy: JSON.stringify({ acmeEmail: "ops@example.com" }) };
    expect(withLegacyAdminDefault(fresh, [])).toEqual({ raw: fresh, kept: false });
    expect(withLegacyAdminDefault(fresh, [DEFAULT_ADMIN_ADDRESS])).toEqual({ raw: fresh, kept: false });
  });
});
