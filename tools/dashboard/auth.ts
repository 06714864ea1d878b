/**
 * Who may see the dashboard. Loopback needs nothing (reach it through an SSH tunnel); any other
 * address needs the access token, compared in constant time. The token arrives as
 * `Authorization: Bearer ...` (Prometheus, curl) or as the cookie the login form sets (browsers).
 */
import { createHash, createHmac, timingSafeEqual } from "crypto";
import * as fs from "fs";
import * as net from "net";
import { UsageError } from "../../core/dockerHost";
import { TOKEN_ENV } from "./args";

export const MIN_TOKEN_LENGTH = 16;
export const COOKIE = "openclaw_dashboard";

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (net.isIPv4(host)) return host.startsWith("127.");
  if (net.isIPv6(host)) return host === "::1" || /^::ffff:127\./i.test(host);
  return false;
}

export interface TokenSource {
  token: string;
  /** Where it came from, for the start-up line (never the token itself). */
  from: string;
}

/** The token from --token-file or the environment; null when neither is set. */
export function readToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv): TokenSource | null {
  let token: string;
  let from: string;
  if (tokenFile !== undefined) {
    try {
      token = fs.readFileSync(tokenFile, "utf8").trim();
    } catch (err) {
      throw new UsageError(`--token-file ${tokenFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    from = `file ${tokenFile}`;
  } else if (env[TOKEN_ENV] !== undefined && env[TOKEN_ENV] !== "") {
    token = env[TOKEN_ENV].trim();
    from = `environment ${TOKEN_ENV}`;
  } else {
    return null;
  }
  if (token.length < MIN_TOKEN_LENGTH) throw new UsageError(`the access token (${from}) must be at least ${MIN_TOKEN_LENGTH} characters`);
  if (/\s/.test(token)) throw new UsageError(`the access token (${from}) must not contain whitespace`);
  return { token, from };
}

/** Refuses a public bind without a token; says what protects the page. */
export function accessPolicy(host: string, token: TokenSource | null): { token: string | null; banner: string } {
  const loopback = isLoopback(host);
  if (!loopback && token === null) {
    throw new UsageError(`refusing to listen on ${host}, which is not loopback, without an access token: set --token-file PATH or ${TOKEN_ENV} (or listen on 127.0.0.1 and use an SSH tunnel)`);
  }
  if (token === null) return { token: null, banner: `loopback only (${host}), no token: reach it through an SSH tunnel` };
  return {
    token: token.token,
    banner: loopback
      ? `loopback (${host}); access token required (from ${token.from})`
      : `PUBLIC bind on ${host}: access token required on every request (from ${token.from}); put TLS in front of it`,
  };
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** Constant time: both sides hashed to equal-length digests, then timingSafeEqual. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(expected), digest(given));
}

/**
 * The browser's cookie holds a value derived from the token (HMAC), not the token itself, so a
 * leaked cookie does not hand out the token Prometheus and curl use.
 */
export function sessionValue(token: string): string {
  return createHmac("sha256", token).update("openclaw-dashboard session v1").digest("hex");
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

/** Authorization: Bearer <token> (Prometheus, curl), else the session cookie the login form set. */
export function authorized(token: string, headers: { authorization?: string; cookie?: string }): boolean {
  const auth = headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth.trim());
    return m !== null && tokenMatches(token, m[1]);
  }
  const session = cookie(headers.cookie, COOKIE);
  return session !== undefined && tokenMatches(sessionValue(token), session);
}
