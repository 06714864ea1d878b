// The status model's newer parts: disk against budget, the roster's desired state, the summary per
// server, and the redaction of log lines shown on the dashboard.
import {
  DesiredTenant, buildReport, diskUsedOf, redactLine, tenantStatus, volumeSizes,
} from "../../../../tools/shared/status";
import { renderTable } from "../../../../tools/status/table";
import * as fs from "fs";
import * as path from "path";
import { demuxLogs } from "../../../../tools/shared/engine/collect";
import { loadDesired } from "../../../../tools/shared/engine/desired";

const MiB = 1024 * 1024;
const RULES = { memoryThresholdPercent: 90, diskThresholdPercent: 90 };

function inspect(tenant: string, labels: Record<string, string> = {}, memory = 512 * MiB): Record<string, unknown> {
  return {
    Id: `${tenant}-id`, Name: `/openclaw-${tenant}`, RestartCount: 0,
    State: { Status: "running", Running: true, Paused: false, Restarting: false, OOMKilled: false, ExitCode: 0, StartedAt: "2026-11-25T10:00:00Z",
      Health: { Status: "healthy", FailingStreak: 0, Log: [{ Start: "2026-11-25T10:00:01Z", End: "2026-11-25T10:00:01Z", ExitCode: 0, Output: "" }] } },
    Config: { Image: "ghcr.io/openclaw/openclaw:2026.9.1", Labels: { "managed-by": "openclaw-hosting", "openclaw.tenant": tenant, "openclaw.tier": "light", ...labels } },
    HostConfig: { Memory: memory, NanoCpus: 5e8 },
  };
}
const STATS = { memory_stats: { usage: 100 * MiB, stats: { inactive_file: 0 } }, cpu_stats: { cpu_usage: { total_usage: 2e8 }, system_cpu_usage: 2e9, online_cpus: 2 }, precpu_stats: { cpu_usage: { total_usage: 1e8 }, system_cpu_usage: 1e9, online_cpus: 2 } };
const VOLS = (t: string) => [`openclaw-${t}-state`, `openclaw-${t}-credentials`];

/** GET /system/df, recorded shape (images and containers trimmed); -1 = the daemon could not size it. */
function df(sizes: Record<string, number>): unknown {
  return {
    LayersSize: 0, Images: [], Containers: [], BuildCache: [],
    Volumes: Object.entries(sizes).map(([Name, Size]) => ({ Name, Driver: "local", Labels: {}, Mountpoint: `/var/lib/docker/volumes/${Name}/_data`, Scope: "local", UsageData: { Size, RefCount: 1 } })),
  };
}

describe("disk against the budget", () => {
  const sizes = volumeSizes(df({ "openclaw-dora-state": 3.7 * MiB, "openclaw-dora-credentials": 4096, "openclaw-eve-state": 1 * MiB, "openclaw-eve-credentials": -1 }));

  test("/system/df: sizes per volume; unsized (-1) volumes are left out; a tenant's volumes are summed", () => {
    expect(sizes.get("openclaw-dora-state")).toBe(3.7 * MiB);
    expect(sizes.has("openclaw-eve-credentials")).toBe(false);
    expect(diskUsedOf(VOLS("dora"), sizes)).toBe(3.7 * MiB + 4096);
    expect(diskUsedOf(VOLS("eve"), sizes)).toBe(1 * MiB);
    expect(diskUsedOf(VOLS("nobody"), sizes)).toBeNull();
    expect(diskUsedOf(VOLS("dora"), undefined)).toBeNull();
  });

  test("at or above 90 % of the budget label: flagged, with the figures", () => {
    const t = tenantStatus({ tenant: "dora", volumes: VOLS("dora"), inspect: inspect("dora", { "openclaw.disk-budget-mb": "4" }), stats: STATS, volumeSizes: sizes }, RULES);
    expect(t.diskBudgetBytes).toBe(4 * MiB);
    expect(t.diskPercent).toBeCloseTo(((3.7 * MiB + 4096) / (4 * MiB)) * 100, 6);
    expect(t.flags).toEqual(["disk at 93% of its 4.0 MiB budget (>= 90%)"]);
  });

  test("a restored tenant: its disk is the volumes its container mounts; the kept copies are named, not counted", () => {
    const restored = { "openclaw-dora-state.r1": 1 * MiB, "openclaw-dora-credentials.r1": 4096, "openclaw-dora-state": 3.7 * MiB, "openclaw-dora-credentials": 4096 };
    const mounts = [{ Type: "volume", Name: "openclaw-dora-state.r1" }, { Type: "volume", Name: "openclaw-dora-credentials.r1" }, { Type: "tmpfs" }];
    const t = tenantStatus({
      tenant: "dora", volumes: [...VOLS("dora"), "openclaw-dora-state.r1", "openclaw-dora-credentials.r1"],
      inspect: { ...inspect("dora", { "openclaw.disk-budget-mb": "4" }), Mounts: mounts }, stats: STATS, volumeSizes: volumeSizes(df(restored)),
    }, RULES);
    expect(t.diskUsedBytes).toBe(1 * MiB + 4096);
    expect(t.flags).toEqual([]);
    expect(t.notes).toContain("kept copies of its data, not counted in its disk: openclaw-dora-credentials, openclaw-dora-state");
  });

  test("below the threshold, or with no budget: not flagged; the threshold is a rule", () => {
    const roomy = tenantStatus({ tenant: "dora", volumes: VOLS("dora"), inspect: inspect("dora", { "openclaw.disk-budget-mb": "5" }), stats: STATS, volumeSizes: sizes }, RULES);
    expect(roomy.flags).toEqual([]);
    const none = tenantStatus({ tenant: "dora", volumes: VOLS("dora"), inspect: inspect("dora"), stats: STATS, volumeSizes: sizes }, RULES);
    expect(none).toMatchObject({ diskBudgetBytes: null, diskPercent: null, flags: [] });
    expect(none.diskUsedBytes).toBe(3.7 * MiB + 4096);
    const strict = tenantStatus({ tenant: "dora", volumes: VOLS("dora"), inspect: inspect("dora", { "openclaw.disk-budget-mb": "5" }), stats: STATS, volumeSizes: sizes }, { ...RULES, diskThresholdPercent: 70 });
    expect(strict.flags).toEqual(["disk at 74% of its 5.0 MiB budget (>= 70%)"]);
  });

  test("the table's DISK column: used / budget", () => {
    const t = tenantStatus({ tenant: "dora", volumes: VOLS("dora"), inspect: inspect("dora", { "openclaw.disk-budget-mb": "4" }), stats: STATS, volumeSizes: sizes }, RULES);
    const text = renderTable(buildReport([t], { engine: "e", checkedAt: "t", memoryThresholdPercent: 90, elapsedMs: 1 }));
    expect(text).toMatch(/^dora\s+running\s+healthy\s+100\.0 MiB \/ 512\.0 MiB\s+19\.5%\s+20\.0%\s+0\s+3\.7 MiB \/ 4\.0 MiB\s+-\s+FLAGGED$/m);
  });
});

describe("the roster's desired state", () => {
  const desired = (tenant: string, state: "active" | "suspended"): DesiredTenant => ({ tenant, server: "local", tier: "standard", state, memoryMb: 512, diskMb: 2048 });

  test("active in the roster, nothing on the engine: flagged as missing; suspended with volumes only: fine", () => {
    const missing = tenantStatus({ tenant: "gus", volumes: [], desired: desired("gus", "active") }, RULES);
    expect(missing.flags).toEqual(["missing: active in the roster, nothing on the engine (no container, no volumes)"]);
    expect(missing.tier).toBe("standard");
    const gone = tenantStatus({ tenant: "gus", volumes: VOLS("gus"), desired: desired("gus", "active") }, RULES);
    expect(gone.flags).toEqual(["missing: active in the roster, no container on the engine (data kept in its volumes)"]);
    const suspended = tenantStatus({ tenant: "gus", volumes: VOLS("gus"), desired: desired("gus", "suspended") }, RULES);
    expect(suspended).toMatchObject({ state: "no container", desired: "suspended", flags: [] });
  });

  test("the roster's diskMb is the budget when the container has no label; not in the roster is a note", () => {
    const t = tenantStatus({ tenant: "hal", volumes: VOLS("hal"), inspect: inspect("hal"), stats: STATS, desired: desired("hal", "active") }, RULES);
    expect(t.diskBudgetBytes).toBe(2048 * MiB);
    const stray = tenantStatus({ tenant: "ivy", volumes: [], inspect: inspect("ivy"), stats: STATS, notInRoster: true }, RULES);
    expect(stray.notes.some((n) => n.startsWith("not in the roster"))).toBe(true);
    expect(stray.server).toBe("local");
  });
});

describe("summary per server", () => {
  test("committed memory against capacity, live memory and CPU summed per server", () => {
    const a = tenantStatus({ tenant: "a", server: "s1", volumes: [], inspect: inspect("a", {}, 1024 * MiB), stats: STATS }, RULES);
    const b = tenantStatus({ tenant: "b", server: "s1", volumes: [], inspect: inspect("b", {}, 2048 * MiB), stats: STATS }, RULES);
    const c = tenantStatus({ tenant: "c", server: "s2", volumes: VOLS("c") }, RULES);
    const r = buildReport([a, b, c], { engine: "e", checkedAt: "t", memoryThresholdPercent: 90, elapsedMs: 1, capacity: { s1: { memoryMb: 2048, cpus: 2, overcommit: 1.5 } } });
    expect(r.servers).toEqual([
      { server: "s1", engine: "e", tenants: 2, running: 2, flagged: 0, memoryCommittedBytes: 3072 * MiB, memoryCapacityBytes: 2048 * MiB, overcommit: 1.5, cpus: 2, commitRatio: 1.5, memoryUsedBytes: 200 * MiB, cpuPercent: 40, diskUsedBytes: 0, dataDisk: null, certificates: null, flags: [], reachable: true, error: null, elapsedMs: null },
      { server: "s2", engine: "e", tenants: 1, running: 0, flagged: 0, memoryCommittedBytes: 0, memoryCapacityBytes: null, overcommit: null, cpus: null, commitRatio: null, memoryUsedBytes: 0, cpuPercent: 0, diskUsedBytes: 0, dataDisk: null, certificates: null, flags: [], reachable: true, error: null, elapsedMs: null },
    ]);
  });
});

describe("log lines shown on the dashboard are redacted", () => {
  // Built at run time so no key-shaped literal sits in the repository.
  const anthropic = ["sk", "ant", "api03", "Zx9".repeat(12)].join("-");
  const openai = `sk-${"a1B2".repeat(10)}`;
  const hex = "0f".repeat(24);

  test.each([
    [`using key ${anthropic} for model`, "using key [redacted] for model"],
    [`OPENAI key=${openai}`, "OPENAI key=[redacted]"],
    ["Authorization: Bearer abcdefgh12345678", "Authorization: Bearer [redacted]"],
    ["curl -H 'x: Bearer abc.def.ghi1234'", "curl -H 'x: Bearer [redacted]'"],
    ["OPENCLAW_GATEWAY_TOKEN=status-test-alice started", "OPENCLAW_GATEWAY_TOKEN=[redacted] started"],
    ['{"apiKey":"hunter2","user":"bob"}', '{"apiKey":"[redacted]","user":"bob"}'],
    ["db password: correct horse", "db password: [redacted] horse"],
    [`session id ${hex}`, "session id [redacted]"],
    ["gateway listening on 0.0.0.0:18789 (pid 42)", "gateway listening on 0.0.0.0:18789 (pid 42)"],
    ["2026-11-25T10:00:00.123456789Z GET /healthz 200 1ms", "2026-11-25T10:00:00.123456789Z GET /healthz 200 1ms"],
  ])("%s", (line, expected) => {
    expect(redactLine(line)).toBe(expected);
  });

  test("no secret survives in any form it was planted in", () => {
    const lines = [anthropic, `KEY=${openai}`, `"token": "${hex}"`, `Bearer ${hex}`].map(redactLine);
    for (const l of lines) for (const secret of [anthropic, openai, hex]) expect(l).not.toContain(secret);
  });
});

describe("Docker's framed log stream", () => {
  const frame = (stream: 1 | 2, text: string) => {
    const body = Buffer.from(text, "utf8");
    const head = Buffer.alloc(8);
    head[0] = stream;
    head.writeUInt32BE(body.length, 4);
    return Buffer.concat([head, body]);
  };
  test("frames from stdout and stderr become lines; a TTY stream is plain text", () => {
    expect(demuxLogs(Buffer.concat([frame(1, "one\ntwo "), frame(2, "half\n"), frame(1, "three\n")]))).toEqual(["one", "two half", "three"]);
    expect(demuxLogs(Buffer.from("plain\nlines\n"))).toEqual(["plain", "lines"]);
  });
});

describe("the desired state from a stack file and its roster (as npm run check reads them)", () => {
  test("the dev stack: every roster tenant with its tier, state, memory and disk budget", () => {
    const repo = path.resolve(__dirname, "..", "..", "..", "..");
    const d = loadDesired(repo, "dev", "local");
    const names = fs.readdirSync(path.join(repo, d.rosterDir)).filter((f) => f.endsWith(".yaml")).map((f) => f.replace(/\.yaml$/, "")).sort();
    expect(d.tenants.map((t) => t.tenant)).toEqual(names);
    for (const t of d.tenants) {
      expect(t.server).toBe("local");
      expect(["light", "standard", "heavy"]).toContain(t.tier);
      expect(t.memoryMb).toBeGreaterThan(0);
      expect(t.diskMb).toBeGreaterThan(0);
    }
    expect(() => loadDesired(repo, "no-such-stack", "local")).toThrow(/no stack file/);
  });
});
