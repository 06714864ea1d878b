/**
 * The test machinery's tenants are the program's, not hand-made copies that drift from it:
 *   - the real-runtime suites' one helper (test/integration/support/programTenants.ts) yields exactly
 *     the translation of the containers, volumes and networks the program registers; its TEST-ONLY
 *     departures change their own fields and nothing else;
 *   - no real-runtime suite creates a container from an object literal of its own;
 *   - the dashboard's synthetic engine (test/support/dashboard.ts) gives a tenant the names, labels
 *     and sizes the program gives it.
 * Pure: the program runs under Pulumi's mock engine; nothing touches a Docker engine.
 */
import * as fs from "fs";
import * as path from "path";
import { CapturedResource, ProgramRun, REPO_ROOT, TEST_IMAGE, TYPES, baseConfig, fakeKey, ofType, runProgram } from "../../support/program";
import { writeRoster } from "../../support/roster";
import { serversConfig, SIX_TENANTS } from "../../support/servers";
import { SYNTHETIC_DOMAIN, syntheticEngine, syntheticTier, tenantName } from "../../support/dashboard";
import { TranslateOptions, durationNs, translateContainer } from "../../integration/support/docker";
import { SuiteTenantOptions, suiteTenants } from "../../integration/support/programTenants";

const MiB = 1024 * 1024;
const OPTIONS: SuiteTenantOptions = {
  image: "openclaw-standin:test",
  extraLabels: { "openclaw-hosting.test": "unit" },
  healthTiming: { interval: "2s", startPeriod: "20s" },
};
const TRANSLATE: TranslateOptions = { image: OPTIONS.image, extraLabels: OPTIONS.extraLabels, healthTiming: OPTIONS.healthTiming };

/** Three active tenants, one per tier (named and tiered as the synthetic engine names them), and a suspended one. */
const ROSTER = [0, 1, 2].map((i) => ({ name: tenantName(i), tier: syntheticTier(i) }));
const SUSPENDED = { name: tenantName(3), tier: syntheticTier(3), state: "suspended" as const };

type Labels = Array<{ label: string; value: string }>;
const labelMap = (r: CapturedResource): Record<string, string> => Object.fromEntries((r.inputs.labels as Labels).map((l) => [l.label, l.value]));
const tenantOf = (r: CapturedResource): string => labelMap(r)["openclaw.tenant"];

/** Every leaf path where `a` and `b` differ (objects and arrays walked; other values compared with ===). */
function differences(a: unknown, b: unknown, at = ""): string[] {
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at === "" ? k : `${at}.${k}`));
  }
  return a === b ? [] : [at];
}

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram(baseConfig(writeRoster([...ROSTER, SUSPENDED]), {
    apiKeys: Object.fromEntries(ROSTER.map((t) => [t.name, fakeKey(t.name)])),
  }));
});

describe("the real-runtime suites' tenants (test/integration/support/programTenants.ts)", () => {
  test("are the program's registered containers, volumes and networks, translated: nothing added, dropped or changed", () => {
    const objects = suiteTenants(run, OPTIONS);
    const containers = ofType(run, TYPES.container);
    expect(objects.containers.map((c) => c.tenant)).toEqual(ROSTER.map((t) => t.name)); // the suspended tenant has none
    expect(objects.volumes.map((v) => v.Name)).toEqual(ofType(run, TYPES.volume).map((r) => r.inputs.name));
    expect(objects.networks.map((n) => n.Name)).toEqual(ofType(run, TYPES.network).map((r) => r.inputs.name));
    for (const [i, c] of objects.containers.entries()) {
      expect(c.inputs).toBe(containers[i].inputs);
      expect(c.container).toEqual(translateContainer(containers[i].inputs, TRANSLATE));
    }
    // Each active tenant's ownership step, exactly the program's command with only the image swapped.
    expect(objects.ownership.map((o) => o.name)).toEqual(ROSTER.map((t) => `${t.name}-owner`));
    for (const [i, o] of objects.ownership.entries()) {
      const program = String(run.resources.find((r) => r.name === o.name)?.inputs.create);
      expect(o.create.split(` '${OPTIONS.image}' `).join(` '${String(containers[i].inputs.image)}' `)).toBe(program);
      expect(o.create).toContain(` '${OPTIONS.image}' `);
    }
  });

  test("carry the program's own values where status and the dashboard read them (limits, labels, health check, volumes)", () => {
    for (const { inputs, container } of suiteTenants(run, OPTIONS).containers) {
      const host = container.create.HostConfig ?? {};
      const hc = inputs.healthcheck as { tests: string[]; timeout: string; retries: number };
      expect(host.Memory).toBe(Number(inputs.memory) * MiB);
      expect(host.MemorySwap).toBe(Number(inputs.memorySwap) * MiB);
      expect(host.MemoryReservation).toBe(Number(inputs.memoryReservation) * MiB);
      expect(host.NanoCpus).toBe(Math.round(Number(inputs.cpus) * 1e9));
      expect(host.CgroupParent).toBe(inputs.cgroupParent);
      expect(host.Tmpfs).toEqual(inputs.tmpfs);
      expect(host.Mounts).toEqual((inputs.mounts as Array<{ source: string; target: string }>).map((m) => ({
        Type: "volume", Source: m.source, Target: m.target, ReadOnly: false, VolumeOptions: { NoCopy: true },
      })));
      expect(container.create.Labels).toEqual({ ...Object.fromEntries((inputs.labels as Labels).map((l) => [l.label, l.value])), ...OPTIONS.extraLabels });
      expect(container.create.Env).toEqual(inputs.envs);
      expect(container.create.Cmd).toEqual(inputs.command);
      // TEST-ONLY: the image and the health check's interval and start period; its command, timeout and retries are the program's.
      expect(container.create.Image).toBe(OPTIONS.image);
      expect(container.create.Healthcheck).toEqual({
        Test: hc.tests, Timeout: durationNs(hc.timeout), Retries: hc.retries,
        Interval: durationNs("2s"), StartPeriod: durationNs("20s"),
      });
    }
  });

  test("a TEST-ONLY departure changes its own fields, for its own tenant, and nothing else", () => {
    const plain = suiteTenants(run, OPTIONS).containers;
    const departed = suiteTenants(run, { ...OPTIONS, departures: { [ROSTER[1].name]: { memoryMb: 64, noHealthcheck: true } } }).containers;
    expect(differences(departed[0], plain[0])).toEqual([]);
    expect(differences(departed[2], plain[2])).toEqual([]);
    expect(differences(departed[1], plain[1]).sort()).toEqual([
      "container.create.Healthcheck.Interval", "container.create.Healthcheck.Retries", "container.create.Healthcheck.StartPeriod",
      "container.create.Healthcheck.Test.0", "container.create.Healthcheck.Test.1", "container.create.Healthcheck.Test.2",
      "container.create.Healthcheck.Test.3", "container.create.Healthcheck.Timeout",
      "container.create.HostConfig.Memory", "container.create.HostConfig.MemoryReservation", "container.create.HostConfig.MemorySwap",
      "container.wait.healthy",
    ]);
    const host = departed[1].container.create.HostConfig ?? {};
    const inputs = departed[1].inputs;
    expect(host).toMatchObject({ Memory: 64 * MiB, MemorySwap: 64 * MiB });
    // The reservation keeps the program's ratio to the limit.
    expect(host.MemoryReservation).toBe(Math.floor((64 * Number(inputs.memoryReservation)) / Number(inputs.memory)) * MiB);
    expect(departed[1].container.create.Healthcheck).toEqual({ Test: ["NONE"] });
  });

  test("a departure for a tenant without a container is refused", () => {
    expect(() => suiteTenants(run, { ...OPTIONS, departures: { [SUSPENDED.name]: { memoryMb: 64 } } })).toThrow(/has no container/);
  });

  test("one server's share, and one tenant's, are exactly what that server's provider registered", async () => {
    const servers = await runProgram(serversConfig());
    const all = new Set<string>();
    for (const server of ["a", "b", "c"]) {
      const share = suiteTenants(servers, OPTIONS, { server });
      const expected = SIX_TENANTS.filter((t) => t.server === server);
      expect(share.containers.map((c) => c.tenant).sort()).toEqual(expected.filter((t) => !("state" in t)).map((t) => t.name).sort());
      expect(share.volumes.map((v) => v.Name).sort()).toEqual(expected.flatMap((t) => [`openclaw-${t.name}-credentials`, `openclaw-${t.name}-state`]).sort());
      for (const v of share.volumes) all.add(String(v.Name));
      // Each active tenant's ownership step comes along, whether the server is local or over SSH.
      expect(share.ownership.map((o) => o.name).sort()).toEqual(share.containers.map((c) => `${c.tenant}-owner`).sort());
    }
    expect(all.size).toBe(ofType(servers, TYPES.volume).length);
    const carol = suiteTenants(servers, OPTIONS, { server: "b", tenants: ["carol"] });
    expect([carol.containers.map((c) => c.tenant), carol.volumes.length, carol.networks.map((n) => n.Name)]).toEqual([["carol"], 2, ["openclaw-carol"]]);
    expect(suiteTenants(servers, OPTIONS, { server: "a", tenants: ["carol"] }).volumes).toEqual([]);
  });
});

describe("no real-runtime suite makes a tenant container by hand", () => {
  /** Containers that are not tenants, each with why it may be written out. */
  const NOT_TENANTS: Record<string, string> = {
    "test/integration/launcher/prerequisites.test.ts": "a bare port holder named like a tenant, for the probe's own-container check",
    "test/integration/isolation/isolation.test.ts": "a listener on alpha's own bridge (not a tenant): the control that the egress guard exempts that bridge",
    "test/integration/status/certificates.test.ts": "a never-started container with the managed-by label, only so the certificate reader finds a tenant image",
  };

  test("every createContainer in test/integration takes the translation, not an object literal", () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".ts")) files.push(path.relative(REPO_ROOT, p));
      }
    };
    walk(path.join(REPO_ROOT, "test", "integration"));
    expect(files.length).toBeGreaterThan(10);
    const handMade = files.filter((f) => /createContainer\(\s*\{/.test(fs.readFileSync(path.join(REPO_ROOT, f), "utf8")) && NOT_TENANTS[f] === undefined);
    expect(handMade).toEqual([]);
  });
});

describe("the dashboard's synthetic engine (test/support/dashboard.ts)", () => {
  test("gives each tenant the program's container name, labels, limits, volumes and image", () => {
    const engine = syntheticEngine(ROSTER.length);
    expect(SYNTHETIC_DOMAIN).toBe(baseConfig("tenants").domain);
    const containers = engine.containers as Array<{ Id: string; Names: string[]; Labels: Record<string, string>; Image: string }>;
    const volumes = engine.volumes as Array<{ Name: string; Labels: Record<string, string> }>;
    for (const [i, t] of ROSTER.entries()) {
      const program = ofType(run, TYPES.container).find((r) => tenantOf(r) === t.name) as CapturedResource;
      const synthetic = containers[i];
      expect(synthetic.Names).toEqual([`/${String(program.inputs.name)}`]);
      expect(synthetic.Labels).toEqual(labelMap(program));
      expect(synthetic.Image).toBe(program.inputs.image);
      expect(synthetic.Image).toBe(TEST_IMAGE);
      const host = (engine.inspects.get(synthetic.Id) as { HostConfig: Record<string, number> }).HostConfig;
      expect(host).toEqual({
        Memory: Number(program.inputs.memory) * MiB,
        MemoryReservation: Number(program.inputs.memoryReservation) * MiB,
        NanoCpus: Math.round(Number(program.inputs.cpus) * 1e9),
      });
      const programVolumes = ofType(run, TYPES.volume).filter((r) => tenantOf(r) === t.name);
      expect(volumes.filter((v) => v.Labels["openclaw.tenant"] === t.name).map((v) => ({ name: v.Name, labels: v.Labels })))
        .toEqual(programVolumes.map((r) => ({ name: r.inputs.name, labels: labelMap(r) })));
    }
  });
});
