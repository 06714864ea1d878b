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
}

/** Long enough for a browser session; WebSockets are otherwise cut on every reload. */
export const STREAM_CLOSE_DELAY = "5m";

const HEADER = "# Managed by openclaw-hosting (pulumi up). Edits here are overwritten; change the roster instead.";

/**
 * Renders the whole Caddyfile. Sites are sorted by host so the roster's file order never changes
 * the output, and so one tenant's edit changes only that tenant's block.
 */
export function renderCaddyfile(sites: readonly EdgeSite[], options: EdgeOptions): string {
  const global = [
    `admin ${options.adminAddress}`,
    options.acmeEmail !== undefined ? `email ${options.acmeEmail}` : undefined,
    options.acmeCa !== undefined ? `acme_ca ${options.acmeCa}` : undefined,
    options.localCerts ? "local_certs" : undefined,
    options.localCerts ? "skip_install_trust" : undefined,
    options.httpPort !== undefined ? `http_port ${options.httpPort}` : undefined,
    options.httpsPort !== undefined ? `https_port ${options.httpsPort}` : undefined,
    options.storageDir !== undefined ? `storage file_system ${options.storageDir}` : undefined,
  ].filter((line): line is string => line !== undefined);

  const blocks = [...sites]
    .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))
    .map((site) => (site.state === "active" ? activeSite(site) : suspendedSite(site)));

  return [HEADER, "{", ...global.map((l) => `\t${l}`), "}", "", ...blocks].join("\n");
}

function activeSite(site: EdgeSite): string {
  return [
    `${site.host} {`,
    `\treverse_proxy 127.0.0.1:${site.port} {`,
    `\t\tstream_close_delay ${STREAM_CLOSE_DELAY}`,
    `\t}`,
    `}`,
    "",
  ].join("\n");
}

function suspendedSite(site: EdgeSite): string {
  return [
    `${site.host} {`,
    `\theader Content-Type "text/plain; charset=utf-8"`,
    `\theader Retry-After "3600"`,
    `\trespond "${site.host} is suspended. Its data is kept; ask your operator to resume it." 503`,
    `}`,
    "",
  ].join("\n");
}
