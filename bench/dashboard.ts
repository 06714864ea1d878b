/**
 * The dashboard's costs:
 *  - one sample at 1,000 tenants: a synthetic Docker API answer (list, inspect, stats, system df)
 *    through discovery and the status model, the Prometheus gauges, and the history write (a line
 *    appended to the JSON-lines file, the in-memory rings), as the engine source does every refresh;
 *  - the page's load time with 100 tenants in Debian's Chromium: the real dashboard server serving
 *    a synthetic 100-tenant model, from navigation until all 100 rows are on the page.
 * The Docker calls themselves are not in the sample cost: they are the daemon's time, not ours.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AddressInfo } from "net";
import { performance } from "perf_hooks";
import { History, sampleOf } from "../tools/dashboard/history";
import { TenantMetrics } from "../tools/dashboard/metrics";
import { createDashboardServer } from "../tools/dashboard/server";
import { CHROMIUM, launchChromium } from "../test/support/browser";
import { StaticSource, modelFrom, syntheticEngine } from "../test/support/dashboard";

export interface DashboardBench {
  tenants: number;
  /** Median ms per sample, and its parts. */
  sampleMs: number;
  modelMs: number;
  metricsMs: number;
  historyMs: number;
  /** Median ms per Prometheus scrape: the gauges set from the report, and the text rendered. */
  scrapeMs: number;
  scrapeBytes: number;
  samples: number;
  historyLineBytes: number;
  /** History file size for 24 h at one sample a minute, extrapolated from the line size. */
  historyDayMb: number;
  /** Median page load (navigation -> every row rendered) with `pageTenants` tenants, or why it was skipped. */
  pageTenants: number;
  pageLoadMs: number | null;
  pageLoadRunsMs: number[];
  domContentLoadedMs: number | null;
  pageSkipped?: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r2 = (x: number): number => Math.round(x * 100) / 100;

export async function benchDashboard(log: (line: string) => void, opts: { tenants?: number; samples?: number; pageTenants?: number; pageRuns?: number } = {}): Promise<DashboardBench> {
  const n = opts.tenants ?? 1000;
  const samples = opts.samples ?? 30;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-dash-bench-"));
  try {
    const engine = syntheticEngine(n);
    const history = new History({ dir, retentionMs: 26 * 3600e3, sampleMs: 60e3 });
    const metrics = new TenantMetrics();
    const total: number[] = [], model: number[] = [], gauges: number[] = [], hist: number[] = [];
    let lineBytes = 0;
    log(`dashboard: ${samples} samples of ${n} synthetic tenants (model + metrics + history write)`);
    for (let i = 0; i < samples + 3; i++) {
      const at = Date.now() + i * 60e3;
      const t0 = performance.now();
      const report = modelFrom(engine, at);
      const t1 = performance.now();
      metrics.update(report, undefined);
      const t2 = performance.now();
      const line = sampleOf(report, at);
      history.append(line);
      const t3 = performance.now();
      if (i < 3) continue; // warm-up: the JIT, the file's first appends
      total.push(t3 - t0);
      model.push(t1 - t0);
      gauges.push(t2 - t1);
      hist.push(t3 - t2);
      lineBytes = JSON.stringify(line).length + 1;
    }
    if (history.series("tenant", "t0000").t.length !== samples + 3) throw new Error("history did not keep every sample");
    const scrapes: number[] = [];
    let scrapeBytes = 0;
    for (let i = 0; i < 8; i++) {
      metrics.update(modelFrom(engine), undefined);
      const t0 = performance.now();
      scrapeBytes = (await metrics.text()).length;
      if (i >= 2) scrapes.push(performance.now() - t0);
    }
    const out: DashboardBench = {
      tenants: n, sampleMs: r2(median(total)), modelMs: r2(median(model)), metricsMs: r2(median(gauges)), historyMs: r2(median(hist)),
      scrapeMs: r2(median(scrapes)), scrapeBytes,
      samples, historyLineBytes: lineBytes, historyDayMb: r2((lineBytes * 1440) / 1e6),
      pageTenants: opts.pageTenants ?? 100, pageLoadMs: null, pageLoadRunsMs: [], domContentLoadedMs: null,
    };
    log(`dashboard: ${out.sampleMs} ms per sample at ${n} tenants (model ${out.modelMs}, metrics ${out.metricsMs}, history ${out.historyMs}); a /metrics scrape ${out.scrapeMs} ms`);

    if (!fs.existsSync(CHROMIUM)) {
      out.pageSkipped = `${CHROMIUM} not installed`;
      return out;
    }
    const pageHistory = new History({ dir: path.join(dir, "page"), retentionMs: 26 * 3600e3, sampleMs: 60e3 });
    const pageEngine = syntheticEngine(out.pageTenants);
    const base = Date.now() - 24 * 3600e3;
    for (let m = 0; m < 24 * 60; m += 10) pageHistory.append(sampleOf(modelFrom(pageEngine, base + m * 60e3), base + m * 60e3));
    const source = new StaticSource(modelFrom(pageEngine));
    const server = createDashboardServer({ token: null, listenHost: "127.0.0.1", source, history: pageHistory, metrics });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const browser = await launchChromium();
    try {
      const runs: number[] = [], dcl: number[] = [];
      const reps = opts.pageRuns ?? 5;
      for (let i = 0; i < reps + 1; i++) {
        const page = await browser.context.newPage();
        await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: "commit" });
        // These functions run in the page (serialised by playwright): only browser globals in them.
        await page.waitForFunction((count: number) => {
          const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document;
          return doc.querySelectorAll("#tenants tbody tr").length === count && doc.querySelectorAll(".server .u-wrap").length > 0;
        }, out.pageTenants, { timeout: 30000 });
        // From the navigation's start to now, by the page's own clock.
        const ms = await page.evaluate(() => globalThis.performance.now());
        const nav = await page.evaluate(() => (globalThis.performance as unknown as { getEntriesByType(t: string): { domContentLoadedEventEnd: number }[] })
          .getEntriesByType("navigation")[0].domContentLoadedEventEnd);
        await page.close();
        if (i === 0) continue; // the first load warms the browser's caches
        runs.push(ms);
        dcl.push(nav);
      }
      out.pageLoadRunsMs = runs.map((x) => Math.round(x));
      out.pageLoadMs = Math.round(median(runs));
      out.domContentLoadedMs = Math.round(median(dcl));
      log(`dashboard: page with ${out.pageTenants} tenants ready in ${out.pageLoadMs} ms (median of ${reps}; DOMContentLoaded ${out.domContentLoadedMs} ms)`);
    } finally {
      await browser.close();
      server.close();
      server.closeAllConnections();
    }
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchDashboard((l) => process.stderr.write(`[bench] ${l}\n`)).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
