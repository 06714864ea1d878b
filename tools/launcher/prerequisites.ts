// What `npm start` checks before anything changes, and what it tells the user for each failure.
// The shell observes (engine ping, `caddy version`, port probes, image lookups); this file judges.
import { parseVersion, versionAtLeast } from "./decisions";

/** stream_close_delay (keeps WebSockets open across reloads) arrived in Caddy 2.7. */
export const CADDY_MINIMUM = "2.7.0";

export const INSTALL_HINT = "or run `npm start -- --install` as root (it installs only what is missing, with apt-get, and says what first; it never stops, disables or replaces a service)";

export interface DockerFacts {
  /** Where the launcher looked, e.g. unix:///var/run/docker.sock. */
  target: string;
  /** DOCKER_HOST as set by the user, if any. */
  dockerHost: string | undefined;
  reachable: boolean;
  version?: string;
  error?: string;
  /** `dockerd` is installed on this machine (the project's installer or a distro package put it there). */
  dockerdInstalled: boolean;
  /** The tests' own engine (test/machinery/runtime-env.sh) has been set up here; npm start never starts it. */
  projectEngineSetUp: boolean;
}

export interface CaddyFacts {
  /** `caddy version` output, undefined when there is no caddy on PATH. */
  versionText: string | undefined;
}

export interface PortFacts {
  port: number;
  /** What the stack wants it for: "Caddy https", "tenant alice". */
  purpose: string;
  busy: boolean;
  /** Who holds it when that is fine: this tenant's own container, or the Caddy the stack reloads. */
  heldByOwn?: string;
}

export interface ImageFacts {
  ref: string;
  present: boolean;
  /** Asked of the registry through the engine only when the image is not present. */
  pullable?: { ok: boolean; detail: string };
}

export interface CheckResult {
  name: "docker" | "caddy" | "ports" | "image" | "server";
  ok: boolean;
  message: string;
  /** What to do about it; set when not ok. */
  fix?: string;
  /** The project's installer (test/machinery/runtime-env.sh install) can fix it. */
  installable: boolean;
}

export function checkDocker(f: DockerFacts): CheckResult {
  if (f.reachable) {
    return { name: "docker", ok: true, message: `Docker engine: answers at ${f.target}${f.version !== undefined ? ` (Docker ${f.version})` : ""}`, installable: false };
  }
  const why = f.error !== undefined ? ` (${f.error})` : "";
  if (f.dockerHost !== undefined && f.dockerHost !== "") {
    return {
      name: "docker",
      ok: false,
      message: `Docker engine: no answer at ${f.target}${why}`,
      fix: `DOCKER_HOST=${f.dockerHost} points at an engine that does not answer: start that engine, correct DOCKER_HOST, or unset it to use the local one`,
      installable: false,
    };
  }
  return {
    name: "docker",
    ok: false,
    message: `Docker engine: no answer at ${f.target}${why}`,
    fix: f.projectEngineSetUp
      ? "start Docker (`sudo systemctl start docker`), or set DOCKER_HOST to an engine you can reach. (The tests' engine is set up here too; npm start does not start it, since its script stops the system's Docker and Caddy to make room: start it yourself with `eval \"$(sudo bash test/machinery/runtime-env.sh start)\"` if you mean to)"
      : f.dockerdInstalled
        ? "start Docker (`sudo systemctl start docker`) and make sure you may use its socket (the docker group), or set DOCKER_HOST to an engine you can reach"
        : `install and start Docker (Debian: apt-get install docker.io), or set DOCKER_HOST to an engine you can reach; ${INSTALL_HINT}`,
    installable: !f.dockerdInstalled,
  };
}

export function checkCaddy(f: CaddyFacts): CheckResult {
  // A Caddy that is there belongs to the machine: npm start uses it, and never replaces it.
  const fix = `upgrade Caddy to ${CADDY_MINIMUM.slice(0, 3)} or newer yourself (Debian trixie-backports, trixie, or Caddy's own packages); npm start does not replace a Caddy it did not install`;
  if (f.versionText === undefined) {
    return {
      name: "caddy", ok: false, message: "Caddy: not installed (no `caddy` on PATH)",
      fix: `install Caddy ${CADDY_MINIMUM.slice(0, 3)} or newer (Debian trixie-backports, trixie, or Caddy's own packages); ${INSTALL_HINT}`, installable: true,
    };
  }
  const shown = f.versionText.trim().split(/\s+/)[0] ?? "";
  if (parseVersion(shown) === undefined) {
    return { name: "caddy", ok: false, message: `Caddy: cannot read its version from \`caddy version\` ("${shown}")`, fix, installable: false };
  }
  if (!versionAtLeast(shown.replace(/^v/, ""), CADDY_MINIMUM)) {
    return {
      name: "caddy",
      ok: false,
      message: `Caddy: ${shown} is older than 2.7 (it lacks stream_close_delay, which keeps tenants' WebSockets open across reloads)`,
      fix,
      installable: false,
    };
  }
  return { name: "caddy", ok: true, message: `Caddy: ${shown} (>= 2.7)`, installable: false };
}

export function checkPorts(ports: readonly PortFacts[]): CheckResult {
  const busy = ports.filter((p) => p.busy && p.heldByOwn === undefined);
  const own = ports.filter((p) => p.busy && p.heldByOwn !== undefined);
  const listed = ports.map((p) => p.port).join(", ");
  if (busy.length === 0) {
    const note = own.length > 0 ? `; in use by this stack already: ${own.map((p) => `${p.port} (${p.heldByOwn})`).join(", ")}` : "";
    return { name: "ports", ok: true, message: `Ports: free on 127.0.0.1: ${listed}${note}`, installable: false };
  }
  return {
    name: "ports",
    ok: false,
    message: `Ports: in use by another program: ${busy.map((p) => `${p.port} (${p.purpose})`).join(", ")}`,
    fix: busy.map((p) => portFix(p)).join("; "),
    installable: false,
  };
}

function portFix(p: PortFacts): string {
  const who = `\`ss -ltnp 'sport = :${p.port}'\` shows who holds ${p.port}`;
  const tenant = /^tenant (.+)$/.exec(p.purpose);
  if (tenant !== null) return `${who}: stop it, or give ${tenant[1]} another port (port: in its roster file)`;
  const caddy = /^Caddy (http|https|admin)$/.exec(p.purpose);
  if (caddy !== null) {
    const key = caddy[1] === "admin" ? "caddy.adminAddress" : `caddy.ports.${caddy[1]}`;
    return `${who}: stop it, or set ${key} in the stack file to a free port`;
  }
  return `${who}: stop it`;
}

export function checkImage(f: ImageFacts): CheckResult {
  if (f.present) return { name: "image", ok: true, message: `Image: ${f.ref} is on the engine`, installable: false };
  if (f.pullable?.ok === true) {
    return { name: "image", ok: true, message: `Image: ${f.ref} is not on the engine; the registry has it (${f.pullable.detail}): it is pulled before the update`, installable: false };
  }
  return {
    name: "image",
    ok: false,
    message: `Image: ${f.ref} is not on the engine and cannot be pulled${f.pullable !== undefined ? ` (${f.pullable.detail})` : ""}`,
    fix: "give the engine access to the registry (network, `docker login ghcr.io`), or load the image (`docker load -i openclaw.tar`), or set `image:` in the stack file to one the engine has",
    installable: false,
  };
}

/** For a server of the stack that is not this machine: the local checks do not apply to it. */
export function checkRemoteServer(sshTarget: string): CheckResult {
  return {
    name: "server",
    ok: true,
    message: `Server: the stack runs on ${sshTarget}; its Docker engine and Caddy are checked by the preview (and \`DOCKER_HOST=${sshTarget} npm run status\`)`,
    installable: false,
  };
}

/**
 * Which of the stack's servers are this machine (no ssh): the local checks (engine, Caddy, ports,
 * images) and the local Caddy apply only when there is one. A `servers` map of remote servers only
 * gets none of them.
 */
export function machineScope(servers: readonly { name: string; ssh?: { host: string; user: string; port: number } }[]): { local: string[]; remote: string[] } {
  return {
    local: servers.filter((s) => s.ssh === undefined).map((s) => s.name),
    remote: servers.filter((s) => s.ssh !== undefined).map((s) => `ssh://${s.ssh?.user}@${s.ssh?.host}:${s.ssh?.port}`),
  };
}

/** What `--install` installs for each missing program: Debian's packages, as Debian sets them up. */
export const INSTALLS = {
  docker: "docker.io (Docker; its service starts as Debian sets it up)",
  caddy: "caddy (2.7 or newer: Debian's, or trixie-backports' when Debian's is older; its service starts as Debian sets it up)",
} as const;
export type Installable = keyof typeof INSTALLS;

export type InstallDecision = { run: false; reason?: string } | { run: true; packages: Installable[]; reason: string };

/**
 * Whether `--install` runs the launcher's installer (tools/launcher/install.sh): only when asked,
 * only as root, and only for a program that is absent. A program that is there (running, stopped,
 * or too old) is the machine's: it is never stopped, disabled or replaced.
 */
export function decideInstall(results: readonly CheckResult[], opts: { install: boolean; isRoot: boolean }): InstallDecision {
  const packages = results.filter((r): r is CheckResult & { name: Installable } => !r.ok && r.installable && (r.name === "docker" || r.name === "caddy")).map((r) => r.name);
  if (!opts.install) return { run: false };
  if (packages.length === 0) return { run: false, reason: "--install: nothing the installer can fix is missing (it installs only what is absent, and replaces nothing)" };
  if (!opts.isRoot) {
    return { run: false, reason: "--install must run as root (it installs packages with apt-get): run `sudo npm start -- --install`, or install the missing ones yourself" };
  }
  return {
    run: true,
    packages,
    reason: `--install: installing with apt-get: ${packages.map((p) => INSTALLS[p]).join("; ")}. Nothing already on this machine is stopped, disabled or replaced.`,
  };
}
/** The block printed when a check fails: each problem with its fix, and what the installer can do. */
export function renderFailures(results: readonly CheckResult[]): string {
  const failed = results.filter((r) => !r.ok);
  const lines = failed.map((r) => `  x ${r.message}\n    fix: ${r.fix ?? "(none known)"}`);
  return [`npm start: ${failed.length} prerequisite(s) missing; nothing was changed:`, ...lines].join("\n");
}
