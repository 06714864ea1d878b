/** What `npm run pin` writes into a tenant's file: what the plan chose, where the file says nothing yet. No I/O. */
import { parseDocument } from "yaml";

export interface Pins {
  /** The server the plan placed the tenant on (only with a `servers` map). */
  server?: string;
  port?: number;
  /** The tenant's own host uid (and gid): pinned, no later roster edit can change whose files are whose. */
  uid?: number;
}

/** The file's text with the missing pins added (comments and field order kept), and what was added in words. */
export function pinText(text: string, pins: Pins): { text: string; written: string[] } {
  const doc = parseDocument(text);
  const written: string[] = [];
  if (pins.server !== undefined && doc.get("server") === undefined) {
    doc.set("server", pins.server);
    written.push(`server ${pins.server}`);
  }
  if (pins.port !== undefined && doc.get("port") === undefined) {
    doc.set("port", pins.port);
    written.push(`port ${pins.port}`);
  }
  if (pins.uid !== undefined && doc.get("uid") === undefined) {
    doc.set("uid", pins.uid);
    written.push(`uid ${pins.uid}`);
  }
  return { text: written.length > 0 ? doc.toString() : text, written };
}

/** The closing line: how many files changed, and what every tenant in the folder now has. */
export function pinSummary(pinned: number, folder: string, withServers: boolean): string {
  return `${pinned} tenant(s) pinned; every tenant in ${folder || "."} now has ${withServers ? "a fixed server, port and uid" : "a fixed port and uid"}`;
}
