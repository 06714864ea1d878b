/**
 * A server filling up: the filesystem under Docker's data root (volumes, images; with diskQuota:
 * image the tenants' sparse images usually share it), as `df -P -k` reports it. Sparse images and
 * unenforced budgets can promise more than the disk has, so the whole filesystem is watched too.
 */
import { z } from "zod";

/** Flag a server whose data filesystem is at least this full. */
export const SERVER_DISK_THRESHOLD_PERCENT = 85;

export interface DataDisk {
  /** Where it was measured on the server (Docker's data root). */
  path: string;
  sizeBytes: number;
  usedBytes: number;
  availableBytes: number;
  /** Used of what non-root users can have, as df rounds it (used / (used + available)). */
  percent: number;
}

const Kb = z.coerce.number().int().nonnegative();

/** The last line of `df -P -k PATH`; throws on anything else (the caller says it was not measured). */
export function parseDf(text: string, path: string): DataDisk {
  const lines = text.trim().split("\n");
  const fields = (lines[lines.length - 1] ?? "").trim().split(/\s+/);
  if (lines.length < 2 || fields.length < 6) throw new Error(`df gave no filesystem line for ${path}`);
  const [size, used, available] = [fields[1], fields[2], fields[3]].map((f) => Kb.parse(f) * 1024);
  const percent = used + available === 0 ? 0 : Math.ceil((used / (used + available)) * 100);
  return { path, sizeBytes: size, usedBytes: used, availableBytes: available, percent };
}

const GIB = 1024 ** 3;
const gb = (bytes: number) => `${(bytes / GIB).toFixed(1)} GB`;

/** Why a server needs attention for its disk; empty when it does not. */
export function serverDiskReasons(disk: DataDisk | null, thresholdPercent = SERVER_DISK_THRESHOLD_PERCENT): string[] {
  if (disk === null || disk.percent < thresholdPercent) return [];
  return [`data disk (${disk.path}) at ${disk.percent}%: ${gb(disk.usedBytes)} used, ${gb(disk.availableBytes)} free of ${gb(disk.sizeBytes)} (>= ${thresholdPercent}%)`];
}
