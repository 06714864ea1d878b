// Which prerequisite checks fail and what they tell the user, from observed facts.
import {
  CheckResult, checkCaddy, checkDocker, checkImage, checkPorts, checkRemoteServer, decideInstall, machineScope, renderFailures,
} from "../../../../tools/launcher/prerequisites";
import { checkHosting } from "../../../../core/check";
import { resolveServers } from "../../../../core/servers";

const dockerBase = { target: "unix:///var/run/docker.sock", dockerHost: undefined, dockerdInstalled: false, projectEngineSetUp: false };

describe("Docker engine", () => {
  it("passes when the engine answers, naming where and which version", () => {
    expect(checkDocker({ ...dockerBase, reachable: true, version: "20.10.24+dfsg1" })).toEqual({
      name: "docker", ok: true, message: "Docker engine: answers at unix:///var/run/docker.sock (Docker 20.10.24+dfsg1)", installable: false,
    });
  });

  it("without Docker: names the install and the installer", () => {
    const r = checkDocker({ ...dockerBase, reachable: false, error: "connect ENOENT /var/run/docker.sock" });
    expect(r.ok).toBe(false);
    expect(r.message).toBe("Docker engine: no answer at unix:///var/run/docker.sock (connect ENOENT /var/run/docker.sock)");
    expect(r.fix).toContain("apt-get install docker.io");
    expect(r.fix).toContain("npm start -- --install");
    expect(r.installable).toBe(true);
  });

  it("Docker installed but stopped: start it (nothing to install)", () => {
    const r = checkDocker({ ...dockerBase, reachable: false, dockerdInstalled: true });
    expect(r.fix).toContain("sudo systemctl start docker");
    expect(r.installable).toBe(false);
  });

  it("the tests' engine set up but stopped: npm start does not start it (its script stops the system's services); it says how", () => {
    const r = checkDocker({ ...dockerBase, reachable: false, dockerdInstalled: true, projectEngineSetUp: true });
    expect(r.fix).toContain("sudo systemctl start docker");
    expect(r.fix).toContain("npm start does not start it, since its script stops the system's Docker and Caddy");
    expect(r.installable).toBe(false);
  });

  it("a DOCKER_HOST that does not answer is named, not replaced", () => {
    const r = checkDocker({ ...dockerBase, target: "tcp://127.0.0.1:1", dockerHost: "tcp://127.0.0.1:1", reachable: false, error: "connect ECONNREFUSED" });
    expect(r.fix).toBe("DOCKER_HOST=tcp://127.0.0.1:1 points at an engine that does not answer: start that engine, correct DOCKER_HOST, or unset it to use the local one");
    expect(r.installable).toBe(false);
  });
});

describe("Caddy", () => {
  it.each([["2.11.2"], ["v2.7.6 h1:w0NymbG2m9PcvKWsrXO6EEkY9Ru4FJK8uQbYcev1p3A="], ["v3.0.0"]])("accepts %s", (v) => {
    expect(checkCaddy({ versionText: v })).toMatchObject({ ok: true });
  });

  it("rejects bookworm's 2.6.2, saying what it lacks and how to fix it", () => {
    const r = checkCaddy({ versionText: "2.6.2" });
    expect(r.ok).toBe(false);
    expect(r.message).toBe("Caddy: 2.6.2 is older than 2.7 (it lacks stream_close_delay, which keeps tenants' WebSockets open across reloads)");
    expect(r.fix).toContain("trixie-backports");
    // A Caddy that is there is the machine's: --install never replaces it.
    expect(r.fix).toContain("npm start does not replace a Caddy it did not install");
    expect(r.installable).toBe(false);
  });

  it("no caddy at all", () => {
    expect(checkCaddy({ versionText: undefined })).toMatchObject({ ok: false, message: "Caddy: not installed (no `caddy` on PATH)", installable: true });
  });

  it("an unreadable version is not taken as new enough", () => {
    expect(checkCaddy({ versionText: "(devel)" }).ok).toBe(false);
  });
});

describe("ports", () => {
  it("passes when all are free", () => {
    const r = checkPorts([{ port: 8443, purpose: "Caddy https", busy: false }, { port: 18879, purpose: "tenant alice", busy: false }]);
    expect(r).toMatchObject({ ok: true, message: "Ports: free on 127.0.0.1: 8443, 18879" });
  });

  it("a port held by the stack's own container or Caddy is fine (a re-run)", () => {
    const r = checkPorts([
      { port: 8443, purpose: "Caddy https", busy: true, heldByOwn: "caddy" },
      { port: 18879, purpose: "tenant alice", busy: true, heldByOwn: "openclaw-alice" },
    ]);
    expect(r.ok).toBe(true);
    expect(r.message).toContain("in use by this stack already: 8443 (caddy), 18879 (openclaw-alice)");
  });

  it("names each busy port, what it is for, and how to free or move it", () => {
    const r = checkPorts([
      { port: 8443, purpose: "Caddy https", busy: true },
      { port: 2019, purpose: "Caddy admin", busy: false },
      { port: 18879, purpose: "tenant alice", busy: true },
    ]);
    expect(r.ok).toBe(false);
    expect(r.message).toBe("Ports: in use by another program: 8443 (Caddy https), 18879 (tenant alice)");
    expect(r.fix).toBe(
      "`ss -ltnp 'sport = :8443'` shows who holds 8443: stop it, or set caddy.ports.https in the stack file to a free port; " +
        "`ss -ltnp 'sport = :18879'` shows who holds 18879: stop it, or give alice another port (port: in its roster file)",
    );
  });
});

describe("image", () => {
  const ref = "ghcr.io/openclaw/openclaw:2026.8.1-r20260820";
  it("present", () => expect(checkImage({ ref, present: true })).toMatchObject({ ok: true, message: `Image: ${ref} is on the engine` }));
  it("pullable: said, and pulled before the update", () => {
    const r = checkImage({ ref, present: false, pullable: { ok: true, detail: "digest sha256:abc" } });
    expect(r).toMatchObject({ ok: true });
    expect(r.message).toContain("the registry has it (digest sha256:abc): it is pulled before the update");
  });
  it("neither: the registry's answer and the ways out", () => {
    const r = checkImage({ ref, present: false, pullable: { ok: false, detail: "Get https://ghcr.io/v2/: dial tcp: lookup ghcr.io: no such host" } });
    expect(r.ok).toBe(false);
    expect(r.message).toBe(`Image: ${ref} is not on the engine and cannot be pulled (Get https://ghcr.io/v2/: dial tcp: lookup ghcr.io: no such host)`);
    expect(r.fix).toContain("docker load");
  });
});

describe("--install", () => {
  const missing: CheckResult[] = [
    checkCaddy({ versionText: undefined }),
    checkPorts([{ port: 8443, purpose: "Caddy https", busy: true }]),
  ];

  it("does nothing unless asked", () => expect(decideInstall(missing, { install: false, isRoot: true })).toEqual({ run: false }));

  it("refuses without root, saying how", () => {
    const d = decideInstall(missing, { install: true, isRoot: false });
    expect(d.run).toBe(false);
    expect(d.reason).toContain("--install must run as root");
  });

  it("runs as root for what is absent, saying what it installs before it does, and that nothing is stopped or replaced", () => {
    expect(decideInstall(missing, { install: true, isRoot: true })).toEqual({
      run: true,
      packages: ["caddy"],
      reason: "--install: installing with apt-get: caddy (2.7 or newer: Debian's, or trixie-backports' when Debian's is older; its service starts as Debian sets it up). " +
        "Nothing already on this machine is stopped, disabled or replaced.",
    });
    const both = decideInstall([checkDocker({ ...dockerBase, reachable: false }), ...missing], { install: true, isRoot: true });
    expect(both.run && both.packages).toEqual(["docker", "caddy"]);
  });

  it("never for a program that is there: stopped Docker, the tests' engine, an old Caddy", () => {
    const there = [
      checkDocker({ ...dockerBase, reachable: false, dockerdInstalled: true }),
      checkDocker({ ...dockerBase, reachable: false, dockerdInstalled: true, projectEngineSetUp: true }),
      checkCaddy({ versionText: "2.6.2" }),
      checkCaddy({ versionText: "(devel)" }),
    ];
    expect(there.map((r) => [r.ok, r.installable])).toEqual([[false, false], [false, false], [false, false], [false, false]]);
    expect(decideInstall(there, { install: true, isRoot: true })).toEqual({
      run: false, reason: "--install: nothing the installer can fix is missing (it installs only what is absent, and replaces nothing)",
    });
  });

  it("says so when the installer cannot help (a busy port)", () => {
    expect(decideInstall([missing[1]], { install: true, isRoot: true })).toEqual({
      run: false, reason: "--install: nothing the installer can fix is missing (it installs only what is absent, and replaces nothing)",
    });
  });

  it("the failure block lists each problem with its fix", () => {
    const text = renderFailures([...missing, checkRemoteServer("ssh://deploy@203.0.113.10:22")]);
    expect(text.split("\n")[0]).toBe("npm start: 2 prerequisite(s) missing; nothing was changed:");
    expect(text).toContain("  x Caddy: not installed");
    expect(text).toContain("    fix: `ss -ltnp 'sport = :8443'`");
    expect(text).not.toContain("ssh://");
  });
});

describe("which servers are this machine (the local checks and the local Caddy apply only then)", () => {
  const base = { domain: "claw.example.com", image: "ghcr.io/openclaw/openclaw:2026.8.1-r20260820", caddy: JSON.stringify({ acmeEmail: "ops@example.com" }) };
  const scopeOf = (servers: unknown) => {
    const checked = checkHosting({ ...base, servers: JSON.stringify(servers) }, () => []);
    if (checked.config === undefined) throw new Error(JSON.stringify(checked.problems));
    return machineScope(resolveServers(checked.config));
  };
  it("a servers map with only remote servers: none local", () => {
    expect(scopeOf({ b: { ssh: { host: "b.example.net", user: "deploy" }, memoryMb: 8192, cpus: 4 }, c: { ssh: { host: "c.example.net", user: "deploy", port: 2222 }, memoryMb: 8192, cpus: 4 } }))
      .toEqual({ local: [], remote: ["ssh://deploy@b.example.net:22", "ssh://deploy@c.example.net:2222"] });
  });
  it("a map with a local server, and a single-server stack without ssh: local", () => {
    expect(scopeOf({ a: { local: true, memoryMb: 8192, cpus: 4 }, b: { ssh: { host: "b.example.net", user: "deploy" }, memoryMb: 8192, cpus: 4 } }))
      .toEqual({ local: ["a"], remote: ["ssh://deploy@b.example.net:22"] });
    const single = checkHosting(base, () => []).config;
    expect(single !== undefined && machineScope(resolveServers(single))).toEqual({ local: ["default"], remote: [] });
  });
});
