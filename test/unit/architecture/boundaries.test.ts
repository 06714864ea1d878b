/**
 * The house's import rules, checked on every file of the program's wing:
 * - core/ is the program's pure core: no Pulumi, no I/O (Node's I/O modules or a Docker client), and
 *   nothing from the floors above it (components/, program/, index.ts);
 * - the program (index.ts, components/, core/, program/) never imports the operator's tools or the
 *   test machinery (tools/, test/, bench/, nor the old scripts/, dashboard/, engine/);
 * - program/ does not import components/ (a tool may import program/ without registering resources);
 * - components/ holds only Pulumi components: every file declares a ComponentResource.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const REPO = path.resolve(__dirname, "..", "..", "..");

const NODE_IO = ["fs", "fs/promises", "child_process", "net", "http", "https", "http2", "dns", "dns/promises", "dgram", "tls", "os", "worker_threads", "readline", "cluster", "inspector"];
/** Packages that reach a daemon or the network themselves. */
const IO_PACKAGES = ["dockerode", "ws"];
const OUTSIDE_THE_PROGRAM = ["tools", "test", "bench", "scripts", "dashboard", "engine"];

export interface Violation {
  file: string;
  imports: string;
  rule: string;
}

/** Every module a file names: import/export ... from, import(), require(). */
function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** The wing a repo-relative path lives in: `index.ts`, `core`, `components`, `program`, `tools`, ... */
function wingOf(file: string): string {
  return file.split("/")[0];
}

/** Checks a set of files (repo-relative path -> source text) against the rules above. */
export function checkBoundaries(files: Record<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const [file, source] of Object.entries(files)) {
    const wing = wingOf(file);
    if (!["index.ts", "core", "components", "program"].includes(wing)) continue;
    for (const spec of importsOf(source)) {
      const bare = spec.replace(/^node:/, "");
      const target = spec.startsWith(".") ? path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)) : undefined;
      const targetWing = target === undefined ? undefined : target.startsWith("..") ? ".." : wingOf(target);
      const add = (rule: string) => out.push({ file, imports: spec, rule });
      if (wing === "core") {
        if (spec.startsWith("@pulumi/")) add("core/ does not import Pulumi");
        if (NODE_IO.includes(bare) || IO_PACKAGES.includes(spec)) add("core/ does no I/O");
        if (targetWing !== undefined && ["components", "program", "index.ts", "index"].includes(targetWing)) add("core/ imports nothing from the floors above it");
      }
      if (wing === "program" && targetWing === "components") add("program/ does not import components/");
      if (targetWing !== undefined && (OUTSIDE_THE_PROGRAM.includes(targetWing) || targetWing === "..")) add("the program never imports the tools or the test machinery");
    }
    if (wing === "components" && file.endsWith(".ts") && !/extends\s+pulumi\.ComponentResource\b/.test(source)) {
      out.push({ file, imports: "", rule: "components/ holds only Pulumi components" });
    }
  }
  return out;
}

function programFiles(): Record<string, string> {
  const files: Record<string, string> = { "index.ts": fs.readFileSync(path.join(REPO, "index.ts"), "utf8") };
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith(".ts")) files[rel] = fs.readFileSync(path.join(REPO, rel), "utf8");
    }
  };
  for (const wing of ["core", "components", "program"]) walk(wing);
  return files;
}

describe("import boundaries of the program's wing", () => {
  test("the checker finds every kind of violation in bad examples", () => {
    const bad = {
      "core/a.ts": 'import * as fs from "fs";\nimport { x } from "node:child_process";\nimport * as pulumi from "@pulumi/pulumi";',
      "core/b.ts": 'const os = require("os");\nexport const n = import("node:net");\nexport * from "../program/hostingInputs";',
      "core/c.ts": 'import Docker from "dockerode";\nimport { Edge } from "../components/edge";',
      "program/d.ts": 'import { parse } from "../tools/shared/args";\nimport { Server } from "../components/server";',
      "components/e.ts": 'import { runProgram } from "../test/support/program";\nexport function notAComponent() {}',
      "index.ts": 'import { x } from "./engine/client";\nimport { y } from "./bench/run";\nimport { z } from "./scripts/check";',
    };
    const found = checkBoundaries(bad).map((v) => `${v.file} ${v.imports}: ${v.rule}`);
    expect(found).toEqual([
      "core/a.ts fs: core/ does no I/O",
      "core/a.ts node:child_process: core/ does no I/O",
      "core/a.ts @pulumi/pulumi: core/ does not import Pulumi",
      "core/b.ts os: core/ does no I/O",
      "core/b.ts node:net: core/ does no I/O",
      "core/b.ts ../program/hostingInputs: core/ imports nothing from the floors above it",
      "core/c.ts dockerode: core/ does no I/O",
      "core/c.ts ../components/edge: core/ imports nothing from the floors above it",
      "program/d.ts ../tools/shared/args: the program never imports the tools or the test machinery",
      "program/d.ts ../components/server: program/ does not import components/",
      "components/e.ts ../test/support/program: the program never imports the tools or the test machinery",
      "components/e.ts : components/ holds only Pulumi components",
      "index.ts ./engine/client: the program never imports the tools or the test machinery",
      "index.ts ./bench/run: the program never imports the tools or the test machinery",
      "index.ts ./scripts/check: the program never imports the tools or the test machinery",
    ]);
  });

  test("the checker passes what the rules allow", () => {
    const good = {
      "core/a.ts": 'import * as path from "path";\nimport { z } from "zod";\nimport { LIMITS } from "./limits";',
      "program/b.ts": 'import * as fs from "fs";\nimport * as pulumi from "@pulumi/pulumi";\nimport { plan } from "../core/plan";',
      "components/c.ts": 'import * as pulumi from "@pulumi/pulumi";\nimport { serverCommand } from "../program/serverCommand";\nexport class C extends pulumi.ComponentResource {}',
      "tools/status/main.ts": 'import * as fs from "fs";\nimport { x } from "../../test/support/program";',
    };
    expect(checkBoundaries(good)).toEqual([]);
  });

  test("index.ts, components/, core/ and program/ keep the rules", () => {
    const files = programFiles();
    expect(Object.keys(files).filter((f) => f.startsWith("core/")).length).toBeGreaterThan(10);
    expect(checkBoundaries(files).map((v) => `${v.file} imports ${v.imports}: ${v.rule}`)).toEqual([]);
  });
});
