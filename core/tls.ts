/**
 * Certificates: which mode a stack uses, what that adds to the Caddyfile, and what the server's
 * certificate script (server-scripts/tls-certificate.sh) is told. Pure; nothing secret here (the
 * Cloudflare token is appended by the component, as a Pulumi secret, to the settings on stdin).
 *
 *   perTenant  Caddy obtains one certificate per tenant host (HTTP-01 / TLS-ALPN-01). Let's Encrypt
 *              issues at most 50 new certificates per registered domain per 7 days.
 *   wildcard   one certificate for `*.<domain>` through DNS-01 (Cloudflare), obtained and renewed by
 *              Debian's `lego` on each server; Caddy serves it from two files (`tls <cert> <key>`).
 */
import { Problem } from "./problems";

export const TLS_MODES = ["perTenant", "wildcard"] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** Let's Encrypt's production directory: lego's default, and Caddy's. */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";
/** Let's Encrypt's 50 new certificates per registered domain per 7 days (renewals are exempt). */
export const LETS_ENCRYPT_WEEKLY_CERTIFICATES = 50;
/** status and the dashboard flag a certificate that expires within this many days, or failed to renew. */
export const CERTIFICATE_WARNING_DAYS = 14;

/** Where each server keeps what the certificate script writes (the status tools read status.json). */
export const TLS_STATE_DIR = "/var/lib/openclaw-tls";
/** The certificate Caddy serves in wildcard mode; replaced atomically by a renewal. */
export const WILDCARD_CERT_FILE = `${TLS_STATE_DIR}/live/wildcard.crt`;
export const WILDCARD_KEY_FILE = `${TLS_STATE_DIR}/live/wildcard.key`;
/** Caddy's certificate storage as Debian's caddy package runs it (HOME=/var/lib/caddy). */
export const DEBIAN_CADDY_STORAGE = "/var/lib/caddy/.local/share/caddy";

export interface TlsOptions {
  mode: TlsMode;
  /** Renew when fewer days than this are left (lego renew --days). */
  renewDays: number;
}

export interface TlsFiles {
  cert: string;
  key: string;
}

/**
 * The `tls` line(s) of a site that answers a tenant host. perTenant: none (Caddy's automatic
 * HTTPS). wildcard: the lego certificate from files; Caddy then manages no certificate for the site.
 */
export function siteTlsLines(tls: TlsOptions, files: TlsFiles = { cert: WILDCARD_CERT_FILE, key: WILDCARD_KEY_FILE }): string[] {
  return tls.mode === "wildcard" ? [`tls ${files.cert} ${files.key}`] : [];
}

/** The ACME global options of the Caddyfile (Caddy's own issuance: perTenant mode). */
export function globalAcmeLines(acme: { acmeEmail?: string; acmeCa?: string; acmeCaRoot?: string }): string[] {
  return [
    acme.acmeEmail !== undefined ? `email ${acme.acmeEmail}` : undefined,
    acme.acmeCa !== undefined ? `acme_ca ${acme.acmeCa}` : undefined,
    acme.acmeCaRoot !== undefined ? `acme_ca_root ${acme.acmeCaRoot}` : undefined,
  ].filter((l): l is string => l !== undefined);
}

/** What the certificate script on a server needs; none of it secret. */
export interface RenewalSettings {
  mode: TlsMode;
  domain: string;
  /** ACME directory (default Let's Encrypt). */
  directory: string;
  email?: string;
  renewDays: number;
  caddyfilePath: string;
  /** Caddy's admin address (host:port or unix/<path>|<mode>), for the reload after a renewal. */
  caddyAdmin: string;
  /** Caddy's certificate storage, read for perTenant expiry dates. */
  caddyStorage: string;
  /** lego's DNS provider: cloudflare in production (exec in the Pebble tests). */
  dnsProvider: string;
}

/** The KEY=VALUE lines the script reads from stdin; the component appends CLOUDFLARE_DNS_API_TOKEN (secret). */
export function renewalSettingsText(s: RenewalSettings): string {
  const lines: [string, string | number | undefined][] = [
    ["MODE", s.mode],
    ["DOMAIN", s.domain],
    ["ACME_SERVER", s.directory],
    ["ACME_EMAIL", s.email],
    ["RENEW_DAYS", s.renewDays],
    ["CADDYFILE", s.caddyfilePath],
    ["CADDY_ADMIN", s.caddyAdmin],
    ["CADDY_STORAGE", s.caddyStorage],
    ["DNS_PROVIDER", s.dnsProvider],
  ];
  return lines.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

/**
 * perTenant on Let's Encrypt: more than 50 new tenant hosts in one change cannot all get a
 * certificate within the week. `newHosts`: tenants not deployed before (the caller decides how it
 * knows: the last deployment in the program, unpinned tenants in `npm run check`).
 */
export function perTenantBurstWarning(mode: TlsMode, newTenants: readonly string[], basis: string): Problem | undefined {
  if (mode !== "perTenant" || newTenants.length <= LETS_ENCRYPT_WEEKLY_CERTIFICATES) return undefined;
  return {
    field: "tls.mode",
    message:
      `is perTenant and this change adds ${newTenants.length} tenants (${basis}): Let's Encrypt issues at most ` +
      `${LETS_ENCRYPT_WEEKLY_CERTIFICATES} new certificates per registered domain per 7 days, so the rest stay without HTTPS until the window passes; ` +
      "add them over several weeks, or set tls.mode: wildcard (one DNS-01 certificate; needs dns and cloudflare:apiToken). See docs/certificates.md",
  };
}

/** Let's Encrypt's 5 new certificates per exact set of names per 7 days: each server obtains `*.<domain>` itself. */
export const LETS_ENCRYPT_WEEKLY_DUPLICATES = 5;

/** wildcard on more servers than Let's Encrypt issues the same certificate to in a week. */
export function wildcardServersWarning(mode: TlsMode, servers: number): Problem | undefined {
  if (mode !== "wildcard" || servers <= LETS_ENCRYPT_WEEKLY_DUPLICATES) return undefined;
  return {
    field: "tls.mode",
    message:
      `is wildcard on ${servers} servers: each server obtains its own *.<domain> certificate, and Let's Encrypt issues at most ` +
      `${LETS_ENCRYPT_WEEKLY_DUPLICATES} certificates for the same names per 7 days; add servers at most ${LETS_ENCRYPT_WEEKLY_DUPLICATES} a week (renewals are spread by the daily timer). See docs/certificates.md`,
  };
}
