// The effectful half of `npm run move`: stops a tenant on one server, copies its volumes to another
// with the Docker CLI (local or DOCKER_HOST=ssh://), and proves the copy file by file. The roster
// edit that makes Pulumi run the tenant on the new server is the caller's last step.
import { VolumeKey } from "../../core/diskBudget";
import { TenantPlan } from "../../core/plan";
import { tenantVolumes } from "../../core/retainedData";
import { Engine, EngineError, docker, must as mustOn, untilOk, volumeManifest } from "../shared/dockerCli";
import { Manifest, compareManifests, manifestTotals } from "../shared/manifest";
import { STOP_FOR_MOVE, targetVolumes } from "./decide";

export type { Engine } from "../shared/dockerCli";
export { endSharedConnections, engineFor } from "../shared/dockerCli";

export interface MoveResult {
  files: number;
  bytes: number;
  /** Files whose byte count and SHA-256 were compared (all of them). */
  checked: number;
  ms: number;
}

export class MoveError extends EngineError {}

/** A Docker call of the move that must succeed; its failure is a MoveError. */
const must = (engine: Engine, args: string[], what: string, timeoutMs?: number): Promise<string> =>
  mustOn(engine, args, what, timeoutMs).catch((err: unknown) => {
    throw err instanceof EngineError && !(err instanceof MoveError) ? new MoveError(err.message) : err;
  });

const KEYS = ["state", "credentials"] as const;
/** Copy and manifest helpers are named after the tenant, so a leftover is found and removed by the next run. */
const helperName = (tenant: string) => `openclaw-${tenant}-move`;
const mounts = (volumes: readonly string[]) => volumes.flatMap((volume, i) => ["-v", `${volume}:/v/${KEYS[i]}`]);

/** Each source volume's driver options (how it was made): how the copy must be made. */
async function sourceVolumeOptions(from: Engine, volumes: readonly string[]): Promise<Record<VolumeKey, Record<string, string> | null>> {
  const [state, credentials] = await Promise.all(volumes.map(async (v) => {
    const out = await must(from, ["volume", "inspect", "-f", "{{json .Options}}", v], `reading how ${v} was made`);
    const parsed: unknown = JSON.parse(out.trim() || "null");
    return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, string>) : null;
  }));
  return { state, credentials };
}

function manifest(engine: Engine, tenant: string, volumes: readonly string[], image: string): Promise<Manifest> {
  return volumeManifest(engine, volumes.map((source, i) => ({ source, key: KEYS[i] })), image, `reading ${tenant}'s files`);
}

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
  storage: Pick<TenantPlan, "name" | "diskMb" | "diskQuota" | "data">, image: string, from: Engine, to: Engine, log: (line: string) => void = () => undefined,
): Promise<MoveResult> {
  const tenant = storage.name;
  const t0 = Date.now();
  const container = `openclaw-${tenant}`;
  // The copy it runs on now (a restored tenant's `data:` copy), under the same names on the new server.
  const volumes = tenantVolumes(tenant, storage.data);
  // Refuse before anything changes: the new server must not hold this tenant already.
  if ((await docker(to, ["container", "inspect", container])).code === 0) throw new MoveError(`server ${to.name} already has a container ${container}; nothing was changed`);
  for (const v of volumes) {
    if ((await docker(to, ["volume", "inspect", v])).code === 0) {
      throw new MoveError(`server ${to.name} already has a volume ${v} (an earlier move or a retained copy); delete or rename it there first; nothing was changed`);
    }
  }
  await must(to, ["image", "inspect", image], `finding the image ${image} (pull it on the new server first)`);
  // The copy's tar (the image's) must write and read the POSIX format: a tenant's uid does not fit an
  // older header. Asked before the tenant stops, so an image without GNU tar (busybox's) is refused
  // while nothing has changed.
  for (const engine of [from, to]) {
    const probe = await docker(engine, ["run", "--rm", "--network", "none", "--entrypoint", "tar", image, "--format=posix", "--sort=name", "-cf", "/dev/null", "-T", "/dev/null"]);
    if (probe.code !== 0) {
      throw new MoveError(`server ${engine.name}: the image ${image} has no tar that writes the POSIX format (GNU tar), which the copy needs to keep ${tenant}'s own uid (${(probe.stderr || probe.failure || "").trim().slice(0, 200)}); nothing was changed`);
    }
  }
  // The new server's volumes keep the tenant's disk budget, or the move is refused here.
  const source = await sourceVolumeOptions(from, volumes);
  const target = targetVolumes(storage, to.name, source);
  if ("refused" in target) throw new MoveError(target.refused);
  const wasRunning = (await docker(from, ["container", "inspect", "-f", "{{.State.Running}}", container])).stdout.trim() === "true";

  const created: string[] = [];
  try {
    if (wasRunning) {
      log(`stopping ${container} on ${from.name}`);
      await must(from, STOP_FOR_MOVE.args(container), `stopping ${container}`, STOP_FOR_MOVE.timeoutMs);
    }
    const source = await manifest(from, tenant, volumes, image);
    for (const [i, v] of volumes.entries()) {
      await must(to, ["volume", "create", "--label", `openclaw.tenant=${tenant}`, "--label", "managed-by=openclaw-hosting", ...target.opts[KEYS[i]], v], `creating ${v}`);
      created.push(v);
    }
    // One tar stream from a read-only helper on the old server into a helper on the new one, as root
    // so owners (numeric) and modes are kept, and compared with the files; nothing is written to disk in between.
    log(`copying ${tenant}'s volumes from ${from.name} to ${to.name}`);
    const helper = (extra: string[], ro: boolean) => [
      "run", "--rm", "--name", helperName(tenant), "--network", "none", "--user", "0:0", ...extra, "--entrypoint", "tar",
      ...mounts(volumes).map((m) => (m.startsWith("-") || !ro ? m : `${m}:ro`)), image,
    ];
    // --numeric-owner: owners travel as numbers (the tenant's own uid has no name in the image).
    // --format=posix (pax): a tenant's uid (1900000000 up) does not fit ustar's 7 octal digits
    // (2097151 at most); GNU tar (the image's, Debian's) stores it whole. A tar without it refuses here.
    // --sort=name: the same stream for the same files, whatever order the filesystem lists them in.
    const r = await docker(from, [...helper([], true), "--numeric-owner", "--format=posix", "--sort=name", "-C", "/v", "-cf", "-", "."], 3_600_000, { engine: to, args: [...helper(["-i"], false), "--numeric-owner", "-C", "/v", "-xf", "-"] });
    if (r.code !== 0) throw new MoveError(`copying the volumes from ${from.name} to ${to.name} failed: ${[r.failure, r.stderr].filter((x) => x !== undefined && x !== "").join("; ")}`);
    const copy = await manifest(to, tenant, volumes, image);
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

