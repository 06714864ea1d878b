/**
 * The one reader of the tools' shell scripts: each is a .sh file beside the tool that runs it
 * (read by people, and linters, as shell), never shell written inside a TypeScript string.
 */
import * as fs from "fs";
import * as path from "path";

/** The text of `<toolDir>/<name>` (a tool passes its own __dirname). */
export function toolScript(toolDir: string, name: string): string {
  if (!/^[a-z0-9-]+\.sh$/.test(name)) throw new Error(`not a tool script name: ${name}`);
  return fs.readFileSync(path.join(toolDir, name), "utf8");
}
