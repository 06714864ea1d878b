// The test runner's way of making room for the test engine (test/machinery/runtime-env.sh,
// disable_distro_services), with systemd faked: a recording `systemctl` and `docker` first on PATH,
// and the script's own systemd_running answered yes (this machine has no systemd). It stops only
// what loses nothing: never `disable` (a service comes back at boot), never a system Docker that
// runs containers, never the system's containerd. Before: `systemctl disable --now` on docker,
// containerd and caddy, whatever ran. (npm start never runs this: test/unit/tools/launcher/safeDir.test.ts.)
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

const SCRIPT = path.resolve(__dirname, "..", "..", "machinery", "runtime-env.sh");

async function run(active: string[], containers: number): Promise<{ status: number | null; stderr: string; calls: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "distro-services-"));
  try {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const log = path.join(dir, "calls.log");
    fs.writeFileSync(path.join(bin, "systemctl"), `#!/bin/sh
echo "systemctl $*" >> '${log}'
if [ "$1" = is-active ]; then for u in ${active.join(" ")}; do [ "$3" = "$u" ] && exit 0; done; exit 3; fi
exit 0
`, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "docker"), `#!/bin/sh
echo "docker $*" >> '${log}'
i=0; while [ $i -lt ${containers} ]; do echo "c$i"; i=$((i+1)); done
`, { mode: 0o755 });
    // The system Docker's socket: something listening there, as the script checks (-S).
    const sock = path.join(dir, "docker.sock");
    const server = net.createServer().listen(sock);
    await new Promise((r) => server.once("listening", r));
    const r = spawnSync("bash", ["-c", `source '${SCRIPT}'; systemd_running() { true; }; disable_distro_services`], {
      encoding: "utf8", timeout: 30_000, env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}`, OPENCLAW_SYSTEM_DOCKER_SOCK: sock },
    });
    server.close();
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    return { status: r.status, stderr: r.stderr, calls };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("the test runner makes room for the test engine only when that loses nothing", () => {
  test("an idle system Docker and Caddy: stopped for the run, never disabled; containerd untouched", async () => {
    const r = await run(["docker.socket", "docker.service", "containerd.service", "caddy.service"], 0);
    expect(r.status).toBe(0);
    expect(r.calls.filter((c) => !c.startsWith("systemctl is-active"))).toEqual([
      expect.stringMatching(/^docker -H unix:\/\/\S+\/docker\.sock ps -q$/),
      "systemctl stop docker.socket", "systemctl stop docker.service", "systemctl stop caddy.service",
    ]);
    expect(r.calls.join("\n")).not.toMatch(/disable|containerd/);
    expect(r.stderr).toContain("not disabled: it starts again at boot");
  });

  test("a system Docker running containers: the run stops, saying so, and nothing is stopped", async () => {
    const r = await run(["docker.socket", "docker.service", "caddy.service"], 2);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("the system's Docker runs 2 container(s)");
    expect(r.calls.filter((c) => / (stop|disable) /.test(c))).toEqual([]);
  });

  test("nothing running: nothing asked of Docker, nothing stopped", async () => {
    const r = await run([], 5);
    expect(r.status).toBe(0);
    expect(r.calls.every((c) => c.startsWith("systemctl is-active"))).toBe(true);
  });
});
