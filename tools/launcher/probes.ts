// The launcher's observations of this machine: the Docker engine, Caddy, ports and the image.
// Every probe is bounded in time and changes nothing; prerequisites.ts judges them.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import Docker from "dockerode";
import { adminSocketPath, isUnixAdmin } from "../../core/configText";
import { DockerTarget, parseDockerHost } from "../../core/dockerHost";
import { DockerFacts, ImageFacts, PortFacts } from "./prerequisites";
import { message, withTimeout } from "../../program/bounded";

/** A dockerode client for DOCKER_HOST (unix or tcp; ssh:// engines are reached by the program itself). */
export function dockerFor(target: DockerTarget, timeoutMs: number): Docker | undefined {
  if (target.kind === "unix") return new Docker({ socketPath: target.socketPath, timeout: timeoutMs });
  if (target.kind === "tcp") return new Docker({ host: target.host, port: target.port, protocol: target.tls ? "https" : "http", timeout: timeoutMs });
  return undefined;
}

/** Is `command` an executable file in a folder of PATH (what `command -v` finds, without a shell)? */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir === "" ? "." : dir, command), fs.constants.X_OK);
      return fs.statSync(path.join(dir === "" ? "." : dir, command)).isFile();
    } catch {
      return false;
    }
  });
}

export async function probeDocker(
  dockerHost: string | undefined,
  projectEngineState: string,
  timeoutMs = 5000,
): Promise<{ facts: DockerFacts; docker?: Docker }> {
  const target = parseDockerHost(dockerHost, process.env.DOCKER_TLS_VERIFY);
  const base = { target: target.display, dockerHost, dockerdInstalled: onPath("dockerd"), projectEngineSetUp: fs.existsSync(projectEngineState) };
  const docker = dockerFor(target, timeoutMs);
  if (docker === undefined) {
    return { facts: { ...base, reachable: false, error: "an ssh:// DOCKER_HOST is not probed by npm start; check it with `npm run status`" } };
  }
  try {
    const version = await withTimeout("asking the engine for its version", timeoutMs, docker.version(), "s");
    return { facts: { ...base, reachable: true, version: version.Version }, docker };
  } catch (err) {
    return { facts: { ...base, reachable: false, error: message(err) } };
  }
}

/** `caddy version`'s first line, or undefined when there is no caddy. */
export function probeCaddyVersion(caddy = "caddy"): string | undefined {
  const r = spawnSync(caddy, ["version"], { encoding: "utf8", timeout: 10000 });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return r.stdout.split("\n")[0];
}

/** Does a Caddy admin API answer at host:port or unix/<path>|mode (GET /config/)? */
export function caddyAdminAnswers(adminAddress: string, timeoutMs = 2000): Promise<boolean> {
  let target: http.RequestOptions;
  if (isUnixAdmin(adminAddress)) {
    target = { socketPath: adminSocketPath(adminAddress), host: "localhost" };
  } else {
    const m = /^(.*):(\d+)$/.exec(adminAddress);
    if (m === null) return Promise.resolve(false);
    const host = m[1].replace(/^\[(.*)\]$/, "$1");
    target = { host: host === "localhost" ? "127.0.0.1" : host, port: Number(m[2]) };
  }
  return new Promise((resolve) => {
    const req = http.get({ ...target, path: "/config/", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(false));
  });
}

/** Can this process listen on host:port right now? (EADDRINUSE = busy; a permission error is not "busy".) */
export function portBusy(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "EADDRINUSE"));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

export interface WantedPort {
  port: number;
  purpose: string;
  /** Where it will listen: Caddy on every address, tenants on 127.0.0.1. */
  host: string;
  /** Held by this holder is fine (the tenant's own container, the running Caddy). */
  ownHolder?: string;
}

/**
 * Probes each port; a busy tenant port held by that tenant's own container (a re-run) and Caddy's
 * ports while the Caddy the stack reloads is running count as the stack's own.
 */
export async function probePorts(wanted: readonly WantedPort[], docker: Docker | undefined): Promise<PortFacts[]> {
  const published = new Map<number, string>();
  if (docker !== undefined) {
    try {
      for (const c of await withTimeout("listing containers", 5000, docker.listContainers({ all: false }), "s")) {
        for (const p of c.Ports) if (p.PublicPort !== undefined) published.set(p.PublicPort, (c.Names[0] ?? c.Id).replace(/^\//, ""));
      }
    } catch {
      // Without the list every busy port is reported as someone else's: the safe side.
    }
  }
  const out: PortFacts[] = [];
  for (const w of wanted) {
    const busy = await portBusy(w.port, w.host);
    const holder = published.get(w.port);
    const own = busy && w.ownHolder !== undefined && (w.ownHolder === "caddy" || holder === w.ownHolder) ? w.ownHolder : undefined;
    out.push({ port: w.port, purpose: w.purpose, busy, ...(own !== undefined ? { heldByOwn: own } : {}) });
  }
  return out;
}

/** Is the image on the engine; if not, does its registry answer for it (asked through the engine)? */
export async function probeImage(docker: Docker, ref: string, timeoutMs = 15000): Promise<ImageFacts> {
  try {
    await withTimeout("inspecting the image", 5000, docker.getImage(ref).inspect(), "s");
    return { ref, present: true };
  } catch {
    // not present (or the engine did not say): ask the registry
  }
  try {
    const info = await withTimeout(`asking the registry for ${ref}`, timeoutMs, docker.getImage(ref).distribution(), "s");
    return { ref, present: false, pullable: { ok: true, detail: `digest ${info.Descriptor.digest}` } };
  } catch (err) {
    return { ref, present: false, pullable: { ok: false, detail: message(err).split("\n")[0] } };
  }
}
