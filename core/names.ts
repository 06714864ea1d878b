import { z } from "zod";

/** Subdomains an operator never wants a tenant to take over. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "www", "api", "admin", "mail", "caddy", "smtp", "imap", "pop", "ftp", "ns1", "ns2",
  "status", "autoconfig", "autodiscover", "localhost", "root", "openclaw",
]);

/** A tenant name is one DNS label: it becomes `<name>.<domain>` and `openclaw-<name>`. */
export const TenantName = z
  .string({ error: "must be a string" })
  .min(1, { error: "must not be empty" })
  .max(50, { error: "must be at most 50 characters (it is used in DNS and container names)" })
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, {
    error: "must be a DNS label: lowercase letters, digits and inner hyphens",
  })
  .refine((n) => !RESERVED_NAMES.has(n), { error: "is a reserved name (www, api, admin, mail, caddy, ...)" })
  .refine((n) => !/^..--/.test(n), { error: "must not have '--' in 3rd and 4th position (reserved for IDNs)" });

export const Port = z
  .number({ error: "must be a number" })
  .int({ error: "must be a whole number" })
  .min(1024, { error: "must be at least 1024" })
  .max(65535, { error: "must be at most 65535" });

/** Tags that upstream rebuilds weekly: a roster edit must never change what runs without a diff. */
const MOVING_TAGS = new Set(["latest", "main", "slim", "browser", "latest-slim", "latest-browser", "main-slim", "main-browser"]);

export const ImageRef = z
  .string({ error: "must be a string" })
  .regex(/^[a-z0-9][a-z0-9._\/:@-]*$/, { error: "is not an image reference" })
  .refine(
    (ref) => {
      if (ref.includes("@sha256:")) return true;
      const last = ref.split("/").pop() ?? "";
      const tag = last.includes(":") ? last.split(":").pop() ?? "" : "";
      return tag !== "" && !MOVING_TAGS.has(tag);
    },
    { error: "must be pinned to a dated tag (e.g. ghcr.io/openclaw/openclaw:2026.8.1-r20260820) or a digest, not a moving tag" },
  );
