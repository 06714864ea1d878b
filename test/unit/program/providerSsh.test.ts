import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureProviderSshControlDir } from "../../../program/providerSsh";

describe("the directory of the Docker provider's shared ssh connections", () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), "home-"));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  test("created 0700 under ~/.ssh (ssh exits when a ControlPath's directory is missing)", () => {
    const dir = ensureProviderSshControlDir(home);
    expect(dir).toBe(path.join(home, ".ssh", "openclaw-mux"));
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  });

  test("an existing one opened up to others is closed again", () => {
    fs.mkdirSync(path.join(home, ".ssh", "openclaw-mux"), { recursive: true, mode: 0o777 });
    fs.chmodSync(path.join(home, ".ssh", "openclaw-mux"), 0o777);
    expect(fs.statSync(ensureProviderSshControlDir(home)).mode & 0o777).toBe(0o700);
  });

  test("a link in its place is refused with a message naming it", () => {
    fs.mkdirSync(path.join(home, ".ssh"));
    fs.mkdirSync(path.join(home, "elsewhere"));
    fs.symlinkSync(path.join(home, "elsewhere"), path.join(home, ".ssh", "openclaw-mux"));
    expect(() => ensureProviderSshControlDir(home)).toThrow(/^stack: .*openclaw-mux .*must be a directory of this user's, not a link/);
  });
});
