// npm start has no side effects on the operator's machine: with a "system" dockerd and Caddy
// present it leaves them running, runs no service manager, and never writes Caddy's files into a
// folder another user could have prepared. Run as root, as an operator runs `sudo npm start`.
//
// The system services are stand-ins: this machine has no systemd. The test engine's script finds
// services two ways (test/machinery/runtime-env.sh, disable_distro_services): with systemd
// (/run/systemd/system and systemctl) through systemctl, and without it through /proc (a dockerd,
// a caddy running /etc/caddy/Caddyfile). Both are faked: processes named dockerd and caddy with the
// distro's command lines, a `systemctl` first on PATH that records every call, and, for the
// systemd path, a private mount namespace where /run/systemd/system exists. Before the fix the
// launcher ran that script (`--install`, or finding the test engine set up): it killed the
// stand-in Caddy, and with "systemd" it called `systemctl disable --now` on docker and caddy.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import Docker from "dockerode";
import { readStackFile } from "../../../tools/shared/stackFile";
import { LAUNCHER_ROOT } from "../../../tools/launcher/safeDir";
import { prepareCaddyDirs } from "../../../tools/launcher/machine";
import { Stop } from "../../../tools/launcher/inputs";
import { StackConfig } from "../../../core/stackConfig";
import { Cleanup, makeTempDir, removeDir } from "../support/caddy";
import { DOCKER_SOCKET } from "../support/docker";
import { REPO, runLauncher } from "../support/launcher";

const ENGINE = `unix://${DOCKER_SOCKET}`;
const NOBODY = 65534;
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A process whose name (comm) is `name` and whose command line is the distro service's. */
function standIn(dir: string, name: string, args: string[]): ChildProcess {
  const file = path.join(dir, name);
  fs.writeFileSync(file, "#!/bin/sh\nwhile :; do sleep 1; done\n", { mode: 0o755 });
  return spawn(file, args, { stdio: "ignore", detached: true });
}
const alive = (pid: number | undefined): boolean => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const comm = (pid: number | undefined): string => fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();

describe("npm start leaves the machine's own services alone", () => {
  const cleanup = new Cleanup();
  let dir: string;
  let caddy: ChildProcess;
  let dockerd: ChildProcess;
  let bin: string;
  beforeAll(() => {
    dir = makeTempDir("launcher-services");
    cleanup.add("dir", () => removeDir(dir));
    const sys = path.join(dir, "system");
    fs.mkdirSync(sys);
    caddy = standIn(sys, "caddy", ["run", "--environ", "--config", "/etc/caddy/Caddyfile"]);
    dockerd = standIn(sys, "dockerd", ["-H", "fd://", "--containerd=/run/containerd/containerd.sock"]);
    cleanup.add("stand-ins", () => {
      for (const p of [caddy, dockerd]) if (alive(p.pid)) process.kill(p.pid as number, "SIGKILL");
    });
    bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "systemctl"), `#!/bin/sh\necho "$*" >> '${dir}/systemctl.log'\nexit 0\n`, { mode: 0o755 });
    // The tests' engine "set up here" (what made the launcher start it), in folders of this test's own.
    fs.mkdirSync(path.join(dir, "test-state"));
    fs.mkdirSync(path.join(dir, "test-run"));
  });
  afterAll(() => cleanup.run());

  const env = (): NodeJS.ProcessEnv => ({
    PATH: `${bin}:${PATH}`, HOME: dir, LANG: "C.UTF-8",
    OPENCLAW_TEST_STATE: path.join(dir, "test-state"), OPENCLAW_TEST_RUN: path.join(dir, "test-run"),
  });

  const expectUntouched = (r: { stdout: string; stderr: string }): void => {
    expect([comm(caddy.pid), alive(caddy.pid)]).toEqual(["caddy", true]);
    expect([comm(dockerd.pid), alive(dockerd.pid)]).toEqual(["dockerd", true]);
    expect(fs.existsSync(path.join(dir, "systemctl.log")) ? fs.readFileSync(path.join(dir, "systemctl.log"), "utf8") : "").toBe("");
    expect(`${r.stdout}${r.stderr}`).not.toContain("[runtime-env]");
  };

  it("without systemd (services found through /proc): --install with no engine answering stops nothing and says how to start Docker", () => {
    const r = runLauncher(["--install"], env());
    console.log(`npm start --install (no systemd):\n--- stdout ---\n${r.stdout}--- stderr ---\n${r.stderr}`);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("  x Docker engine: no answer at unix:///var/run/docker.sock");
    expect(r.stderr).toContain("npm start does not start it, since its script stops the system's Docker and Caddy");
    expect(r.stdout).toContain("--install: nothing the installer can fix is missing (it installs only what is absent, and replaces nothing)");
    expectUntouched(r);
  });

  it("with systemd (a private mount namespace where /run/systemd/system exists): no systemctl call at all", () => {
    const wrapper = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", "mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system && exec \"$@\"", "sh"];
    const r = runLauncher(["--install"], env(), 120_000, wrapper);
    console.log(`npm start --install ("systemd"):\n--- stdout ---\n${r.stdout}--- stderr ---\n${r.stderr}`);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("  x Docker engine: no answer");
    expectUntouched(r);
    expect(fs.existsSync("/run/systemd/system")).toBe(false); // the namespace's, not the machine's
  });

  it("with an engine answering (DOCKER_HOST), the launcher goes past its checks; the stand-ins still run", () => {
    // The dev stack's preview: past the checks it needs a Pulumi CLI, whose download is stubbed offline here.
    const r = runLauncher(["--preview"], { ...env(), DOCKER_HOST: ENGINE, NODE_OPTIONS: `--require ${path.join(__dirname, "offline-fetch.js")}` });
    expect(r.stdout).toMatch(new RegExp(`  ok Docker engine: answers at ${ENGINE}`));
    expect(r.stdout).toContain("Pulumi: no pulumi on PATH");
    expectUntouched(r);
  });
});

describe("Caddy's files are never written into a folder another user could have prepared", () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());
  const me = process.getuid?.() ?? 0;

  const configWith = (caddyfilePath: string, storageDir: string): StackConfig => {
    const { raw } = readStackFile(fs.readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8"));
    return { caddy: { ...(raw.caddy as Record<string, unknown>), caddyfilePath, storageDir } } as unknown as StackConfig;
  };

  it("the dev stack's files are in the launcher's root-only folder, not /tmp", () => {
    const { raw } = readStackFile(fs.readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8"));
    expect(raw.caddy).toMatchObject({ caddyfilePath: `${LAUNCHER_ROOT}/dev/Caddyfile`, storageDir: `${LAUNCHER_ROOT}/dev/caddy-data` });
  });

  it("a /tmp/openclaw-dev planted by another user (with a Caddyfile of theirs): npm start refuses, loads nothing, writes nothing", async () => {
    expect(me).toBe(0);
    const planted = fs.mkdtempSync("/tmp/openclaw-dev-");
    cleanup.add("planted", () => removeDir(planted));
    fs.writeFileSync(path.join(planted, "Caddyfile"), ":8443 {\n\trespond \"planted\"\n}\n");
    fs.chownSync(path.join(planted, "Caddyfile"), NOBODY, NOBODY);
    fs.chownSync(planted, NOBODY, NOBODY);
    fs.chmodSync(planted, 0o755);
    const before = fs.readdirSync(planted).sort();
    expect(() => prepareCaddyDirs(configWith(path.join(planted, "Caddyfile"), path.join(planted, "caddy-data"))))
      .toThrow(new Stop(`npm start: refusing the folder for Caddy's files: ${planted} belongs to uid ${NOBODY}, not to root or you: another user could plant files there (e.g. the Caddyfile root Caddy loads); remove it; nothing was changed`));
    expect(fs.readdirSync(planted).sort()).toEqual(before);

    // The whole command, as `sudo npm start` on a stack whose files point there: exit 1 before Pulumi or Caddy.
    const { text } = { text: fs.readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8") };
    const name = `test-planted-${process.pid}`;
    const stackFile = path.join(REPO, `Pulumi.${name}.yaml`);
    fs.writeFileSync(stackFile, text.replaceAll(`${LAUNCHER_ROOT}/dev`, planted) +
      "  openclaw-hosting:apiKeys:\n    alice:\n      secure: v1:AAAA\n    bob:\n      secure: v1:AAAA\n");
    cleanup.add("stack file", () => fs.rmSync(stackFile, { force: true }));
    const docker = new Docker({ socketPath: DOCKER_SOCKET });
    await docker.getImage("openclaw-standin:test").tag({ repo: "ghcr.io/openclaw/openclaw", tag: "2026.9.6-r20260923" });
    cleanup.add("tag", () => docker.getImage("ghcr.io/openclaw/openclaw:2026.9.6-r20260923").remove());
    const home = makeTempDir("launcher-planted");
    cleanup.add("home", () => removeDir(home));
    const r = runLauncher(["--stack", name, "--yes"], { PATH, HOME: home, LANG: "C.UTF-8", DOCKER_HOST: ENGINE, OPENCLAW_TEST_STATE: "/nonexistent" });
    console.log(`npm start on a planted folder:\n--- stdout ---\n${r.stdout}--- stderr ---\n${r.stderr}`);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`refusing the folder for Caddy's files: ${planted} belongs to uid ${NOBODY}`);
    expect(r.stdout).not.toContain("Pulumi:");
    expect(r.stdout).not.toContain("started Caddy");
    expect(fs.readdirSync(planted).sort()).toEqual(before);
  });

  it("the launcher's own folder: made root-only; a symbolic link as the folder, or inside it, is refused and not followed", () => {
    const mine = fs.existsSync(LAUNCHER_ROOT);
    if (!mine) cleanup.add("launcher root", () => removeDir(LAUNCHER_ROOT));
    const base = `${LAUNCHER_ROOT}/test-${process.pid}`;
    cleanup.add("base", () => removeDir(base));
    // Made fresh: 0700 all the way.
    expect(prepareCaddyDirs(configWith(`${base}/Caddyfile`, `${base}/caddy-data`))).toEqual(expect.arrayContaining([`created ${base} (root-only, 0700)`, `created ${base}/caddy-data (root-only, 0700)`]));
    for (const d of [LAUNCHER_ROOT, base, `${base}/caddy-data`]) expect(fs.statSync(d).mode & 0o7777).toBe(0o700);
    // A link inside it (as Caddyfile.previous, which the edge script copies onto): refused, its target untouched.
    const victim = path.join(makeTempDir("launcher-victim"), "shadow");
    cleanup.add("victim", () => removeDir(path.dirname(victim)));
    fs.writeFileSync(victim, "untouched\n");
    fs.symlinkSync(victim, `${base}/Caddyfile.previous`);
    expect(() => prepareCaddyDirs(configWith(`${base}/Caddyfile`, `${base}/caddy-data`))).toThrow(`${base}/Caddyfile.previous is a symbolic link`);
    fs.rmSync(`${base}/Caddyfile.previous`);
    // The folder itself a link to somewhere else: refused, nothing created there.
    const elsewhere = makeTempDir("launcher-elsewhere");
    cleanup.add("elsewhere", () => removeDir(elsewhere));
    fs.symlinkSync(elsewhere, `${base}/linked`);
    expect(() => prepareCaddyDirs(configWith(`${base}/linked/Caddyfile`, `${base}/linked/caddy-data`))).toThrow(`${base}/linked is a symbolic link`);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
    expect(fs.readFileSync(victim, "utf8")).toBe("untouched\n");
    // Left readable by others (0755): tightened back to 0700.
    fs.rmSync(`${base}/linked`);
    fs.chmodSync(base, 0o755);
    expect(prepareCaddyDirs(configWith(`${base}/Caddyfile`, `${base}/caddy-data`))).toEqual([`${base} made root-only (0700)`]);
    expect(fs.statSync(base).mode & 0o7777).toBe(0o700);
  });
});
