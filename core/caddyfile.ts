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
  /** Every tenant's host is `<name>.<domain>`: the one site Caddy serves is `*.<domain>`. */
  domain: string;
  /** Where the route files live on the server (one folder per routed host); Caddy reads them per request. */
  routesDir: string;
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

/**
 * Long enough for a browser session. Roster changes no longer reload Caddy (see renderRoutes), but a
 * change of the stack's Caddy options still does, and WebSockets are otherwise cut on every reload.
 */
export const STREAM_CLOSE_DELAY = "5m";

/**
 * The path Caddy asks before it obtains a certificate on demand (`on_demand_tls { permission http }`),
 * served by Caddy itself from the route files, on loopback only.
 */
export const ROUTE_CHECK_PATH = "/openclaw-route-check";

/** The route entry of an active tenant: `port-<port>`; of a suspended one: `suspended`. */
export const SUSPENDED_ENTRY = "suspended";
export const PORT_ENTRY_PREFIX = "port-";

const HEADER = "# Managed by openclaw-hosting (pulumi up). Edits here are overwritten; change the roster instead.";

/**
 * Characters a Caddyfile token of ours may hold. Whitespace ends a token, a newline a directive,
 * braces open and close blocks and placeholders, quotes and backslashes change tokenisation, `#`
 * starts a comment and `<<` a heredoc: none of them may come from config or the roster.
 */
const SAFE_TOKEN = /^[A-Za-z0-9._~%/:@+=&?[\]-]+$/;
const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

/** Defence in depth: the schemas already allow-list every value; this refuses anything that could change the file's structure. */
export function caddyfileProblems(sites: readonly EdgeSite[], options: EdgeOptions | undefined): Problem[] {
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
  if (options !== undefined) {
    // `|` only separates a unix socket's mode (unix//path|0600); it has no meaning to the Caddyfile's structure.
    token("caddy.adminAddress", options.adminAddress.replace(/\|0[0-7]{3}$/, ""));
    token("caddy.acmeEmail", options.acmeEmail);
    token("caddy.acmeCa", options.acmeCa);
    token("caddy.storageDir", options.storageDir);
    token("caddy.routesDir", options.routesDir);
    token("caddy.acmeCaRoot", options.acmeCaRoot);
    token("tls.certFile", options.tlsFiles?.cert);
    token("tls.keyFile", options.tlsFiles?.key);
    if (!HOST.test(options.domain)) problems.push({ field: "domain", message: "is not a plain host name; refused" });
    port("caddy.ports.http", options.httpPort);
    port("caddy.ports.https", options.httpsPort);
  }
  for (const site of sites) {
    const tenant = site.host.split(".")[0];
    if (!HOST.test(site.host)) problems.push({ tenant, field: "name", message: "makes a site address that is not a plain host name; refused" });
    // The one site is `*.<domain>`: a host must be exactly one label under the domain to be routed.
    else if (options !== undefined && HOST.test(options.domain) && !(site.host.endsWith(`.${options.domain}`) && !site.host.slice(0, -options.domain.length - 1).includes("."))) {
      problems.push({ tenant, field: "name", message: `makes a host that is not one label under ${options.domain}; refused` });
    }
    port("port", site.port, tenant);
  }
  return problems;
}

/** The route folder: `caddy.routesDir`, or `routes` beside the Caddyfile. */
export function routesDirOf(caddy: { caddyfilePath: string; routesDir?: string }): string {
  if (caddy.routesDir !== undefined) return caddy.routesDir;
  const dir = caddy.caddyfilePath.replace(/\/[^/]*$/, "");
  return `${dir}/routes`;
}

export class CaddyfileError extends Error {
  constructor(public readonly problems: Problem[]) {
    super(`refusing to render the Caddyfile: ${problems.map((p) => `${p.field}: ${p.message}`).join("; ")}`);
  }
}

/**
 * Renders the whole Caddyfile. It names no tenant: one site, `*.<domain>`, looks each request's
 * host up in the route files (renderRoutes) and so follows the roster without a reload. Only a
 * change of the stack's Caddy options changes this text (and reloads Caddy).
 *
 * Per request, on Caddy's built-in modules only (verified on Caddy 2.11.2):
 * - TLS: `on_demand` certificates, allowed only for a host that has a route folder (the permission
 *   endpoint below); an unknown name gets no certificate, so its handshake fails.
 * - Route: the `file` matcher globs `<routesDir>/<host>/*`; the entry it finds is `port-<port>`
 *   (proxied to 127.0.0.1:<port>, read back by `vars_regexp`) or `suspended` (503 and a message).
 *   A host without a folder is closed without an answer (`abort`).
 */
export function renderCaddyfile(options: EdgeOptions): string {
  const problems = caddyfileProblems([], options);
  if (problems.length > 0) throw new CaddyfileError(problems);
  const httpPort = options.httpPort ?? 80;
  const global = [
    `admin ${options.adminAddress}`,
    ...globalAcmeLines(options),
    options.localCerts ? "local_certs" : undefined,
    options.localCerts ? "skip_install_trust" : undefined,
    options.httpPort !== undefined ? `http_port ${options.httpPort}` : undefined,
    options.httpsPort !== undefined ? `https_port ${options.httpsPort}` : undefined,
    options.storageDir !== undefined ? `storage file_system ${options.storageDir}` : undefined,
    "on_demand_tls {",
    `\tpermission http http://127.0.0.1:${httpPort}${ROUTE_CHECK_PATH}`,
    "}",
  ].filter((line): line is string => line !== undefined);
  // One label before the domain: tenant names have no dots.
  const hostPattern = `^[a-z0-9-]+\\.${options.domain.replace(/\./g, "\\.")}$`;
  const routeFolder = (placeholder: string) => [
    `\t\tfile {`,
    `\t\t\troot ${options.routesDir}`,
    `\t\t\ttry_files /${placeholder}/*`,
    `\t\t}`,
  ];
  const routeCheck = [
    "# Caddy asks here before it obtains a certificate on demand: yes only for a routed host, and only from this machine.",
    `http://127.0.0.1:${httpPort} {`,
    "\t@routed {",
    "\t\tremote_ip 127.0.0.1/32",
    `\t\tpath ${ROUTE_CHECK_PATH}`,
    `\t\tvars_regexp {query.domain} ${hostPattern}`,
    ...routeFolder("{query.domain}"),
    "\t}",
    "\trespond @routed 200",
    "\trespond 404",
    "}",
    "",
  ];
  // perTenant: a certificate per host, on demand, only for a routed host. wildcard: the one
  // certificate lego keeps (core/tls.ts); an unknown name then completes a handshake but gets no route.
  const tlsLines = (options.tls !== undefined && options.tls.mode === "wildcard" ? siteTlsLines(options.tls, options.tlsFiles) : ["tls {", "\ton_demand", "}"]).map((l) => `\t${l}`);
  const site = [
    "# Every tenant: its route folder says where to (port-<port>) or that it is suspended.",
    `*.${options.domain} {`,
    ...tlsLines,
    "\t@routed {",
    `\t\tvars_regexp {host} ${hostPattern}`,
    ...routeFolder("{host}"),
    "\t}",
    "\thandle @routed {",
    `\t\t@active vars_regexp route {http.matchers.file.relative} ^/[^/]+/${PORT_ENTRY_PREFIX}([0-9]{1,5})$`,
    "\t\thandle @active {",
    "\t\t\treverse_proxy 127.0.0.1:{re.route.1} {",
    `\t\t\t\tstream_close_delay ${STREAM_CLOSE_DELAY}`,
    "\t\t\t}",
    "\t\t}",
    "\t\thandle {",
    `\t\t\theader Content-Type "text/plain; charset=utf-8"`,
    `\t\t\theader Retry-After "3600"`,
    `\t\t\trespond "{host} is suspended. Its data is kept; ask your operator to resume it." 503`,
    "\t\t}",
    "\t}",
    "\thandle {",
    "\t\tabort",
    "\t}",
    "}",
    "",
  ];
  return [HEADER, "{", ...global.map((l) => `\t${l}`), "}", "", ...routeCheck, ...site].join("\n");
}

/**
 * The route table the edge command installs into the route folder (server-scripts/install-routes.sh):
 * one line per host, `<host> port-<port>` or `<host> suspended`, sorted so the roster's file order
 * never changes it. Nothing secret: host names and loopback ports only.
 */
export function renderRoutes(sites: readonly EdgeSite[]): string {
  const problems = caddyfileProblems(sites, undefined);
  if (problems.length > 0) throw new CaddyfileError(problems);
  return [...sites]
    .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))
    .map((site) => `${site.host} ${site.state === "active" ? `${PORT_ENTRY_PREFIX}${site.port}` : SUSPENDED_ENTRY}\n`)
    .join("");
}
