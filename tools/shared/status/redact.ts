/**
 * Secrets out of log lines before they reach a web page: a gateway logs what it is given, and an
 * operator's screen may be shared. Errs toward hiding: a redacted harmless string costs nothing.
 */
export const REDACTED = "[redacted]";

/** Names whose values are secrets: FOO_TOKEN=, api_key:, "password": ... */
const SECRET_NAME = String.raw`[A-Za-z0-9_.-]*(?:token|secret|passw(?:or)?d|passwd|api[_-]?key|apikey|private[_-]?key|access[_-]?key|auth|credential|cookie|session)[A-Za-z0-9_.-]*`;

const RULES: Array<[RegExp, string | ((...m: string[]) => string)]> = [
  // Authorization: Bearer xyz / Basic xyz
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}/gi, (_m, scheme) => `${scheme} ${REDACTED}`],
  // NAME=value, NAME: value, "name": "value" for secret-looking names
  // (a value already handled by the rule above, e.g. `Authorization: Bearer [redacted]`, is left alone)
  [new RegExp(String.raw`(["']?)(${SECRET_NAME})\1(\s*[=:]\s*)(?!(?:Bearer|Basic|Token)\s|\[redacted\])("[^"]*"|'[^']*'|[^\s,;&}]+)`, "gi"),
    (_m, q, name, sep, value) => {
      const quote = value.startsWith('"') || value.startsWith("'") ? value[0] : "";
      return `${q}${name}${q}${sep}${quote}${REDACTED}${quote}`;
    }],
  // Provider keys: sk-..., sk-ant-..., and GitHub/Slack-style prefixes
  [/\b(?:sk|pk|rk)-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\b(?:gh[pousr]_|xox[abposr]-|glpat-|AKIA)[A-Za-z0-9_-]{10,}/g, REDACTED],
  // JWTs
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, REDACTED],
  // Long hex or base64-ish runs with digits and letters mixed: token-looking
  [/\b(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[A-Za-z])[A-Za-z0-9+/_-]{32,}={0,2}/g, REDACTED],
];

export function redactLine(line: string): string {
  let out = line;
  for (const [re, by] of RULES) out = out.replace(re, by as (substring: string, ...args: string[]) => string);
  return out;
}

export function redactLines(lines: readonly string[]): string[] {
  return lines.map(redactLine);
}
