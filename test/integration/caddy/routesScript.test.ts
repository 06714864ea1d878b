// server-scripts/install-routes.sh on its own (no Caddy): it makes the route folder match the table,
// refuses anything else, and a reader doing what Caddy does per request (the sorted glob
// `<host>/*`, first match) never sees a host without its entry, a temporary, or a half-written name
// while the table changes under it.
import * as fs from "fs";
import * as path from "path";
import { ROUTES_SCRIPT_PATH, routesCommand } from "../../../components/edge";
import { Cleanup, makeTempDir, removeDir, runCommand } from "../support/caddy";

jest.setTimeout(60_000);

const cleanup = new Cleanup();
let dir: string;
let routes: string;
afterAll(() => cleanup.run());
beforeAll(() => {
  dir = makeTempDir("routes-script");
  cleanup.add(`remove ${dir}`, () => removeDir(dir));
  routes = path.join(dir, "routes");
});

const install = (table: string) => runCommand(["/bin/bash", "-c"], routesCommand(fs.readFileSync(ROUTES_SCRIPT_PATH, "utf8"), routes), table, { PATH: "/usr/bin:/bin" }, 30_000);
/** The folder as Caddy sees it: host -> its entries (dot files included, as Go's glob matches them). */
const folder = (): Record<string, string[]> =>
  Object.fromEntries(fs.readdirSync(routes).filter((n) => !n.startsWith(".")).map((h) => [h, fs.readdirSync(path.join(routes, h)).sort()]));

test("adds, changes and removes hosts to match the table, one entry per host, readable by Caddy's user", async () => {
  const first = await install("a.claw.test port-20001\nb.claw.test suspended\nc.claw.test port-20003\n");
  expect(`${first.exitCode} ${first.stdout}`).toContain("0 openclaw-hosting: routes in");
  expect(first.stdout).toContain("3 hosts (3 added, 0 changed, 0 removed); Caddy not reloaded");
  expect(folder()).toEqual({ "a.claw.test": ["port-20001"], "b.claw.test": ["suspended"], "c.claw.test": ["port-20003"] });
  const second = await install("a.claw.test suspended\nb.claw.test port-20002\nd.claw.test port-20004\n");
  expect(second.stdout).toContain("3 hosts (1 added, 2 changed, 1 removed)");
  expect(folder()).toEqual({ "a.claw.test": ["suspended"], "b.claw.test": ["port-20002"], "d.claw.test": ["port-20004"] });
  expect((fs.statSync(path.join(routes, "d.claw.test")).mode & 0o777).toString(8)).toBe("755");
  expect((fs.statSync(path.join(routes, "d.claw.test", "port-20004")).mode & 0o777).toString(8)).toBe("644");
  // Only temporaries' leftovers and the lock are dot files, at the top level; none stays behind.
  expect(fs.readdirSync(routes).filter((n) => n.startsWith("."))).toEqual([".lock"]);
});

test.each([
  ["a path in the host", "a.claw.test/../../etc port-1"],
  ["an unknown entry", "a.claw.test port-1;rm"],
  ["a host twice", "a.claw.test port-1\na.claw.test suspended"],
  ["a port of six digits", "a.claw.test port-123456"],
])("refuses %s and changes nothing", async (_what, table) => {
  const before = folder();
  const run = await install(`${table}\n`);
  expect(run.exitCode).toBe(1);
  expect(run.stderr).toContain("refusing route line");
  expect(run.stderr).toContain("the route folder was not changed");
  expect(folder()).toEqual(before);
});

test("a reader globbing <host>/* while the host flips between suspended and ports always finds exactly a finished entry", async () => {
  await install("flip.claw.test port-21000\nstay.claw.test port-21001\n");
  const seen = new Map<string, number>();
  let stop = false;
  let reads = 0;
  const reader = (async () => {
    const deadline = Date.now() + 30_000;
    while (!stop && reads < 200_000 && Date.now() < deadline) {
      for (const host of ["flip.claw.test", "stay.claw.test"]) {
        let first: string;
        try {
          first = fs.readdirSync(path.join(routes, host)).sort()[0] ?? "(empty)";
        } catch {
          first = "(no folder)";
        }
        const key = `${host} ${first}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      reads++;
      if (reads % 50 === 0) await new Promise((r) => setImmediate(r));
    }
  })();
  const states = ["suspended", "port-21002", "port-21000", "suspended", "port-21003"];
  for (let i = 0; i < 20; i++) {
    const run = await install(`flip.claw.test ${states[i % states.length]}\nstay.claw.test port-21001\n`);
    expect(run.exitCode).toBe(0);
  }
  stop = true;
  await reader;
  console.log(`install-routes flips: ${reads} reads of both hosts during 20 changes; first entries seen: ${JSON.stringify(Object.fromEntries(seen))}`);
  expect(reads).toBeGreaterThan(100);
  for (const key of seen.keys()) expect(key).toMatch(/^(flip\.claw\.test (suspended|port-2100[023])|stay\.claw\.test port-21001)$/);
});
