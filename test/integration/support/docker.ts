/**
 * Turns the Docker resources the Pulumi program asks for (captured under the mock engine) into
 * real objects on a real engine, the way @pulumi/docker (terraform-provider-docker) does:
 * volume_name volumes become `Binds`, MB become bytes, `cpus` becomes NanoCpus, durations become
 * nanoseconds, `networkMode` is the only network, `wait` waits for healthy.
 *
 * Every translator works from an explicit allow-list of input fields (nested ones included) and
 * THROWS on anything it does not know how to translate: when the program's profile grows a field,
 * this test support must learn it (and the tests must check it) before the suite passes again.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import Docker from "dockerode";

export const DOCKER_SOCKET = (process.env.DOCKER_HOST ?? "unix:///run/openclaw-test/docker.sock").replace(/^unix:\/\//, "");

/** Marks every object these tests create, so cleanup never touches anything else. */
export const TEST_LABEL = "openclaw-hosting.test";
export const TEST_LABEL_VALUE = "docker-integration";

export function dockerClient(): Docker {
  return new Docker({ socketPath: DOCKER_SOCKET });
}

type Inputs = Record<string, unknown>;

export class UntranslatableInput extends Error {}

/** Throws when `obj` has a key outside `allowed`; returns `obj` typed as a record. */
function only(obj: unknown, allowed: readonly string[], where: string): Inputs {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    throw new UntranslatableInput(`${where}: expected an object, got ${JSON.stringify(obj)}`);
  }
  const unknown = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new UntranslatableInput(`${where}: no translation for input field(s) ${unknown.join(", ")} (handled: ${allowed.join(", ")})`);
  }
  return obj as Inputs;
}

function str(v: unknown, where: string): string {
  if (typeof v !== "string") throw new UntranslatableInput(`${where}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}
function num(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new UntranslatableInput(`${where}: expected a number, got ${JSON.stringify(v)}`);
  return v;
}
function bool(v: unknown, where: string): boolean {
  if (typeof v !== "boolean") throw new UntranslatableInput(`${where}: expected a boolean, got ${JSON.stringify(v)}`);
  return v;
}
function strList(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) throw new UntranslatableInput(`${where}: expected a list, got ${JSON.stringify(v)}`);
  return v.map((x, i) => str(x, `${where}[${i}]`));
}
function list(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) throw new UntranslatableInput(`${where}: expected a list, got ${JSON.stringify(v)}`);
  return v;
}
function strMap(v: unknown, where: string): Record<string, string> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new UntranslatableInput(`${where}: expected a map`);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, str(x, `${where}.${k}`)]));
}

/** Pulumi docker `labels: [{label, value}]` → Docker's label map. */
function labelMap(v: unknown, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  list(v, where).forEach((raw, i) => {
    const l = only(raw, ["label", "value"], `${where}[${i}]`);
    out[str(l.label, `${where}[${i}].label`)] = str(l.value, `${where}[${i}].value`);
  });
  return out;
}

const MB = 1024 * 1024;

/** Go's time.ParseDuration for the units a health check uses, in nanoseconds (Docker's unit). */
export function durationNs(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * unit[m[2]];
    matched += m[0].length;
  }
  if (text === "" || matched !== text.length) throw new UntranslatableInput(`not a Go duration: ${JSON.stringify(text)}`);
  return Math.round(total);
}

export interface TestHealthTiming {
  /** Replaces the health check's `interval` (the program's 30s would make the suite wait minutes). */
  interval: string;
  /** Replaces the health check's `startPeriod`. */
  startPeriod: string;
}

export interface TranslateOptions {
  /** Replaces `image` (the stand-in honours OpenClaw's container contract). */
  image: string;
  /** Added to the program's labels so every created object is identifiable. */
  extraLabels: Record<string, string>;
  /** The only health-check fields a test may change; every other field is taken as the program set it. */
  healthTiming?: TestHealthTiming;
}

export interface TranslatedContainer {
  name: string;
  create: Docker.ContainerCreateOptions;
  /** `wait`/`waitTimeout`: the provider waits for `healthy` before the create succeeds. */
  wait: { healthy: boolean; timeoutSeconds: number };
  /** How the provider destroys it: stop with this grace period, then remove (with volumes or not). */
  destroy: { graceSeconds: number; removeVolumes: boolean };
}

export const CONTAINER_FIELDS = [
  "name", "image", "command", "user", "envs", "networkMode", "ports", "memory", "memoryReservation", "memorySwap",
  "cpus", "readOnly", "tmpfs", "capabilities", "securityOpts", "init", "restart", "healthcheck", "wait", "waitTimeout",
  "logDriver", "logOpts", "labels", "volumes", "mounts", "removeVolumes", "destroyGraceSeconds", "cgroupParent", "stopTimeout",
] as const;

/** docker:index/container:Container inputs → Docker Engine API create options. */
export function translateContainer(rawInputs: Inputs, opts: TranslateOptions): TranslatedContainer {
  const i = only(rawInputs, CONTAINER_FIELDS, "container");
  const name = str(i.name, "name");
  const config: Docker.ContainerCreateOptions = { name, Image: opts.image };
  const host: Docker.HostConfig = {};
  // The provider's defaults for fields it always sends.
  let wait = { healthy: false, timeoutSeconds: 60 };
  const destroy = { graceSeconds: 0, removeVolumes: true };

  for (const [key, value] of Object.entries(i)) {
    const where = `container.${key}`;
    switch (key as (typeof CONTAINER_FIELDS)[number]) {
      case "name":
        break;
      case "image":
        str(value, where); // substituted by opts.image
        break;
      case "command":
        config.Cmd = strList(value, where);
        break;
      case "user":
        config.User = str(value, where);
        break;
      case "envs":
        config.Env = strList(value, where);
        break;
      case "networkMode":
        host.NetworkMode = str(value, where);
        break;
      case "ports": {
        const exposed: Record<string, Record<string, never>> = {};
        const bindings: Record<string, Array<{ HostIp?: string; HostPort?: string }>> = {};
        list(value, where).forEach((raw, n) => {
          const p = only(raw, ["internal", "external", "ip", "protocol"], `${where}[${n}]`);
          const key2 = `${num(p.internal, `${where}[${n}].internal`)}/${p.protocol === undefined ? "tcp" : str(p.protocol, `${where}[${n}].protocol`)}`;
          exposed[key2] = {};
          if (p.external !== undefined) {
            const b: { HostIp?: string; HostPort?: string } = { HostPort: String(num(p.external, `${where}[${n}].external`)) };
            // The provider's schema default for ip is 0.0.0.0 (every host address).
            b.HostIp = p.ip === undefined ? "0.0.0.0" : str(p.ip, `${where}[${n}].ip`);
            (bindings[key2] ??= []).push(b);
          }
        });
        config.ExposedPorts = exposed;
        host.PortBindings = bindings;
        break;
      }
      case "memory":
        host.Memory = num(value, where) * MB;
        break;
      case "memoryReservation":
        host.MemoryReservation = num(value, where) * MB;
        break;
      case "memorySwap": {
        const swap = num(value, where);
        host.MemorySwap = swap > 0 ? swap * MB : swap;
        break;
      }
      case "cpus": {
        const text = str(value, where);
        if (!/^\d+(\.\d+)?$/.test(text)) throw new UntranslatableInput(`${where}: not a CPU count: ${text}`);
        host.NanoCpus = Math.round(Number(text) * 1e9);
        break;
      }
      case "readOnly":
        host.ReadonlyRootfs = bool(value, where);
        break;
      case "tmpfs":
        host.Tmpfs = strMap(value, where);
        break;
      case "capabilities": {
        const c = only(value, ["adds", "drops"], where);
        if (c.adds !== undefined) host.CapAdd = strList(c.adds, `${where}.adds`);
        if (c.drops !== undefined) host.CapDrop = strList(c.drops, `${where}.drops`);
        break;
      }
      case "securityOpts":
        host.SecurityOpt = strList(value, where);
        break;
      case "init":
        host.Init = bool(value, where);
        break;
      case "restart": {
        const policy = str(value, where);
        if (!["no", "on-failure", "always", "unless-stopped"].includes(policy)) throw new UntranslatableInput(`${where}: ${policy}`);
        host.RestartPolicy = { Name: policy, MaximumRetryCount: 0 };
        break;
      }
      case "healthcheck": {
        const h = only(value, ["tests", "interval", "timeout", "startPeriod", "retries"], where);
        const hc: Docker.HealthConfig = { Test: strList(h.tests, `${where}.tests`) };
        // TEST-ONLY: interval and startPeriod may be replaced by opts.healthTiming (see the test file);
        // tests, timeout and retries are always the program's own.
        const interval = opts.healthTiming?.interval ?? (h.interval === undefined ? undefined : str(h.interval, `${where}.interval`));
        const startPeriod = opts.healthTiming?.startPeriod ?? (h.startPeriod === undefined ? undefined : str(h.startPeriod, `${where}.startPeriod`));
        if (interval !== undefined) hc.Interval = durationNs(interval);
        if (startPeriod !== undefined) hc.StartPeriod = durationNs(startPeriod);
        if (h.timeout !== undefined) hc.Timeout = durationNs(str(h.timeout, `${where}.timeout`));
        if (h.retries !== undefined) hc.Retries = num(h.retries, `${where}.retries`);
        config.Healthcheck = hc;
        break;
      }
      case "wait":
        wait = { ...wait, healthy: bool(value, where) };
        break;
      case "waitTimeout":
        wait = { ...wait, timeoutSeconds: num(value, where) };
        break;
      case "logDriver":
        host.LogConfig = { Type: str(value, where), Config: host.LogConfig?.Config ?? {} };
        break;
      case "logOpts":
        host.LogConfig = { Type: host.LogConfig?.Type ?? "", Config: strMap(value, where) };
        break;
      case "labels":
        config.Labels = { ...labelMap(value, where), ...opts.extraLabels };
        break;
      case "volumes": {
        const binds: string[] = [];
        list(value, where).forEach((raw, n) => {
          const v = only(raw, ["volumeName", "containerPath", "readOnly"], `${where}[${n}]`);
          const ro = v.readOnly === undefined ? false : bool(v.readOnly, `${where}[${n}].readOnly`);
          binds.push(`${str(v.volumeName, `${where}[${n}].volumeName`)}:${str(v.containerPath, `${where}[${n}].containerPath`)}${ro ? ":ro" : ""}`);
        });
        host.Binds = binds;
        break;
      }
      case "mounts": {
        // The provider's mounts block → HostConfig.Mounts (volumeOptions.noCopy → VolumeOptions.NoCopy).
        host.Mounts = list(value, where).map((raw, n) => {
          const m = only(raw, ["type", "source", "target", "readOnly", "volumeOptions"], `${where}[${n}]`);
          const vo = m.volumeOptions === undefined ? undefined : only(m.volumeOptions, ["noCopy"], `${where}[${n}].volumeOptions`);
          return {
            Type: str(m.type, `${where}[${n}].type`) as "volume",
            Source: str(m.source, `${where}[${n}].source`),
            Target: str(m.target, `${where}[${n}].target`),
            ReadOnly: m.readOnly === undefined ? false : bool(m.readOnly, `${where}[${n}].readOnly`),
            ...(vo === undefined ? {} : { VolumeOptions: { NoCopy: vo.noCopy === undefined ? false : bool(vo.noCopy, `${where}[${n}].volumeOptions.noCopy`) } as Docker.MountSettings["VolumeOptions"] }),
          };
        });
        break;
      }
      case "removeVolumes":
        destroy.removeVolumes = bool(value, where);
        break;
      case "destroyGraceSeconds":
        destroy.graceSeconds = num(value, where);
        break;
      case "cgroupParent":
        host.CgroupParent = str(value, where);
        break;
      case "stopTimeout":
        config.StopTimeout = num(value, where);
        break;
      default:
        throw new UntranslatableInput(`${where}: no translation`);
    }
  }
  if (config.Labels === undefined) config.Labels = { ...opts.extraLabels };
  if (config.Healthcheck === undefined && (wait.healthy || opts.healthTiming !== undefined)) {
    throw new UntranslatableInput("container: wait (or a test health timing) without a healthcheck");
  }
  config.HostConfig = host;
  return { name, create: config, wait, destroy };
}

export const NETWORK_FIELDS = ["name", "driver", "ipamConfigs", "labels", "options"] as const;

/** docker:index/network:Network inputs → Docker Engine API network create options. */
export function translateNetwork(rawInputs: Inputs, extraLabels: Record<string, string>): Docker.NetworkCreateOptions {
  const i = only(rawInputs, NETWORK_FIELDS, "network");
  const out: Docker.NetworkCreateOptions = { Name: str(i.name, "network.name"), CheckDuplicate: true, Labels: { ...extraLabels } };
  if (i.driver !== undefined) out.Driver = str(i.driver, "network.driver");
  if (i.options !== undefined) out.Options = strMap(i.options, "network.options");
  if (i.labels !== undefined) out.Labels = { ...labelMap(i.labels, "network.labels"), ...extraLabels };
  if (i.ipamConfigs !== undefined) {
    out.IPAM = {
      Driver: "default",
      Config: list(i.ipamConfigs, "network.ipamConfigs").map((raw, n) => {
        const c = only(raw, ["subnet", "gateway"], `network.ipamConfigs[${n}]`);
        const cfg: { Subnet?: string; Gateway?: string } = {};
        if (c.subnet !== undefined) cfg.Subnet = str(c.subnet, `network.ipamConfigs[${n}].subnet`);
        if (c.gateway !== undefined) cfg.Gateway = str(c.gateway, `network.ipamConfigs[${n}].gateway`);
        return cfg;
      }),
    };
  }
  return out;
}

export const VOLUME_FIELDS = ["name", "labels", "driverOpts"] as const;

/** docker:index/volume:Volume inputs → Docker Engine API volume create options. */
export function translateVolume(rawInputs: Inputs, extraLabels: Record<string, string>): Docker.VolumeCreateOptions {
  const i = only(rawInputs, VOLUME_FIELDS, "volume");
  const labels = i.labels === undefined ? {} : labelMap(i.labels, "volume.labels");
  const out: Docker.VolumeCreateOptions = { Name: str(i.name, "volume.name"), Labels: { ...labels, ...extraLabels } };
  if (i.driverOpts !== undefined) {
    only(i.driverOpts, ["size", "type", "o", "device"], "volume.driverOpts");
    out.DriverOpts = strMap(i.driverOpts, "volume.driverOpts");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Lifecycle helpers

/**
 * Removes every container, network and volume carrying the test label (and nothing else).
 * Keeps going past a failure so one stuck object does not leave the rest behind; throws at the end.
 */
export async function removeLabelled(docker: Docker, label = `${TEST_LABEL}=${TEST_LABEL_VALUE}`): Promise<string[]> {
  const removed: string[] = [];
  const errors: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
      removed.push(what);
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
    }
  };
  const filters = JSON.stringify({ label: [label] });
  for (const c of await docker.listContainers({ all: true, filters })) {
    await attempt(`container ${c.Names.join(",")}`, () => docker.getContainer(c.Id).remove({ force: true, v: false }));
  }
  for (const n of await docker.listNetworks({ filters })) {
    await attempt(`network ${n.Name}`, () => docker.getNetwork(n.Id).remove());
  }
  const vols = await docker.listVolumes({ filters });
  for (const v of vols.Volumes ?? []) {
    await attempt(`volume ${v.Name}`, () => docker.getVolume(v.Name).remove());
  }
  if (errors.length > 0) throw new Error(`cleanup left objects behind: ${errors.join("; ")} (removed: ${removed.join("; ")})`);
  return removed;
}

export async function createAndStart(docker: Docker, t: TranslatedContainer): Promise<Docker.Container> {
  const c = await docker.createContainer(t.create);
  await c.start();
  return c;
}

/** As the provider destroys a container: stop with the grace period, then remove. */
export async function destroyContainer(docker: Docker, t: TranslatedContainer): Promise<void> {
  const c = docker.getContainer(t.name);
  await c.stop({ t: t.destroy.graceSeconds }).catch((e: { statusCode?: number }) => {
    if (e.statusCode !== 304) throw e; // 304: already stopped
  });
  await c.remove({ v: t.destroy.removeVolumes });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls the health status until `healthy` (bounded by `timeoutMs`); returns the time it took. */
export async function waitHealthy(docker: Docker, name: string, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  let last = "unknown";
  let probe = "";
  for (let n = 0; n < 10_000 && Date.now() - t0 < timeoutMs; n++) {
    const info = await docker.getContainer(name).inspect();
    last = info.State.Health?.Status ?? `no health (${info.State.Status})`;
    const log = info.State.Health?.Log ?? [];
    if (log.length > 0) probe = `; last check: exit ${log[log.length - 1].ExitCode}, ${JSON.stringify(log[log.length - 1].Output.slice(0, 300))}`;
    if (last === "healthy") return Date.now() - t0;
    if (!info.State.Running && info.State.Status !== "created" && info.State.Status !== "restarting") {
      throw new Error(`${name} is ${info.State.Status} (exit ${info.State.ExitCode})`);
    }
    await sleep(200);
  }
  throw new Error(`${name} not healthy after ${timeoutMs} ms (last status: ${last}${probe})`);
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the docker CLI (client only) against DOCKER_HOST, bounded by `timeoutMs`. */
export function dockerCli(args: readonly string[], timeoutMs = 30_000): Promise<ExecResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      "docker",
      [...args],
      { timeout: timeoutMs, maxBuffer: 16 * MB, env: { ...process.env, DOCKER_HOST: `unix://${DOCKER_SOCKET}` } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === "number" ? Number((err as { code: number }).code) : null;
        resolve({ code, stdout: String(stdout), stderr: String(stderr), ms: Date.now() - t0 });
      },
    );
  });
}

/** `docker exec NAME node -e SCRIPT` as the container's own user. */
export function execNode(container: string, script: string, timeoutMs = 20_000): Promise<ExecResult> {
  return dockerCli(["exec", container, "node", "-e", script], timeoutMs);
}

// ---------------------------------------------------------------------------------------------
// Host-side probes (loopback and the test's own bridges only)

export interface HttpResult {
  status: number;
  body: string;
}

/** One bounded HTTP request from the host. */
export function httpRequest(
  host: string,
  port: number,
  path: string,
  options: { method?: string; body?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, path, method: options.method ?? "GET", headers: options.headers, timeout: options.timeoutMs ?? 3000, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout after ${options.timeoutMs ?? 3000} ms`)));
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Opens (and closes) a TCP connection from the host: "connected" or the error code. */
export function tcpProbe(host: string, port: number, timeoutMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (r: string): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    s.on("connect", () => done("connected"));
    s.on("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

export interface Listener {
  family: "tcp" | "tcp6";
  address: string;
  port: number;
}

function hexToIpv4(hex: string): string {
  // /proc/net/tcp stores the address as a little-endian 32-bit word.
  return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(".");
}

/** Every TCP socket in LISTEN state in this network namespace, from /proc/net/tcp{,6}. */
export function tcpListeners(): Listener[] {
  const out: Listener[] = [];
  for (const family of ["tcp", "tcp6"] as const) {
    let text = "";
    try {
      text = fs.readFileSync(`/proc/net/${family}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== "0A") continue;
      const [addrHex, portHex] = cols[1].split(":");
      const address = family === "tcp" ? hexToIpv4(addrHex) : addrHex.toLowerCase();
      out.push({ family, address, port: parseInt(portHex, 16) });
    }
  }
  return out;
}
