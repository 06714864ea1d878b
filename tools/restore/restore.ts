// The effectful half of `npm run restore` and `npm run recover`: on the target server, restic (run
// there, with the server's own root-only restic.env) restores a tenant's snapshot into a staging
// directory with --verify; a helper container copies it into FRESH volumes; every path, kind, byte
// count, owner and mode is compared with the snapshot's listing and every file's SHA-256 between
// the staged copy and the volumes. Live volumes are never touched; the roster edit is the caller's.
import { TenantPlan } from "../../core/plan";
import { Engine, EngineError, docker, must, onServer, untilOk, volumeManifest } from "../shared/dockerCli";
import { compareManifests, manifestTotals } from "../shared/manifest";
import { toolScript } from "../shared/shellScript";
import { targetVolumes } from "../shared/tenantData";
import {
  KEYS, RESTORE_DIR, STAGING_DIR, Snapshot, chooseSnapshot, compareOwners, compareWithSnapshot, freshVolumes, parseListing, parseOwners, parseSnapshots,
} from "./decide";

export class RestoreError extends EngineError {}

export interface RestoreRequest {
  tenant: Pick<TenantPlan, "name" | "diskMb" | "diskQuota" | "image">;
  stack: string;
  /** `latest` or a snapshot ID (prefix). */
  snapshot: string;
  /** The fresh data label: the volumes filled are tenantVolumes(tenant, label). */
  label: string;
  to: Engine;
  log?: (line: string) => void;
}

export interface RestoreResult {
  snapshot: Snapshot;
  volumes: string[];
  files: number;
  bytes: number;
  /** Paths (files, directories, others) compared with the snapshot's listing. */
  paths: number;
  ms: { find: number; stage: number; copy: number; verify: number; total: number };
}

const helperName = (tenant: string) => `openclaw-${tenant}-restore`;
const script = () => toolScript(__dirname, "restic-remote.sh");

/** The tenant's snapshots as the target server's repository access sees them; fails loudly (wrong password, no repository). */
export async function listSnapshots(to: Engine, tenant: string, stack: string): Promise<Snapshot[]> {
  const r = await onServer(to, script(), ["snapshots", tenant, stack], 120_000);
  if (r.code !== 0) throw new RestoreError(`server ${to.name}: listing ${tenant}'s snapshots failed (${r.failure}): ${lastLines(r.stderr)}; nothing was changed`);
  const parsed = parseSnapshots(r.stdout);
  if ("error" in parsed) throw new RestoreError(`server ${to.name}: ${parsed.error}; nothing was changed`);
  return parsed;
}

/**
 * Restores one tenant's snapshot into fresh volumes on `to`. Refused before anything changes when
 * the snapshot is not there, the repository cannot be read, the fresh volumes exist already or the
 * tenant's data is in a disk image. On any later failure the volumes this run created and its
 * staging directory are removed; nothing else on the server was touched.
 */
export async function restoreTenant(req: RestoreRequest): Promise<RestoreResult> {
  const { tenant: t, to, label } = req;
  const log = req.log ?? (() => undefined);
  const t0 = Date.now();
  const volumes = freshVolumes(t.name, label);
  const target = targetVolumes(t, to.name, { state: null, credentials: null }, "npm run restore");
  if ("refused" in target) throw new RestoreError(target.refused);
  const choice = chooseSnapshot(await listSnapshots(to, t.name, req.stack), t.name, req.stack, req.snapshot);
  if ("refused" in choice) throw new RestoreError(choice.refused);
  const chosen = choice.snapshot;
  const found = Date.now();
  for (const v of volumes) {
    if ((await docker(to, ["volume", "inspect", v])).code === 0) throw new RestoreError(`server ${to.name} already has a volume ${v}; nothing was changed`);
  }
  await must(to, ["image", "inspect", t.image], `finding the image ${t.image} (pull it on ${to.name} first)`);

  const stage = `${RESTORE_DIR}/${t.name}.${label}`;
  const staged = (key: string) => `${stage}${STAGING_DIR}/${t.name}/${key}`;
  const created: string[] = [];
  let stagedAt = found;
  let copiedAt = found;
  try {
    log(`restoring snapshot ${chosen.id.slice(0, 8)} of ${t.name} (${chosen.time}, from ${chosen.hostname ?? "?"}) on ${to.name} with --verify`);
    const r = await onServer(to, script(), ["stage", chosen.id, stage], 3_600_000);
    if (r.code !== 0) throw new RestoreError(`server ${to.name}: restic restore failed (${r.failure}): ${lastLines(r.stderr)}`);
    const listing = parseListing(r.stdout, t.name);
    if (!KEYS.every((k) => listing.get(`./${k}`)?.type === "dir")) throw new RestoreError(`snapshot ${chosen.id.slice(0, 8)} holds no state/ and credentials/ for ${t.name}`);
    const stagedManifest = await volumeManifest(to, KEYS.map((key) => ({ source: staged(key), key })), t.image, `reading the staged snapshot of ${t.name}`);
    const stagedDiff = compareWithSnapshot(listing, stagedManifest);
    if (stagedDiff.length > 0) throw new RestoreError(`the staged restore differs from snapshot ${chosen.id.slice(0, 8)}: ${stagedDiff.slice(0, 10).join("; ")}`);
    stagedAt = Date.now();

    for (const [i, v] of volumes.entries()) {
      await must(to, ["volume", "create", "--label", `openclaw.tenant=${t.name}`, "--label", "managed-by=openclaw-hosting", ...target.opts[KEYS[i]], v], `creating ${v}`);
      created.push(v);
    }
    log(`copying into the fresh volumes ${volumes.join(", ")}`);
    const binds = KEYS.flatMap((key, i) => ["-v", `${staged(key)}:/src/${key}:ro`, "-v", `${volumes[i]}:/v/${key}`]);
    await must(to, ["run", "--rm", "--name", helperName(t.name), "--network", "none", "--user", "0:0", ...binds, "--entrypoint", "sh", t.image, "-c", toolScript(__dirname, "copy.sh")], `copying ${t.name}'s snapshot into ${volumes.join(", ")}`, 3_600_000);
    copiedAt = Date.now();

    const mounted = KEYS.map((key, i) => ({ source: volumes[i], key }));
    const restored = await volumeManifest(to, mounted, t.image, `reading ${t.name}'s restored volumes`);
    const differences = [...compareManifests(stagedManifest, restored), ...compareWithSnapshot(listing, restored)];
    if (differences.length > 0) throw new RestoreError(`the fresh volumes differ from snapshot ${chosen.id.slice(0, 8)}: ${differences.slice(0, 10).join("; ")}`);
    const ownersText = await must(to, ["run", "--rm", "--network", "none", "--user", "0:0", ...mounted.flatMap((m) => ["-v", `${m.source}:/v/${m.key}:ro`]), "--entrypoint", "sh", t.image, "-c", toolScript(__dirname, "owners.sh")], `reading owners in ${t.name}'s restored volumes`, 600_000);
    const ownerDiff = compareOwners(listing, parseOwners(ownersText));
    if (ownerDiff.length > 0) throw new RestoreError(`the fresh volumes' owners differ from snapshot ${chosen.id.slice(0, 8)}: ${ownerDiff.slice(0, 10).join("; ")}`);
    const totals = manifestTotals(restored);
    const end = Date.now();
    log(`verified ${totals.files} files, ${totals.bytes} bytes (${listing.size - 1} paths): kinds, byte counts, owners and modes as in the snapshot, SHA-256 equal to restic's verified copy`);
    return {
      snapshot: chosen, volumes, ...totals, paths: listing.size - 1,
      ms: { find: found - t0, stage: stagedAt - found, copy: copiedAt - stagedAt, verify: end - copiedAt, total: end - t0 },
    };
  } catch (err) {
    const left: string[] = [];
    await untilOk(async () => {
      await docker(to, ["rm", "-f", helperName(t.name)]);
      const still = await docker(to, ["container", "inspect", helperName(t.name)]);
      return { ...still, code: still.code === 0 ? 1 : 0 };
    });
    for (const v of created) {
      const r = await untilOk(() => docker(to, ["volume", "rm", v]));
      if (r.code !== 0) left.push(`the partial restore ${v} is still on ${to.name}: remove it there with docker volume rm ${v}`);
    }
    const reason = err instanceof Error ? err.message : String(err);
    throw new RestoreError(`restoring ${t.name} on ${to.name} stopped: ${reason}. ${["no tenant's running data was touched", ...left].join("; ")}; the roster was not changed`);
  } finally {
    const r = await onServer(to, script(), ["unstage", stage], 300_000);
    if (r.code !== 0) log(`warning: the staged restore ${stage} on ${to.name} could not be removed (${lastLines(r.stderr)}): it holds ${t.name}'s secrets; remove it as root`);
  }
}

function lastLines(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines.slice(-4).join(" | ") || "(no output)";
}
