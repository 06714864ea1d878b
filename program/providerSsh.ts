/** The directory of the Docker provider's shared ssh connections (core/dockerHost.ts providerSshOpts). */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROVIDER_SSH_CONTROL_DIR, PROVIDER_SSH_SLOTS, PROVIDER_SSH_WAIT_SECONDS, SshGate } from "../core/dockerHost";

/**
 * Creates it (0700, in ~/.ssh) before the provider runs ssh: ssh exits when the directory of a
 * ControlPath is missing. It must be this user's own directory and no link: whoever can reach the
 * socket can use the connection.
 */
export function ensureProviderSshControlDir(home: string = os.userInfo().homedir): string {
  const dir = path.join(home, PROVIDER_SSH_CONTROL_DIR.replace(/^~\//, ""));
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new Error(`stack: ${dir} (the Docker provider's ssh connections) must be a directory of this user's, not a link or another user's: remove it and run again`);
  }
  fs.chmodSync(dir, 0o700);
  return dir;
}

/**
 * The gate the provider's ssh runs as its ProxyCommand (program/sshGate.js): this Node.js and this
 * checkout's script, by absolute path, since ssh starts it from wherever the provider runs.
 */
export function providerSshGate(): SshGate {
  return { node: process.execPath, script: path.join(__dirname, "sshGate.js"), slots: PROVIDER_SSH_SLOTS, waitSeconds: PROVIDER_SSH_WAIT_SECONDS };
}
