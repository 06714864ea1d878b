import { renderCaddyfile } from "../../../core/caddyfile";
import { checkHosting } from "../../../core/check";
import { RosterFile } from "../../../core/roster";
import { parseStackConfig } from "../../../core/stackConfig";
import { wildcardServersWarning, LETS_ENCRYPT_WEEKLY_CERTIFICATES, WILDCARD_CERT_FILE, WILDCARD_KEY_FILE, perTenantBurstWarning, renewalSettingsText, siteTlsLines } from "../../../core/tls";
import { certificateReasons, parseCertificateRecord } from "../../../tools/shared/status/certificates";

const base = { domain: "claw.example.com", image: "ghcr.io/openclaw/openclaw:2026.9.6-r20260923", caddy: { acmeEmail: "ops@example.com" } };
const dns = { zoneId: "0123456789abcdef0123456789abcdef" };

describe("the tls block of the stack config", () => {
  test("defaults to perTenant (what existing stacks have), renewing 30 days ahead", () => {
    expect(parseStackConfig(base).config?.tls).toEqual({ mode: "perTenant", renewDays: 30 });
  });

  test("wildcard needs dns (the Cloudflare zone and token) and refuses Caddy's internal CA, naming the field", () => {
    expect(parseStackConfig({ ...base, tls: { mode: "wildcard" } }).problems).toEqual([
      expect.objectContaining({ field: "tls.mode", message: expect.stringContaining("wildcard needs dns") }),
    ]);
    const local = parseStackConfig({ ...base, dns, serverIp: "203.0.113.7", caddy: { localCerts: true }, tls: { mode: "wildcard" } });
    expect(local.problems).toEqual([expect.objectContaining({ field: "tls.mode", message: expect.stringContaining("caddy.localCerts") })]);
    expect(parseStackConfig({ ...base, dns, serverIp: "203.0.113.7", tls: { mode: "wildcard" } }).problems).toEqual([]);
  });

  test("rejects an unknown mode, an unknown key and renewDays out of range, each by its field", () => {
    const fields = (tls: unknown) => parseStackConfig({ ...base, tls }).problems.map((p) => p.field);
    expect(fields({ mode: "dns" })).toEqual(["tls.mode"]);
    expect(fields({ renewDays: 90 })).toEqual(["tls.renewDays"]);
    expect(fields({ renewDays: 3 })).toEqual(["tls.renewDays"]);
    expect(fields({ token: "x" })).toEqual(["tls.token"]);
  });
});

describe("the Caddyfile's certificate lines", () => {
  const options = { adminAddress: "localhost:2019", domain: "claw.example.com", routesDir: "/etc/caddy/routes", acmeEmail: "ops@example.com", localCerts: false };
  const site = (text: string) => text.slice(text.indexOf("*.claw.example.com {"));

  test("perTenant adds nothing: the Caddyfile is byte for byte what it is without a tls block (certificates on demand)", () => {
    expect(renderCaddyfile({ ...options, tls: { mode: "perTenant", renewDays: 30 } })).toBe(renderCaddyfile(options));
    expect(site(renderCaddyfile(options))).toContain("*.claw.example.com {\n\ttls {\n\t\ton_demand\n\t}\n");
  });

  test("wildcard serves the lego certificate from its files for every tenant host, instead of on-demand certificates", () => {
    const text = site(renderCaddyfile({ ...options, tls: { mode: "wildcard", renewDays: 30 } }));
    expect(text).toContain(`*.claw.example.com {\n\ttls ${WILDCARD_CERT_FILE} ${WILDCARD_KEY_FILE}\n`);
    expect(text).not.toContain("on_demand");
    expect(siteTlsLines({ mode: "perTenant", renewDays: 30 })).toEqual([]);
  });

  test("a certificate path or CA root that would change the file's structure is refused", () => {
    expect(() => renderCaddyfile({ ...options, tls: { mode: "wildcard", renewDays: 30 }, tlsFiles: { cert: "/x y", key: "/k" } })).toThrow(/tls.certFile/);
    expect(() => renderCaddyfile({ ...options, acmeCaRoot: "/r\n}" })).toThrow(/caddy.acmeCaRoot/);
  });
});

describe("the renewal settings", () => {
  test("are KEY=VALUE lines without the token (the component appends it as a secret)", () => {
    const text = renewalSettingsText({
      mode: "wildcard", domain: "claw.example.com", directory: "https://acme-staging-v02.api.letsencrypt.org/directory", email: "ops@example.com",
      renewDays: 30, caddyfilePath: "/etc/caddy/Caddyfile", caddyAdmin: "unix//run/caddy/admin.sock|0660", caddyStorage: "/var/lib/caddy/.local/share/caddy", dnsProvider: "cloudflare",
    });
    expect(text.split("\n")).toEqual([
      "MODE=wildcard", "DOMAIN=claw.example.com", "ACME_SERVER=https://acme-staging-v02.api.letsencrypt.org/directory", "ACME_EMAIL=ops@example.com",
      "RENEW_DAYS=30", "CADDYFILE=/etc/caddy/Caddyfile", "CADDY_ADMIN=unix//run/caddy/admin.sock|0660", "CADDY_STORAGE=/var/lib/caddy/.local/share/caddy", "DNS_PROVIDER=cloudflare", "",
    ]);
    expect(text).not.toMatch(/TOKEN/);
  });
});

describe("more new tenants than Let's Encrypt certifies in a week", () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `t${String(i).padStart(3, "0")}`);

  test("perTenant warns above 50 new tenants, naming tls.mode and the way out; 50 is fine; wildcard never warns", () => {
    expect(perTenantBurstWarning("perTenant", names(LETS_ENCRYPT_WEEKLY_CERTIFICATES), "x")).toBeUndefined();
    const w = perTenantBurstWarning("perTenant", names(51), "tenants not in the last deployment");
    expect(w?.field).toBe("tls.mode");
    expect(w?.message).toContain("adds 51 tenants (tenants not in the last deployment)");
    expect(w?.message).toContain("tls.mode: wildcard");
    expect(perTenantBurstWarning("wildcard", names(500), "x")).toBeUndefined();
  });

  test("wildcard on more than 5 servers warns (5 certificates for the same names per week); 5 is fine", () => {
    expect(wildcardServersWarning("wildcard", 5)).toBeUndefined();
    expect(wildcardServersWarning("perTenant", 9)).toBeUndefined();
    expect(wildcardServersWarning("wildcard", 6)?.message).toContain("is wildcard on 6 servers");
  });

  test("npm run check counts tenants without a pinned port as new", () => {
    const files = (pinned: number, unpinned: number): RosterFile[] => [
      ...names(pinned).map((n, i) => ({ file: `${n}.yaml`, text: `tier: light\nport: ${18800 + i}\n` })),
      ...names(unpinned).map((n) => ({ file: `new-${n}.yaml`, text: "tier: light\n" })),
    ];
    const config = { ...base, portPool: JSON.stringify({ start: 18800, end: 19999 }) };
    expect(checkHosting(config, () => files(80, 50)).certificateBurst).toBeUndefined();
    expect(checkHosting(config, () => files(0, 51)).certificateBurst?.message).toContain("adds 51 tenants");
  });
});

describe("certificate health in status", () => {
  const now = new Date("2027-01-01T00:00:00Z");
  const record = (certificates: unknown[], renewal: unknown = null) =>
    JSON.stringify({ version: 1, server: "s1", mode: "wildcard", checkedAt: "2026-12-31T04:00:00Z", certificates, renewal });
  const cert = (name: string, notAfter: string) => ({ name, source: "lego", notAfter, serial: "AB12" });

  test("flags a certificate expiring within 14 days or expired, and a failed renewal; a healthy record flags nothing", () => {
    expect(certificateReasons(parseCertificateRecord(record([cert("*.claw.example.com", "2027-03-01T00:00:00Z")], { at: "2026-12-31T04:00:00Z", ok: true, error: null }), now))).toEqual([]);
    expect(certificateReasons(parseCertificateRecord(record([cert("*.claw.example.com", "2027-01-14T00:00:00Z")]), now))).toEqual([
      "certificate *.claw.example.com expires in 13 days (2027-01-14T00:00:00Z; < 14)",
    ]);
    expect(certificateReasons(parseCertificateRecord(record([cert("a.claw.example.com", "2026-12-30T00:00:00Z")]), now))[0]).toContain("expired on 2026-12-30");
    const failed = parseCertificateRecord(record([cert("*.claw.example.com", "2027-03-01T00:00:00Z")], { at: "2026-12-31T04:00:00Z", ok: false, error: "lego renew exited 1: connection refused" }), now);
    expect(certificateReasons(failed)).toEqual(["certificate renewal failed at 2026-12-31T04:00:00Z: lego renew exited 1: connection refused (the certificate in use is kept)"]);
  });

  test("a record that is not the script's shape is refused", () => {
    expect(() => parseCertificateRecord("{}", now)).toThrow();
    expect(() => parseCertificateRecord(record([{ name: "x", source: "lego", notAfter: "soon", serial: "1" }]), now)).toThrow();
  });
});
