/**
 * Throw-away `Pulumi.<name>.yaml` files beside the real ones (the tools read stack files from the
 * project), removed after the test file's tests.
 */
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../../../support/program";

/** A writer of stack files named `<prefix>-<pid>-<n>`; returns each one's stack name. */
export function throwawayStacks(prefix: string): (body: string) => string {
  const names: string[] = [];
  afterAll(() => {
    for (const name of names) fs.rmSync(path.join(REPO_ROOT, `Pulumi.${name}.yaml`), { force: true });
  });
  return (body) => {
    const name = `${prefix}-${process.pid}-${names.length}`;
    fs.writeFileSync(path.join(REPO_ROOT, `Pulumi.${name}.yaml`), body);
    names.push(name);
    return name;
  };
}

/** A multi-server stack's file: the minimal config and the given `servers` line. */
export const serversStack = (servers: string): string =>
  [
    "config:",
    "  openclaw-hosting:domain: claw.example.com",
    "  openclaw-hosting:image: ghcr.io/openclaw/openclaw:2026.8.1-r20260820",
    "  openclaw-hosting:caddy: {acmeEmail: ops@example.com}",
    servers,
  ].join("\n") + "\n";

/** Three servers: a (this machine), b and c (ssh), c the biggest. */
export const THREE_SERVERS =
  "  openclaw-hosting:servers: {a: {local: true, memoryMb: 8192, cpus: 4}, b: {ssh: {host: b.example.net, user: deploy}, memoryMb: 8192, cpus: 4}, c: {ssh: {host: c.example.net, user: deploy}, memoryMb: 16384, cpus: 8}}";
