/**
 * Memory and CPU history per tenant and per server, kept across restarts: an append-only JSON-lines
 * file (one line per sample) under the state dir, compacted to the retention window on start and
 * whenever it has grown by a window's worth. In memory, one ring of sample times and, per tenant or
 * server, two typed arrays aligned to it: ~8 bytes per series per sample, no object per point.
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { StatusReport } from "../core/status";

const MIB = 1024 * 1024;

/** One line of the file: time (ms), servers and tenants as [memory MiB, CPU %] (null = not running). */
const Point = z.tuple([z.number().nullable(), z.number().nullable()]);
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
}

const round = (v: number | null, digits: number): number | null => (v === null ? null : Number(v.toFixed(digits)));

/** A report -> one history line (tenants and per-server totals). */
export function sampleOf(report: StatusReport, at: number): SampleLine {
  const n: SampleLine["n"] = {};
  for (const t of report.tenants) {
    n[t.tenant] = [t.memoryUsedBytes === null ? null : round(t.memoryUsedBytes / MIB, 1), round(t.cpuPercent, 2)];
  }
  const s: SampleLine["s"] = {};
  for (const srv of report.servers) s[srv.server] = [round(srv.memoryUsedBytes / MIB, 1), round(srv.cpuPercent, 2)];
  return { t: at, s, n };
}

class Ring {
  readonly mem: Float32Array;
  readonly cpu: Float32Array;
  constructor(size: number) {
    this.mem = new Float32Array(size).fill(NaN);
    this.cpu = new Float32Array(size).fill(NaN);
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
      }
      for (const [key, [mem, cpu]] of Object.entries(values)) {
        let ring = map.get(key);
        if (ring === undefined) map.set(key, (ring = new Ring(this.size)));
        ring.mem[slot] = mem ?? NaN;
        ring.cpu[slot] = cpu ?? NaN;
      }
    };
    write(this.tenants, line.n);
    write(this.servers, line.s);
    this.next = (slot + 1) % this.size;
    this.count = Math.min(this.count + 1, this.size);
  }

  get samples(): number {
    return this.count;
  }

  /** One tenant's (or server's) points since `sinceMs`, oldest first; gaps are null. */
  series(kind: "tenant" | "server", key: string, sinceMs = 0): Series {
    const ring = (kind === "tenant" ? this.tenants : this.servers).get(key);
    const out: Series = { t: [], memoryBytes: [], cpuPercent: [] };
    for (let i = 0; i < this.count; i++) {
      const slot = (this.next - this.count + i + this.size) % this.size;
      const t = this.times[slot];
      if (t < sinceMs) continue;
      out.t.push(Math.round(t / 1000));
      const mem = ring === undefined ? NaN : ring.mem[slot];
      const cpu = ring === undefined ? NaN : ring.cpu[slot];
      out.memoryBytes.push(Number.isNaN(mem) ? null : Math.round(mem * MIB));
      out.cpuPercent.push(Number.isNaN(cpu) ? null : Number(cpu.toFixed(2)));
    }
    return out;
  }

  keys(kind: "tenant" | "server"): string[] {
    return [...(kind === "tenant" ? this.tenants : this.servers).keys()].sort();
  }
}
