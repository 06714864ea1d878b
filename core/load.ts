import * as fs from "fs";
import * as path from "path";
import { HostingInputError } from "./problems";
import { ROSTER_FILE, RosterFile } from "./roster";

/** The only file-system access of the core: read the roster folder's tenant files. */
export function readRosterDir(dir: string): RosterFile[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new HostingInputError([{ field: "rosterDir", message: `${dir} is not a folder` }]);
  }
  return fs
    .readdirSync(dir)
    .filter((file) => ROSTER_FILE.test(file))
    .sort()
    .map((file) => ({ file, text: fs.readFileSync(path.join(dir, file), "utf8") }));
}
