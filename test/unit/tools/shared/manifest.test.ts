import { compareManifests, manifestTotals, parseManifest } from "../../../../tools/shared/manifest";

const A = "a".repeat(64);
const B = "b".repeat(64);

describe("move manifests", () => {
  test("parses files, directories and other entries, and totals the files", () => {
    const m = parseManifest(`DIR .\nDIR ./sub\n12 ${A} ./sub/file one\n0 ${B} ./empty\nOTHER ./link\n`);
    expect([...m.keys()]).toEqual([".", "./sub", "./sub/file one", "./empty", "./link"]);
    expect(m.get("./sub/file one")).toEqual({ bytes: 12, sha256: A });
    expect(manifestTotals(m)).toEqual({ files: 2, bytes: 12 });
  });

  test("an exact copy has no differences; every kind of difference is named", () => {
    const source = parseManifest(`DIR .\n12 ${A} ./x\n5 ${A} ./y\n7 ${A} ./z\n`);
    expect(compareManifests(source, parseManifest(`DIR .\n12 ${A} ./x\n5 ${A} ./y\n7 ${A} ./z\n`))).toEqual([]);
    expect(compareManifests(source, parseManifest(`DIR .\n12 ${B} ./x\n6 ${A} ./y\n1 ${A} ./extra\n`))).toEqual([
      "./extra is in the copy but not in the source",
      "./x has a different SHA-256 in the copy",
      "./y has 6 bytes in the copy, 5 in the source",
      "./z is missing in the copy",
    ]);
  });

  test("numeric owners are recorded for every entry and compared: a copy owned by someone else is a difference", () => {
    const source = parseManifest(`DIR .\n12 ${A} ./x\nOWNER 1900000001:1900000001 .\nOWNER 1900000001:1900000001 ./x\n`);
    expect(source.get("./x")).toEqual({ bytes: 12, sha256: A, owner: "1900000001:1900000001" });
    expect(compareManifests(source, parseManifest(`DIR .\n12 ${A} ./x\nOWNER 1900000001:1900000001 .\nOWNER 1900000001:1900000001 ./x\n`))).toEqual([]);
    expect(compareManifests(source, parseManifest(`DIR .\n12 ${A} ./x\nOWNER 1900000001:1900000001 .\nOWNER 1000:1000 ./x\n`))).toEqual([
      "./x is owned by 1000:1000 in the copy, 1900000001:1900000001 in the source",
    ]);
    expect(() => parseManifest("OWNER 1:1 ./nowhere\n")).toThrow(/unlisted path/);
  });

  test("refuses a line it cannot read instead of skipping a file", () => {
    expect(() => parseManifest("12 nothex ./x\n")).toThrow(/unreadable manifest line/);
  });
});
