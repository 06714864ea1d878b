/**
 * The tenant profile on a real Docker engine. The Docker resources the program registers under
 * Pulumi's mock engine (two active tenants and a suspended one) are translated field by field
 * (test/integration/support/docker.ts: unknown fields throw) and created on the private engine
 * started by test/machinery/runtime-env.sh, with the image replaced by the stand-in gateway
 * (openclaw-standin:test). Then: the engine applied exactly what the program asked for, and the
 * profile holds up (read-only root, loopback-only port, isolation between tenants, memory limits,
 * persistence across a replacement, trusted-proxy address, no secrets in logs).
 *
 *   DOCKER_HOST=unix:///run/openclaw-test/docker.sock npx jest --selectProjects integration --runInBand test/integration/docker
 */
import Docker from "dockerode";
import * as net from "net";
import * as os from "os";
import { baseConfig, fakeKey, ofType, runProgram, TYPES } from "../../support/program";
import { writeRoster } from "../../support/roster";
import { applyOwnership, applyProcessLimits, removeProcessLimits } from "../support/serverCommands";
import {
  TEST_LABEL, TEST_LABEL_VALUE, TestHealthTiming, TranslatedContainer, UntranslatableInput, createAndStart, destroyContainer,
  dockerCli, dockerClient, durationNs, execNode, httpRequest, removeLabelled, sleep, tcpListeners, tcpProbe, translateContainer,
  translateNetwork, translateVolume, waitHealthy,
} from "../support/docker";

const IMAGE = process.env.OPENCLAW_STANDIN_TAG ?? "openclaw-standin:test";
const DOMAIN = "claw.example.com";
/** Not the default pool (18800-18899) nor the smoke test's port: nothing else on the engine uses these. */
const PORT_POOL = { start: 28710, end: 28719 };
/** Not the default block (10.231.0.0/16, used by smoke.sh) and clear of the engine's 172.17.0.0/16. */
const TENANT_NETWORKS = "10.237.0.0/24";
const TEST_LABELS = { [TEST_LABEL]: TEST_LABEL_VALUE };
const GATEWAY_PORT = 18789;
const MB = 1024 * 1024;

/**
 * TEST-ONLY, and the only place this suite departs from the program's inputs: the program's health
 * check runs every 30s after a 60s start period, which would make every "becomes healthy" wait take
 * 30 s or more. Only `interval` and `startPeriod` are replaced; the check's command, timeout and
 * retries, and every other container field, are created exactly as the program asks.
 */
const TEST_ONLY_HEALTH_TIMING: TestHealthTiming = { interval: "1s", startPeriod: "10s" };
/** Bound on each "becomes healthy" wait (the program's own waitTimeout is 180 s). */
const HEALTHY_WITHIN_MS = 60_000;

interface Tenant {
  name: string;
  inputs: Record<string, unknown>;
  translated: TranslatedContainer;
  container: string;
  port: number;
  env: Map<string, string>;
  settings: Array<{ path: string; value: unknown }>;
  subnet: string;
  bridgeGateway: string;
  /** The container's address on its own network (known once it runs). */
  ip: string;
}

const docker: Docker = dockerClient();
const tenants = new Map<string, Tenant>();
const figures: Record<string, unknown> = {};
let volumeInputs: Array<Record<string, unknown>> = [];
let networkInputs: Array<Record<string, unknown>> = [];
let containerNames: string[] = [];
/** Labels baked into the stand-in image: the engine merges them under the container's own. */
let imageLabels: Record<string, string> = {};

function tenant(name: string): Tenant {
  const t = tenants.get(name);
  if (t === undefined) throw new Error(`tenant ${name} was not set up`);
  return t;
}

function labelsOf(inputs: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries((inputs.labels as Array<{ label: string; value: string }>).map((l) => [l.label, l.value]));
}

/** A TCP connect from inside a container (node one-liner, bounded): "connected" or the error code. */
async function connectFrom(container: string, host: string, port: number, timeoutMs = 1500): Promise<string> {
  const script =
    `const s=require('net').connect({host:${JSON.stringify(host)},port:${port}});` +
    `const t=setTimeout(()=>{console.log('timeout');process.exit(0)},${timeoutMs});` +
    `s.on('connect',()=>{console.log('connected');process.exit(0)});` +
    `s.on('error',e=>{console.log(e.code||e.message);process.exit(0)});`;
  const r = await execNode(container, script, timeoutMs + 10_000);
  if (r.code !== 0) throw new Error(`probe in ${container} failed: ${r.code} ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * An HTTP GET from inside a container, by name or address. Node loads fetch's HTTP client lazily on
 * the first call: inside a tenant (1 CPU) on a busy 2-core machine that alone took 1.8 s, more than
 * the probe's budget, so a control (`selfByName`) timed out while name and address both worked
 * (measured: lookup 421 ms, first fetch 1,790 ms, a second fetch by name 131 ms). The client is
 * loaded first, against the container's own closed loopback port, and the budget starts after it,
 * so a timeout means the request itself got no answer.
 */
async function httpFrom(container: string, url: string, timeoutMs = 1500): Promise<string> {
  const script =
    `fetch('http://127.0.0.1:1/').catch(()=>undefined)` +
    `.then(()=>fetch(${JSON.stringify(url)},{signal:AbortSignal.timeout(${timeoutMs})}))` +
    `.then(r=>r.text()).then(b=>console.log('ok '+b))` +
    `.catch(e=>console.log('error '+((e.cause&&e.cause.code)||e.name||e.message)))` +
    // An aborted fetch leaves its connect attempt pending (undici waits ~10 s): do not wait for it.
    `.finally(()=>process.exit(0))`;
  const r = await execNode(container, script, timeoutMs + 10_000);
  if (r.code !== 0) throw new Error(`fetch in ${container} failed: ${r.code} ${r.stderr}`);
  return r.stdout.trim();
}

beforeAll(async () => {
  await docker.ping();
  const image = await docker.getImage(IMAGE).inspect(); // built by test/machinery/runtime-env.sh build-image
  imageLabels = image.Config.Labels ?? {};

  const leftovers = await removeLabelled(docker);
  if (leftovers.length > 0) console.log(`removed leftovers of an earlier run: ${leftovers.join("; ")}`);

  const rosterDir = writeRoster([
    { name: "alpha", tier: "standard" },
    { name: "beta", tier: "light" },
    { name: "gamma", state: "suspended" },
  ]);
  const run = await runProgram(
    baseConfig(rosterDir, {
      domain: DOMAIN,
      apiKeys: { alpha: fakeKey("alpha"), beta: fakeKey("beta") },
      portPool: PORT_POOL,
      tenantNetworks: TENANT_NETWORKS,
      // The test engine runs without systemd, so Docker uses cgroupfs (docker info: CgroupDriver).
      cgroupDriver: "cgroupfs",
    }),
  );
  volumeInputs = ofType(run, TYPES.volume).map((r) => r.inputs);
  networkInputs = ofType(run, TYPES.network).map((r) => r.inputs);
  const containers = ofType(run, TYPES.container);
  containerNames = containers.map((c) => String(c.inputs.name));

  // Never adopt or clobber an object this suite did not create: createVolume would silently reuse one.
  for (const v of volumeInputs) {
    const existing = await docker.getVolume(String(v.name)).inspect().catch(() => undefined);
    if (existing !== undefined) throw new Error(`volume ${String(v.name)} exists and is not this suite's`);
  }

  // Translate everything first: an unknown field fails the suite before anything is created.
  const translated = containers.map((c) =>
    translateContainer(c.inputs, { image: IMAGE, extraLabels: TEST_LABELS, healthTiming: TEST_ONLY_HEALTH_TIMING }),
  );
  const volumeOpts = volumeInputs.map((v) => translateVolume(v, TEST_LABELS));
  const networkOpts = networkInputs.map((n) => translateNetwork(n, TEST_LABELS));

  await applyProcessLimits(run); // each tenant's limited parent cgroup, before its container
  for (const v of volumeOpts) await docker.createVolume(v);
  for (const n of networkOpts) await docker.createNetwork(n);
  await applyOwnership(run, IMAGE); // each tenant's volumes its own uid's, before its container

  const t0 = Date.now();
  await Promise.all(translated.map((t) => createAndStart(docker, t)));
  const healthyMs = await Promise.all(
    translated.map((t) => waitHealthy(docker, t.name, Math.min(t.wait.timeoutSeconds * 1000, HEALTHY_WITHIN_MS))),
  );
  figures.createToHealthyMs = Object.fromEntries(translated.map((t, i) => [t.name, healthyMs[i]]));
  figures.createAllToHealthyMs = Date.now() - t0;
  console.log(`time to healthy (health interval ${TEST_ONLY_HEALTH_TIMING.interval}): ${JSON.stringify(figures.createToHealthyMs)}, all ${String(figures.createAllToHealthyMs)} ms`);

  for (const [c, t] of containers.map((c, i) => [c, translated[i]] as const)) {
    const labels = labelsOf(c.inputs);
    const name = labels["openclaw.tenant"];
    const env = new Map((c.inputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    const net = networkInputs.find((n) => n.name === c.inputs.networkMode);
    if (net === undefined) throw new Error(`no network ${String(c.inputs.networkMode)}`);
    const ipam = (net.ipamConfigs as Array<{ subnet: string; gateway: string }>)[0];
    const info = await docker.getContainer(t.name).inspect();
    tenants.set(name, {
      name,
      inputs: c.inputs,
      translated: t,
      container: t.name,
      port: (c.inputs.ports as Array<{ external: number }>)[0].external,
      env,
      settings: JSON.parse(env.get("OPENCLAW_HOSTING_SETTINGS") ?? "[]") as Tenant["settings"],
      subnet: ipam.subnet,
      bridgeGateway: ipam.gateway,
      ip: info.NetworkSettings.Networks[String(c.inputs.networkMode)]?.IPAddress ?? "",
    });
  }
}, 180_000);

afterAll(async () => {
  const removed = await removeLabelled(docker);
  await removeProcessLimits(); // after the containers that ran under them
  const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${TEST_LABEL}=${TEST_LABEL_VALUE}`] }) });
  console.log(`cleanup removed ${removed.length} objects; ${left.length} labelled containers left. Figures: ${JSON.stringify(figures)}`);
}, 120_000);

describe("translation", () => {
  test("refuses any input field it has no translation for", () => {
    const inputs = tenant("alpha").inputs;
    const opts = { image: IMAGE, extraLabels: TEST_LABELS };
    expect(() => translateContainer(inputs, opts)).not.toThrow();
    const ports = inputs.ports as Array<Record<string, unknown>>;
    const hc = inputs.healthcheck as Record<string, unknown>;
    for (const bad of [
      { ...inputs, privileged: false },
      { ...inputs, networksAdvanced: [{ name: "x" }] },
      { ...inputs, ports: [{ ...ports[0], hostAddress: "0.0.0.0" }] },
      { ...inputs, healthcheck: { ...hc, startInterval: "1s" } },
      { ...inputs, capabilities: { drops: ["ALL"], other: [] } },
      { ...inputs, volumes: [{ volumeName: "v", containerPath: "/x", hostPath: "/etc" }] },
      { ...inputs, mounts: [{ type: "bind", source: "/etc", target: "/x", bindOptions: { propagation: "shared" } }] },
      { ...inputs, cpus: 1 },
    ]) {
      expect(() => translateContainer(bad, opts)).toThrow(UntranslatableInput);
    }
    expect(() => translateNetwork({ ...networkInputs[0], internal: true }, TEST_LABELS)).toThrow(UntranslatableInput);
    expect(() => translateNetwork({ ...networkInputs[0], ipamConfigs: [{ subnet: "10.0.0.0/28", ipRange: "x" }] }, TEST_LABELS)).toThrow(
      UntranslatableInput,
    );
    expect(() => translateVolume({ ...volumeInputs[0], driver: "local" }, TEST_LABELS)).toThrow(UntranslatableInput);
    expect(durationNs("30s")).toBe(30e9);
    expect(durationNs("1m30s")).toBe(90e9);
    expect(() => durationNs("30")).toThrow(UntranslatableInput);
  });
});

describe("the program's tenants on a real engine", () => {
  test("every volume and network is created as asked; only active tenants get a container, and each becomes healthy", async () => {
    expect(containerNames.sort()).toEqual(["openclaw-alpha", "openclaw-beta"]);
    // Two volumes per tenant, suspended ones included; an active tenant's container mounts its own two.
    for (const name of ["alpha", "beta", "gamma"]) {
      expect(volumeInputs.filter((v) => labelsOf(v)["openclaw.tenant"] === name)).toHaveLength(2);
    }
    expect(volumeInputs).toHaveLength(6);
    for (const t of tenants.values()) {
      const own = volumeInputs.filter((v) => labelsOf(v)["openclaw.tenant"] === t.name).map((v) => v.name);
      const mounted = (t.inputs.mounts as Array<{ source: string }>).map((m) => m.source);
      expect([...mounted].sort()).toEqual([...own].sort());
    }
    for (const v of volumeInputs) {
      const info = await docker.getVolume(String(v.name)).inspect();
      expect(info.Labels).toEqual({ ...labelsOf(v), ...TEST_LABELS });
    }
    for (const n of networkInputs) {
      const info = (await docker.getNetwork(String(n.name)).inspect()) as Docker.NetworkInspectInfo;
      expect(info.Driver).toBe(n.driver);
      const ipam = n.ipamConfigs as Array<{ subnet: string; gateway: string }>;
      expect(info.IPAM?.Config).toEqual(ipam.map((c) => ({ Subnet: c.subnet, Gateway: c.gateway })));
      expect(info.Labels).toEqual({ ...labelsOf(n), ...TEST_LABELS });
    }
    const gamma = (await docker.getNetwork("openclaw-gamma").inspect()) as Docker.NetworkInspectInfo;
    expect(Object.keys(gamma.Containers ?? {})).toEqual([]);
    for (const t of tenants.values()) {
      // The provider waits for "healthy" before a create (or replacement) counts as done.
      expect(t.translated.wait).toEqual({ healthy: true, timeoutSeconds: t.inputs.waitTimeout });
      const info = await docker.getContainer(t.container).inspect();
      expect(info.State.Health?.Status).toBe("healthy");
      expect(info.State.Running).toBe(true);
    }
  });

  test("docker inspect shows exactly what the program asked for", async () => {
    for (const t of tenants.values()) {
      const i = t.inputs;
      const info = await docker.getContainer(t.container).inspect();
      const hc = info.HostConfig;
      expect(info.Name).toBe(`/${String(i.name)}`);
      expect(info.Config.Image).toBe(IMAGE);
      expect(info.Config.Cmd).toEqual(i.command);
      expect(info.Config.User).toBe(i.user);
      // The tenant's own uid and gid (one number, from the pool), never the shared 1000.
      const uid = Number(String(i.user).split(":")[0]);
      expect(info.Config.User).toBe(`${uid}:${uid}`);
      expect(uid).toBeGreaterThanOrEqual(1_900_000_000);
      expect(info.Config.Env).toEqual(expect.arrayContaining(i.envs as string[]));
      expect(info.Config.Labels).toEqual({ ...imageLabels, ...labelsOf(i), ...TEST_LABELS });
      // MB in the inputs, bytes on the engine.
      expect(hc.Memory).toBe((i.memory as number) * MB);
      expect(hc.MemorySwap).toBe((i.memorySwap as number) * MB);
      expect(hc.MemorySwap).toBe(hc.Memory); // no swap on top of the limit
      expect(hc.MemoryReservation).toBe((i.memoryReservation as number) * MB);
      expect(hc.NanoCpus).toBe(Math.round(Number(i.cpus) * 1e9));
      expect(hc.ReadonlyRootfs).toBe(true);
      expect(hc.CapDrop).toEqual(["ALL"]);
      expect(hc.CapAdd ?? null).toBeNull();
      expect(hc.SecurityOpt).toEqual(["no-new-privileges:true"]);
      expect(hc.Init).toBe(true);
      expect(hc.RestartPolicy).toEqual({ Name: "unless-stopped", MaximumRetryCount: 0 });
      expect(hc.PortBindings).toEqual({ [`${GATEWAY_PORT}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(t.port) }] });
      expect(hc.NetworkMode).toBe(i.networkMode);
      expect(Object.keys(info.NetworkSettings.Networks)).toEqual([i.networkMode]);
      expect(hc.Tmpfs).toEqual(i.tmpfs);
      expect(hc.Tmpfs).toEqual({
        "/tmp": "rw,nosuid,nodev,size=64m,mode=1777", "/home/node/.cache": `rw,nosuid,nodev,size=64m,uid=${uid},gid=${uid},mode=0700`,
        "/home/node/.config": `rw,nosuid,nodev,size=1m,uid=${uid},gid=${uid},mode=0700`,
      });
      expect((info.Config as { StopTimeout?: number }).StopTimeout).toBe(i.stopTimeout);
      expect(hc.LogConfig).toEqual({ Type: i.logDriver, Config: i.logOpts });
      expect(hc.LogConfig).toEqual({ Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } });
      const mounts = info.Mounts.map((m) => ({ Type: m.Type, Name: m.Name, Destination: m.Destination, RW: m.RW })).sort((a, b) =>
        a.Destination.localeCompare(b.Destination),
      );
      const wanted = (i.mounts as Array<{ source: string; target: string }>)
        .map((m) => ({ Type: "volume", Name: m.source, Destination: m.target, RW: true }))
        .sort((a, b) => a.Destination.localeCompare(b.Destination));
      expect(mounts).toEqual(wanted);
      const health = i.healthcheck as { tests: string[]; timeout: string; retries: number; interval: string; startPeriod: string };
      expect(info.Config.Healthcheck?.Test).toEqual(health.tests);
      expect(info.Config.Healthcheck?.Test?.[0]).toBe("CMD");
      expect(info.Config.Healthcheck?.Timeout).toBe(durationNs(health.timeout));
      expect(info.Config.Healthcheck?.Retries).toBe(health.retries);
      expect([health.interval, health.startPeriod]).toEqual(["30s", "120s"]); // the program's; shortened for the test only:
      expect(info.Config.Healthcheck?.Interval).toBe(durationNs(TEST_ONLY_HEALTH_TIMING.interval));
      expect(info.Config.Healthcheck?.StartPeriod).toBe(durationNs(TEST_ONLY_HEALTH_TIMING.startPeriod));
      // The kernel's view of the limits (cgroup v1, or v2).
      const cg = await dockerCli(
        ["exec", t.container, "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max"],
        15_000,
      );
      const [limit, second] = cg.stdout.trim().split(/\s+/);
      expect(Number(limit)).toBe((i.memory as number) * MB);
      expect(["0", String((i.memory as number) * MB)]).toContain(second); // v2 swap.max 0, or v1 memsw = memory
      expect(t.ip).not.toBe("");
    }
  });

  test("the root filesystem is read-only; /tmp and both state directories are writable", async () => {
    for (const t of tenants.values()) {
      const root = JSON.parse((await httpRequest("127.0.0.1", t.port, "/__standin/write-root", { method: "POST", body: "" })).body) as {
        readOnly: boolean;
        results: Array<{ path: string; code: string | null }>;
      };
      expect(root.readOnly).toBe(true);
      expect(root.results.map((r) => r.code)).toEqual(["EROFS", "EROFS"]);
      const shellRoot = await dockerCli(["exec", t.container, "sh", "-c", "echo x > /probe-root"], 15_000);
      expect(shellRoot.code).not.toBe(0);
      expect(shellRoot.stderr).toMatch(/read-only/i);
      const tmp = await dockerCli(["exec", t.container, "sh", "-c", "echo tmp-ok > /tmp/probe && cat /tmp/probe && rm /tmp/probe"], 15_000);
      expect(tmp).toMatchObject({ code: 0, stdout: "tmp-ok\n" });
      const w = await httpRequest("127.0.0.1", t.port, "/__standin/write?name=fs-probe.txt", { method: "POST", body: `hello ${t.name}` });
      const written = JSON.parse(w.body) as { ok: boolean; results: Array<{ path: string; ok: boolean }> };
      expect(w.status).toBe(200);
      expect(written.results.map((r) => [r.path, r.ok])).toEqual([
        ["/home/node/.openclaw/fs-probe.txt", true],
        ["/home/node/.config/openclaw/fs-probe.txt", true],
      ]);
    }
  });

  test("the published port listens on 127.0.0.1 only", async () => {
    const hostAddresses = Object.values(os.networkInterfaces())
      .flat()
      .filter((a): a is os.NetworkInterfaceInfo => a !== undefined && !a.internal && a.family === "IPv4" && !a.address.startsWith("169.254."))
      .map((a) => a.address);
    const listeners = tcpListeners();
    const report: Record<string, unknown> = {};
    for (const t of tenants.values()) {
      const info = await docker.getContainer(t.container).inspect();
      expect(info.HostConfig.PortBindings).toEqual({ [`${GATEWAY_PORT}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(t.port) }] });
      expect(info.NetworkSettings.Ports[`${GATEWAY_PORT}/tcp`]).toEqual([{ HostIp: "127.0.0.1", HostPort: String(t.port) }]);
      const bound = listeners.filter((l) => l.port === t.port);
      expect(bound).toEqual([{ family: "tcp", address: "127.0.0.1", port: t.port }]);
      const health = await httpRequest("127.0.0.1", t.port, "/healthz");
      expect(JSON.parse(health.body)).toEqual({ ok: true, status: "live" });
      // Every other address of this host (its own interfaces, including the tenant bridges): nothing there.
      const others: Record<string, string> = {};
      for (const addr of [...hostAddresses, "::1"]) others[addr] = await tcpProbe(addr, t.port, 1000);
      for (const r of Object.values(others)) expect(r).not.toBe("connected");
      report[t.name] = { port: t.port, listeners: bound, otherHostAddresses: others };
    }
    console.log(`port bindings: ${JSON.stringify(report)}`);
  });

  test("the gateway sees one of its configured trusted proxies, and its config has the tenant's origin", async () => {
    const seen: Record<string, string> = {};
    for (const t of tenants.values()) {
      const proxies = t.settings.find((s) => s.path === "gateway.trustedProxies")?.value as string[];
      expect(proxies).toEqual(expect.arrayContaining([t.bridgeGateway]));
      const token = t.env.get("OPENCLAW_GATEWAY_TOKEN") ?? "";
      const who = JSON.parse(
        (await httpRequest("127.0.0.1", t.port, "/__standin/whoami", { headers: { authorization: `Bearer ${token}` } })).body,
      ) as { remoteAddress: string; trusted: boolean; tokenValid: boolean };
      seen[t.name] = who.remoteAddress;
      expect(proxies).toContain(who.remoteAddress); // exactly as reported, no normalisation
      expect(who.trusted).toBe(true);
      expect(who.tokenValid).toBe(true);
      const cfg = JSON.parse((await httpRequest("127.0.0.1", t.port, "/__standin/config")).body) as {
        config: { gateway?: { mode?: string; trustedProxies?: string[]; controlUi?: { allowedOrigins?: string[] } } };
      };
      expect(cfg.config.gateway?.controlUi?.allowedOrigins).toContain(`https://${t.name}.${DOMAIN}`);
      expect(cfg.config.gateway?.controlUi?.allowedOrigins).toEqual([`https://${t.name}.${DOMAIN}`]);
      expect(cfg.config.gateway?.trustedProxies).toEqual(proxies);
      expect(cfg.config.gateway?.mode).toBe("local");
    }
    figures.remoteAddressSeen = seen;
    console.log(`remoteAddress seen through the published port: ${JSON.stringify(seen)}`);
  });

  test("tenants cannot reach each other: not by address, not through the other's host port, not by name", async () => {
    const results: Record<string, Record<string, string>> = {};
    for (const [from, to] of [
      ["alpha", "beta"],
      ["beta", "alpha"],
    ] as const) {
      const a = tenant(from);
      const b = tenant(to);
      // The probes are independent (each bounded): run them side by side.
      const aNet = docker.getNetwork(String(a.inputs.networkMode)).inspect() as Promise<Docker.NetworkInspectInfo>;
      const probes: Record<string, Promise<string>> = {
        // Controls: the probe works, B listens on its address, name resolution works for A's own name.
        selfByAddress: connectFrom(a.container, a.ip, GATEWAY_PORT),
        hostToOtherByAddress: tcpProbe(b.ip, GATEWAY_PORT, 1500),
        selfByName: httpFrom(a.container, `http://${a.container}:${GATEWAY_PORT}/healthz`),
        // The other tenant's container address.
        otherByAddress: connectFrom(a.container, b.ip, GATEWAY_PORT),
        otherHttpByAddress: httpFrom(a.container, `http://${b.ip}:${GATEWAY_PORT}/healthz`),
        // The other tenant's published host port, via this tenant's bridge gateway (the host as seen from A).
        otherHostPortViaOwnGateway: connectFrom(a.container, a.bridgeGateway, b.port),
        // The other tenant's name: A's network holds A alone, so Docker's DNS has no record of B for A.
        ownNetworkMembers: aNet.then((n) => Object.values(n.Containers ?? {}).map((c) => c.Name).join(",")),
        otherInEtcHosts: dockerCli(["exec", a.container, "cat", "/etc/hosts"], 15_000).then((h) => String(h.code !== 0 || h.stdout.includes(b.container))),
      };
      if (process.env.OPENCLAW_TEST_DNS_FORWARD === "1") {
        // Docker's DNS forwards names it does not know to the host's resolver: off by default (no
        // traffic beyond loopback and the test's containers).
        probes.otherByName = httpFrom(a.container, `http://${b.container}:${GATEWAY_PORT}/healthz`, 3000);
      }
      const keys = Object.keys(probes);
      const values = await Promise.all(keys.map((k) => probes[k]));
      const r: Record<string, string> = Object.fromEntries(keys.map((k, n) => [k, values[n]]));
      results[`${from}->${to}`] = r;

      expect(r.selfByAddress).toBe("connected");
      expect(r.hostToOtherByAddress).toBe("connected");
      expect(r.selfByName).toBe(`ok {"ok":true,"status":"live"}`);
      expect(r.otherByAddress).not.toBe("connected");
      expect(r.otherHttpByAddress).toMatch(/^error /);
      expect(r.otherHostPortViaOwnGateway).not.toBe("connected");
      expect(r.ownNetworkMembers).toBe(a.container);
      expect(r.otherInEtcHosts).toBe("false");
      if (r.otherByName !== undefined) expect(r.otherByName).toMatch(/^error /);
    }
    // Control for the host-port path: a listener on A's bridge gateway address *is* reachable from A,
    // so the refusal above comes from the 127.0.0.1 binding, not from a dead path.
    const a = tenant("alpha");
    const server = net.createServer((s) => {
      s.on("error", () => undefined); // the probe exits as soon as it connects (RST)
      s.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, a.bridgeGateway, () => resolve());
    });
    try {
      const port = (server.address() as net.AddressInfo).port;
      results.control = { listenerOnOwnGateway: await connectFrom(a.container, a.bridgeGateway, port) };
      expect(results.control.listenerOnOwnGateway).toBe("connected");
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    console.log(`isolation probes: ${JSON.stringify(results)}`);
  });

  test("allocating past A's memory limit kills the allocating process; B keeps answering throughout", async () => {
    const a = tenant("alpha");
    const b = tenant("beta");
    const limitMb = a.inputs.memory as number;
    // Buffers live outside V8's heap (NODE_OPTIONS caps only the heap), and filling them touches the pages.
    const script =
      `const bufs=[];let mb=0;const t0=Date.now();` +
      // 64 MB a tick, for up to 60 s: on a 2-core machine at load 10, 8 MB every 40 ms reached only 496 of
      // 2,048 MB in 20 s (a quiet machine passes the limit in a few seconds).
      `const tick=setInterval(()=>{for(let i=0;i<8;i++){bufs.push(Buffer.alloc(8*1024*1024,1));mb+=8;}` +
      `console.log('allocated '+mb+' MB');` +
      `if(mb>=${limitMb * 2}||Date.now()-t0>60000){console.log('survived '+mb+' MB');clearInterval(tick);process.exit(0)}},40);`;
    const samples: Array<{ ms: number; ok: boolean; error?: string }> = [];
    let done = false;
    const t0 = Date.now();
    const sampler = (async () => {
      // Bounded: at most 900 samples or 90 s, and 1 s past the allocation's end.
      let doneAt = 0;
      for (let n = 0; n < 900 && Date.now() - t0 < 90_000; n++) {
        if (done && doneAt === 0) doneAt = Date.now();
        if (doneAt !== 0 && Date.now() - doneAt > 1000) break;
        const s0 = Date.now();
        try {
          const r = await httpRequest("127.0.0.1", b.port, "/healthz", { timeoutMs: 1000 });
          const ok = r.status === 200 && (JSON.parse(r.body) as { ok?: boolean }).ok === true;
          samples.push(ok ? { ms: s0 - t0, ok } : { ms: s0 - t0, ok, error: `status ${r.status}` });
        } catch (e) {
          samples.push({ ms: s0 - t0, ok: false, error: (e as Error).message });
        }
        await sleep(Math.max(0, 100 - (Date.now() - s0)));
      }
    })();
    const oom = await execNode(a.container, script, 80_000);
    done = true;
    await sampler;
    const failures = samples.filter((s) => !s.ok);
    const after = await docker.getContainer(a.container).inspect();
    figures.oom = {
      limitMb,
      exitCode: oom.code,
      ms: oom.ms,
      lastOutput: oom.stdout.trim().split("\n").slice(-1)[0],
      betaHealthzSamples: samples.length,
      betaHealthzFailures: failures.length,
      alphaAfter: { running: after.State.Running, restarts: after.RestartCount, health: after.State.Health?.Status },
    };
    console.log(`OOM: ${JSON.stringify(figures.oom)}${failures.length > 0 ? ` failures: ${JSON.stringify(failures)}` : ""}`);
    expect(oom.code).toBe(137);
    expect(oom.stdout).not.toMatch(/survived/);
    expect(samples.length).toBeGreaterThanOrEqual(10);
    expect(failures).toEqual([]);
    // A's gateway itself is still up (or restarted by its policy) and healthy again.
    await waitHealthy(docker, a.container, HEALTHY_WITHIN_MS);
  });

  test("the gateway token and the API key never appear in docker logs", async () => {
    for (const t of tenants.values()) {
      const token = t.env.get("OPENCLAW_GATEWAY_TOKEN") ?? "";
      const apiKey = t.env.get("ANTHROPIC_API_KEY") ?? ""; // the roster's default provider
      expect(token.length).toBeGreaterThan(10);
      expect(apiKey).toBe(fakeKey(t.name));
      // Make the gateway log a request that carries the token first.
      await httpRequest("127.0.0.1", t.port, "/__standin/protected", { headers: { authorization: `Bearer ${token}` } });
      const logs = await dockerCli(["logs", t.container], 15_000);
      expect(logs.code).toBe(0);
      const text = logs.stdout + logs.stderr;
      expect(text.length).toBeGreaterThan(0);
      expect(text).not.toContain(token);
      expect(text).not.toContain(apiKey);
    }
  });

  test("data survives replacing the container (delete, then create); removing it leaves its volumes", async () => {
    const a = tenant("alpha");
    const payload = `persist-${Date.now()}`;
    const w = await httpRequest("127.0.0.1", a.port, "/__standin/write?name=persist.txt", { method: "POST", body: payload });
    expect(w.status).toBe(200);

    // deleteBeforeReplace: the provider stops (destroyGraceSeconds) and removes (removeVolumes) the old one first.
    expect(a.translated.destroy).toEqual({ graceSeconds: a.inputs.destroyGraceSeconds, removeVolumes: false });
    const t0 = Date.now();
    await destroyContainer(docker, a.translated);
    const stopMs = Date.now() - t0;
    await expect(docker.getContainer(a.container).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const volumes = (a.inputs.mounts as Array<{ source: string }>).map((m) => m.source);
    for (const v of volumes) {
      const info = await docker.getVolume(v).inspect();
      expect(info.Name).toBe(v);
    }

    const t1 = Date.now();
    await createAndStart(docker, a.translated);
    const healthyMs = await waitHealthy(docker, a.container, HEALTHY_WITHIN_MS);
    figures.replacement = { stopAndRemoveMs: stopMs, recreateToHealthyMs: Date.now() - t1, waitMs: healthyMs };
    console.log(`replacement: ${JSON.stringify(figures.replacement)}`);
    const read = JSON.parse((await httpRequest("127.0.0.1", a.port, "/__standin/read?name=persist.txt")).body) as {
      state: { content: string | null };
      config: { content: string | null };
    };
    expect(read.state.content).toBe(payload);
    expect(read.config.content).toBe(payload);
    // The managed settings are written again on start, idempotently.
    const cfg = JSON.parse((await httpRequest("127.0.0.1", a.port, "/__standin/config")).body) as {
      config: { gateway?: { trustedProxies?: string[] } };
    };
    expect(cfg.config.gateway?.trustedProxies).toEqual(a.settings.find((s) => s.path === "gateway.trustedProxies")?.value);
  });
});
