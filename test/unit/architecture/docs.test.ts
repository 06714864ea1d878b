// The README's room map and the manual's links, checked against the tree they describe.
// A room (a top-level folder, or a folder directly under tools/ or test/) that the map does not
// name, a map entry that does not exist, or a relative link in README.md or docs/*.md to a file or
// heading that does not exist fails this test, so the front door cannot drift from the house again.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** What the checker needs from a tree: enough to run it on the repository or on an in-memory one. */
interface Tree {
  /** Folder names directly inside `rel` ("" is the root); empty when `rel` is not a folder. */
  folders(rel: string): string[];
  /** File names directly inside `rel`. */
  files(rel: string): string[];
  exists(rel: string): boolean;
  isFolder(rel: string): boolean;
  read(rel: string): string;
}

function diskTree(root: string): Tree {
  const at = (rel: string): string => path.join(root, ...rel.split("/").filter((p) => p !== ""));
  const entries = (rel: string): fs.Dirent[] => {
    try {
      return fs.readdirSync(at(rel), { withFileTypes: true });
    } catch {
      return [];
    }
  };
  return {
    folders: (rel) => entries(rel).filter((e) => e.isDirectory()).map((e) => e.name).sort(),
    files: (rel) => entries(rel).filter((e) => e.isFile()).map((e) => e.name).sort(),
    exists: (rel) => fs.existsSync(at(rel)),
    isFolder: (rel) => fs.existsSync(at(rel)) && fs.statSync(at(rel)).isDirectory(),
    read: (rel) => fs.readFileSync(at(rel), "utf8"),
  };
}

/** A tree from `{"path/to/file": "content"}`; folders are implied by the paths. */
function memoryTree(files: Record<string, string>): Tree {
  const paths = Object.keys(files);
  const folderSet = new Set<string>([""]);
  for (const p of paths) {
    const parts = p.split("/");
    for (let i = 1; i < parts.length; i++) folderSet.add(parts.slice(0, i).join("/"));
  }
  const childrenOf = (rel: string, pool: Iterable<string>): string[] => {
    const prefix = rel === "" ? "" : `${rel}/`;
    const out: string[] = [];
    for (const p of pool) {
      if (p === "" || !p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length);
      if (rest !== "" && !rest.includes("/")) out.push(rest);
    }
    return out.sort();
  };
  return {
    folders: (rel) => childrenOf(rel, folderSet),
    files: (rel) => childrenOf(rel, paths),
    exists: (rel) => rel in files || folderSet.has(rel),
    isFolder: (rel) => folderSet.has(rel),
    read: (rel) => {
      const text = files[rel];
      if (text === undefined) throw new Error(`no file ${rel}`);
      return text;
    },
  };
}

// Not rooms: installed packages, git's and CI's own folders, build output. Dot-folders (.ci,
// .pulumi-state, ...) are skipped by name, and so is every plain folder the .gitignore ignores
// (coverage/, test-artifacts/): they are produced by runs, not part of the house.
const NOT_ROOMS = new Set(["node_modules", ".git", ".github", "bin"]);

function ignoredTopFolders(tree: Tree): Set<string> {
  if (!tree.exists(".gitignore")) return new Set();
  const out = new Set<string>();
  for (const raw of tree.read(".gitignore").split("\n")) {
    const line = raw.trim().replace(/^\//, "").replace(/\/$/, "");
    // Only plain names ("coverage/", "test-artifacts/"): a pattern or a nested path is not a room.
    if (/^[A-Za-z0-9._-]+$/.test(line)) out.add(line);
  }
  return out;
}

/** The folders the room map must name: every top-level room, and every room of tools/ and test/. */
function rooms(tree: Tree): string[] {
  const ignored = ignoredTopFolders(tree);
  const top = tree
    .folders("")
    .filter((name) => !NOT_ROOMS.has(name) && !name.startsWith(".") && !ignored.has(name));
  const out = [...top];
  for (const wing of ["tools", "test"]) {
    if (top.includes(wing)) out.push(...tree.folders(wing).filter((n) => !n.startsWith(".")).map((n) => `${wing}/${n}`));
  }
  return out.sort();
}

/** Lines outside fenced code blocks, with their 1-based numbers (code is not prose: no links there). */
function proseLines(text: string): { line: string; number: number }[] {
  const out: { line: string; number: number }[] = [];
  let fence: string | null = null;
  text.split("\n").forEach((line, i) => {
    const m = /^\s*(```+|~~~+)/.exec(line);
    if (m?.[1] !== undefined) {
      const mark = m[1];
      if (fence === null) fence = mark[0]!.repeat(mark.length);
      else if (mark.startsWith(fence)) fence = null;
      return;
    }
    if (fence === null && !/^( {4}|\t)/.test(line)) out.push({ line, number: i + 1 });
  });
  return out;
}

/**
 * The room map's entries: in the README section whose heading starts with "Room map", the paths in
 * backticks in the first cell of each table row (`tools/status/`, `index.ts`). Only the first cell
 * counts, so a description may mention anything.
 */
function roomMapEntries(readme: string): string[] {
  const lines = readme.split("\n");
  const start = lines.findIndex((l) => /^##\s+Room map\b/i.test(l));
  if (start < 0) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,2}\s/.test(line)) break;
    if (!line.startsWith("|") || /^\|[\s:|-]+\|?\s*$/.test(line)) continue;
    const firstCell = line.split("|")[1] ?? "";
    for (const m of firstCell.matchAll(/`([^`\s]+)`/g)) out.push(m[1]!);
  }
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { line } of proseLines(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m?.[1] === undefined) continue;
    const text = m[1].replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1"); // a link in a heading counts by its text
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Relative link targets in a markdown file: inline links and images, and reference definitions. */
function linkTargets(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  for (const { line, number } of proseLines(markdown)) {
    const prose = line.replace(/`[^`]*`/g, ""); // inline code is not a link
    for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1]!, line: number });
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/.exec(prose);
    if (def?.[1] !== undefined) out.push({ target: def[1], line: number });
  }
  // Links with a scheme (https:, mailto:) leave the repository; this test only answers for its own files.
  return out.filter(({ target }) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

function normalise(rel: string): string {
  const parts: string[] = [];
  for (const p of rel.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (parts.length === 0) return "../"; // outside the repository: never exists here
      parts.pop();
    } else parts.push(p);
  }
  return parts.join("/");
}

/** Every problem with the README's room map and the links of README.md and docs/*.md; none is a pass. */
function checkDocs(tree: Tree): string[] {
  const problems: string[] = [];
  if (!tree.exists("README.md")) return ["README.md is missing"];
  const readme = tree.read("README.md");

  const entries = roomMapEntries(readme);
  if (entries.length === 0) problems.push('README.md has no "## Room map" table');
  const named = new Set(entries.map((e) => normalise(e)));
  for (const room of rooms(tree)) {
    if (!named.has(room)) problems.push(`room map: folder ${room}/ exists but the map does not name it`);
  }
  for (const entry of entries) {
    const rel = normalise(entry);
    if (!tree.exists(rel)) problems.push(`room map: ${entry} does not exist`);
    else if (entry.endsWith("/") && !tree.isFolder(rel)) problems.push(`room map: ${entry} is not a folder`);
  }

  const docs = ["README.md", ...tree.files("docs").filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsOf = (rel: string): Set<string> => {
    let found = anchorCache.get(rel);
    if (found === undefined) {
      found = anchors(tree.read(rel));
      anchorCache.set(rel, found);
    }
    return found;
  };
  for (const doc of docs) {
    const dir = doc.includes("/") ? doc.slice(0, doc.lastIndexOf("/")) : "";
    for (const { target, line } of linkTargets(tree.read(doc))) {
      const hash = target.indexOf("#");
      const filePart = decodeURIComponent((hash < 0 ? target : target.slice(0, hash)).replace(/\?.*$/, ""));
      const fragment = hash < 0 ? "" : decodeURIComponent(target.slice(hash + 1));
      const rel = filePart === "" ? doc : normalise(`${dir}/${filePart}`);
      if (rel === "../" || !tree.exists(rel)) {
        problems.push(`${doc}:${line}: link ${target}: no such file`);
        continue;
      }
      if (fragment !== "" && rel.endsWith(".md") && !anchorsOf(rel).has(fragment.toLowerCase())) {
        problems.push(`${doc}:${line}: link ${target}: ${rel} has no heading #${fragment}`);
      }
    }
  }
  return problems;
}

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");

describe("the README's room map and the manual's links", () => {
  test("every room is on the map, every entry exists, and every relative link resolves", () => {
    expect(checkDocs(diskTree(REPO_ROOT))).toEqual([]);
  });
});

describe("the checker itself (it must be able to fail)", () => {
  const goodReadme = [
    "# house",
    "See [the roster](docs/roster.md#editing-the-roster) and [below](#room-map).",
    "## Room map",
    "| room | what |",
    "|---|---|",
    "| `index.ts` | the program |",
    "| `core/` | pure |",
    "| `tools/` | tools |",
    "| `tools/status/` | `npm run status` (mentions `nowhere/` freely) |",
    "| `test/` | tests |",
    "| `test/unit/` | unit |",
    "| `docs/` | the manual |",
    "## After",
    "```",
    "[not a link](missing.md)",
    "```",
  ].join("\n");
  const goodTree: Record<string, string> = {
    "README.md": goodReadme,
    ".gitignore": "node_modules/\ntest-artifacts/\n*.log\n",
    "index.ts": "",
    "core/a.ts": "",
    "tools/status/main.ts": "",
    "test/unit/a.test.ts": "",
    "docs/roster.md": "# Editing the roster\nBack to the [README](../README.md) and [servers](servers.md#several-servers-1).",
    "docs/servers.md": "# Several servers\n## Several servers\n`[code](nope.md)`\n    [indented code](nope.md)",
    "node_modules/x/index.js": "",
    ".ci/run": "",
    "test-artifacts/shot.png": "",
  };

  test("a tree that matches its map and links passes", () => {
    expect(checkDocs(memoryTree(goodTree))).toEqual([]);
  });

  test("a room missing from the map fails, naming the folder", () => {
    expect(checkDocs(memoryTree({ ...goodTree, "bench/run.ts": "", "tools/move/main.ts": "", "test/machinery/run.sh": "" }))).toEqual([
      "room map: folder bench/ exists but the map does not name it",
      "room map: folder test/machinery/ exists but the map does not name it",
      "room map: folder tools/move/ exists but the map does not name it",
    ]);
  });

  test("a map entry that does not exist fails, and a file named as a folder does too", () => {
    const readme = goodReadme.replace("| `docs/` | the manual |", "| `docs/` | the manual |\n| `engine/` | gone |\n| `index.ts/` | not a folder |");
    expect(checkDocs(memoryTree({ ...goodTree, "README.md": readme }))).toEqual([
      "room map: engine/ does not exist",
      "room map: index.ts/ is not a folder",
    ]);
  });

  test("a README without a room map fails", () => {
    expect(checkDocs(memoryTree({ ...goodTree, "README.md": "# house\n" }))).toContain('README.md has no "## Room map" table');
  });

  test("broken links fail: a missing file, a missing heading, a path out of the repository", () => {
    const tree = {
      ...goodTree,
      "docs/roster.md": [
        "# Editing the roster",
        "[gone](running.md), [no such heading](servers.md#nothing), [up and out](../../etc/passwd),",
        "![picture](dashboard.png) [own heading](#editing-the-roster) [own missing](#nope)",
        "[ref]: ./operations.md",
      ].join("\n"),
    };
    expect(checkDocs(memoryTree(tree))).toEqual([
      "docs/roster.md:2: link running.md: no such file",
      "docs/roster.md:2: link servers.md#nothing: docs/servers.md has no heading #nothing",
      "docs/roster.md:2: link ../../etc/passwd: no such file",
      "docs/roster.md:3: link dashboard.png: no such file",
      "docs/roster.md:3: link #nope: docs/roster.md has no heading #nope",
      "docs/roster.md:4: link ./operations.md: no such file",
    ]);
  });

  test("headings become GitHub's anchors", () => {
    const got = anchors("# The dashboard (`npm run dashboard`)\n## Config reference (`Pulumi.<stack>.yaml`)\n## A, b\n## A, b\n");
    expect([...got]).toEqual(["the-dashboard-npm-run-dashboard", "config-reference-pulumistackyaml", "a-b", "a-b-1"]);
  });

  test("the checker reads a real folder the same way (a temporary tree on disk)", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "docs-check-"));
    try {
      for (const [rel, text] of Object.entries(goodTree)) {
        fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
        fs.writeFileSync(path.join(root, rel), text);
      }
      expect(checkDocs(diskTree(root))).toEqual([]);
      fs.mkdirSync(path.join(root, "policy"));
      expect(checkDocs(diskTree(root))).toEqual(["room map: folder policy/ exists but the map does not name it"]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
