import { Lexer, Node, isAlias, isCollection, isMap, isPair, isScalar, parseDocument } from "yaml";

export type YamlResult = { value: unknown; error?: undefined } | { value?: undefined; error: string };

/**
 * Parses one YAML file the way every input of the project is parsed: bounded in size, no aliases
 * (an alias bomb expands a small file into gigabytes), no duplicate keys (the later one would win
 * silently), and never a thrown error. Duplicate keys are found here in one pass: the parser's own
 * check compares every key with every other one, which took minutes on a large map.
 */
export function parseYamlText(text: string, what: string, maxBytes: number, maxTokens: number): YamlResult {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > maxBytes) return { error: `${what} is ${bytes} bytes, over the limit of ${maxBytes} bytes` };
  try {
    // Parsing time grows with the number of YAML elements, not bytes: the lexer alone is ten times
    // faster than the parser, and stops at the limit, so a file of thousands of tiny entries is cheap to refuse.
    let tokens = 0;
    for (const token of new Lexer().lex(text)) {
      if (token.length > 0 && ++tokens > maxTokens) {
        return { error: `${what} has more than ${maxTokens} YAML elements (keys, values, lines); it should hold a few settings` };
      }
    }
    const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
    if (doc.errors.length > 0) {
      const reason = doc.errors[0].message;
      return { error: /call stack/i.test(reason) ? `${what} nests too deeply to read` : `${what} is not valid YAML: ${firstLine(reason)}` };
    }
    const problem = structureProblem(doc.contents, what, text);
    if (problem !== undefined) return { error: problem };
    return { value: doc.toJS({ maxAliasCount: 0 }) };
  } catch (err) {
    // Deep nesting can exhaust the stack; whatever it is, it is a problem with the file, not a crash.
    const reason = err instanceof Error ? err.message : String(err);
    return { error: /call stack/i.test(reason) ? `${what} nests too deeply to read` : `${what} cannot be read as YAML: ${firstLine(reason)}` };
  }
}

/** Aliases and duplicate or non-text keys, found in one walk (an explicit stack: no recursion to exhaust). */
function structureProblem(root: unknown, what: string, text: string): string | undefined {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) return `${what} uses a YAML alias (*name); write the value out in full`;
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isScalar(pair.key)) return `${what} has a key that is not plain text`;
        const key = String(pair.key.value);
        // JavaScript would turn this key into the object's prototype instead of a field: it would vanish silently.
        if (key === "__proto__") return `${what} uses the key __proto__, which is not allowed`;
        if (seen.has(key)) return `${what} has the key "${printable(key)}" twice (line ${lineOf(text, pair.key.range?.[0])}); remove one`;
        seen.add(key);
        stack.push(pair.value);
      }
    } else if (isCollection(node)) {
      for (const item of node.items) stack.push(isPair(item) ? (item as { value: unknown }).value : (item as Node));
    }
  }
  return undefined;
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
  if (text.length <= 60 && /^[\x20-\x7e]*$/.test(text)) return text;
  const shown = text.replace(/[\p{Cc}\p{Cs}\p{Zl}\p{Zp}]/gu, "?");
  return shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
}
