/** What a move copies and how it proves the copy: every file's path, byte count, SHA-256 and numeric owner. No I/O. */
export interface FileRecord {
  bytes: number;
  sha256: string;
  /** `uid:gid`, numeric: the tenant's own identity must arrive with its files (core/tenantIdentity.ts). */
  owner?: string;
}
export type Manifest = Map<string, FileRecord>;

/** Parses the output of manifest.sh (beside this file); directories are recorded with bytes -1 and no checksum. */
export function parseManifest(text: string): Manifest {
  const manifest: Manifest = new Map();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("DIR ")) {
      manifest.set(line.slice(4), { bytes: -1, sha256: "" });
      continue;
    }
    if (line.startsWith("OTHER ")) {
      manifest.set(line.slice(6), { bytes: -2, sha256: "" });
      continue;
    }
    const owned = /^OWNER (\d+:\d+) (.+)$/.exec(line);
    if (owned !== null) {
      const entry = manifest.get(owned[2]);
      if (entry === undefined) throw new Error(`manifest names an owner for an unlisted path: ${owned[2].slice(0, 200)}`);
      entry.owner = owned[1];
      continue;
    }
    const m = /^(\d+) ([0-9a-f]{64}) (.+)$/.exec(line);
    if (m === null) throw new Error(`unreadable manifest line: ${line.slice(0, 200)}`);
    manifest.set(m[3], { bytes: Number(m[1]), sha256: m[2] });
  }
  return manifest;
}

/** Every difference between the source and the copy, in words; empty means an exact copy. */
export function compareManifests(source: Manifest, copy: Manifest): string[] {
  const out: string[] = [];
  for (const [file, want] of source) {
    const got = copy.get(file);
    if (got === undefined) out.push(`${file} is missing in the copy`);
    else if (got.bytes !== want.bytes) out.push(`${file} has ${got.bytes} bytes in the copy, ${want.bytes} in the source`);
    else if (got.sha256 !== want.sha256) out.push(`${file} has a different SHA-256 in the copy`);
    else if (got.owner !== want.owner) out.push(`${file} is owned by ${got.owner ?? "?"} in the copy, ${want.owner ?? "?"} in the source`);
  }
  for (const file of copy.keys()) if (!source.has(file)) out.push(`${file} is in the copy but not in the source`);
  return out.sort();
}

export function manifestTotals(m: Manifest): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const r of m.values()) {
    if (r.bytes < 0) continue;
    files++;
    bytes += r.bytes;
  }
  return { files, bytes };
}
