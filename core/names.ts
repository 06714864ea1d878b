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

/** A server's name: a short DNS label, used in resource names (`server-<name>`, `edge-<name>`) and outputs. */
export const ServerName = z
  .string({ error: "must be a string" })
  .regex(/^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/, {
    error: "must be a server name: 1-32 lowercase letters, digits and inner hyphens, starting with a letter",
  });

/**
 * Which copy of a tenant's data it runs on (the roster's `data:`), written by `npm run restore`: the
 * volumes `openclaw-<tenant>-state.<label>` and `-credentials.<label>`. A tenant name has no dot, so
 * no label makes another tenant's volume name.
 */
export const DataLabel = z
  .string({ error: "must be a string" })
  .regex(/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/, {
    error: "must be a data label: 1-40 lowercase letters, digits and inner hyphens (npm run restore writes it)",
  });

export const Port = z
  .number({ error: "must be a number" })
  .int({ error: "must be a whole number" })
  .min(1024, { error: "must be at least 1024" })
  .max(65535, { error: "must be at most 65535" });

/** Tags that upstream rebuilds weekly: a roster edit must never change what runs without a diff. */
const MOVING_TAGS = new Set(["latest", "main", "slim", "browser", "latest-slim", "latest-browser", "main-slim", "main-browser"]);

// The distribution reference grammar (github.com/distribution/reference): what a registry accepts.
const DOMAIN_COMPONENT = "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?";
const IMAGE_DOMAIN = new RegExp(`^${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]{1,5})?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
/** The registry's limit on a repository name, domain included. */
export const IMAGE_NAME_MAX = 255;

/** What is wrong with an image reference, in the operator's words; undefined when it is usable and pinned. */
export function imageProblem(ref: string): string | undefined {
  if (ref.length > IMAGE_NAME_MAX + 1 + 128 + 1 + 71) return "is too long to be an image reference";
  const at = ref.indexOf("@");
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  if (digest !== undefined && !SHA256_DIGEST.test(digest)) {
    return "has a digest that is not a full sha256 (it must be @sha256: followed by 64 lowercase hex digits)";
  }
  const nameAndTag = at >= 0 ? ref.slice(0, at) : ref;
  const colon = nameAndTag.lastIndexOf(":");
  const hasTag = colon > nameAndTag.lastIndexOf("/");
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  const tag = hasTag ? nameAndTag.slice(colon + 1) : undefined;
  const parts = name.split("/");
  const hasDomain = parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost");
  if (hasDomain && !IMAGE_DOMAIN.test(parts[0])) return "has a registry host that is not a host name (letters, digits, dots, hyphens, optional :port)";
  if (!(hasDomain ? parts.slice(1) : parts).every((p) => PATH_COMPONENT.test(p))) {
    return "is not an image reference: the repository must be lowercase letters and digits, separated by . _ - or /";
  }
  if (name.length > IMAGE_NAME_MAX) return `has a repository name of ${name.length} characters; registries allow at most ${IMAGE_NAME_MAX}`;
  if (tag !== undefined && !TAG.test(tag)) {
    return "has a tag that registries refuse: at most 128 letters, digits, _ . - (not starting with . or -)";
  }
  if (digest === undefined && (tag === undefined || MOVING_TAGS.has(tag))) {
    return "must be pinned to a dated tag (e.g. ghcr.io/openclaw/openclaw:2026.8.1-r20260820) or a digest, not a moving tag";
  }
  return undefined;
}

export const ImageRef = z.string({ error: "must be a string" }).superRefine((ref, ctx) => {
  const problem = imageProblem(ref);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

/** A DNS name: labels of 1-63 letters, digits and inner hyphens, 253 characters in all. */
export function dnsNameProblem(name: string, max = 253): string | undefined {
  if (name.length > max) return `is ${name.length} characters; a DNS name here may have at most ${max}`;
  const long = name.split(".").find((label) => label.length > 63);
  if (long !== undefined) return `has a label of ${long.length} characters; DNS allows at most 63 between dots`;
  return undefined;
}

/** Characters that never belong in a one-line setting: controls, surrogates, line separators, bidi overrides. */
export const UNSAFE_TEXT = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\u202A-\u202E\u2066-\u2069\uFEFF]/u;
