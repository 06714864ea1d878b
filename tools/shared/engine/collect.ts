/** The Docker calls behind the status model: list, inspect, one stats sample (per container or per server), volume sizes, logs. */
import Docker from "dockerode";
import { z } from "zod";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../../../core/labels";
import {
  ContainerSample, DataDisk, DesiredTenant, InspectSchema, ListedContainerSchema, ServerCertificates, TenantInput, discoverTenants, parseCertificateRecord, parseDf,
  parseStatsLines, statsCommand, tenantsToReport, volumeSizes,
} from "../status";
import { TLS_STATE_DIR } from "../../../core/tls";
import { BACKUP_STATUS_DIR } from "../../../core/backup";
import { ServerBackups, parseBackupFiles } from "../status/backups";
import { message, pool, withTimeout } from "../../../program/bounded";
import type { Client } from "../../../program/dockerClient";

export interface CollectOptions {
  server: string;
  timeoutMs: number;
  concurrency: number;
  only?: readonly string[];
  /** The roster's tenants on this server; absent = not compared against a roster. */
  desired?: readonly DesiredTenant[];
  /** Bytes per volume (from `diskUsage`); absent = disk not measured this time. */
  volumeSizes?: ReadonlyMap<string, number>;
  /** false: skip the stats calls (state and health only; cheaper, e.g. for a quick check). */
  stats?: boolean;
  /** Samples every running container at once (over SSH: one `docker stats` on the server); absent = one stats call each. */
  sampleAll?: SampleAll;
}

/** GET /system/df's volume sizes, and how long the daemon took (it walks every volume). */
export async function diskUsage(docker: Docker, timeoutMs: number): Promise<{ sizes: Map<string, number>; ms: number }> {
  const t0 = Date.now();
  // The daemon sizes every volume (and lists images and containers) for this one call.
  const df: unknown = await withTimeout("measuring volume sizes (system df)", timeoutMs, docker.df());
  return { sizes: volumeSizes(df), ms: Date.now() - t0 };
}

/**
 * The server's data filesystem: `df` of Docker's data root, run by a throwaway container of a
 * tenant's own image (already on the server) that sees that folder read-only, as nobody, without a
 * network. The Docker API has no call for free space. undefined when no tenant image is there.
 */
export async function dataDiskOf(docker: Docker, timeoutMs: number): Promise<DataDisk | undefined> {
  const info = (await withTimeout("docker info", timeoutMs, docker.info())) as { DockerRootDir?: unknown };
  const root = typeof info.DockerRootDir === "string" ? info.DockerRootDir : "/var/lib/docker";
  const filters = { label: [`${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`] };
  const [any] = await withTimeout("listing containers", timeoutMs, docker.listContainers({ all: true, filters }));
  if (any === undefined) return undefined;
  const c = await withTimeout("creating the df helper", timeoutMs, docker.createContainer({
    Image: any.Image, Entrypoint: ["df"], Cmd: ["-P", "-k", "/data"], User: "65534:65534", NetworkDisabled: true,
    HostConfig: { Binds: [`${root}:/data:ro`], NetworkMode: "none", ReadonlyRootfs: true, CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges"] },
  }));
  try {
    await withTimeout("running df", timeoutMs, c.start());
    await withTimeout("running df", timeoutMs, c.wait());
    const out: unknown = await withTimeout("reading df", timeoutMs, c.logs({ stdout: true, stderr: false, follow: false }));
    return parseDf(demuxLogs(Buffer.isBuffer(out) ? out : Buffer.from(String(out), "utf8")).join("\n"), root);
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * The server's certificate record (server-scripts/tls-certificate.sh writes it daily and after each
 * renewal): read like the data disk, by a throwaway container of a tenant's image that sees only
 * that folder, read-only, as nobody, without a network. A bind mount (not a volume), so a server
 * without the folder gives an error instead of an empty folder Docker would create. undefined when
 * no tenant image is there or the server has no record yet.
 */
export async function certificatesOf(docker: Docker, timeoutMs: number, now = new Date(), dir = TLS_STATE_DIR): Promise<ServerCertificates | undefined> {
  const filters = { label: [`${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`] };
  const [any] = await withTimeout("listing containers", timeoutMs, docker.listContainers({ all: true, filters }));
  if (any === undefined) return undefined;
  const c = await withTimeout("creating the certificate reader", timeoutMs, docker.createContainer({
    Image: any.Image, Entrypoint: ["cat"], Cmd: ["/tls/status.json"], User: "65534:65534", NetworkDisabled: true,
    HostConfig: {
      Mounts: [{ Type: "bind", Source: dir, Target: "/tls", ReadOnly: true }],
      NetworkMode: "none", ReadonlyRootfs: true, CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges"],
    },
  }));
  try {
    await withTimeout("reading the certificate record", timeoutMs, c.start());
    const exit = (await withTimeout("reading the certificate record", timeoutMs, c.wait())) as { StatusCode?: number };
    if (exit.StatusCode !== 0) return undefined;
    const out: unknown = await withTimeout("reading the certificate record", timeoutMs, c.logs({ stdout: true, stderr: false, follow: false }));
    return parseCertificateRecord(demuxLogs(Buffer.isBuffer(out) ? out : Buffer.from(String(out), "utf8")).join("\n"), now);
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * The server's backup status files (/var/lib/openclaw/backup/status, root-only), read by a
 * throwaway container of a tenant's own image: root without capabilities (the files are root's own),
 * the folder alone mounted read-only, no network. A bind that must exist (Mounts, not Binds): on a
 * server without backups nothing is created and the answer is undefined.
 */
export async function backupsOf(docker: Docker, timeoutMs: number): Promise<ServerBackups | undefined> {
  const filters = { label: [`${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`] };
  const [any] = await withTimeout("listing containers", timeoutMs, docker.listContainers({ all: true, filters }));
  if (any === undefined) return undefined;
  let c: Docker.Container;
  try {
    c = await withTimeout("creating the backup status reader", timeoutMs, docker.createContainer({
      Image: any.Image, Entrypoint: ["sh", "-c", 'for f in /status/*.json; do [ -f "$f" ] && printf "%s " "${f##*/}" && cat "$f"; done; exit 0'], Cmd: [],
      User: "0:0", NetworkDisabled: true,
      HostConfig: { Mounts: [{ Type: "bind", Source: BACKUP_STATUS_DIR, Target: "/status", ReadOnly: true }], NetworkMode: "none", ReadonlyRootfs: true, CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges"] },
    }));
  } catch {
    return undefined; // no status folder: backups are not installed on this server
  }
  try {
    await withTimeout("reading backup status", timeoutMs, c.start());
    await withTimeout("reading backup status", timeoutMs, c.wait());
    const out: unknown = await withTimeout("reading backup status", timeoutMs, c.logs({ stdout: true, stderr: false, follow: false }));
    return parseBackupFiles(demuxLogs(Buffer.isBuffer(out) ? out : Buffer.from(String(out), "utf8")).join("\n"));
  } catch {
    return undefined;
  } finally {
    await c.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * Samples running containers, by full ID, all at once (e.g. one `docker stats` on the server, see
 * statsOverSsh); a container missing from the answer is sampled on its own.
 */
export type SampleAll = (ids: readonly string[]) => Promise<Map<string, ContainerSample>>;

/** Every container's sample from one `docker stats --no-stream` run on the server over `run` (a client's shared ssh connection). */
export function statsOverSsh(run: NonNullable<Client["run"]>, server: string, timeoutMs: number): SampleAll {
  return async (ids) => parseStatsLines(await run(statsCommand(ids), `docker stats on server ${server}`, timeoutMs));
}

/**
 * Each tenant's inspect, then one sample of each running one: all at once by `sampleAll` when
 * given (started with the inspects, as soon as the list says what runs), else (and for any it
 * missed) one stats call per container, `concurrency` at a time.
 */
export async function collect(docker: Docker, opts: CollectOptions): Promise<TenantInput[]> {
  const filters = { label: [`${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`] };
  const [containers, volumes] = await Promise.all([
    withTimeout("listing containers", opts.timeoutMs, docker.listContainers({ all: true, filters })),
    withTimeout("listing volumes", opts.timeoutMs, docker.listVolumes({ filters })),
  ]);
  const onEngine = discoverTenants(containers, volumes.Volumes);
  // A second pass only when a roster or --only adds names the engine may not have.
  const tenants = opts.desired === undefined && opts.only === undefined
    ? onEngine
    : discoverTenants(containers, volumes.Volumes, tenantsToReport(onEngine.map((t) => t.tenant), opts.desired, opts.only));
  const desired = new Map((opts.desired ?? []).map((d) => [d.tenant, d]));
  const listedRunning = new Set(z.array(ListedContainerSchema).parse(containers).filter((c) => c.State === "running").map((c) => c.Id));
  const toSample = tenants.flatMap((t) => (t.container !== null && listedRunning.has(t.container.id) ? [t.container.id] : []));
  const batch: Promise<{ samples: Map<string, ContainerSample>; failed?: string }> =
    opts.stats === false || opts.sampleAll === undefined || toSample.length === 0
      ? Promise.resolve({ samples: new Map() })
      : opts.sampleAll(toSample).then((samples) => ({ samples }), (err: unknown) => ({ samples: new Map(), failed: message(err) }));
  const inspected = await pool(tenants, opts.concurrency, async (t): Promise<{ input: TenantInput; id?: string; name?: string }> => {
    const input: TenantInput = {
      tenant: t.tenant, server: opts.server, volumes: t.volumes, otherContainers: t.otherContainers, volumeSizes: opts.volumeSizes,
      desired: desired.get(t.tenant), notInRoster: opts.desired !== undefined && !desired.has(t.tenant),
    };
    if (t.container === null) return { input };
    try {
      input.inspect = await withTimeout(`inspecting ${t.container.name}`, opts.timeoutMs, docker.getContainer(t.container.id).inspect());
    } catch (err) {
      return { input: { ...input, error: `inspect failed: ${message(err)}` } };
    }
    const parsed = InspectSchema.safeParse(input.inspect);
    const state = parsed.success ? parsed.data.State : undefined;
    const sampled = opts.stats !== false && state !== undefined && state.Running && state.Paused !== true && !state.Restarting;
    return sampled ? { input, id: t.container.id, name: t.container.name } : { input };
  });
  const { samples, failed } = await batch;
  const alone = inspected.filter((i) => i.id !== undefined && !samples.has(i.id));
  for (const i of inspected) if (i.id !== undefined && samples.has(i.id)) i.input.sample = samples.get(i.id);
  await pool(alone, opts.concurrency, async ({ input, id, name }) => {
    if (failed !== undefined) input.sampleNote = `sampled on its own: ${failed}`;
    try {
      // stream=false: the daemon takes two samples about a second apart, so precpu_stats is filled.
      // (one-shot does not help: Docker 20.10's daemon still answers at its next one-second tick.)
      input.stats = await withTimeout(`stats of ${name ?? ""}`, opts.timeoutMs, docker.getContainer(id ?? "").stats({ stream: false }));
    } catch (err) {
      input.error = message(err);
    }
  });
  return inspected.map((i) => i.input);
}

/**
 * Docker's log stream without a TTY is framed: 8-byte headers (stream, 0, 0, 0, big-endian length).
 * Returns the text lines; a buffer without frames (a TTY container) is taken as plain text.
 */
export function demuxLogs(buf: Buffer): string[] {
  const chunks: string[] = [];
  let framed = buf.length >= 8 && (buf[0] === 1 || buf[0] === 2) && buf[1] === 0 && buf[2] === 0 && buf[3] === 0;
  let i = 0;
  while (framed && i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    if (i + 8 + len > buf.length) {
      framed = false;
      break;
    }
    chunks.push(buf.subarray(i + 8, i + 8 + len).toString("utf8"));
    i += 8 + len;
  }
  const text = framed ? chunks.join("") : buf.toString("utf8");
  return text.split("\n").filter((l) => l !== "");
}

/** The container's last `tail` log lines (stdout and stderr), unredacted: the caller redacts. */
export async function lastLogLines(docker: Docker, container: string, tail: number, timeoutMs: number): Promise<string[]> {
  const out: unknown = await withTimeout(`logs of ${container}`, timeoutMs,
    docker.getContainer(container).logs({ stdout: true, stderr: true, tail, timestamps: true, follow: false }));
  const buf = Buffer.isBuffer(out) ? out : Buffer.from(String(out), "utf8");
  return demuxLogs(buf).slice(-tail);
}
