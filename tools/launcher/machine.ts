// This machine, observed and judged before npm start changes anything: the engine, Caddy, the
// ports and the images; and the project's own runtime script (test/machinery/runtime-env.sh) when asked.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import Docker from "dockerode";
import { CheckResult, checkCaddy, checkDocker, checkImage, checkPorts, checkRemoteServer } from "./prerequisites";
import { Inputs } from "./inputs";
import { adminPort, isUnixAdmin } from "../../core/configText";
import { WantedPort, caddyAdminAnswers, probeCaddyVersion, probeDocker, probeImage, probePorts } from "./probes";

/** The project's own engine (test/machinery/runtime-env.sh), the one the tests use. */
export const PROJECT_ENGINE_STATE = process.env.OPENCLAW_TEST_STATE ?? "/var/lib/openclaw-test";

export const isRoot = (): boolean => typeof process.getuid === "function" && process.getuid() === 0;

/** Runs test/machinery/runtime-env.sh with a verb; its diagnostics go to the user's terminal. */
export function runtimeEnv(repo: string, verb: "install" | "start"): { ok: boolean; stdout: string } {
  const r = spawnSync("bash", [path.join(repo, "test", "machinery", "runtime-env.sh"), verb], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 30 * 60 * 1000 });
  return { ok: r.status === 0, stdout: r.stdout ?? "" };
}

export interface Checked {
  results: CheckResult[];
  docker?: Docker;
  caddyRunning: boolean;
  /** Images not on the engine that its registry has: pulled once the checks pass. */
  toPull: string[];
}

/** Every prerequisite, observed and judged; nothing is changed here. */
export async function checkPrerequisites(inputs: Inputs, action: string, applying: boolean, say: (line: string) => void): Promise<Checked> {
  const config = inputs.config;
  if (config?.ssh !== undefined) {
    return { results: [checkRemoteServer(`ssh://${config.ssh.user}@${config.ssh.host}:${config.ssh.port}`)], caddyRunning: false, toPull: [] };
  }
  const { facts, docker } = await probeDocker(process.env.DOCKER_HOST, PROJECT_ENGINE_STATE);
  const results: CheckResult[] = [checkDocker(facts)];
  if (action === "destroy" || action === "refresh" || config === undefined) return { results, docker, caddyRunning: false, toPull: [] };
  results.push(checkCaddy({ versionText: probeCaddyVersion() }));
  const caddyRunning = await caddyAdminAnswers(config.caddy.adminAddress);
  const wanted: WantedPort[] = [
    { port: config.caddy.ports?.http ?? 80, purpose: "Caddy http", host: "0.0.0.0", ownHolder: caddyRunning ? "caddy" : undefined },
    { port: config.caddy.ports?.https ?? 443, purpose: "Caddy https", host: "0.0.0.0", ownHolder: caddyRunning ? "caddy" : undefined },
    // A unix socket takes no port (its folder is made by the edge, its file by Caddy).
    ...(isUnixAdmin(config.caddy.adminAddress) ? [] : [{ port: adminPort(config.caddy.adminAddress), purpose: "Caddy admin", host: "127.0.0.1", ownHolder: caddyRunning ? "caddy" : undefined }]),
    ...inputs.tenantPorts.map((t) => ({ port: t.port, purpose: `tenant ${t.tenant}`, host: "127.0.0.1", ownHolder: `openclaw-${t.tenant}` })),
  ];
  results.push(checkPorts(await probePorts(wanted, docker)));
  const toPull: string[] = [];
  if (docker !== undefined && facts.reachable) {
    for (const image of inputs.images) {
      const found = await probeImage(docker, image);
      if (!found.present && found.pullable?.ok === true) toPull.push(image);
      results.push(checkImage(found));
    }
  }
  // A preview changes nothing, so only what it needs (the engine) stops it.
  if (!applying) for (const r of results) if (r.name !== "docker" && !r.ok) say(`  (not needed for a preview) ${r.message}`);
  return { results: applying ? results : results.filter((r) => r.name === "docker" || r.ok), docker, caddyRunning, toPull };
}

/** As root, with the project's engine set up here but stopped (the tests stop it): start it, as the tests do. */
export async function startProjectEngineIfOurs(repo: string, checked: Checked, say: (line: string) => void, justInstalled = false): Promise<boolean> {
  const dockerFailed = checked.results.some((r) => r.name === "docker" && !r.ok);
  const unset = process.env.DOCKER_HOST === undefined || process.env.DOCKER_HOST === "";
  if (!dockerFailed || !unset || !isRoot() || !(justInstalled || fs.existsSync(PROJECT_ENGINE_STATE))) return false;
  say(`  no engine on the default socket; starting the project's engine (test/machinery/runtime-env.sh start, as the tests do)`);
  const started = runtimeEnv(repo, "start");
  const host = /export DOCKER_HOST=(\S+)/.exec(started.stdout)?.[1];
  if (!started.ok || host === undefined) return false;
  process.env.DOCKER_HOST = host;
  say(`  using the project's engine: DOCKER_HOST=${host} (set it too for plain pulumi and npm run status)`);
  return true;
}

