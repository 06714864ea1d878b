// The effectful half of `npm run move`: stops a tenant on one server, copies its volumes to another
// with the Docker CLI (local or DOCKER_HOST=ssh://), and proves the copy file by file. The roster
// edit that makes Pulumi run the tenant on the new server is the caller's last step.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { VolumeKey } from "../../core/diskBudget";
import { TenantPlan } from "../../core/plan";
import { tenantVolumes } from "../../core/retainedData";
import { retry } from "../../program/bounded";
import { toolScript } from "../shared/shellScript";
import { STOP_FOR_MOVE, targetVolumes } from "./decide";
import { Manifest, compareManifests, manifestTotals, parseManifest } from "./manifest";

/** One server as the Docker CLI reaches it: its name and the environment (DOCKER_HOST, PATH with an ssh wrapper). */
export interface Engine {
  name: string;
  env: NodeJS.ProcessEnv;
  /** Over SSH: where, and the directory of its shared connection. */
  ssh?: { host: string; user: string; port: number; control: string };
}

export interface MoveResult {
  files: number;
  bytes: number;
  /** Files whose byte count and SHA-256 were compared (all of them). */
  checked: number;
  ms: number;
}

export class MoveError extends Error {}

interface Run {
  /** 0, the failing side's exit status, or -1 when it was stopped by a signal. */
  code: number;
  stdout: string;
  stderr: string;
  /** The side that failed first, in words (`the receiving side on s3: exit 137 (killed)`): the cause. */
  failure?: string;
}
function docker(engine: Engine, args: string[], timeoutMs = 120_000, pipeTo?: { engine: Engine; args: string[] }): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn("docker", args, { env: engine.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const sides: [ChildProcess, string][] = [[child, pipeTo === undefined ? `docker on ${engine.name}` : `the sending side on ${engine.name}`]];
    if (pipeTo !== undefined) {
      const sink = spawn("docker", pipeTo.args, { env: pipeTo.engine.env, stdio: ["pipe", "ignore", "pipe"] });
      sides.push([sink, `the receiving side on ${pipeTo.engine.name}`]);
      child.stdout.pipe(sink.stdin);
      // A sink that fails early must not leave the source blocked on a full pipe.
      sink.stdin.on("error", () => child.kill("SIGKILL"));
      sink.on("close", (status) => {
        if (status !== 0) child.kill("SIGKILL");
      });
      sink.stderr.on("data", (d) => (stderr += `${pipeTo.engine.name}: ${String(d)}`));
    } else {
      child.stdout.on("data", (d) => (stdout += String(d)));
    }
    child.stderr.on("data", (d) => (stderr += String(d)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      sides.forEach(([c]) => c.kill("SIGKILL"));
    }, timeoutMs);
    let open = sides.length;
    let code = 0;
    let failure: string | undefined;
    for (const [c, who] of sides) {
      c.on("close", (status, signal) => {
        // The first side to fail is the cause; the other one is then stopped by this function.
        if (status !== 0 && failure === undefined) {
          code = status ?? -1;
          failure = timedOut ? `${who}: no end after ${timeoutMs} ms` : status === null ? `${who}: stopped by ${signal ?? "a signal"}` : `${who}: exit ${status}${status === 137 ? " (killed)" : ""}`;
        }
        if (--open === 0) {
          clearTimeout(timer);
          resolve({ code, stdout, stderr: stderr.trim(), failure });
        }
      });
    }
  });
}
async function must(engine: Engine, args: string[], what: string, timeoutMs?: number): Promise<string> {
  const r = await docker(engine, args, timeoutMs);
  if (r.code !== 0) throw new MoveError(`server ${engine.name}: ${what} failed: ${r.stderr || r.failure}`);
  return r.stdout;
}

const KEYS = ["state", "credentials"] as const;
/** Copy and manifest helpers are named after the tenant, so a leftover is found and removed by the next run. */
const helperName = (tenant: string) => `openclaw-${tenant}-move`;
const mounts = (tenant: string) => tenantVolumes(tenant).flatMap((volume, i) => ["-v", `${volume}:/v/${KEYS[i]}`]);

/** Each source volume's driver options (how it was made): how the copy must be made. */
async function sourceVolumeOptions(from: Engine, tenant: string): Promise<Record<VolumeKey, Record<string, string> | null>> {
  const [state, credentials] = await Promise.all(tenantVolumes(tenant).map(async (v) => {
    const out = await must(from, ["volume", "inspect", "-f", "{{json .Options}}", v], `reading how ${v} was made`);
    const parsed: unknown = JSON.parse(out.trim() || "null");
    return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, string>) : null;
  }));
  return { state, credentials };
}

async function manifest(engine: Engine, tenant: string, image: string): Promise<Manifest> {
  const out = await must(engine, ["run", "--rm", "--network", "none", "--user", "0:0", "--entrypoint", "sh", ...mounts(tenant).map((m) => (m.startsWith("-") ? m : `${m}:ro`)), image, "-c", toolScript(__dirname, "manifest.sh")], `reading ${tenant}'s files`, 600_000);
  return parseManifest(out);
}

/** Runs `attempt` until it exits 0, at most 20 times over about 10 s; returns the last run. */
const untilOk = (attempt: () => Promise<Run>): Promise<Run> => retry(attempt, (r) => r.code === 0, 20, 500);

/**
 * Removes a copy helper and waits until it is gone: a helper killed mid-copy may still be in its
 * own `--rm` removal, holding the volumes (`docker volume rm` would then fail as "in use").
 */
async function removeHelper(engine: Engine, tenant: string): Promise<void> {
  await untilOk(async () => {
    await docker(engine, ["rm", "-f", helperName(tenant)]);
    const still = await docker(engine, ["container", "inspect", helperName(tenant)]);
    return { ...still, code: still.code === 0 ? 1 : 0 };
  });
}


/**
 * Moves a tenant's data from `from` to `to`: the old container stops first (never two writers),
 * the volumes are streamed with tar (owners and modes kept) into same-named volumes on the new
 * server, and every file's byte count and SHA-256 are compared before this returns. On any failure
 * the copies made by this run are removed, the old container is started again, and a MoveError
 * says what went wrong: the tenant stays where it was. The old server's volumes are never touched.
 */
export async function moveTenantData(
  storage: Pick<TenantPlan, "name" | "diskMb" | "diskQuota">, image: string, from: Engine, to: Engine, log: (line: string) => void = () => undefined,
): Promise<MoveResult> {
  const tenant = storage.name;
  const t0 = Date.now();
  const container = `openclaw-${tenant}`;
  const volumes = tenantVolumes(tenant);
  // Refuse before anything changes: the new server must not hold this tenant already.
  if ((await docker(to, ["container", "inspect", container])).code === 0) throw new MoveError(`server ${to.name} already has a container ${container}; nothing was changed`);
  for (const v of volumes) {
    if ((await docker(to, ["volume", "inspect", v])).code === 0) {
      throw new MoveError(`server ${to.name} already has a volume ${v} (an earlier move or a retained copy); delete or rename it there first; nothing was changed`);
    }
  }
  await must(to, ["image", "inspect", image], `finding the image ${image} (pull it on the new server first)`);
  // The new server's volumes keep the tenant's disk budget, or the move is refused here.
  const source = await sourceVolumeOptions(from, tenant);
  const target = targetVolumes(storage, to.name, source);
  if ("refused" in target) throw new MoveError(target.refused);
  const wasRunning = (await docker(from, ["container", "inspect", "-f", "{{.State.Running}}", container])).stdout.trim() === "true";

  const created: string[] = [];
  try {
    if (wasRunning) {
      log(`stopping ${container} on ${from.name}`);
      await must(from, STOP_FOR_MOVE.args(container), `stopping ${container}`, STOP_FOR_MOVE.timeoutMs);
    }
    const source = await manifest(from, tenant, image);
    for (const [i, v] of volumes.entries()) {
      await must(to, ["volume", "create", "--label", `openclaw.tenant=${tenant}`, "--label", "managed-by=openclaw-hosting", ...target.opts[KEYS[i]], v], `creating ${v}`);
      created.push(v);
    }
    // One tar stream from a read-only helper on the old server into a helper on the new one, as root
    // so owners (numeric) and modes are kept, and compared with the files; nothing is written to disk in between.
    log(`copying ${tenant}'s volumes from ${from.name} to ${to.name}`);
    const helper = (extra: string[], ro: boolean) => [
      "run", "--rm", "--name", helperName(tenant), "--network", "none", "--user", "0:0", ...extra, "--entrypoint", "tar",
      ...mounts(tenant).map((m) => (m.startsWith("-") || !ro ? m : `${m}:ro`)), image,
    ];
    // --numeric-owner: owners travel as numbers (the tenant's own uid has no name in the image).
    const r = await docker(from, [...helper([], true), "--numeric-owner", "-C", "/v", "-cf", "-", "."], 3_600_000, { engine: to, args: [...helper(["-i"], false), "--numeric-owner", "-C", "/v", "-xf", "-"] });
    if (r.code !== 0) throw new MoveError(`copying the volumes from ${from.name} to ${to.name} failed: ${[r.failure, r.stderr].filter((x) => x !== undefined && x !== "").join("; ")}`);
    const copy = await manifest(to, tenant, image);
    const differences = compareManifests(source, copy);
    if (differences.length > 0) throw new MoveError(`the copy on ${to.name} differs from ${from.name}: ${differences.slice(0, 10).join("; ")}`);
    const totals = manifestTotals(source);
    log(`verified ${totals.files} files, ${totals.bytes} bytes: byte counts, SHA-256 and numeric owners equal on both servers`);
    return { ...totals, checked: totals.files, ms: Date.now() - t0 };
  } catch (err) {
    // Undo this run only: its helper and the copies it made; the source is untouched. What cannot be
    // undone is said, never claimed done.
    const left: string[] = [];
    await removeHelper(to, tenant);
    for (const v of created) {
      const r = await untilOk(() => docker(to, ["volume", "rm", v]));
      if (r.code !== 0) left.push(`the partial copy ${v} is still on ${to.name} (${r.stderr || r.failure}): remove it there with docker volume rm ${v}`);
    }
    let where = `${tenant} stays on ${from.name}`;
    if (wasRunning) {
      await removeHelper(from, tenant);
      const r = await docker(from, ["start", container]);
      where = r.code === 0 ? `${tenant} runs again on ${from.name}` : `${tenant} could not be started again on ${from.name} (${r.stderr || r.failure}): start it there with docker start ${container}`;
    }
    const reason = err instanceof Error ? err.message : String(err);
    throw new MoveError(`moving ${tenant} from ${from.name} to ${to.name} stopped: ${reason}. ${[where, ...left].join("; ")}; its roster file was not changed`);
  } finally {
    await docker(from, ["rm", "-f", helperName(tenant)]);
    await docker(to, ["rm", "-f", helperName(tenant)]);
  }
}

/**
 * How the Docker CLI reaches a server: this machine's engine as configured (DOCKER_HOST or the
 * default socket), or `ssh://user@host:port` through the system ssh (known_hosts, agent) with the
 * stack's key, via an `ssh` wrapper first on PATH (the Docker CLI has no option for a key file).
 */
export function engineFor(server: { name: string; ssh?: { host: string; user: string; port: number; privateKeyPath?: string } }, wrapperDir: string): Engine {
  if (server.ssh === undefined) return { name: server.name, env: { ...process.env } };
  const { host, user, port, privateKeyPath } = server.ssh;
  const dir = path.join(wrapperDir, server.name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "ssh"), toolScript(__dirname, "ssh-wrapper.sh"), { mode: 0o755 });
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `ssh://${user}@${host}:${port}`, PATH: `${dir}:${process.env.PATH ?? ""}` };
  // The wrapper reads the key from here: a path is never spliced into shell text.
  delete env.OPENCLAW_MOVE_SSH_KEY;
  if (privateKeyPath !== undefined) env.OPENCLAW_MOVE_SSH_KEY = path.resolve(privateKeyPath);
  // The shared connection's socket: inside wrapperDir, which main makes private (mkdtemp, 0700).
  env.OPENCLAW_MOVE_SSH_CONTROL = dir;
  return { name: server.name, env, ssh: { host, user, port, control: dir } };
}

/** Ends the move's shared ssh connections now (bounded) instead of when their ControlPersist runs out. */
export function endSharedConnections(engines: Engine[]): void {
  for (const e of engines) {
    if (e.ssh === undefined) continue;
    spawnSync(path.join(e.ssh.control, "ssh"), ["-o", `ControlPath=${e.ssh.control}/%C`, "-O", "exit", "-p", String(e.ssh.port), "-l", e.ssh.user, "--", e.ssh.host], {
      env: e.env, stdio: "ignore", timeout: 3000,
    });
  }
}
