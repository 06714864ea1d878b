/**
 * Process limits and the egress guard on the real engine, tried from inside a tenant as an attacker
 * would. The program runs under Pulumi's mock engine (two active tenants, cgroupfs as the test
 * engine uses); its captured commands (the egress guard, each tenant's process limit) are run exactly
 * as local.Command runs them (/bin/bash -c, rules on stdin), and its containers, networks and volumes
 * are created through the field-by-field translation (test/integration/support/docker.ts).
 *
 * Traffic goes only to loopback, to this suite's own containers and bridges (IPv4 and the host's
 * IPv6 link-local address on a tenant's bridge), and to three network namespaces the suite creates
 * (one in a private range, one at a documentation address, one inside the tenants' block where no
 * bridge is). The metadata addresses and private ranges outside those are checked by reading the
 * rules. The guard's refusals run in namespaces of their own (network and mount), so the shared
 * engine's rules and this machine's files are never touched by them.
 */
import { execFile, spawn, ChildProcess } from "child_process";
import { applyOwnership } from "../support/serverCommands";
import Docker from "dockerode";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { DISKS_DIR, diskPurge } from "../../../core/diskBudget";
import { BRIDGE_NAME_OPTION, DEFAULT_PRIVATE_RANGES, EGRESS_CHAIN, INPUT_CHAIN, LINK_LOCAL } from "../../../core/egressGuard";
import { CapturedResource, REPO_ROOT, TYPES, baseConfig, fakeKey, ofType, runProgram } from "../../support/program";
import { writeRoster } from "../../support/roster";
import { runCommand } from "../support/caddy";
import {
  TEST_LABEL, TEST_LABEL_VALUE, TestHealthTiming, TranslatedContainer, createAndStart, destroyContainer, dockerCli, dockerClient, execNode,
  httpRequest, removeLabelled, sleep, tcpProbe, translateContainer, translateNetwork, translateVolume, waitHealthy,
} from "../support/docker";
import { bridgeAtEngineStart, hostAddressOnBridge } from "../support/bridgeAddress";

const IMAGE = process.env.OPENCLAW_STANDIN_TAG ?? "openclaw-standin:test";
/** This suite's own: docker uses 28710-28719 / 10.237.0.0/24, edge 28730-28739 / 10.238.0.0/24. */
const PORT_POOL = { start: 28750, end: 28759 };
const TENANT_NETWORKS = "10.236.0.0/24";
const TEST_LABELS = { [TEST_LABEL]: TEST_LABEL_VALUE };
/** TEST-ONLY (as in the docker suite): a faster health check cadence; everything else is the program's. */
const HEALTH: TestHealthTiming = { interval: "1s", startPeriod: "10s" };
const HEALTHY_WITHIN_MS = 60_000;
/** Bounds on the fork test: at most this many processes, and this long. */
const FORK_CAP = 3000;
const FORK_WINDOW_MS = 60_000;
/**
 * The namespaces: a private-range "internal service", a "public" documentation address, and an
 * address in the tenants' block that is no bridge of this server (as another server's tenant, or a
 * /28 no tenant uses; the port pool's 10 tenants use /28s 0-9 of the /24, this is the 16th).
 */
const NAMESPACES = [
  { ns: "oit-priv", hostIf: "oit-priv-h", nsIf: "oit-priv-n", hostAddr: "192.168.251.1/30", addr: "192.168.251.2" },
  { ns: "oit-doc", hostIf: "oit-doc-h", nsIf: "oit-doc-n", hostAddr: "198.51.100.1/30", addr: "198.51.100.2" },
  { ns: "oit-block", hostIf: "oit-blk-h", nsIf: "oit-blk-n", hostAddr: "10.236.0.241/30", addr: "10.236.0.242" },
] as const;
/** A second container on alpha's own bridge (as a tenant's sidecar would be): the exemption's control. */
const SIDECAR = "openclaw-test-alpha-sidecar";
const NS_PORT = 8080;

const docker: Docker = dockerClient();
const figures: Record<string, unknown> = {};
let run: Awaited<ReturnType<typeof runProgram>>;
let guard: CapturedResource;
let limits: CapturedResource[] = [];
let translated = new Map<string, TranslatedContainer>();
let bridgeGateways = new Map<string, string>();
let docker0Address: { address: string; from: "ipam" | "interface" } | undefined;
let hostListener: net.Server | undefined;
let listenerPort = 0;
/** A host service on every IPv6 address (as `::` binds), and the host's link-local address on alpha's bridge. */
let hostListener6: net.Server | undefined;
let listenerPort6 = 0;
let alphaBridge = "";
let alphaBridgeLinkLocal = "";
let sidecarAddress = "";
const nsListeners: ChildProcess[] = [];

function sh(cmd: string, args: readonly string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === "number" ? Number((err as { code: number }).code) : 1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function must(cmd: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  const r = await sh(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Runs one of the program's commands as local.Command does; `which` is create or delete. */
async function runProgramCommand(c: CapturedResource, which: "create" | "delete"): Promise<string> {
  const text = String(c.inputs[which]);
  const interpreter = (c.inputs.interpreter as string[] | undefined) ?? ["/bin/bash", "-c"];
  const r = await runCommand(interpreter, text, c.inputs.stdin === undefined ? "" : String(c.inputs.stdin), process.env, 60_000);
  if (r.exitCode !== 0) throw new Error(`${c.name} ${which} exited ${r.exitCode}: ${r.stderr}`);
  return r.stdout + r.stderr;
}

/** A TCP connect from inside a container (bounded): "connected" or the error code. */
async function connectFrom(container: string, host: string, port: number, timeoutMs = 2000): Promise<string> {
  const script =
    `const s=require('net').connect({host:${JSON.stringify(host)},port:${port}});` +
    `const t=setTimeout(()=>{console.log('timeout');process.exit(0)},${timeoutMs});` +
    `s.on('connect',()=>{console.log('connected');process.exit(0)});` +
    `s.on('error',e=>{console.log(e.code||e.message);process.exit(0)});`;
  const r = await execNode(container, script, timeoutMs + 10_000);
  if (r.code !== 0) throw new Error(`probe in ${container} failed: ${r.code} ${r.stderr}`);
  return r.stdout.trim();
}

function pidsDir(tenant: string): string {
  return `/sys/fs/cgroup/pids/openclaw/${tenant}`;
}
function readPidsMax(tenant: string): string {
  return fs.readFileSync(path.join(pidsDir(tenant), "pids.max"), "utf8").trim();
}
/** The pids cgroup of the container's first process, as the kernel reports it. */
async function pidsCgroupOf(container: string): Promise<string> {
  const info = await docker.getContainer(container).inspect();
  const line = fs.readFileSync(`/proc/${info.State.Pid}/cgroup`, "utf8").split("\n").find((l) => /:pids:/.test(l));
  return line?.split(":")[2] ?? "none";
}

function limitOf(tenant: string): number {
  const c = limits.find((l) => l.name === `${tenant}-process-limit`);
  const m = /'apply' 'cgroupfs' '[a-z0-9-]+' '(\d+)'/.exec(String(c?.inputs.create));
  if (m === null) throw new Error(`no process limit for ${tenant}`);
  return Number(m[1]);
}

/** The tenant's published (loopback) port, Caddy's way in. */
function hostPort(tenant: string): number {
  const bindings = (translated.get(tenant)?.create.HostConfig?.PortBindings ?? {}) as Record<string, Array<{ HostPort?: string }>>;
  return Number(Object.values(bindings)[0]?.[0]?.HostPort);
}

/** The engine here runs on iptables' nft backend (what `iptables` is on this machine), as does the guard. */
function iptablesRules(chain: string, family: 4 | 6 = 4): Promise<string[]> {
  return must(family === 4 ? "iptables" : "ip6tables", ["-w", "-S", chain]).then((out) => out.trim().split("\n"));
}

async function removeNamespaces(): Promise<void> {
  for (const p of nsListeners.splice(0)) p.kill("SIGKILL");
  for (const n of NAMESPACES) {
    await sh("ip", ["netns", "delete", n.ns]);
    // A listener left by an interrupted run keeps its namespace, and so the veth pair, alive after the
    // name is gone: deleting the host's end removes the pair (seen: "RTNETLINK answers: File exists").
    await sh("ip", ["link", "delete", n.hostIf]);
  }
}

/** Deletes this suite's tenant disk image (the explicit deleteData act does this in the program). */
async function purgeDisk(tenant: string): Promise<void> {
  const command = diskPurge(fs.readFileSync(path.join(REPO_ROOT, "server-scripts/tenant-disk.sh"), "utf8"), tenant);
  const r = await runCommand(["/bin/bash", "-c"], command, "", process.env, 60_000);
  if (r.exitCode !== 0) throw new Error(`purge ${tenant}: ${r.stderr}`);
}

async function cleanup(): Promise<void> {
  await removeNamespaces();
  hostListener?.close();
  hostListener6?.close();
  await removeLabelled(docker).catch((e: Error) => console.log(e.message));
  await purgeDisk("gamma").catch((e: Error) => console.log(e.message));
  if (guard !== undefined) await runProgramCommand(guard, "delete").catch((e: Error) => console.log(e.message));
  for (const l of limits) await runProgramCommand(l, "delete").catch((e: Error) => console.log(e.message));
}

beforeAll(async () => {
  await docker.ping();
  await docker.getImage(IMAGE).inspect();
  const roster = writeRoster([
    { name: "alpha", tier: "standard" },
    { name: "beta", tier: "light" },
  ]);
  run = await runProgram(
    baseConfig(roster, {
      apiKeys: { alpha: fakeKey("alpha"), beta: fakeKey("beta") },
      portPool: PORT_POOL,
      tenantNetworks: TENANT_NETWORKS,
      cgroupDriver: "cgroupfs",
    }),
  );
  const commands = ofType(run, TYPES.localCommand);
  guard = commands.find((c) => c.name === "egress-guard-rules") as CapturedResource;
  limits = commands.filter((c) => c.name.endsWith("-process-limit"));
  // Leftovers of an interrupted run: ours only (test label, our namespaces, our guard and limits).
  await cleanup();

  // Translate everything first: an unknown field fails before anything is created.
  const volumes = ofType(run, TYPES.volume).map((v) => translateVolume(v.inputs, TEST_LABELS));
  const networks = ofType(run, TYPES.network).map((n) => translateNetwork(n.inputs, TEST_LABELS));
  translated = new Map(
    ofType(run, TYPES.container).map((c) => [String(c.inputs.name).replace(/^openclaw-/, ""), translateContainer(c.inputs, { image: IMAGE, extraLabels: TEST_LABELS, healthTiming: HEALTH })]),
  );
  for (const n of ofType(run, TYPES.network)) {
    bridgeGateways.set(String(n.inputs.name).replace(/^openclaw-/, ""), (n.inputs.ipamConfigs as Array<{ gateway: string }>)[0].gateway);
  }

  // The program's order: process limits (and the guard, applied below after a baseline) before containers.
  for (const l of limits) await runProgramCommand(l, "create");
  for (const v of volumes) await docker.createVolume(v);
  for (const n of networks) await docker.createNetwork(n);
  await applyOwnership(run, IMAGE); // each tenant's volumes its own uid's, before its container
  for (const t of translated.values()) await createAndStart(docker, t);
  for (const t of translated.values()) await waitHealthy(docker, t.name, HEALTHY_WITHIN_MS);
  // From the engine's IPAM config or, on an engine that started without docker0, from docker0 itself.
  docker0Address = await hostAddressOnBridge(docker);
  bridgeGateways.set("docker0", docker0Address.address);

  // A host service on every address, as an operator's database or agent would be.
  // Probes connect and hang up at once: a reset socket must not crash a listener.
  hostListener = net.createServer((s) => s.on("error", () => undefined).end("host service\n"));
  await new Promise<void>((resolve) => hostListener?.listen(0, "0.0.0.0", resolve));
  listenerPort = (hostListener.address() as net.AddressInfo).port;
  hostListener6 = net.createServer((s) => s.on("error", () => undefined).end("host service\n"));
  await new Promise<void>((resolve) => hostListener6?.listen({ port: 0, host: "::", ipv6Only: true }, resolve));
  listenerPort6 = (hostListener6.address() as net.AddressInfo).port;
  const alphaNetwork = ofType(run, TYPES.network).find((n) => n.inputs.name === "openclaw-alpha") as CapturedResource;
  alphaBridge = (alphaNetwork.inputs.options as Record<string, string>)[BRIDGE_NAME_OPTION];
  alphaBridgeLinkLocal = /inet6 (fe80:[0-9a-f:]+)\//.exec(await must("ip", ["-6", "-o", "addr", "show", "dev", alphaBridge, "scope", "link"]))?.[1] ?? "";
  if (alphaBridgeLinkLocal === "") throw new Error(`${alphaBridge} has no IPv6 link-local address`);

  // The sidecar: a listener on alpha's own bridge.
  const sidecar = await docker.createContainer({
    name: SIDECAR, Image: IMAGE, Labels: TEST_LABELS, User: "1000",
    Entrypoint: ["node", "-e", `require('net').createServer(s=>s.on('error',()=>{}).end('own bridge\\n')).listen(${NS_PORT},'0.0.0.0')`], Cmd: [],
    HostConfig: { NetworkMode: "openclaw-alpha" },
  });
  await sidecar.start();
  sidecarAddress = (await sidecar.inspect()).NetworkSettings.Networks["openclaw-alpha"].IPAddress;
  let up = "";
  for (let i = 0; i < 100 && up !== "connected"; i++) {
    up = await tcpProbe(sidecarAddress, NS_PORT, 500);
    if (up !== "connected") await sleep(100);
  }
  if (up !== "connected") throw new Error(`the sidecar at ${sidecarAddress} does not listen: ${up}`);

  // The two namespaces, each joined to the host by a veth pair, each with a listener.
  for (const n of NAMESPACES) {
    await must("ip", ["netns", "add", n.ns]);
    await must("ip", ["link", "add", n.hostIf, "type", "veth", "peer", "name", n.nsIf, "netns", n.ns]);
    await must("ip", ["addr", "add", n.hostAddr, "dev", n.hostIf]);
    await must("ip", ["link", "set", n.hostIf, "up"]);
    await must("ip", ["-n", n.ns, "addr", "add", `${n.addr}/30`, "dev", n.nsIf]);
    await must("ip", ["-n", n.ns, "link", "set", n.nsIf, "up"]);
    await must("ip", ["-n", n.ns, "link", "set", "lo", "up"]);
    const p = spawn("ip", ["netns", "exec", n.ns, process.execPath, "-e", `require('net').createServer(s=>s.on('error',()=>{}).end('ns\\n')).listen(${NS_PORT},'0.0.0.0')`], { stdio: "ignore" });
    nsListeners.push(p);
  }
  for (const n of NAMESPACES) {
    let r = "";
    for (let i = 0; i < 50 && r !== "connected"; i++) {
      r = await tcpProbe(n.addr, NS_PORT, 500);
      if (r !== "connected") await sleep(100);
    }
    if (r !== "connected") throw new Error(`namespace ${n.ns} listener not reachable from the host: ${r}`);
  }
}, 240_000);

afterAll(async () => {
  await cleanup();
  console.log(`isolation figures: ${JSON.stringify(figures, null, 2)}`);
}, 120_000);

describe("process limit (cgroup pids.max on the tenant's own parent, set before the container)", () => {
  test("each container runs under its own parent cgroup, whose pids.max is the tier's limit", async () => {
    for (const tenant of ["alpha", "beta"]) {
      const info = await docker.getContainer(`openclaw-${tenant}`).inspect();
      expect(info.HostConfig.CgroupParent).toBe(`/openclaw/${tenant}`);
      expect(readPidsMax(tenant)).toBe(String(limitOf(tenant)));
      expect(await pidsCgroupOf(`openclaw-${tenant}`)).toMatch(new RegExp(`^/openclaw/${tenant}/[0-9a-f]{64}$`));
    }
    expect(limitOf("alpha")).toBe(512);
  });

  test("a fork bomb in alpha stops at alpha's limit while beta answers every health request", async () => {
    const limit = limitOf("alpha");
    const betaPort = hostPort("beta");
    const samples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling && samples.length < 1000) {
        samples.push(await httpRequest("127.0.0.1", betaPort, "/healthz", { timeoutMs: 2000 }).then((r) => r.status, () => 0));
        await sleep(100);
      }
    })();
    const t0 = Date.now();
    // Each iteration records its count in /tmp; the shell dies when a fork fails.
    const bomb = await dockerCli(
      ["exec", "openclaw-alpha", "sh", "-c", `n=0; while [ $n -lt ${FORK_CAP} ]; do sleep 300 & n=$((n+1)); echo $n > /tmp/forks; done; echo cap`],
      FORK_WINDOW_MS,
    );
    const ms = Date.now() - t0;
    const current = Number(fs.readFileSync(path.join(pidsDir("alpha"), "pids.current"), "utf8"));
    const pid = (await docker.getContainer("openclaw-alpha").inspect()).State.Pid;
    const forks = Number(fs.readFileSync(`/proc/${pid}/root/tmp/forks`, "utf8"));
    await sleep(1000);
    sampling = false;
    await sampler;
    figures.forkTest = { limit, forksStarted: forks, pidsCurrentAtEnd: current, ms, shell: bomb.stderr.trim().split("\n").slice(-1)[0], betaSamples: samples.length, betaNon200: samples.filter((s) => s !== 200).length };
    expect(bomb.stdout).not.toContain("cap"); // stopped by the kernel, not by the loop's own bound
    expect(bomb.stderr).toMatch(/can't fork|Resource temporarily unavailable/);
    expect(current).toBeLessThanOrEqual(limit);
    expect(current).toBeGreaterThan(limit - 20);
    expect(forks).toBeLessThan(limit);
    expect(samples.length).toBeGreaterThan(5);
    expect(samples.every((s) => s === 200)).toBe(true);
    expect(await waitHealthy(docker, "openclaw-beta", 10_000)).toBeGreaterThanOrEqual(0);
  });

  test("the limit holds across a container restart and a replacement", async () => {
    await docker.getContainer("openclaw-alpha").restart({ t: 1 });
    await waitHealthy(docker, "openclaw-alpha", HEALTHY_WITHIN_MS);
    expect(readPidsMax("alpha")).toBe("512");
    expect(await pidsCgroupOf("openclaw-alpha")).toMatch(/^\/openclaw\/alpha\//);
    const t = translated.get("alpha") as TranslatedContainer;
    await destroyContainer(docker, t);
    await createAndStart(docker, t);
    await waitHealthy(docker, "openclaw-alpha", HEALTHY_WITHIN_MS);
    expect(readPidsMax("alpha")).toBe("512");
    expect(await pidsCgroupOf("openclaw-alpha")).toMatch(/^\/openclaw\/alpha\/[0-9a-f]{64}$/);
  });
});

describe("the host's address on docker0 (a freshly booted machine's engine has no Gateway in its IPAM config)", () => {
  test("is found on the path this engine started on: from docker0 itself when the engine started fresh", () => {
    const start = bridgeAtEngineStart();
    console.log(`the engine started ${String(start)}; host address on docker0 ${JSON.stringify(docker0Address)}`);
    // `npm test` starts the engine with --fresh-bridge, so CI and every developer take the fresh path;
    // an engine started over what an earlier one left may have either (the unit test covers both).
    if (start === undefined) throw new Error("the test engine did not record how it started (runtime-env.sh start)");
    if (start === "fresh") expect(docker0Address?.from).toBe("interface");
    expect(docker0Address?.address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });
});

describe("egress guard (the program's command, run as local.Command runs it)", () => {
  const probes = (): Promise<Record<string, string>> =>
    Promise.all(
      [...bridgeGateways].map(async ([via, address]) => [`host listener via ${via} ${address}`, await connectFrom("openclaw-alpha", address, listenerPort)] as const),
    ).then(async (host) => ({
      ...Object.fromEntries(host),
      [`private namespace ${NAMESPACES[0].addr}`]: await connectFrom("openclaw-alpha", NAMESPACES[0].addr, NS_PORT),
      [`documentation namespace ${NAMESPACES[1].addr}`]: await connectFrom("openclaw-alpha", NAMESPACES[1].addr, NS_PORT),
      [`tenants' block, no bridge ${NAMESPACES[2].addr}`]: await connectFrom("openclaw-alpha", NAMESPACES[2].addr, NS_PORT),
      [`own bridge sidecar ${sidecarAddress}`]: await connectFrom("openclaw-alpha", sidecarAddress, NS_PORT),
      [`host IPv6 listener via alpha's bridge ${alphaBridgeLinkLocal}`]: await connectFrom("openclaw-alpha", `${alphaBridgeLinkLocal}%eth0`, listenerPort6),
    }));

  test("without the guard, a tenant reaches the host through every bridge and over IPv6, the private namespace and the tenants' block beyond its bridge (the gap)", async () => {
    const before = await probes();
    figures.egressWithoutGuard = before;
    // IPv6 is recorded, not required: on this engine (20.10) the container's link-local address is
    // not usable (EADDRNOTAVAIL, seen), so the IPv6 rules are defence in depth here.
    expect(Object.entries(before).filter(([what]) => !what.includes("IPv6")).every(([, r]) => r === "connected")).toBe(true);
  });

  test("with it, the host is refused through every bridge address and over IPv6, the private namespace and the tenants' block beyond its own bridge are unreachable; the documentation address and its own bridge are not", async () => {
    figures.guardApply = (await runProgramCommand(guard, "create")).trim();
    expect(figures.guardApply).toMatch(/egress guard loaded on server 'default' .*iptables-nft.*IPv4 and IPv6/);
    const after = await probes();
    figures.egressWithGuard = after;
    for (const [what, result] of Object.entries(after)) {
      if (what.startsWith("documentation") || what.startsWith("own bridge")) expect([what, result]).toEqual([what, "connected"]);
      // ICMPv6 "administratively prohibited" surfaces as EACCES: rejected, not silently dropped.
      else if (what.includes("IPv6")) expect([what, result]).not.toEqual([what, "connected"]);
      else expect([what, result]).toEqual([what, "EHOSTUNREACH"]);
    }
    // The host itself still reaches the service, and Caddy's path (published port on 127.0.0.1) still works.
    expect(await tcpProbe("127.0.0.1", listenerPort)).toBe("connected");
    for (const tenant of ["alpha", "beta"]) {
      const port = hostPort(tenant);
      expect((await httpRequest("127.0.0.1", port, "/healthz")).status).toBe(200);
    }
  });

  test("the rules, both families: jumps for tenant bridges only, first in their chains, reached from Docker's FORWARD; metadata, every private range and the tenants' block rejected, only the own bridge exempt; IPv6 refused", async () => {
    const input = await iptablesRules("INPUT");
    const user = await iptablesRules("DOCKER-USER");
    const forward = await iptablesRules("FORWARD");
    // Docker's own jump is FORWARD's first rule, and ours is the first in DOCKER-USER: nothing accepts before it.
    expect(forward.filter((l) => l.startsWith("-A "))[0]).toBe("-A FORWARD -j DOCKER-USER");
    expect(input.filter((l) => l.startsWith("-A "))[0]).toBe(`-A INPUT -i ocl+ -j ${INPUT_CHAIN}`);
    expect(user[1]).toBe(`-A DOCKER-USER -i ocl+ -j ${EGRESS_CHAIN}`);
    const egress = await iptablesRules(EGRESS_CHAIN);
    const reject = "-j REJECT --reject-with icmp-admin-prohibited";
    expect(egress.slice(1, 4)).toEqual([
      `-A ${EGRESS_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
      `-A ${EGRESS_CHAIN} -m physdev --physdev-is-bridged -j RETURN`,
      `-A ${EGRESS_CHAIN} -d ${LINK_LOCAL} ${reject}`,
    ]);
    for (const range of DEFAULT_PRIVATE_RANGES) expect(egress).toContain(`-A ${EGRESS_CHAIN} -d ${range} ${reject}`);
    expect(egress).toContain(`-A ${EGRESS_CHAIN} -d ${TENANT_NETWORKS} ${reject}`);
    expect(egress.some((l) => l.includes(`-d ${TENANT_NETWORKS} -j RETURN`))).toBe(false);
    expect(await iptablesRules(INPUT_CHAIN)).toContain(`-A ${INPUT_CHAIN} ${reject}`);
    // IPv6: Docker does not manage ip6tables here, so FORWARD's first rule is ours (and DOCKER-USER's too).
    const reject6 = "-j REJECT --reject-with icmp6-adm-prohibited";
    const input6 = await iptablesRules("INPUT", 6);
    const forward6 = await iptablesRules("FORWARD", 6);
    expect(input6.filter((l) => l.startsWith("-A "))[0]).toBe(`-A INPUT -i ocl+ -j ${INPUT_CHAIN}`);
    expect(forward6.filter((l) => l.startsWith("-A "))[0]).toBe(`-A FORWARD -i ocl+ -j ${EGRESS_CHAIN}`);
    expect((await iptablesRules("DOCKER-USER", 6))[1]).toBe(`-A DOCKER-USER -i ocl+ -j ${EGRESS_CHAIN}`);
    const egress6 = await iptablesRules(EGRESS_CHAIN, 6);
    const hostInput6 = await iptablesRules(INPUT_CHAIN, 6);
    expect(egress6.slice(1)).toEqual([
      `-A ${EGRESS_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
      `-A ${EGRESS_CHAIN} -m physdev --physdev-is-bridged -j RETURN`,
      `-A ${EGRESS_CHAIN} ${reject6}`,
    ]);
    expect(hostInput6.slice(-1)[0]).toBe(`-A ${INPUT_CHAIN} ${reject6}`);
    // Every tenant bridge really carries a name the jumps match.
    for (const n of ofType(run, TYPES.network)) {
      const name = (n.inputs.options as Record<string, string>)[BRIDGE_NAME_OPTION];
      expect(fs.existsSync(`/sys/class/net/${name}`)).toBe(true);
    }
    figures.rules = {
      input: input.filter((l) => l.includes("ocl")), dockerUser: user, egress, hostInput: await iptablesRules(INPUT_CHAIN),
      input6: input6.filter((l) => l.includes("ocl")), forward6: forward6.filter((l) => l.includes("ocl")), egress6, hostInput6,
    };
  });

  test("tenants have no IPv6 route: their network is IPv4 only and the container has link-local addresses and no default route", async () => {
    const network = await docker.getNetwork("openclaw-alpha").inspect();
    expect(network.EnableIPv6).toBe(false);
    const pid = (await docker.getContainer("openclaw-alpha").inspect()).State.Pid;
    const routes = (await must("nsenter", ["-t", String(pid), "-n", "ip", "-6", "route", "show"])).trim().split("\n").filter((l) => l !== "");
    const global = (await must("nsenter", ["-t", String(pid), "-n", "ip", "-6", "-o", "addr", "show", "scope", "global"])).trim();
    figures.tenantIpv6 = { routes, globalAddresses: global };
    expect(routes.some((r) => r.startsWith("default"))).toBe(false);
    expect(routes.every((r) => /^(fe80::\/64|ff00::\/8|multicast ff00::\/8) /.test(r))).toBe(true);
    expect(global).toBe("");
  });

  const allRules = async (): Promise<string[][]> => {
    const out: string[][] = [];
    for (const family of [4, 6] as const) {
      for (const chain of ["INPUT", "FORWARD", "DOCKER-USER", EGRESS_CHAIN, INPUT_CHAIN]) out.push(await iptablesRules(chain, family));
    }
    return out;
  };

  test("running the guard again changes nothing (idempotent), in both families", async () => {
    const before = await allRules();
    await runProgramCommand(guard, "create");
    await runProgramCommand(guard, "create");
    expect(await allRules()).toEqual(before);
  });
});

/**
 * The guard where Docker's FORWARD does not pass DOCKER-USER, each in a network namespace of its own
 * (its own, empty iptables tables in both backends) and a private mount namespace whose /etc and
 * /usr/local/lib are throwaway overlays: the program's own command runs there exactly as
 * local.Command runs it, and neither the engine's rules nor this machine's files can be touched.
 */
describe("egress guard refusals (the program's command, in namespaces of its own)", () => {
  const SANDBOX = [
    'd=$(mktemp -d)',
    'mount -t tmpfs tmpfs "$d"',
    'for x in etc lib; do mkdir -p "$d/$x/u" "$d/$x/w"; done',
    'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$d/etc/u,workdir=$d/etc/w" /etc',
    'mount -t overlay overlay -o "lowerdir=/usr/local/lib,upperdir=$d/lib/u,workdir=$d/lib/w" /usr/local/lib',
    'set -e; eval "$PREP"; set +e',
    '/bin/bash -c "$GUARD"; rc=$?',
    'for t in iptables-nft iptables-legacy ip6tables-nft ip6tables-legacy; do echo "== $t"; "$t" -w -S 2>/dev/null | grep -v "^-P"; done',
    'echo "== files"; ls "$d/etc/u/openclaw-hosting" 2>/dev/null',
    'umount /etc /usr/local/lib "$d"; rmdir "$d"',
    'exit $rc',
  ].join("\n");
  /** Docker 20.10's filter chains as it creates them, in one backend; `jump: false` leaves out FORWARD's jump to DOCKER-USER. */
  const dockerChains = (tool: string, opts: { jump: boolean; acceptFirst?: boolean }): string =>
    [
      ...["DOCKER", "DOCKER-USER", "DOCKER-ISOLATION-STAGE-1"].map((c) => `${tool} -w -N ${c}`),
      ...(opts.acceptFirst === true ? [`${tool} -w -A FORWARD -i ocl+ -j ACCEPT`] : []),
      ...(opts.jump ? [`${tool} -w -A FORWARD -j DOCKER-USER`] : []),
      `${tool} -w -A FORWARD -j DOCKER-ISOLATION-STAGE-1`,
      `${tool} -w -A FORWARD -o docker0 -j DOCKER`,
      `${tool} -w -A FORWARD -i docker0 ! -o docker0 -j ACCEPT`,
      `${tool} -w -A DOCKER-USER -j RETURN`,
    ].join("\n");

  async function inOwnNamespaces(prep: string): Promise<{ code: number | null; stdout: string; stderr: string; tables: Record<string, string[]> }> {
    const r = await runCommand(
      ["unshare", "--net", "--mount", "--propagation", "private", "bash", "-c"], SANDBOX, String(guard.inputs.stdin),
      { ...process.env, PREP: prep, GUARD: String(guard.inputs.create) }, 60_000,
    );
    const tables: Record<string, string[]> = {};
    let current = "";
    for (const line of r.stdout.split("\n")) {
      const m = /^== (\S+)$/.exec(line);
      if (m !== null) tables[(current = m[1])] = [];
      else if (current !== "" && line !== "") tables[current].push(line);
    }
    return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr, tables };
  }
  const ours = (lines: string[] | undefined): string[] => (lines ?? []).filter((l) => l.includes("OPENCLAW"));

  test("`iptables: false` (no Docker chains in either backend): refused naming the server and the fix; nothing loaded or recorded", async () => {
    const r = await inOwnNamespaces("true");
    figures.refusalIptablesFalse = { code: r.code, stderr: r.stderr.trim() };
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/egress guard on server 'default': Docker does not manage iptables here/);
    expect(r.stderr).toContain('"iptables": false');
    expect(r.stdout).not.toContain("loaded");
    for (const t of ["iptables-nft", "iptables-legacy", "ip6tables-nft", "ip6tables-legacy"]) expect([t, ours(r.tables[t])]).toEqual([t, []]);
    expect(r.tables.files).toEqual([]);
  });

  test("Docker's chains without FORWARD's jump to DOCKER-USER: refused; nothing loaded or recorded", async () => {
    const r = await inOwnNamespaces(dockerChains("iptables-nft", { jump: false }));
    figures.refusalNoJump = { code: r.code, stderr: r.stderr.trim() };
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/egress guard on server 'default': Docker's chains are in iptables-nft but its FORWARD chain does not send traffic to DOCKER-USER first/);
    expect(r.stdout).not.toContain("loaded");
    expect(ours(r.tables["iptables-nft"])).toEqual([]);
    expect(r.tables.files).toEqual([]);
  });

  test("a rule that accepts tenant traffic ahead of Docker's jump: refused, naming the rule", async () => {
    const r = await inOwnNamespaces(dockerChains("iptables-nft", { jump: true, acceptFirst: true }));
    figures.refusalAcceptFirst = { code: r.code, stderr: r.stderr.trim() };
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("FORWARD reaches '-A FORWARD -i ocl+ -j ACCEPT' before any jump to DOCKER-USER");
    expect(ours(r.tables["iptables-nft"])).toEqual([]);
  });

  test("Docker's rules in iptables-legacy while `iptables` is nft: the guard follows Docker into legacy, both families, and says so", async () => {
    const r = await inOwnNamespaces(dockerChains("iptables-legacy", { jump: true }));
    figures.legacyBackend = { code: r.code, stdout: r.stdout.split("\n")[0], legacy: ours(r.tables["iptables-legacy"]), legacy6: ours(r.tables["ip6tables-legacy"]) };
    expect([r.code, r.stderr]).toEqual([0, expect.any(String)]);
    expect(r.stdout).toMatch(/egress guard loaded on server 'default' .*; iptables-legacy; IPv4 and IPv6;/);
    expect(r.tables["iptables-legacy"]).toContain(`-A DOCKER-USER -i ocl+ -j ${EGRESS_CHAIN}`);
    expect(r.tables["iptables-legacy"]).toContain(`-A INPUT -i ocl+ -j ${INPUT_CHAIN}`);
    expect(r.tables["ip6tables-legacy"]).toContain(`-A FORWARD -i ocl+ -j ${EGRESS_CHAIN}`);
    expect(r.tables["ip6tables-legacy"]).toContain(`-A INPUT -i ocl+ -j ${INPUT_CHAIN}`);
    expect(ours(r.tables["iptables-nft"])).toEqual([]);
    expect(ours(r.tables["ip6tables-nft"])).toEqual([]);
    expect(r.tables.files.sort()).toEqual(["egress-backends", "egress-rules"]);
  });
});

/** Is the engine's volumes folder on XFS mounted with project quotas (what Docker's `size` needs)? */
async function volumesHaveQuota(): Promise<{ supported: boolean; where: string }> {
  const root = `${(await docker.info()).DockerRootDir as string}/volumes`;
  // The longest mount point that contains the folder is the filesystem it lives on.
  const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").trim().split("\n").map((line) => {
    const [pre, post] = line.split(" - ");
    const f = pre.split(" ");
    const [fstype, , superOpts] = post.split(" ");
    return { point: f[4], fstype, opts: `${f[5]},${superOpts}` };
  });
  const m = mounts.filter((x) => root === x.point || root.startsWith(x.point === "/" ? "/" : `${x.point}/`)).sort((a, b) => b.point.length - a.point.length)[0];
  return { supported: m.fstype === "xfs" && /prjquota|pquota/.test(m.opts), where: `${root} on ${m.fstype} (${m.point})` };
}

describe("disk budget (diskQuota: xfs): the program's volume sizes on the real engine", () => {
  test("a write past the budget stops at it where the host enforces quotas; elsewhere the engine refuses the volume loudly", async () => {
    const quotaRun = await runProgram(
      baseConfig(writeRoster([{ name: "gamma", tier: "light" }]), {
        apiKeys: { gamma: fakeKey("gamma") }, portPool: PORT_POOL, tenantNetworks: TENANT_NETWORKS, cgroupDriver: "cgroupfs",
        diskQuota: "xfs", tiers: { light: { diskMb: 256 } },
      }),
    );
    const state = ofType(quotaRun, TYPES.volume).find((v) => v.name === "gamma-state") as CapturedResource;
    expect(state.inputs.driverOpts).toEqual({ size: "192M" });
    const volume = translateVolume(state.inputs, TEST_LABELS);
    const host = await volumesHaveQuota();
    if (!host.supported) {
      await expect(docker.createVolume(volume)).rejects.toThrow(/quota size requested but no quota support/);
      expect(await docker.getVolume("openclaw-gamma-state").inspect().catch(() => "absent")).toBe("absent");
      figures.diskBudget = { enforced: false, host: host.where, result: "volume refused: quota size requested but no quota support" };
      return;
    }
    await docker.createVolume(volume);
    // Bounded: at most 400 MB, written by the gateway's user into its state folder.
    const w = await dockerCli(
      ["run", "--rm", "--user", "1000", "--label", `${TEST_LABEL}=${TEST_LABEL_VALUE}`, "-v", "openclaw-gamma-state:/data", IMAGE,
        "sh", "-c", "dd if=/dev/zero of=/data/fill bs=1M count=400 2>&1; stat -c %s /data/fill"],
      120_000,
    );
    const bytes = Number(w.stdout.trim().split("\n").slice(-1)[0]);
    figures.diskBudget = { enforced: true, host: host.where, budgetBytes: 192 * 1024 * 1024, bytesWritten: bytes, dd: w.stdout.trim().split("\n").slice(-3) };
    expect(w.stdout).toMatch(/No space left on device|Disk quota exceeded/);
    expect(bytes).toBeLessThanOrEqual(192 * 1024 * 1024);
    expect(bytes).toBeGreaterThan(150 * 1024 * 1024);
  });
});

describe("disk budget (diskQuota: image): the tenant's own filesystem", () => {
  test("a write past the budget stops at it; unmounting on removal or a reboot keeps the data, which comes back; root-only files; an unmounted disk starts nothing; one missing image fails alone", async () => {
    const budgetMb = 256;
    const imageRun = await runProgram(
      baseConfig(writeRoster([{ name: "gamma", tier: "light" }]), {
        apiKeys: { gamma: fakeKey("gamma") }, portPool: PORT_POOL, tenantNetworks: TENANT_NETWORKS, cgroupDriver: "cgroupfs",
        diskQuota: "image", tiers: { light: { diskMb: budgetMb } },
      }),
    );
    const disk = ofType(imageRun, TYPES.localCommand).find((c) => c.name === "gamma-disk") as CapturedResource;
    figures.diskApply = (await runProgramCommand(disk, "create")).trim();
    for (const v of ofType(imageRun, TYPES.volume)) await docker.createVolume(translateVolume(v.inputs, TEST_LABELS));
    // Bounded: at most 400 MB, written as the tenant's own uid (the disk made its folders its own) into its state folder.
    const gammaUser = String(ofType(imageRun, TYPES.container)[0].inputs.user);
    const fill = await dockerCli(
      ["run", "--rm", "--user", gammaUser, "--label", `${TEST_LABEL}=${TEST_LABEL_VALUE}`,
        "--mount", "type=volume,src=openclaw-gamma-state,dst=/data/state,volume-nocopy",
        "--mount", "type=volume,src=openclaw-gamma-credentials,dst=/data/credentials,volume-nocopy", IMAGE,
        "sh", "-c", "echo key > /data/credentials/k; dd if=/dev/zero of=/data/state/fill bs=1M count=400 2>&1; stat -c %s /data/state/fill"],
      120_000,
    );
    const bytes = Number(fill.stdout.trim().split("\n").slice(-1)[0]);
    figures.diskImage = { budgetBytes: budgetMb * 1024 * 1024, bytesWritten: bytes, attemptedBytes: 400 * 1024 * 1024, dd: fill.stdout.trim().split("\n").slice(-3, -1) };
    expect(fill.stdout).toMatch(/No space left on device/);
    expect(bytes).toBeLessThanOrEqual(budgetMb * 1024 * 1024);
    expect(bytes).toBeGreaterThan(0.8 * budgetMb * 1024 * 1024);
    // The rest of the machine is untouched: the host's own filesystem still has room.
    expect(fs.statfsSync("/var/lib").bavail).toBeGreaterThan(0);

    // The tenant leaves the roster: its disk is released (unmounted), its data kept; it comes back.
    await runProgramCommand(disk, "delete");
    expect(fs.existsSync(`${DISKS_DIR}/gamma.img`)).toBe(true);
    expect(fs.existsSync(`${DISKS_DIR}/gamma/state`)).toBe(false); // not mounted
    await runProgramCommand(disk, "create");
    expect(fs.statSync(`${DISKS_DIR}/gamma/state/fill`).size).toBe(bytes);
    expect(fs.readFileSync(`${DISKS_DIR}/gamma/credentials/k`, "utf8")).toBe("key\n");

    // Root-only: the image, the folders and the boot record; an image an earlier version left
    // world-readable is fixed by the next run of the same command.
    const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);
    const modes = () => Object.fromEntries([`${DISKS_DIR}`, `${DISKS_DIR}/gamma.img`, `${DISKS_DIR}/gamma`, "/etc/openclaw-hosting/disks", "/etc/openclaw-hosting/disks/gamma"].map((p) => [p, mode(p)]));
    figures.diskModes = modes();
    expect(figures.diskModes).toEqual({ [DISKS_DIR]: "700", [`${DISKS_DIR}/gamma.img`]: "600", [`${DISKS_DIR}/gamma`]: "700", "/etc/openclaw-hosting/disks": "700", "/etc/openclaw-hosting/disks/gamma": "600" });
    fs.chmodSync(`${DISKS_DIR}/gamma.img`, 0o644);
    fs.chmodSync(DISKS_DIR, 0o755);
    await runProgramCommand(disk, "create");
    expect(modes()).toEqual(figures.diskModes);

    // A reboot unmounts it. Unmounted, its mountpoint is empty and immutable: nothing can create
    // state/ there, so the tenant's container cannot start on the bare folder (the root disk).
    await must("umount", [`${DISKS_DIR}/gamma`]);
    expect(fs.existsSync(`${DISKS_DIR}/gamma/state`)).toBe(false);
    expect(() => fs.mkdirSync(`${DISKS_DIR}/gamma/state`)).toThrow(/EPERM/);
    const bare = await dockerCli(
      ["run", "--rm", "--user", "1000:1000", "--label", `${TEST_LABEL}=${TEST_LABEL_VALUE}`, "-v", "openclaw-gamma-state:/home/node/.openclaw", IMAGE, "sh", "-c", "echo x > /home/node/.openclaw/leak"],
      60_000,
    );
    figures.diskUnmountedStart = bare.stderr.trim().split("\n").find((l) => /mount|no such/i.test(l)) ?? bare.stderr.trim();
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toMatch(/no such file or directory/i);
    expect(fs.existsSync(`${DISKS_DIR}/gamma/state`)).toBe(false);
    // One missing image (a recorded tenant `ghost` without one) fails the boot script, named, after
    // every other disk is mounted: the others' containers are not held back.
    fs.writeFileSync("/etc/openclaw-hosting/disks/ghost", "64\n");
    try {
      const boot = await sh("/usr/local/lib/openclaw-hosting/tenant-disk.sh", ["boot"]);
      figures.diskBootOneMissing = { code: boot.code, stderr: boot.stderr.trim() };
      expect(boot.code).not.toBe(0);
      expect(boot.stderr).toMatch(/could not mount the disk of ghost/);
    } finally {
      fs.rmSync("/etc/openclaw-hosting/disks/ghost", { force: true });
    }
    expect(fs.statSync(`${DISKS_DIR}/gamma/state/fill`).size).toBe(bytes);
    await must("/usr/local/lib/openclaw-hosting/tenant-disk.sh", ["boot"]);
    expect(fs.statSync(`${DISKS_DIR}/gamma/state/fill`).size).toBe(bytes);

    // Deleting the data (deleteData's purge) is what removes the image.
    for (const v of ["openclaw-gamma-state", "openclaw-gamma-credentials"]) await docker.getVolume(v).remove();
    await runProgramCommand(disk, "delete");
    await purgeDisk("gamma");
    expect(fs.existsSync(`${DISKS_DIR}/gamma.img`)).toBe(false);
  });
});

describe("after an engine restart and a simulated reboot", () => {
  test("limits and rules are still there after the engine restarts; the boot scripts restore them after cgroups and rules are wiped", async () => {
    const rulesBefore = await iptablesRules(EGRESS_CHAIN);
    const t0 = Date.now();
    await must("bash", [path.join(REPO_ROOT, "test/machinery/runtime-env.sh"), "stop"], 90_000);
    // The engine is down: its containers are stopped, the tenants' parents and the rules stay.
    expect(readPidsMax("alpha")).toBe("512");
    expect(await iptablesRules(EGRESS_CHAIN)).toEqual(rulesBefore);
    // A reboot empties cgroupfs and the kernel's rules: wipe ours, then run what the boot units run.
    for (const tenant of ["alpha", "beta"]) {
      for (const ctl of fs.readdirSync("/sys/fs/cgroup")) {
        const d = `/sys/fs/cgroup/${ctl}/openclaw/${tenant}`;
        if (fs.existsSync(d)) fs.rmdirSync(d);
      }
    }
    expect(fs.existsSync(pidsDir("alpha"))).toBe(false);
    await must("iptables", ["-w", "-D", "INPUT", "-i", "ocl+", "-j", INPUT_CHAIN]);
    await must("iptables", ["-w", "-D", "DOCKER-USER", "-i", "ocl+", "-j", EGRESS_CHAIN]);
    await must("iptables", ["-w", "-F", EGRESS_CHAIN]);
    await must("/usr/local/lib/openclaw-hosting/process-limit.sh", ["boot"]);
    await must("/usr/local/lib/openclaw-hosting/egress-guard.sh", ["load"]);
    expect(readPidsMax("alpha")).toBe("512");
    expect(readPidsMax("beta")).toBe(String(limitOf("beta")));
    expect(await iptablesRules(EGRESS_CHAIN)).toEqual(rulesBefore);
    expect((await iptablesRules("FORWARD", 6)).filter((l) => l.startsWith("-A "))[0]).toBe(`-A FORWARD -i ocl+ -j ${EGRESS_CHAIN}`);

    await must("bash", [path.join(REPO_ROOT, "test/machinery/runtime-env.sh"), "start"], 90_000);
    // restart: unless-stopped brings both gateways back, under their limited parents.
    for (const tenant of ["alpha", "beta"]) await waitHealthy(docker, `openclaw-${tenant}`, HEALTHY_WITHIN_MS);
    figures.engineRestartToHealthyMs = Date.now() - t0;
    expect(await pidsCgroupOf("openclaw-alpha")).toMatch(/^\/openclaw\/alpha\/[0-9a-f]{64}$/);
    expect(readPidsMax("alpha")).toBe("512");
    expect((await iptablesRules("DOCKER-USER"))[1]).toBe(`-A DOCKER-USER -i ocl+ -j ${EGRESS_CHAIN}`);
    expect(await connectFrom("openclaw-alpha", NAMESPACES[0].addr, NS_PORT)).toBe("EHOSTUNREACH");
    expect(await connectFrom("openclaw-alpha", bridgeGateways.get("alpha") as string, listenerPort)).toBe("EHOSTUNREACH");
  }, 240_000);

  test("removing the stack removes the rules and the limits (the commands' delete)", async () => {
    await removeLabelled(docker);
    await runProgramCommand(guard, "delete");
    for (const l of limits) await runProgramCommand(l, "delete");
    expect((await sh("iptables", ["-w", "-S", EGRESS_CHAIN])).code).not.toBe(0);
    expect((await iptablesRules("INPUT")).some((l) => l.includes("ocl+"))).toBe(false);
    expect((await iptablesRules("DOCKER-USER")).some((l) => l.includes("ocl+"))).toBe(false);
    expect((await sh("ip6tables", ["-w", "-S", EGRESS_CHAIN])).code).not.toBe(0);
    for (const chain of ["INPUT", "FORWARD"]) expect((await iptablesRules(chain, 6)).some((l) => l.includes("ocl+"))).toBe(false);
    expect(fs.existsSync(pidsDir("alpha"))).toBe(false);
    expect(fs.existsSync("/etc/openclaw-hosting/egress-rules")).toBe(false);
    expect(fs.existsSync("/etc/openclaw-hosting/process-limits")).toBe(false);
    // Its own installed scripts; the folder itself goes when nothing else (a backup script) is left in it.
    for (const script of ["egress-guard.sh", "process-limit.sh", "tenant-disk.sh"]) expect(fs.existsSync(`/usr/local/lib/openclaw-hosting/${script}`)).toBe(false);
  });
});
