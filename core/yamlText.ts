import { isScalar, parseDocument, visit } from "yaml";

export type YamlResult = { value: unknown; error?: undefined } | { value?: undefined; error: string };

/**
 * Parses one YAML file the way every input of the project is parsed: bounded in size, no aliases
 * (an alias bomb expands a small file into gigabytes), no duplicate keys (the later one would win
 * silently), and never a thrown error. Duplicate keys are found here in one pass: the parser's own
 * check compares every key with every other one, which took minutes on a large map.
 */
export function parseYamlText(text: string, what: string, maxBytes: number): YamlResult {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > maxBytes) return { error: `${what} is ${bytes} bytes, over the limit of ${maxBytes} bytes` };
  try {
    const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
    if (doc.errors.length > 0) {
      const reason = doc.errors[0].message;
      return { error: /call stack/i.test(reason) ? `${what} nests too deeply to read` : `${what} is not valid YAML: ${firstLine(reason)}` };
    }
    let problem: string | undefined;
    visit(doc, {
      Alias() {
        problem = `${what} uses a YAML alias (*name); write the value out in full`;
        return visit.BREAK;
      },
      Map(_, map) {
        const seen = new Set<string>();
        for (const pair of map.items) {
          if (!isScalar(pair.key)) {
            problem = `${what} has a key that is not plain text`;
            return visit.BREAK;
          }
          const key = String(pair.key.value);
          if (seen.has(key)) {
            problem = `${what} has the key "${printable(key)}" twice (line ${lineOf(text, pair.key.range?.[0])}); remove one`;
            return visit.BREAK;
          }
          seen.add(key);
        }
        return undefined;
      },
    });
    if (problem !== undefined) return { error: problem };
    return { value: doc.toJS({ maxAliasCount: 0 }) };
  } catch (err) {
    // Deep nesting can exhaust the stack; whatever it is, it is a problem with the file, not a crash.
    const reason = err instanceof Error ? err.message : String(err);
    return { error: /call stack/i.test(reason) ? `${what} nests too deeply to read` : `${what} cannot be read as YAML: ${firstLine(reason)}` };
  }
}

function firstLine(message: string): string {
  return message.split("\n")[0].slice(0, 200);
}

function lineOf(text: string, offset: number | undefined): number {
  if (offset === undefined) return 0;
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** A key shown in a message: control characters made visible, length capped. */
export function printable(text: string): string {
  const shown = text.replace(/[\p{Cc}\p{Cs}\p{Zl}\p{Zp}]/gu, "?");
  return shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
}
