/**
 * A small strict parser of Prometheus' text exposition format (0.0.4): every line must be a
 * comment, a HELP/TYPE line, or `name{label="value",...} value [timestamp]`; anything else throws.
 * Each sample must belong to a family declared by a TYPE line before it.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(text: string, line: number): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: not a number: ${text}`);
  return Number(text);
}

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(i));
    if (m === null) throw new Error(`line ${line}: bad label at ${JSON.stringify(text.slice(i))}`);
    i += m[0].length;
    let value = "";
    for (;;) {
      if (i >= text.length) throw new Error(`line ${line}: unterminated label value`);
      const c = text[i];
      if (c === "\\") {
        const n = text[i + 1];
        if (n === "n") value += "\n";
        else if (n === "\\" || n === '"') value += n;
        else throw new Error(`line ${line}: bad escape \\${n}`);
        i += 2;
      } else if (c === '"') {
        i++;
        break;
      } else {
        value += c;
        i++;
      }
    }
    if (m[1] in labels) throw new Error(`line ${line}: label ${m[1]} twice`);
    labels[m[1]] = value;
    if (text[i] === ",") i++;
    else if (i < text.length) throw new Error(`line ${line}: expected , after a label`);
  }
  return labels;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const lines = text.split("\n");
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw === "") return;
    if (raw.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (m === null) return; // a plain comment
      if (!NAME.test(m[2])) throw new Error(`line ${line}: bad metric name ${m[2]}`);
      const f = families.get(m[2]) ?? { name: m[2], type: "untyped", help: "", samples: [] };
      if (m[1] === "TYPE") {
        if (!TYPES.has(m[3])) throw new Error(`line ${line}: bad type ${m[3]}`);
        f.type = m[3];
      } else {
        f.help = m[3];
      }
      families.set(m[2], f);
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(raw);
    if (m === null) throw new Error(`line ${line}: not a sample: ${raw}`);
    const [, name, labelText, valueText] = m;
    const family = families.get(name) ?? families.get(name.replace(/_(sum|count|bucket)$/, ""));
    if (family === undefined) throw new Error(`line ${line}: sample ${name} without a TYPE`);
    family.samples.push({ name, labels: parseLabels(labelText ?? "", line), value: parseValue(valueText, line) });
  });
  return families;
}
