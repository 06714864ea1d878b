import { createHmac } from "crypto";
import { z } from "zod";

// SSH host keys: the one a server must present before a remote command runs on it, as config
// (`ssh.hostKey`) or as OpenSSH's known_hosts has it. Pure: the program reads the files.

/**
 * Host key types, in the order Go's x/crypto/ssh client (the command provider's) offers them when
 * nothing narrows it: ECDSA, then RSA, then Ed25519. Picking a server's key from known_hosts in that
 * order gives the key the handshake will present, whether or not the provider narrows the
 * algorithms to the pinned key's type.
 */
export const HOST_KEY_TYPES = ["ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa", "ssh-ed25519"] as const;

/** Why `text` is not one public host key as `type base64` (a known_hosts or .pub line without its host), or undefined. */
export function hostKeyProblem(text: string): string | undefined {
  const m = /^([a-z0-9-]+) ([A-Za-z0-9+/]+={0,2})$/.exec(text);
  if (m === null) return "must be one public key as `type base64`, e.g. the output of `ssh-keyscan -t ed25519 HOST | cut -d' ' -f2-` (no host, no comment)";
  if (!(HOST_KEY_TYPES as readonly string[]).includes(m[1])) return `must be a key of type ${HOST_KEY_TYPES.join(", ")}`;
  // The key blob starts with its own type (uint32 length, then the name): the two must agree.
  const blob = Buffer.from(m[2], "base64");
  const length = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (length !== m[1].length || blob.subarray(4, 4 + length).toString("latin1") !== m[1] || blob.length < 4 + length + 16) {
    return `must hold a ${m[1]} key (the base64 part is not one)`;
  }
  return undefined;
}

export const SshHostKey = z.string().superRefine((k, ctx) => {
  const problem = hostKeyProblem(k);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

/** How known_hosts names host:port: the bare host on 22, `[host]:port` elsewhere. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatches(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
  return re.test(name);
}

/** One known_hosts host field (`a,b,!c`, `[h]:p`, or hashed `|1|salt|hmac`) against a name. */
function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith("|1|")) {
    const [, , salt, hash] = field.split("|");
    if (salt === undefined || hash === undefined) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  let matched = false;
  for (const pattern of field.split(",")) {
    if (pattern.startsWith("!")) {
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (globMatches(pattern, name)) matched = true;
  }
  return matched;
}

/** The host keys known_hosts text holds for host:port, revoked ones left out (as `type base64`). */
export function knownHostKeys(text: string, host: string, port: number): { keys: string[]; revoked: string[] } {
  const name = knownHostsName(host, port);
  const keys: string[] = [];
  const revoked: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0].startsWith("@") ? fields.shift() : undefined;
    if (marker === "@cert-authority" || fields.length < 3) continue; // a CA signs host certificates; the provider pins a plain key
    const [hosts, type, base64] = fields;
    if (!hostFieldMatches(hosts, name)) continue;
    const key = `${type} ${base64}`;
    if (hostKeyProblem(key) !== undefined) continue;
    (marker === "@revoked" ? revoked : keys).push(key);
  }
  return { keys: keys.filter((k) => !revoked.includes(k)), revoked };
}

/** The key the handshake will present, of several a server has (HOST_KEY_TYPES' order). */
export function preferredHostKey(keys: readonly string[]): string | undefined {
  const rank = (k: string) => (HOST_KEY_TYPES as readonly string[]).indexOf(k.split(" ")[0]);
  return [...new Set(keys)].sort((a, b) => rank(a) - rank(b))[0];
}

/** A known_hosts line for host:port and key, as ssh itself would read it. */
export function knownHostsLine(host: string, port: number, key: string): string {
  return `${knownHostsName(host, port)} ${key}`;
}
