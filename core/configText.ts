import { z } from "zod";
import { LIMITS } from "./limits";

// Config text that is written into the Caddyfile, a shell command, an ssh command line or a
// container's environment: every field is an allow-list, so no value can add structure there.

/** An absolute path on the server (caddyfilePath, storageDir). */
export const AbsolutePath = z
  .string()
  .max(LIMITS.pathChars, { error: `must be at most ${LIMITS.pathChars} characters` })
  .regex(/^\/[A-Za-z0-9._@+\/-]*$/, { error: "must be an absolute path of letters, digits and . _ - @ + / (no spaces, quotes or line breaks)" });

const TCP_ADMIN = /^(localhost|127\.0\.0\.1|\[::1\]):\d{1,5}$/;
const UNIX_ADMIN = /^unix\/(\/[A-Za-z0-9._@+\/-]+?)(\|0[0-7]{3})?$/;
/** Modes Caddy may give its admin socket: its owner (and root), or its owner's group too. Never others. */
const UNIX_ADMIN_MODES = ["0600", "0660"];
/** Linux's sun_path holds 108 bytes including the terminating NUL. */
const UNIX_PATH_MAX = 107;

/**
 * New stacks' admin API: a unix socket only its owner (root, or Debian's `caddy` user) and root can
 * open. With TCP on localhost every local account could reconfigure routing and read certificates.
 * /var/lib/caddy exists wherever Debian's package is installed and is writable by the user it runs Caddy as.
 */
export const DEFAULT_ADMIN_ADDRESS = "unix//var/lib/caddy/admin.sock|0600";
/** Caddy's own default: where a Caddy started without our admin line (or by an older stack) listens. */
export const LEGACY_ADMIN_ADDRESS = "localhost:2019";

/**
 * Caddy's admin API: a loopback host:port, or `unix/<absolute path>` with an optional `|0600` or
 * `|0660` mode (`|0600` when left out, so the socket never gets Caddy's looser default).
 */
export const AdminAddress = z
  .string()
  .superRefine((a, ctx) => {
    const unix = UNIX_ADMIN.exec(a);
    if (unix !== null) {
      if (unix[1].split("/").includes("..")) ctx.addIssue({ code: "custom", message: "must name the socket's path without .. (an absolute path)" });
      if (unix[1].length > UNIX_PATH_MAX) ctx.addIssue({ code: "custom", message: `must have a socket path of at most ${UNIX_PATH_MAX} characters (the kernel's limit)` });
      if (unix[2] !== undefined && !UNIX_ADMIN_MODES.includes(unix[2].slice(1))) {
        ctx.addIssue({ code: "custom", message: `must give the socket mode ${UNIX_ADMIN_MODES.join(" or ")} (any other user able to connect could reconfigure Caddy)` });
      }
      return;
    }
    if (!TCP_ADMIN.test(a)) {
      ctx.addIssue({ code: "custom", message: "must be a unix socket such as unix//var/lib/caddy/admin.sock|0600 (absolute path of letters, digits and . _ - @ + /) or a loopback host:port, e.g. localhost:2019" });
      return;
    }
    const port = adminPort(a);
    if (!(port >= 1 && port <= 65535)) ctx.addIssue({ code: "custom", message: "must have a port from 1 to 65535" });
  })
  .transform((a) => (a.startsWith("unix/") && !a.includes("|") ? `${a}|0600` : a));

export const isUnixAdmin = (adminAddress: string): boolean => adminAddress.startsWith("unix/");

/** The socket's file path of a `unix/<path>|mode` address. */
export function adminSocketPath(adminAddress: string): string {
  return adminAddress.slice("unix/".length).split("|")[0];
}

/**
 * The TCP port Caddy's admin API takes: the configured one, or with a socket the default 2019 (a
 * Caddy started without our admin line listens there until the edge's first reload moves it).
 */
export function adminPort(adminAddress: string): number {
  if (isUnixAdmin(adminAddress)) return adminPort(LEGACY_ADMIN_ADDRESS);
  return Number(adminAddress.slice(adminAddress.lastIndexOf(":") + 1));
}

export const AcmeCa = z
  .string()
  .max(LIMITS.urlChars, { error: `must be at most ${LIMITS.urlChars} characters` })
  .regex(/^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~%\/=&?+-]*)?$/, {
    error: "must be an https:// URL of an ACME directory (letters, digits and . _ ~ % / = & ? + -), e.g. https://acme-staging-v02.api.letsencrypt.org/directory",
  });

export const AcmeEmail = z
  .string()
  .max(254, { error: "must be at most 254 characters" })
  .regex(/^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}$/, { error: "must be an email address (letters, digits and . _ % + - before the @)" });

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** A host starting with "-" is read by ssh as an option (-oProxyCommand=... runs a command). */
export const SshHost = z
  .string()
  .refine((h) => !h.startsWith("-"), { error: "must not start with - (ssh would read it as an option)" })
  .refine((h) => HOST_NAME.test(h) || z.ipv4().safeParse(h).success || z.ipv6().safeParse(h).success, {
    error: "must be a host name (letters, digits, dots, hyphens) or an IPv4/IPv6 address",
  });

export const SshUser = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { error: "must be a Unix user name (lowercase letters, digits, _ and -, at most 32, not starting with -)" });

export const KeyPath = z
  .string()
  .max(LIMITS.pathChars, { error: `must be at most ${LIMITS.pathChars} characters` })
  .regex(/^[A-Za-z0-9._@+\/][A-Za-z0-9._@+\/-]*$/, { error: "must be a file path of letters, digits and . _ - @ + / (not starting with -; ~ is not expanded)" });

/** A model-provider key as it goes into the container's environment: one printable word. */
export const ApiKey = z
  .string({ error: "must be a string" })
  .min(1, { error: "must not be empty" })
  .max(LIMITS.apiKeyChars, { error: `must be at most ${LIMITS.apiKeyChars} characters` })
  .regex(/^[\x21-\x7e]+$/, { error: "must be the key alone: printable ASCII without spaces or line breaks" });

/** rosterDir stays inside the project: relative, no "..", a plain folder path (symlinks are checked when it is read). */
export const RosterDir = z
  .string()
  .min(1, { error: "must not be empty" })
  .max(LIMITS.rosterDirChars, { error: `must be at most ${LIMITS.rosterDirChars} characters` })
  .refine((d) => !d.startsWith("/"), { error: "must be relative to the project (an absolute path may leave it)" })
  .refine((d) => !d.split("/").includes(".."), { error: "must not contain .. (the roster folder stays inside the project)" })
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/?$/, { error: "must be a folder path of letters, digits and . _ - /" });

/**
 * A stack deployed before the socket became the default (its last Caddyfile, a stack output, named
 * localhost:2019), that never set `caddy.adminAddress`, keeps that address: an upgrade changes
 * nothing on the server by surprise. A stack created with the socket keeps the socket. `kept` says
 * so, for the note that tells the operator how to move to the socket.
 */
export function withLegacyAdminDefault(raw: Record<string, unknown>, previousAdminAddresses: readonly string[]): { raw: Record<string, unknown>; kept: boolean } {
  if (!previousAdminAddresses.includes(LEGACY_ADMIN_ADDRESS)) return { raw, kept: false };
  let caddy: unknown = raw.caddy ?? {};
  if (typeof caddy === "string") {
    try {
      caddy = JSON.parse(caddy);
    } catch {
      return { raw, kept: false }; // left for the schema to reject with its field name
    }
  }
  if (caddy === null || typeof caddy !== "object" || Array.isArray(caddy) || "adminAddress" in caddy) return { raw, kept: false };
  return { raw: { ...raw, caddy: { ...caddy, adminAddress: LEGACY_ADMIN_ADDRESS } }, kept: true };
}
