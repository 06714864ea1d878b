import * as fs from "fs";
import * as path from "path";
import { LIMITS } from "../core/limits";
import { HostingInputError, Problem } from "../core/problems";
import { RosterFile, RosterRead, classifyRosterEntry, rosterEntryProblem } from "../core/roster";

export type { RosterRead };
import { printable } from "../core/yamlText";


/**
 * The program's way in: `rosterDir` resolved against the project, and refused when it leaves the
 * project (a symbolic link included), so a stack file can never make the program read other files.
 */
export function readRoster(projectRoot: string, rosterDir: string): RosterRead {
  const fail = (message: string): RosterRead => ({ files: [], problems: [{ field: "rosterDir", message }] });
  if (path.isAbsolute(rosterDir) || rosterDir.split(/[\\/]/).includes("..")) return fail("must be a folder inside the project");
  let real: string;
  let root: string;
  try {
    root = fs.realpathSync(projectRoot);
    real = fs.realpathSync(path.resolve(projectRoot, rosterDir));
  } catch {
    return fail(`${printable(rosterDir)} does not exist (it is relative to the project)`);
  }
  if (real !== root && !real.startsWith(root + path.sep)) return fail(`${printable(rosterDir)} leads out of the project through a symbolic link`);
  return readRosterFolder(real);
}

/**
 * Reads a roster folder's tenant files without following links or opening anything but plain
 * files (a fifo named alice.yaml would block the read forever). Every entry is a tenant file, an
 * ignored kind (see classifyRosterEntry), or a problem.
 */
export function readRosterFolder(dir: string): RosterRead {
  const problems: Problem[] = [];
  let entries: string[];
  try {
    if (!fs.statSync(dir).isDirectory()) return { files: [], problems: [{ field: "rosterDir", message: `${printable(dir)} is not a folder` }] };
    entries = fs.readdirSync(dir);
  } catch {
    return { files: [], problems: [{ field: "rosterDir", message: `${printable(dir)} is not a readable folder` }] };
  }
  const candidates = entries.map((file) => ({ file, entry: classifyRosterEntry(file) })).filter(({ entry }) => entry.kind !== "ignored");
  if (candidates.length > LIMITS.rosterEntries) {
    return { files: [], problems: [{ field: "rosterDir", message: `holds ${candidates.length} entries; a stack may have at most ${LIMITS.tenants} tenants` }] };
  }
  const tenantCount = candidates.filter(({ entry }) => entry.kind === "tenant").length;
  if (tenantCount > LIMITS.tenants) {
    return { files: [], problems: [{ field: "rosterDir", message: `holds ${tenantCount} tenant files; a stack may have at most ${LIMITS.tenants} tenants` }] };
  }
  const files: RosterFile[] = [];
  for (const { file, entry } of candidates.sort((a, b) => (a.file < b.file ? -1 : 1))) {
    if (entry.kind === "problem") {
      problems.push(rosterEntryProblem(file, entry.message));
      continue;
    }
    const shown = printable(file);
    const full = path.join(dir, file);
    const stat = fs.lstatSync(full, { throwIfNoEntry: false });
    const wrong =
      stat === undefined ? `${shown} vanished while the roster was read`
        : stat.isSymbolicLink() ? `${shown} is a symbolic link; tenant files must be plain files in the roster folder (a link can pull in any file)`
          : stat.isDirectory() ? `${shown} is a folder, not a tenant file`
            : !stat.isFile() ? `${shown} is not a plain file (a pipe, socket or device)`
              : stat.size > LIMITS.tenantFileBytes ? `${shown} is ${stat.size} bytes, over the limit of ${LIMITS.tenantFileBytes} bytes`
                : undefined;
    if (wrong !== undefined) {
      problems.push(rosterEntryProblem(file, wrong));
      continue;
    }
    const text = readBounded(full);
    if (text === undefined) problems.push(rosterEntryProblem(file, `${shown} is not UTF-8 text, or could not be read`));
    else files.push({ file, text });
  }
  return { files, problems };
}

/** Reads at most one byte over the limit (the file may grow after lstat), without following a link. */
function readBounded(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const buffer = Buffer.alloc(LIMITS.tenantFileBytes + 1);
    const length = fs.readSync(fd, buffer, 0, buffer.length, 0);
    return new TextDecoder("utf-8", { fatal: true }).decode(buffer.subarray(0, length));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** For tools that take a folder from the command line: the folder's tenant files, or a thrown list of problems. */
export function readRosterDir(dir: string): RosterFile[] {
  const read = readRosterFolder(dir);
  if (read.problems.length > 0) throw new HostingInputError(read.problems);
  return read.files;
}
