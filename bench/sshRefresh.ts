/**
 * A dashboard refresh of one server's tenants over SSH against the same over the local socket
 * (issue 21): the real EngineSource (tools/dashboard/source.ts), as `npm run dashboard` runs it,
 * refreshed ROUNDS times against each engine. Run by bench/ssh-scale.sh (`refresh N`), which starts
 * the tenants; prints one line per engine.
 *   ts-node bench/sshRefresh.ts ROUNDS ENGINE...   (ENGINE: unix:///path or ssh://user@host)
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseDockerHost } from "../core/dockerHost";
import { History } from "../tools/dashboard/history";
import { TenantMetrics } from "../tools/dashboard/metrics";
import { EngineSource } from "../tools/dashboard/source";

async function main(): Promise<void> {
  const [roundsText, ...engines] = process.argv.slice(2);
  const rounds = Number(roundsText);
  if (!Number.isInteger(rounds) || rounds < 1 || engines.length === 0) throw new Error("usage: sshRefresh.ts ROUNDS ENGINE...");
  for (const engine of engines) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-refresh-"));
    const source = new EngineSource(
      {
        servers: [{ name: "s1", target: parseDockerHost(engine) }],
        timeoutMs: 30_000, refreshMs: 60_000, sampleMs: 60_000, diskMs: 3_600_000,
        rules: { memoryThresholdPercent: 90, diskThresholdPercent: 90 },
      },
      new History({ dir, retentionMs: 3_600_000, sampleMs: 60_000 }),
      new TenantMetrics(),
    );
    const times: number[] = [];
    let errors = 0;
    let tenants = 0;
    for (let i = 0; i < rounds; i++) {
      const t0 = Date.now();
      const report = await source.refresh();
      times.push(Date.now() - t0);
      tenants = report.tenants.length;
      errors += report.servers.filter((s) => !s.reachable).length + report.tenants.filter((t) => t.flags.some((f) => /timed out|not answer/.test(f))).length
        // A running tenant without its figures, or sampled on its own because the server's one command failed.
        + report.tenants.filter((t) => t.state === "running" && (t.memoryUsedBytes === null || t.cpuPercent === null || t.notes.some((n) => n.startsWith("sampled on its own")))).length;
    }
    source.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    const later = times.slice(1).sort((a, b) => a - b);
    const median = later.length > 0 ? later[Math.floor(later.length / 2)] : times[0];
    console.log(`refresh ${engine.startsWith("ssh://") ? `ssh (${engine})` : "local socket"}: ${tenants} tenants, first ${times[0]} ms (with volume sizes and, over ssh, the connection), then median ${median} ms of ${later.length}; errors ${errors}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
