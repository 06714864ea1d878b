// Caddy for a stack that runs on this machine: the edge reloads a running Caddy, so one must be
// running before the update. The launcher starts one when nothing answers on the admin address.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { adminSocketPath, isUnixAdmin } from "../../core/configText";
import { shellWord } from "../../core/shell";
import { StackConfig } from "../../core/stackConfig";

export class CaddyStartError extends Error {}

/**
 * `caddy start` in its own session (setsid, so closing the terminal does not stop it), logging to
 * a file (the Caddy it leaves running would otherwise hold this process's pipes open). After a
 * reboot it starts from the routes the stack installed last; on a first run from none (admin only).
 * Returns the line to print.
 */
export function startCaddyForStack(config: StackConfig, stateDir: string, caddy = "caddy"): string {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const bootstrap = path.join(stateDir, "caddy-bootstrap.Caddyfile");
  const configFile = fs.existsSync(config.caddy.caddyfilePath) ? config.caddy.caddyfilePath : bootstrap;
  if (configFile === bootstrap) fs.writeFileSync(bootstrap, `{\n\tadmin ${config.caddy.adminAddress}\n}\n`);
  // Caddy binds its admin socket but does not create the socket's folder.
  if (isUnixAdmin(config.caddy.adminAddress)) fs.mkdirSync(path.dirname(adminSocketPath(config.caddy.adminAddress)), { recursive: true, mode: 0o755 });
  const logFile = path.join(stateDir, "caddy.log");
  const log = fs.openSync(logFile, "a");
  const r = spawnSync("setsid", [caddy, "start", "--config", configFile, "--adapter", "caddyfile", "--pidfile", path.join(stateDir, "caddy.pid")], {
    timeout: 60000,
    stdio: ["ignore", log, log],
  });
  fs.closeSync(log);
  if (r.status !== 0) {
    const tail = fs.readFileSync(logFile, "utf8").trim().split("\n").slice(-3).join("\n  ");
    throw new CaddyStartError(`could not start Caddy (log ${logFile}):\n  ${tail}`);
  }
  return `started Caddy (admin ${config.caddy.adminAddress}, config ${configFile}, log ${logFile}); stop it with: caddy stop --address ${shellWord(config.caddy.adminAddress)}`;
}
