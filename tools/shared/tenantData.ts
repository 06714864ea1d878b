/** What the tools that put a tenant's data on a server (move, restore) decide from the plan alone. No I/O. */
import { parseDocument } from "yaml";
import { DISKS_DIR, VolumeKey, volumeDriverOpts } from "../../core/diskBudget";
import { HostingPlan, TenantPlan } from "../../core/plan";

/**
 * The tenant's file after its data is in place on server `to`: `server: TO`, `data: LABEL` when the
 * data is a restored copy (absent: left as it was), and a pinned port dropped when another tenant
 * already has it on the new server (the pool then chooses; `npm run pin` pins it again).
 */
export function rosterTextAfter(text: string, plan: HostingPlan, tenant: string, to: string, data?: string): string {
  const doc = parseDocument(text);
  doc.set("server", to);
  if (data !== undefined) doc.set("data", data);
  const port = doc.get("port");
  if (port !== undefined && plan.tenants.some((x) => x.name !== tenant && x.server === to && x.port === port)) doc.delete("port");
  return doc.toString();
}

/**
 * The tenant's roster file among the folder's entries: `<tenant>.yaml` or `<tenant>.yml` (both are
 * tenant files). Found before any engine is touched, so a tool never changes a tenant whose file
 * it then cannot write.
 */
export function tenantFileName(entries: readonly string[], tenant: string): { file: string } | { refused: string } {
  const found = [`${tenant}.yaml`, `${tenant}.yml`].filter((f) => entries.includes(f));
  if (found.length === 1) return { file: found[0] };
  if (found.length === 0) return { refused: `tenant ${tenant} has no roster file (${tenant}.yaml or ${tenant}.yml) in the roster folder; nothing was changed` };
  return { refused: `tenant ${tenant} has two roster files (${found.join(", ")}); keep one; nothing was changed` };
}

/** `docker volume create --opt` pairs for each of the tenant's volumes on the new server, or why not. */
export type TargetVolumes = { opts: Record<VolumeKey, string[]> } | { refused: string };

/**
 * How the tenant's volumes are made on the new server so its disk budget holds there as it does now.
 * `source` is each volume's driver options on the old server (`docker volume inspect`: .Options),
 * the truth about how it was made (a tenant keeps its image even after diskQuota changed).
 * - A disk image (diskQuota: image, or a volume binding into the disks folder) is refused: the tool
 *   cannot create and mount the image on the new server, and plain volumes there would drop the budget.
 * - XFS sizes (diskQuota: xfs, or a `size` option) are created with the same sizes.
 * - Otherwise plain volumes, as the program makes them with diskQuota: off.
 */
export function targetVolumes(t: Pick<TenantPlan, "name" | "diskMb" | "diskQuota">, to: string, source: Readonly<Record<VolumeKey, Readonly<Record<string, string>> | null>>, tool = "npm run move"): TargetVolumes {
  const sourceOpts = Object.values(source);
  const onImage = t.diskQuota === "image" || sourceOpts.some((o) => o?.device?.startsWith(`${DISKS_DIR}/`) === true);
  if (onImage) {
    return {
      refused:
        `tenant ${t.name}'s data is in its own disk image (diskQuota: image), which ${tool} cannot create on server ${to}; ` +
        `plain volumes there would drop its ${t.diskMb} MB budget. Nothing was changed. Move it by hand (docs/operations.md, "Moving a tenant with a disk image")`,
    };
  }
  const sized = t.diskQuota === "xfs" || sourceOpts.some((o) => o?.size !== undefined);
  const opts = (key: VolumeKey): string[] => {
    const o = sized ? volumeDriverOpts(t.name, key, t.diskMb, "xfs") ?? {} : {};
    return Object.entries(o).flatMap(([k, v]) => ["--opt", `${k}=${v}`]);
  };
  return { opts: { state: opts("state"), credentials: opts("credentials") } };
}
