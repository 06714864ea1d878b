// Where a local stack's Caddy files live (the Caddyfile root Caddy loads, its certificate storage),
// judged before root writes there. Pure: the shell lstat()s each folder on the way and acts on the verdict.
import * as path from "path";

/** The launcher's own folder: root-only (0700), created by npm start, never under /tmp. */
export const LAUNCHER_ROOT = "/var/lib/openclaw-hosting";

/** One folder on the way to a target, as lstat() saw it (absent: undefined). */
export interface DirFacts {
  path: string;
  stat?: { isSymlink: boolean; isDir: boolean; uid: number; mode: number };
}

export type DirVerdict = { refused: string } | { create: string[]; tighten: string[] };

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, "0");

/** Every folder from / down to `target`, in order (what the shell lstat()s). */
export function dirChain(target: string): string[] {
  const parts = path.resolve(target).split(path.sep).filter((p) => p !== "");
  return ["/", ...parts.map((_, i) => `/${parts.slice(0, i + 1).join("/")}`)];
}

/** Is this folder the launcher's own (LAUNCHER_ROOT or below)? It must then be ours alone, mode 0700. */
export const launcherOwned = (dir: string): boolean => dir === LAUNCHER_ROOT || dir.startsWith(`${LAUNCHER_ROOT}/`);

/**
 * May root write in `chain`'s last folder? Every existing folder on the way must be a real folder
 * (a symbolic link is refused: whoever made it chooses where root writes), owned by root or by this
 * user, and writable by nobody else unless sticky (as /tmp: then the next folder's owner decides).
 * Folders under LAUNCHER_ROOT must also be readable by nobody else: one that others can write is
 * refused (they may have planted files in it); one they can only read is tightened to 0700.
 * Missing folders are created (0700 under LAUNCHER_ROOT). A pre-made /tmp/openclaw-dev of another
 * user is refused here, before root writes a Caddyfile into it.
 */
export function judgeDirChain(chain: readonly DirFacts[], me: number): DirVerdict {
  const create: string[] = [];
  const tighten: string[] = [];
  for (const dir of chain) {
    const s = dir.stat;
    if (s === undefined) {
      create.push(dir.path);
      continue;
    }
    if (s.isSymlink) return { refused: `${dir.path} is a symbolic link; npm start does not write through links (whoever made it chooses where root writes): remove it; nothing was changed` };
    if (!s.isDir) return { refused: `${dir.path} is not a folder; nothing was changed` };
    if (s.uid !== 0 && s.uid !== me) return { refused: `${dir.path} belongs to uid ${s.uid}, not to root or you: another user could plant files there (e.g. the Caddyfile root Caddy loads); remove it; nothing was changed` };
    const othersWrite = (s.mode & 0o022) !== 0;
    const sticky = (s.mode & 0o1000) !== 0;
    if (launcherOwned(dir.path)) {
      if (othersWrite) return { refused: `${dir.path} has mode ${octal(s.mode)}: others could write in it and may have planted files; check it, remove it (npm start makes it again, 0700); nothing was changed` };
      if ((s.mode & 0o077) !== 0) tighten.push(dir.path);
    } else if (othersWrite && !sticky) {
      return { refused: `${dir.path} has mode ${octal(s.mode)}: others can write in it (and replace what lies below); use a folder only root can write; nothing was changed` };
    }
  }
  return { create, tighten };
}

/** One entry inside a launcher-owned folder, as lstat() saw it. */
export interface EntryFacts {
  name: string;
  isSymlink: boolean;
  uid: number;
}

/**
 * The entries of a launcher-owned folder: a symbolic link (root would write through it: the edge
 * script's lock, backup and copy) or a file of another user is refused.
 */
export function judgeEntries(dir: string, entries: readonly EntryFacts[], me: number): { refused: string } | undefined {
  for (const e of entries) {
    if (e.isSymlink) return { refused: `${path.join(dir, e.name)} is a symbolic link; npm start does not write through links: remove it; nothing was changed` };
    if (e.uid !== 0 && e.uid !== me) return { refused: `${path.join(dir, e.name)} belongs to uid ${e.uid}, not to root or you: remove it; nothing was changed` };
  }
  return undefined;
}
