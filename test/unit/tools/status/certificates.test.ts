// Certificate health in the status report: a server's record (server-scripts/tls-certificate.sh)
// flags the server when a certificate expires within 14 days or the last renewal failed; the
// table, the dashboard's server card and /metrics show it.
import { EXIT_FLAGGED, EXIT_OK, ServerResult, exitCodeFor, mergeServerResults, parseCertificateRecord } from "../../../../tools/shared/status";
import { renderTable } from "../../../../tools/status/table";
import { TenantMetrics } from "../../../../tools/dashboard/metrics";

const RULES = { memoryThresholdPercent: 90, diskThresholdPercent: 90 };
const META = { checkedAt: "2027-01-01T00:00:00Z", memoryThresholdPercent: 90, elapsedMs: 5 };
const NOW = new Date("2027-01-01T00:00:00Z");

function record(notAfter: string, renewal: { ok: boolean; error: string | null } | null) {
  return parseCertificateRecord(JSON.stringify({
    version: 1, server: "s1", mode: "wildcard", checkedAt: "2026-12-31T04:10:00Z",
    certificates: [{ name: "*.claw.example.com", source: "lego", notAfter, serial: "0A1B" }],
    renewal: renewal === null ? null : { at: "2026-12-31T04:10:00Z", ...renewal },
  }), NOW);
}
const server = (name: string, certificates?: ReturnType<typeof record>): ServerResult => ({ server: name, engine: `ssh://root@${name}:22`, reachable: true, tenants: [], certificates });

describe("certificate health in the report", () => {
  test("a healthy certificate is shown, not flagged: exit 0", () => {
    const r = mergeServerResults([server("s1", record("2027-03-01T00:00:00Z", { ok: true, error: null }))], META, RULES);
    expect(r.servers[0].flags).toEqual([]);
    expect(exitCodeFor(r)).toBe(EXIT_OK);
    expect(renderTable(r)).toContain("certificates on server s1 (wildcard, recorded 2026-12-31T04:10:00Z): 1, soonest *.claw.example.com in 59 days (2027-03-01T00:00:00Z); last renewal 2026-12-31T04:10:00Z ok");
  });

  test("expiring within 14 days, or a failed renewal, flags the server (exit 1); a server without a record is not flagged", () => {
    const r = mergeServerResults([
      server("s1", record("2027-01-10T00:00:00Z", null)),
      server("s2", record("2027-03-01T00:00:00Z", { ok: false, error: "lego renew exited 1: connection refused" })),
      server("s3"),
    ], META, RULES);
    expect(r.servers.map((s) => s.flags)).toEqual([
      ["certificate *.claw.example.com expires in 9 days (2027-01-10T00:00:00Z; < 14)"],
      ["certificate renewal failed at 2026-12-31T04:10:00Z: lego renew exited 1: connection refused (the certificate in use is kept)"],
      [],
    ]);
    expect(exitCodeFor(r)).toBe(EXIT_FLAGGED);
    expect(renderTable(r)).toContain("FLAGGED server s2: certificate renewal failed");
  });

  test("/metrics: each certificate's expiry time and whether the last renewal failed", async () => {
    const metrics = new TenantMetrics();
    metrics.update(mergeServerResults([server("s1", record("2027-03-01T00:00:00Z", { ok: false, error: "x" }))], META, RULES), undefined);
    const text = await metrics.text(NOW.getTime());
    expect(text).toContain(`openclaw_certificate_expiry_timestamp_seconds{server="s1",name="*.claw.example.com"} ${Date.parse("2027-03-01T00:00:00Z") / 1000}`);
    expect(text).toContain('openclaw_certificate_renewal_failed{server="s1"} 1');
  });
});
