// This machine, observed and judged before npm start changes anything: the engine, Caddy, the
// ports and the images; the launcher's own installer when asked; and the folders a local stack's
// Caddy files go in. Nothing here stops, disables or replaces a service of the machine's.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import Docker from "dockerode";
import { resolveServers } from "../../core/servers";
import { StackConfig } from "../../core/stackConfig";
import { CheckResult, Installable, checkCaddy, checkDocker, checkImage, checkPorts, checkRemoteServer, machineScope } from "./prerequisites";
import { Inputs, Stop } from "./inputs";
import { adminPort, isUnixAdmin } from "../../core/configText";
import { WantedPort, caddyAdminAnswers, probeCaddyVersion, probeDocker, probeImage, probePorts } from "./probes";
import { DirFacts, EntryFacts, dirChain, judgeDirChain, judgeEntries, launcherOwned } from "./safeDir";

/** The tests' own engine (test/machinery/runtime-env.sh): only looked for, to word the fix; never started. */
export const PROJECT_ENGINE_STATE = process.env.OPENCLAW_TEST_STATE ?? "/var/lib/openclaw-test";

export const isRoot = (): boolean => typeof process.getuid === "function" && process.getuid() === 0;

/** The launcher's own installer (tools/launcher/install.sh) for programs that are absent; its output goes to the terminal. */
export function runInstaller(packages: readonly Installable[]): boolean {
  const r = spawnSync("bash", [path.join(__dirname, "install.sh"), ...packages], { stdio: ["ignore", "inherit", "inherit"], timeout: 30 * 60 * 1000 });
  return r.status === 0;
}

export interface Checked {
  results: CheckResult[];
  docker?: Docker;
  caddyRunning: boolean;
  /** Some server of the stack is this machine: the local checks applied, and a local Caddy may be started. */
  local: boolean;
  /** Images not on the engine that its registry has: pulled once the checks pass. */
  toPull: string[];
}

/** Every prerequisite, observed and judged; nothing is changed here. */
export async function checkPrerequisites(inputs: Inputs, action: string, applying: boolean, say: (line: string) => void): Promise<Checked> {
  const config = inputs.config;
  const scope = config !== undefined ? machineScope(resolveServers(config)) : { local: ["default"], remote: [] };
  const remote = scope.remote.map((target) => checkRemoteServer(target));
  if (scope.local.length === 0) return { results: remote, caddyRunning: false, local: false, toPull: [] };
  const { facts, docker } = await probeDocker(process.env.DOCKER_HOST, PROJECT_ENGINE_STATE);
  const results: CheckResult[] = [...remote, checkDocker(facts)];
  if (action === "destroy" || action === "refresh" || config === undefined) return { results, docker, caddyRunning: false, local: true, toPull: [] };
  results.push(checkCaddy({ versionText: probeCaddyVersion() }));
  const caddyRunning = await caddyAdminAnswers(config.caddy.adminAddress);
  const here = (server: string): boolean => scope.local.includes(server);
  const wanted: WantedPort[] = [
    { port: config.caddy.ports?.http ?? 80, purpose: "Caddy http", host: "0.0.0.0", ownHolder: caddyRunning ? "caddy" : undefined },
    { port: config.caddy.ports?.https ?? 443, purpose: "Caddy https", host: "0.0.0.0", ownHolder: caddyRunning ? "caddy" : undefined },
    // A unix socket takes no port (its folder is made by the edge, its file by Caddy).
    ...(isUnixAdmin(config.caddy.adminAddress) ? [] : [{ port: adminPort(config.caddy.adminAddress), purpose: "Caddy admin", host: "127.0.0.1", ownHolder: caddyRunning ? "caddy" : undefined }]),
    ...inputs.tenantPorts.filter((t) => here(t.server)).map((t) => ({ port: t.port, purpose: `tenant ${t.tenant}`, host: "127.0.0.1", ownHolder: `openclaw-${t.tenant}` })),
  ];
  results.push(checkPorts(await probePorts(wanted, docker)));
  const toPull: string[] = [];
  if (docker !== undefined && facts.reachable) {
    for (const image of [...new Set(inputs.images.filter((i) => here(i.server)).map((i) => i.image))].sort()) {
      const found = await probeImage(docker, image);
      if (!found.present && found.pullable?.ok === true) toPull.push(image);
      results.push(checkImage(found));
    }
  }
  // A preview changes nothing, so only what it needs (the engine) stops it.
  if (!applying) for (const r of results) if (r.name !== "docker" && !r.ok) say(`  (not needed for a preview) ${r.message}`);
  return { results: applying ? results : results.filter((r) => r.name === "docker" || r.ok), docker, caddyRunning, local: true, toPull };
}

function lstatFacts(p: string): DirFacts["stat"] {
  const s = fs.lstatSync(p, { throwIfNoEntry: false });
  return s === undefined ? undefined : { isSymlink: s.isSymbolicLink(), isDir: s.isDirectory(), uid: s.uid, mode: s.mode };
}

/**
 * The folders a local stack's Caddy files go in (the Caddyfile's, and Caddy's storage), made safe
 * before root writes there: judged by safeDir.ts, then missing ones created (0700 under the
 * launcher's own /var/lib/openclaw-hosting), and readable-by-others ones of its own tightened.
 * Throws Stop (nothing changed) when a folder on the way is not safe.
 */
export function prepareCaddyDirs(config: StackConfig): string[] {
  const me = typeof process.getuid === "function" ? process.getuid() : 0;
  const targets = [path.dirname(config.caddy.caddyfilePath), ...(config.caddy.storageDir !== undefined ? [config.caddy.storageDir] : [])];
  const plans = targets.map((target) => {
    const chain = dirChain(target).map((p) => ({ path: p, stat: lstatFacts(p) }));
    const verdict = judgeDirChain(chain, me);
    if ("refused" in verdict) throw new Stop(`npm start: refusing the folder for Caddy's files: ${verdict.refused}`);
    if (launcherOwned(target) && chain[chain.length - 1].stat !== undefined) {
      const entries: EntryFacts[] = fs.readdirSync(target).map((name) => {
        const s = fs.lstatSync(path.join(target, name));
        return { name, isSymlink: s.isSymbolicLink(), uid: s.uid };
      });
      const bad = judgeEntries(target, entries, me);
      if (bad !== undefined) throw new Stop(`npm start: refusing the folder for Caddy's files: ${bad.refused}`);
    }
    return verdict;
  });
  const done = new Set<string>();
  const created = new Set<string>();
  for (const dir of plans.flatMap((p) => p.create)) {
    if (created.has(dir)) continue; // both targets' chains share it
    try {
      // mkdir (not -p): a folder that appeared since the check is an error, not something to reuse.
      fs.mkdirSync(dir, { mode: launcherOwned(dir) ? 0o700 : 0o755 });
      if (launcherOwned(dir)) fs.chmodSync(dir, 0o700);
      created.add(dir);
      done.add(`created ${dir}${launcherOwned(dir) ? " (root-only, 0700)" : ""}`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new Stop(`npm start: could not create ${dir} (${code}): run npm start as root, or point caddy.caddyfilePath and caddy.storageDir at folders of yours`);
    }
  }
  for (const dir of plans.flatMap((p) => p.tighten)) {
    fs.chmodSync(dir, 0o700);
    done.add(`${dir} made root-only (0700)`);
  }
  return [...done];
}
