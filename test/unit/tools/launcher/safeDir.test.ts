// Where a local stack's Caddy files go (tools/launcher/safeDir.ts): judged before root writes there.
// The real folders, links and a planted /tmp/openclaw-dev are the launcher integration suite's (noSideEffects).
import * as fs from "fs";
import * as path from "path";
import { DirFacts, LAUNCHER_ROOT, dirChain, judgeDirChain, judgeEntries } from "../../../../tools/launcher/safeDir";

const dir = (p: string, uid = 0, mode = 0o755, kind: "dir" | "link" | "file" = "dir"): DirFacts => ({
  path: p, stat: { isSymlink: kind === "link", isDir: kind === "dir", uid, mode: (kind === "dir" ? 0o040000 : 0o100000) | mode },
});
const absent = (p: string): DirFacts => ({ path: p });
const ME = 0;

describe("the folders on the way to Caddy's files", () => {
  it("a fresh machine: the launcher's own folders are created (0700 by the shell), nothing else touched", () => {
    expect(dirChain(`${LAUNCHER_ROOT}/dev`)).toEqual(["/", "/var", "/var/lib", LAUNCHER_ROOT, `${LAUNCHER_ROOT}/dev`]);
    expect(judgeDirChain([dir("/"), dir("/var"), dir("/var/lib"), absent(LAUNCHER_ROOT), absent(`${LAUNCHER_ROOT}/dev`)], ME))
      .toEqual({ create: [LAUNCHER_ROOT, `${LAUNCHER_ROOT}/dev`], tighten: [] });
  });

  it("its own folders left readable by others (0755) are tightened to 0700; already 0700 is fine", () => {
    expect(judgeDirChain([dir("/"), dir("/var"), dir("/var/lib"), dir(LAUNCHER_ROOT, 0, 0o755), dir(`${LAUNCHER_ROOT}/dev`, 0, 0o700)], ME))
      .toEqual({ create: [], tighten: [LAUNCHER_ROOT] });
  });

  it("a pre-made /tmp/openclaw-dev of another user is refused (it would hold the Caddyfile root's Caddy loads)", () => {
    const v = judgeDirChain([dir("/"), dir("/tmp", 0, 0o1777), dir("/tmp/openclaw-dev", 1000, 0o755)], ME);
    expect(v).toEqual({ refused: "/tmp/openclaw-dev belongs to uid 1000, not to root or you: another user could plant files there (e.g. the Caddyfile root Caddy loads); remove it; nothing was changed" });
  });

  it("a symbolic link anywhere on the way is refused, whoever owns it", () => {
    expect(judgeDirChain([dir("/"), dir("/tmp", 0, 0o1777), dir("/tmp/openclaw-dev", 1000, 0o777, "link")], ME))
      .toEqual({ refused: expect.stringContaining("/tmp/openclaw-dev is a symbolic link; npm start does not write through links") });
    expect("refused" in judgeDirChain([dir("/"), dir("/var"), dir("/var/lib"), dir(LAUNCHER_ROOT, 0, 0o700, "link")], ME)).toBe(true);
  });

  it("a folder others can write (no sticky bit), or its own folder others could write, is refused", () => {
    expect(judgeDirChain([dir("/"), dir("/srv", 0, 0o777)], ME)).toEqual({ refused: expect.stringContaining("/srv has mode 0777: others can write in it") });
    expect(judgeDirChain([dir("/"), dir("/var"), dir("/var/lib"), dir(LAUNCHER_ROOT, 0, 0o777)], ME))
      .toEqual({ refused: expect.stringContaining(`${LAUNCHER_ROOT} has mode 0777: others could write in it and may have planted files`) });
    expect(judgeDirChain([dir("/"), dir("/var"), dir("/var/lib"), dir(LAUNCHER_ROOT, 0, 0o700), dir(`${LAUNCHER_ROOT}/dev`, 0, 0o770)], ME))
      .toEqual({ refused: expect.stringContaining("has mode 0770") });
  });

  it("a file where a folder should be is refused", () => {
    expect(judgeDirChain([dir("/"), dir("/var"), dir("/var/lib"), dir(LAUNCHER_ROOT, 0, 0o600, "file")], ME)).toEqual({ refused: `${LAUNCHER_ROOT} is not a folder; nothing was changed` });
  });

  it("production's /etc/caddy (root, 0755, not the launcher's) is used as it is: not tightened", () => {
    expect(judgeDirChain([dir("/"), dir("/etc"), dir("/etc/caddy")], ME)).toEqual({ create: [], tighten: [] });
  });
});

describe("what lies in the launcher's own folder", () => {
  it("a symbolic link (root would write through it) or another user's file is refused; its own files are fine", () => {
    const d = `${LAUNCHER_ROOT}/dev`;
    expect(judgeEntries(d, [{ name: "Caddyfile", isSymlink: false, uid: 0 }, { name: "caddy-data", isSymlink: false, uid: 0 }], ME)).toBeUndefined();
    expect(judgeEntries(d, [{ name: "Caddyfile.previous", isSymlink: true, uid: 0 }], ME))
      .toEqual({ refused: `${d}/Caddyfile.previous is a symbolic link; npm start does not write through links: remove it; nothing was changed` });
    expect(judgeEntries(d, [{ name: "Caddyfile", isSymlink: false, uid: 1000 }], ME)).toEqual({ refused: expect.stringContaining("belongs to uid 1000") });
  });
});

describe("the launcher is an operator's tool: it never runs the test engine's script or a service manager", () => {
  // The pure parts do no I/O (test/unit/architecture); the I/O files and the installer are read here.
  it("no I/O file of tools/launcher runs runtime-env.sh, systemctl, invoke-rc.d, policy-rc.d, /etc/init.d or kill", () => {
    const room = path.resolve(__dirname, "..", "..", "..", "..", "tools", "launcher");
    const offending: string[] = [];
    for (const file of ["main.ts", "machine.ts", "probes.ts", "caddy.ts", "inputs.ts", "pulumiCli.ts", "install.sh"]) {
      const text = fs.readFileSync(path.join(room, file), "utf8");
      // Comments may explain why the test engine's script is not run; code may not run it.
      const code = text.split("\n").filter((l) => !/^\s*(\/\/|\*|\/\*|#)/.test(l)).join("\n");
      for (const word of ["runtime-env", "systemctl", "invoke-rc.d", "policy-rc.d", "/etc/init.d", "kill"]) {
        if (code.includes(word)) offending.push(`${file}: ${word}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
