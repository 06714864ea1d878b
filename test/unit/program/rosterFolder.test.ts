// The roster folder as the program and `npm run check` read it, on a real file system: every entry
// is a tenant file, an ignored kind (README.md and other .md notes, dotfiles) or a problem, and a
// rosterDir never leads out of the project.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { RosterRead, readRoster, readRosterFolder } from "../../../program/rosterFolder";
import { LIMITS } from "../../../core/limits";
import { Problem } from "../../../core/problems";

let project: string;
let roster: string;
beforeEach(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), "project-"));
  roster = path.join(project, "tenants");
  fs.mkdirSync(roster);
  fs.writeFileSync(path.join(roster, "alice.yaml"), "tier: standard\n");
});
afterEach(() => fs.rmSync(project, { recursive: true, force: true }));

function expectProblem(read: RosterRead, e: { tenant?: string; field: string; fragment: string }): void {
  const match = read.problems.find((p: Problem) => p.tenant === e.tenant && p.field === e.field && p.message.includes(e.fragment));
  if (match === undefined) throw new Error(`no problem ${JSON.stringify(e)} among ${JSON.stringify(read.problems)}`);
  expect(match.message).toContain(e.fragment);
}

type Setup = (dir: string) => void;
const entryCases: [label: string, setup: Setup, expected: { tenant?: string; field: string; fragment: string }][] = [
  ["a folder with a tenant file's name", (d) => fs.mkdirSync(path.join(d, "bob.yaml")), { tenant: "bob", field: "(file)", fragment: "is a folder" }],
  ["a dangling symbolic link with a tenant file's name", (d) => fs.symlinkSync(path.join(d, "gone.yaml"), path.join(d, "bob.yaml")), { tenant: "bob", field: "(file)", fragment: "symbolic link" }],
  ["a symbolic link to a file outside the roster", (d) => { fs.writeFileSync(path.join(project, "secret.yaml"), "tier: light\n"); fs.symlinkSync(path.join(project, "secret.yaml"), path.join(d, "bob.yaml")); }, { tenant: "bob", field: "(file)", fragment: "symbolic link" }],
  ["a symbolic link to a tenant file beside it", (d) => fs.symlinkSync("alice.yaml", path.join(d, "bob.yaml")), { tenant: "bob", field: "(file)", fragment: "symbolic link" }],
  ["a named pipe with a tenant file's name (reading it would block forever)", (d) => execFileSync("mkfifo", [path.join(d, "bob.yaml")]), { tenant: "bob", field: "(file)", fragment: "not a plain file" }],
  ["an upper-case extension", (d) => fs.writeFileSync(path.join(d, "bob.YAML"), "tier: light\n"), { tenant: "bob", field: "(file)", fragment: "lowercase .yaml or .yml" }],
  ["a mixed-case .Yml extension", (d) => fs.writeFileSync(path.join(d, "bob.Yml"), "tier: light\n"), { tenant: "bob", field: "(file)", fragment: "lowercase .yaml or .yml" }],
  ["an unrelated file", (d) => fs.writeFileSync(path.join(d, "notes.txt"), "x"), { field: "rosterDir", fragment: "notes.txt is not a tenant file" }],
  ["a sub-folder", (d) => fs.mkdirSync(path.join(d, "archive")), { field: "rosterDir", fragment: "archive is not a tenant file" }],
  ["a file over the size limit (not read)", (d) => fs.writeFileSync(path.join(d, "bob.yaml"), `tier: light\n#${"x".repeat(LIMITS.tenantFileBytes)}\n`), { tenant: "bob", field: "(file)", fragment: "over the limit" }],
  ["a file that is not UTF-8", (d) => fs.writeFileSync(path.join(d, "bob.yaml"), Buffer.from([0x74, 0x69, 0xff, 0xfe, 0x0a])), { tenant: "bob", field: "(file)", fragment: "not UTF-8" }],
];

describe("every entry of the roster folder is a tenant, ignored, or a problem", () => {
  test.each(entryCases)("%s", (_label, setup, expected) => {
    setup(roster);
    const read = readRoster(project, "tenants");
    expectProblem(read, expected);
    expect(read.files.map((f) => f.file)).toEqual(["alice.yaml"]);
  });

  test("README.md, other .md notes and dotfiles are ignored; tenant files are read", () => {
    for (const f of ["README.md", "CHANGES.md", ".gitkeep", ".alice.yaml.swp"]) fs.writeFileSync(path.join(roster, f), "x");
    fs.mkdirSync(path.join(roster, ".git"));
    fs.writeFileSync(path.join(roster, "bob.yml"), "tier: light\n");
    const read = readRoster(project, "tenants");
    expect(read.problems).toEqual([]);
    expect(read.files).toEqual([{ file: "alice.yaml", text: "tier: standard\n" }, { file: "bob.yml", text: "tier: light\n" }]);
  });

  test("more tenant files than the limit: one problem, nothing read", () => {
    for (let i = 0; i < LIMITS.tenants; i++) fs.writeFileSync(path.join(roster, `t${i}.yaml`), "tier: light\n");
    const read = readRoster(project, "tenants");
    expect(read.files).toEqual([]);
    expectProblem(read, { field: "rosterDir", fragment: `at most ${LIMITS.tenants} tenants` });
  });
});

describe("rosterDir stays inside the project", () => {
  test.each([
    ["an absolute path", "/etc", "inside the project"],
    ["a climb out with ..", "../elsewhere", "inside the project"],
    ["a folder that does not exist", "nowhere", "does not exist"],
    ["a file instead of a folder", "tenants/alice.yaml", "is not a folder"],
  ])("%s is refused", (_label, dir, fragment) => {
    expectProblem(readRoster(project, dir), { field: "rosterDir", fragment });
  });

  test("a symbolic link leading out of the project is refused", () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "outside-"));
    try {
      fs.writeFileSync(path.join(outside, "mallory.yaml"), "tier: heavy\n");
      fs.symlinkSync(outside, path.join(project, "linked"));
      const read = readRoster(project, "linked");
      expect(read.files).toEqual([]);
      expectProblem(read, { field: "rosterDir", fragment: "out of the project through a symbolic link" });
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  test("a symbolic link that stays inside the project is followed", () => {
    fs.symlinkSync("tenants", path.join(project, "current"));
    expect(readRoster(project, "current")).toEqual({ files: [{ file: "alice.yaml", text: "tier: standard\n" }], problems: [] });
  });

  test("an explicit folder (npm run check -- --roster DIR) is read wherever it is", () => {
    expect(readRosterFolder(roster).files.map((f) => f.file)).toEqual(["alice.yaml"]);
  });
});
