// The edge as it was before routes moved into files (kept for the benchmark's BEFORE figures): one
// site block per tenant, so every roster change rewrote the Caddyfile and reloaded Caddy.
import { EdgeSite, STREAM_CLOSE_DELAY } from "../core/caddyfile";

export interface LegacyOptions {
  adminAddress: string;
  localCerts: boolean;
  httpPort?: number;
  httpsPort?: number;
  storageDir?: string;
}

export function renderPerSiteCaddyfile(sites: readonly EdgeSite[], options: LegacyOptions): string {
  const global = [
    `admin ${options.adminAddress}`,
    options.localCerts ? "local_certs" : undefined,
    options.localCerts ? "skip_install_trust" : undefined,
    options.httpPort !== undefined ? `http_port ${options.httpPort}` : undefined,
    options.httpsPort !== undefined ? `https_port ${options.httpsPort}` : undefined,
    options.storageDir !== undefined ? `storage file_system ${options.storageDir}` : undefined,
  ].filter((line): line is string => line !== undefined);
  const blocks = [...sites]
    .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))
    .map((site) =>
      site.state === "active"
        ? `${site.host} {\n\treverse_proxy 127.0.0.1:${site.port} {\n\t\tstream_close_delay ${STREAM_CLOSE_DELAY}\n\t}\n}\n`
        : `${site.host} {\n\theader Content-Type "text/plain; charset=utf-8"\n\theader Retry-After "3600"\n\trespond "${site.host} is suspended. Its data is kept; ask your operator to resume it." 503\n}\n`,
    );
  return ["{", ...global.map((l) => `\t${l}`), "}", "", ...blocks].join("\n");
}
