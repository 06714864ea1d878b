import { Problem } from "./problems";
import { TlsFiles, TlsOptions, globalAcmeLines, siteTlsLines } from "./tls";

/** What the edge needs to know about one tenant; nothing secret. */
export interface EdgeSite {
  host: string;
  port: number;
  state: "active" | "suspended";
}

export interface EdgeOptions {
  adminAddress: string;
  acmeEmail?: string;
  acmeCa?: string;
  localCerts: boolean;
  httpPort?: number;
  httpsPort?: number;
  storageDir?: string;
  /** Certificates (core/tls.ts); absent = perTenant. */
  tls?: TlsOptions;
  /** Where the wildcard certificate is read from (default core/tls.ts's paths; tests use their own). */
  tlsFiles?: TlsFiles;
  /** A private ACME CA's root (Pebble in the tests): Caddy trusts it for the ACME server's HTTPS. */
  acmeCaRoot?: string;
}

/** Long enough for a browser session; WebSockets are otherwise cut on every reload. */
export const STREAM_CLOSE_DELAY = "5m";

const HEADER = "# Managed by openclaw-hosting (pulumi up). Edits here are overwritten; change the roster instead.";

/**
 * Characters a Caddyfile token of ours may hold. Whitespace ends a token, a newline a directive,
 * braces open and close blocks and placeholders, quotes and backslashes change tokenisation, `#`
 * starts a comment and `<<` a heredoc: none of them may come from config or the roster.
 */
const SAFE_TOKEN = /^[A-Za-z0-9._~%/:@+=&?[\]-]+$/;
const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

/** Defence in depth: the schemas already allow-list every value; this refuses anything that could change the file's structure. */
export function caddyfileProblems(sites: readonly EdgeSite[], options: EdgeOptions): Problem[] {
  const problems: Problem[] = [];
  const token = (field: string, value: string | undefined, tenant?: string) => {
    if (value !== undefined && !SAFE_TOKEN.test(value)) {
      problems.push({ tenant, field, message: "would change the Caddyfile's structure (space, quote, brace, #, backslash or line break); refused" });
    }
  };
  const port = (field: string, value: number | undefined, tenant?: string) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= 65535)) {
      problems.push({ tenant, field, message: "is not a port number from 1 to 65535" });
    }
  };
  // `|` only separates a unix socket's mode (unix//path|0600); it has no meaning to the Caddyfile's structure.
  token("caddy.adminAddress", options.adminAddress.replace(/\|0[0-7]{3}$/, ""));
  token("caddy.acmeEmail", options.acmeEmail);
  token("caddy.acmeCa", options.acmeCa);
  token("caddy.storageDir", options.storageDir);
  token("caddy.acmeCaRoot", options.acmeCaRoot);
  token("tls.certFile", options.tlsFiles?.cert);
  token("tls.keyFile", options.tlsFiles?.key);
  port("caddy.ports.http", options.httpPort);
  port("caddy.ports.https", options.httpsPort);
  for (const site of sites) {
    const tenant = site.host.split(".")[0];
    if (!HOST.test(site.host)) problems.push({ tenant, field: "name", message: "makes a site address that is not a plain host name; refused" });
    port("port", site.port, tenant);
  }
  return problems;
}

export class CaddyfileError extends Error {
  constructor(public readonly problems: Problem[]) {
    super(`refusing to render the Caddyfile: ${problems.map((p) => `${p.field}: ${p.message}`).join("; ")}`);
  }
}

/**
 * Renders the whole Caddyfile. Sites are sorted by host so the roster's file order never changes
 * the output, and so one tenant's edit changes only that tenant's block.
 */
export function renderCaddyfile(sites: readonly EdgeSite[], options: EdgeOptions): string {
  const problems = caddyfileProblems(sites, options);
  if (problems.length > 0) throw new CaddyfileError(problems);
  const global = [
    `admin ${options.adminAddress}`,
    ...globalAcmeLines(options),
    options.localCerts ? "local_certs" : undefined,
    options.localCerts ? "skip_install_trust" : undefined,
    options.httpPort !== undefined ? `http_port ${options.httpPort}` : undefined,
    options.httpsPort !== undefined ? `https_port ${options.httpsPort}` : undefined,
    options.storageDir !== undefined ? `storage file_system ${options.storageDir}` : undefined,
  ].filter((line): line is string => line !== undefined);

  const tlsLines = options.tls === undefined ? [] : siteTlsLines(options.tls, options.tlsFiles).map((l) => `\t${l}`);
  const blocks = [...sites]
    .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))
    .map((site) => (site.state === "active" ? activeSite(site, tlsLines) : suspendedSite(site, tlsLines)));

  return [HEADER, "{", ...global.map((l) => `\t${l}`), "}", "", ...blocks].join("\n");
}

function activeSite(site: EdgeSite, tlsLines: readonly string[]): string {
  return [
    `${site.host} {`,
    ...tlsLines,
    `\treverse_proxy 127.0.0.1:${site.port} {`,
    `\t\tstream_close_delay ${STREAM_CLOSE_DELAY}`,
    `\t}`,
    `}`,
    "",
  ].join("\n");
}

function suspendedSite(site: EdgeSite, tlsLines: readonly string[]): string {
  return [
    `${site.host} {`,
    ...tlsLines,
    `\theader Content-Type "text/plain; charset=utf-8"`,
    `\theader Retry-After "3600"`,
    `\trespond "${site.host} is suspended. Its data is kept; ask your operator to resume it." 503`,
    `}`,
    "",
  ].join("\n");
}
