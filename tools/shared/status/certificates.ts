/**
 * A server's certificates as its certificate script records them (server-scripts/tls-certificate.sh,
 * status.json under core/tls.ts's TLS_STATE_DIR, rewritten daily and after every renewal attempt):
 * the wildcard certificate (lego) or each tenant's (Caddy's storage), and the last renewal.
 */
import { z } from "zod";
import { CERTIFICATE_WARNING_DAYS } from "../../../core/tls";

const Iso = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

export const CertificateRecordSchema = z.object({
  version: z.literal(1),
  mode: z.enum(["perTenant", "wildcard"]),
  checkedAt: Iso,
  certificates: z.array(z.object({ name: z.string().max(300), source: z.enum(["lego", "caddy"]), notAfter: Iso, serial: z.string().max(100) })).max(100_000),
  renewal: z.object({ at: Iso, ok: z.boolean(), error: z.string().max(400).nullable() }).nullable(),
});
export type CertificateRecord = z.infer<typeof CertificateRecordSchema>;

export interface CertificateStatus {
  name: string;
  source: "lego" | "caddy";
  notAfter: string;
  daysLeft: number;
}

/** A server's certificates for the report: null when the server has no record (yet). */
export interface ServerCertificates {
  mode: "perTenant" | "wildcard";
  checkedAt: string;
  certificates: CertificateStatus[];
  renewal: CertificateRecord["renewal"];
}

const DAY_MS = 86_400_000;

/** status.json's text, judged against `now`; throws on anything else (the caller says it was not read). */
export function parseCertificateRecord(text: string, now: Date): ServerCertificates {
  const record = CertificateRecordSchema.parse(JSON.parse(text));
  return {
    mode: record.mode,
    checkedAt: record.checkedAt,
    certificates: record.certificates.map((c) => ({ name: c.name, source: c.source, notAfter: c.notAfter, daysLeft: Math.floor((Date.parse(c.notAfter) - now.getTime()) / DAY_MS) })),
    renewal: record.renewal,
  };
}

/** Why a server's certificates need attention: one expiring within 14 days (or expired), or a failed renewal. */
export function certificateReasons(certs: ServerCertificates | null, warningDays = CERTIFICATE_WARNING_DAYS): string[] {
  if (certs === null) return [];
  const reasons: string[] = [];
  for (const c of certs.certificates) {
    if (c.daysLeft < 0) reasons.push(`certificate ${c.name} expired on ${c.notAfter}`);
    else if (c.daysLeft < warningDays) reasons.push(`certificate ${c.name} expires in ${c.daysLeft} days (${c.notAfter}; < ${warningDays})`);
  }
  if (certs.renewal !== null && !certs.renewal.ok) {
    reasons.push(`certificate renewal failed at ${certs.renewal.at}: ${certs.renewal.error ?? "no detail"} (the certificate in use is kept)`);
  }
  return reasons;
}

/** The soonest expiry among a server's certificates (for a one-line summary and /metrics). */
export function soonestExpiry(certs: ServerCertificates | null): CertificateStatus | undefined {
  return certs?.certificates.reduce<CertificateStatus | undefined>((soonest, c) => (soonest === undefined || c.daysLeft < soonest.daysLeft ? c : soonest), undefined);
}
