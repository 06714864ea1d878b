/**
 * The one loader of the shell scripts the program runs on a server (server-scripts/). Each script
 * is shipped inline with the command that runs it (core/shell.ts), so the same text runs on this
 * machine and over SSH, and TypeScript only passes arguments and stdin.
 */
import * as fs from "fs";
import * as path from "path";

export const SERVER_SCRIPTS = ["egress-guard", "process-limit", "tenant-disk", "tenant-owner", "install-caddyfile", "install-routes", "tls-certificate", "tenant-backup"] as const;
export type ServerScript = (typeof SERVER_SCRIPTS)[number];

/** The folder beside the program that holds them. */
export const SERVER_SCRIPTS_DIR = path.join(__dirname, "..", "server-scripts");

export function serverScriptPath(name: ServerScript): string {
  return path.join(SERVER_SCRIPTS_DIR, `${name}.sh`);
}

// Read once per program run, not once per tenant (1,000 tenants read the same two scripts).
const texts = new Map<ServerScript, string>();

/** The script's text, as it is shipped to the server. */
export function serverScript(name: ServerScript): string {
  let text = texts.get(name);
  if (text === undefined) {
    text = fs.readFileSync(serverScriptPath(name), "utf8");
    texts.set(name, text);
  }
  return text;
}
