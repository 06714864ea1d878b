/**
 * Process limits and the egress guard on the real engine, tried from inside a tenant as an attacker
 * would. The program runs under Pulumi's mock engine (two active tenants, cgroupfs as the test
 * engine uses); its captured commands (the egress guard, each tenant's process limit) are run exactly
 * as local.Command runs them (/bin/bash -c, rules on stdin), and its containers, networks and volumes
 * are created through the field-by-field translation (test/integration/support/docker.ts).
 *
 * Traffic goes only to loopback, to this suite's own containers and bridges, and to two network
 * namespaces the suite creates (one in a private range, one at a documentation address). The
 * metadata address and private ranges outside those namespaces are checked by reading the rules.
 */
import { execFile, spawn, ChildProcess } from "child_process";
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
/** The two namespaces: a private-range "internal service" and a "public" documentation address. */
const NAMESPACES = [
  { ns: "oit-priv", hostIf: "oit-priv-h", nsIf: "oit-priv-n", hostAddr: "192.168.251.1/30", addr: "192.168.251.2" },
  { ns: "oit-doc", hostIf: "oit-doc-h", nsIf: "oit-doc-n", hostAddr: "198.51.100.1/30", addr: "198.51.100.2" },
] as const;
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

function iptablesRules(chain: string): Promise<string[]> {
  return must("iptables", ["-w", "-S", chain]).then((out) => out.trim().split("\n"));
}

async function removeNamespaces(): Promise<void> {
  for (const p of nsListeners.splice(0)) p.kill("SIGKILL");
  for (const n of NAMESPACES) await sh("ip", ["netns", "delete", n.ns]);
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
    }));

  test("without the guard, a tenant reaches the host through every bridge and the private namespace (the gap)", async () => {
    const before = await probes();
    figures.egressWithoutGuard = before;
    expect(Object.values(before).every((r) => r === "connected")).toBe(true);
  });

  test("with it, the host is refused through every bridge address and the private namespace is unreachable; the documentation address is not", async () => {
    figures.guardApply = (await runProgramCommand(guard, "create")).trim();
    const after = await probes();
    figures.egressWithGuard = after;
    for (const [what, result] of Object.entries(after)) {
      if (what.startsWith("documentation")) expect(result).toBe("connected");
      else expect([what, result]).toEqual([what, "EHOSTUNREACH"]);
    }
    // The host itself still reaches the service, and Caddy's path (published port on 127.0.0.1) still works.
    expect(await tcpProbe("127.0.0.1", listenerPort)).toBe("connected");
    for (const tenant of ["alpha", "beta"]) {
      const port = hostPort(tenant);
      expect((await httpRequest("127.0.0.1", port, "/healthz")).status).toBe(200);
    }
  });

  test("the rules: jumps for tenant bridges only, metadata and every private range rejected, the tenants' block left to Docker", async () => {
    const input = await iptablesRules("INPUT");
    const user = await iptablesRules("DOCKER-USER");
    expect(input).toContain(`-A INPUT -i ocl+ -j ${INPUT_CHAIN}`);
    expect(user[1]).toBe(`-A DOCKER-USER -i ocl+ -j ${EGRESS_CHAIN}`);
    const egress = await iptablesRules(EGRESS_CHAIN);
    const reject = "-j REJECT --reject-with icmp-admin-prohibited";
    expect(egress).toContain(`-A ${EGRESS_CHAIN} -d ${LINK_LOCAL} ${reject}`);
    for (const range of DEFAULT_PRIVATE_RANGES) expect(egress).toContain(`-A ${EGRESS_CHAIN} -d ${range} ${reject}`);
    expect(egress).toContain(`-A ${EGRESS_CHAIN} -d ${TENANT_NETWORKS} -j RETURN`);
    expect(await iptablesRules(INPUT_CHAIN)).toContain(`-A ${INPUT_CHAIN} ${reject}`);
    // Every tenant bridge really carries a name the jumps match.
    for (const n of ofType(run, TYPES.network)) {
      const name = (n.inputs.options as Record<string, string>)[BRIDGE_NAME_OPTION];
      expect(fs.existsSync(`/sys/class/net/${name}`)).toBe(true);
    }
    figures.rules = { input: input.filter((l) => l.includes("ocl")), dockerUser: user, egress, hostInput: await iptablesRules(INPUT_CHAIN) };
  });

  test("running the guard again changes nothing (idempotent)", async () => {
    const before = [await iptablesRules("INPUT"), await iptablesRules("DOCKER-USER"), await iptablesRules(EGRESS_CHAIN), await iptablesRules(INPUT_CHAIN)];
    await runProgramCommand(guard, "create");
    await runProgramCommand(guard, "create");
    const after = [await iptablesRules("INPUT"), await iptablesRules("DOCKER-USER"), await iptablesRules(EGRESS_CHAIN), await iptablesRules(INPUT_CHAIN)];
    expect(after).toEqual(before);
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
    // Bounded: at most 400 MB, written as the gateway's user into its state folder.
    const fill = await dockerCli(
      ["run", "--rm", "--user", "1000:1000", "--label", `${TEST_LABEL}=${TEST_LABEL_VALUE}`,
        "-v", "openclaw-gamma-state:/home/node/.openclaw", "-v", "openclaw-gamma-credentials:/home/node/.config/openclaw", IMAGE,
        "sh", "-c", "echo key > /home/node/.config/openclaw/k; dd if=/dev/zero of=/home/node/.openclaw/fill bs=1M count=400 2>&1; stat -c %s /home/node/.openclaw/fill"],
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
    expect(fs.existsSync(pidsDir("alpha"))).toBe(false);
    expect(fs.existsSync("/etc/openclaw-hosting/egress-rules")).toBe(false);
    expect(fs.existsSync("/etc/openclaw-hosting/process-limits")).toBe(false);
    expect(fs.existsSync("/usr/local/lib/openclaw-hosting")).toBe(false);
  });
});
