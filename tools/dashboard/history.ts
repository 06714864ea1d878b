/**
 * Memory and CPU history per tenant and per server, kept across restarts: an append-only JSON-lines
 * file (one line per sample) under the state dir, compacted to the retention window on start and
 * whenever it has grown by a window's worth. In memory, one ring of sample times and, per tenant or
 * server, two typed arrays aligned to it (and, per tenant, which server the point came from, so a
 * moved tenant's history stays one series): ~10 bytes per series per sample, no object per point.
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { StatusReport, sampleRows } from "../shared/status";

const MIB = 1024 * 1024;

/**
 * One line of the file: time (ms), servers as [memory MiB, CPU %] and tenants as [memory MiB, CPU %,
 * server] (null = not running; lines written before several servers have no server).
 */
const Point = z.tuple([z.number().nullable(), z.number().nullable(), z.string().optional()]);
const SampleLineSchema = z.object({
  t: z.number(),
  s: z.record(z.string(), Point),
  n: z.record(z.string(), Point),
});
export type SampleLine = z.infer<typeof SampleLineSchema>;

export interface Series {
  /** Seconds since the epoch (what uPlot plots). */
  t: number[];
  memoryBytes: (number | null)[];
  cpuPercent: (number | null)[];
  /** The server each point came from (a tenant's; a server's own series repeats its name); null = unknown or no point. */
  server: (string | null)[];
}

const round = (v: number | null, digits: number): number | null => (v === null ? null : Number(v.toFixed(digits)));

/** A report -> one history line: the servers that answered, their totals, one row per tenant with its server (core's sampleRows). */
export function sampleOf(report: StatusReport, at: number): SampleLine {
  const rows = sampleRows(report);
  const n: SampleLine["n"] = {};
  for (const t of rows.tenants) {
    n[t.tenant] = [t.memoryUsedBytes === null ? null : round(t.memoryUsedBytes / MIB, 1), round(t.cpuPercent, 2), t.server];
  }
  const s: SampleLine["s"] = {};
  for (const srv of rows.servers) s[srv.server] = [round(srv.memoryUsedBytes / MIB, 1), round(srv.cpuPercent, 2)];
  return { t: at, s, n };
}

class Ring {
  readonly mem: Float32Array;
  readonly cpu: Float32Array;
  /** Index + 1 into History's server names; 0 = none. */
  readonly srv: Uint16Array;
  constructor(size: number) {
    this.mem = new Float32Array(size).fill(NaN);
    this.cpu = new Float32Array(size).fill(NaN);
    this.srv = new Uint16Array(size);
  }
}

export interface HistoryOptions {
  dir: string;
  retentionMs: number;
  sampleMs: number;
  now?: () => number;
}

export class History {
  readonly file: string;
  private readonly size: number;
  private readonly times: Float64Array;
  /** Next slot to write; `count` slots are filled (the oldest at next - count). */
  private next = 0;
  private count = 0;
  private readonly tenants = new Map<string, Ring>();
  private readonly servers = new Map<string, Ring>();
  /** Server names seen in samples (a handful), indexed by the rings' srv arrays. */
  private readonly serverNames: string[] = [];
  private appendedSinceCompact = 0;
  private readonly now: () => number;

  constructor(private readonly opts: HistoryOptions) {
    fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.file = path.join(opts.dir, "history.jsonl");
    // Room for the window at the sample rate, plus slack for restarts (a restart adds no gap samples).
    this.size = Math.ceil(opts.retentionMs / opts.sampleMs) + 16;
    this.times = new Float64Array(this.size);
    this.now = opts.now ?? Date.now;
    this.compact();
  }

  /** Keeps the lines inside the window (skipping any torn or foreign line), rewrites the file atomically, reloads the rings. */
  compact(): { kept: number; dropped: number } {
    const cutoff = this.now() - this.opts.retentionMs;
    let text = "";
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const keep: SampleLine[] = [];
    let dropped = 0;
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      let parsed: SampleLine | undefined;
      try {
        const r = SampleLineSchema.safeParse(JSON.parse(line));
        if (r.success) parsed = r.data;
      } catch {
        parsed = undefined;
      }
      if (parsed === undefined || parsed.t < cutoff) dropped++;
      else keep.push(parsed);
    }
    keep.sort((a, b) => a.t - b.t);
    const kept = keep.slice(-this.size);
    dropped += keep.length - kept.length;
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, kept.map((l) => JSON.stringify(l)).join("\n") + (kept.length > 0 ? "\n" : ""), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
    this.next = 0;
    this.count = 0;
    this.tenants.clear();
    this.servers.clear();
    for (const l of kept) this.put(l);
    this.appendedSinceCompact = 0;
    return { kept: kept.length, dropped };
  }

  /** Records a sample: one line appended to the file, one slot in the rings. */
  append(line: SampleLine): void {
    fs.appendFileSync(this.file, JSON.stringify(line) + "\n", { mode: 0o600 });
    this.put(line);
    if (++this.appendedSinceCompact >= this.size) this.compact();
  }

  private put(line: SampleLine): void {
    const slot = this.next;
    this.times[slot] = line.t;
    const write = (map: Map<string, Ring>, values: SampleLine["n"]) => {
      for (const ring of map.values()) {
        ring.mem[slot] = NaN;
        ring.cpu[slot] = NaN;
        ring.srv[slot] = 0;
      }
      for (const [key, [mem, cpu, server]] of Object.entries(values)) {
        let ring = map.get(key);
        if (ring === undefined) map.set(key, (ring = new Ring(this.size)));
        ring.mem[slot] = mem ?? NaN;
        ring.cpu[slot] = cpu ?? NaN;
        ring.srv[slot] = server === undefined ? 0 : this.serverIndex(server);
      }
    };
    write(this.tenants, line.n);
    write(this.servers, line.s);
    this.next = (slot + 1) % this.size;
    this.count = Math.min(this.count + 1, this.size);
  }

  private serverIndex(name: string): number {
    let i = this.serverNames.indexOf(name);
    if (i < 0 && this.serverNames.length < 65535) i = this.serverNames.push(name) - 1;
    return i + 1;
  }

  get samples(): number {
    return this.count;
  }

  /** One tenant's (or server's) points since `sinceMs`, oldest first; gaps are null. */
  series(kind: "tenant" | "server", key: string, sinceMs = 0): Series {
    const ring = (kind === "tenant" ? this.tenants : this.servers).get(key);
    const out: Series = { t: [], memoryBytes: [], cpuPercent: [], server: [] };
    for (let i = 0; i < this.count; i++) {
      const slot = (this.next - this.count + i + this.size) % this.size;
      const t = this.times[slot];
      if (t < sinceMs) continue;
      out.t.push(Math.round(t / 1000));
      const mem = ring === undefined ? NaN : ring.mem[slot];
      const cpu = ring === undefined ? NaN : ring.cpu[slot];
      out.memoryBytes.push(Number.isNaN(mem) ? null : Math.round(mem * MIB));
      out.cpuPercent.push(Number.isNaN(cpu) ? null : Number(cpu.toFixed(2)));
      if (kind === "server") out.server.push(Number.isNaN(mem) ? null : key);
      else out.server.push(ring === undefined || ring.srv[slot] === 0 ? null : this.serverNames[ring.srv[slot] - 1] ?? null);
    }
    return out;
  }

  keys(kind: "tenant" | "server"): string[] {
    return [...(kind === "tenant" ? this.tenants : this.servers).keys()].sort();
  }
}
