import { z } from "zod";
import { LIMITS } from "./limits";

// Config text that is written into the Caddyfile, a shell command, an ssh command line or a
// container's environment: every field is an allow-list, so no value can add structure there.

/** An absolute path on the server (caddyfilePath, storageDir). */
export const AbsolutePath = z
  .string()
  .max(LIMITS.pathChars, { error: `must be at most ${LIMITS.pathChars} characters` })
  .regex(/^\/[A-Za-z0-9._@+\/-]*$/, { error: "must be an absolute path of letters, digits and . _ - @ + / (no spaces, quotes or line breaks)" });

/** A loopback host:port; the port is Caddy's admin port, so tenants must not take it. */
export const AdminAddress = z
  .string()
  .regex(/^(localhost|127\.0\.0\.1|\[::1\]):\d{1,5}$/, { error: "must be a loopback host:port, e.g. localhost:2019" })
  .refine((a) => { const port = adminPort(a); return port >= 1 && port <= 65535; }, { error: "must have a port from 1 to 65535" });

export function adminPort(adminAddress: string): number {
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
