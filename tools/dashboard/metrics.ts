/**
 * /metrics in Prometheus' text format (prom-client, its own registry: no process metrics of the
 * dashboard mixed in). The gauges are set from the latest report when Prometheus scrapes, not on
 * every refresh: a scrape every 30 s costs less than setting 10,000 labelled values every 10 s.
 * Every tenant sample carries its server; each server has its own (openclaw_server_up and totals).
 * A tenant on a server that did not answer has no up/health sample (unknown, not down): alert on
 * openclaw_server_up == 0 for those.
 */
import { Gauge, Registry } from "prom-client";
import { DesiredTenant, StatusReport } from "../shared/status";

const LABELS = ["tenant", "server", "tier"] as const;

export class TenantMetrics {
  readonly registry = new Registry();
  private readonly g = {
    up: this.gauge("openclaw_tenant_up", "1 when the tenant's container is running"),
    healthy: this.gauge("openclaw_tenant_healthy", "1 when the container's health check passes, 0 when unhealthy or starting; absent without a check"),
    flagged: this.gauge("openclaw_tenant_flagged", "1 when npm run status would flag the tenant"),
    memory: this.gauge("openclaw_tenant_memory_used_bytes", "memory in use without reclaimable page cache (as docker stats)"),
    memoryLimit: this.gauge("openclaw_tenant_memory_limit_bytes", "the container's memory limit"),
    cpu: this.gauge("openclaw_tenant_cpu_percent", "CPU use in percent of one core (as docker stats)"),
    restarts: this.gauge("openclaw_tenant_restarts", "Docker's restart count for the container"),
    disk: this.gauge("openclaw_tenant_disk_used_bytes", "bytes in the tenant's volumes (GET /system/df)"),
    diskBudget: this.gauge("openclaw_tenant_disk_budget_bytes", "the tenant's disk budget"),
    backupTime: this.gauge("openclaw_tenant_backup_last_good_timestamp_seconds", "when the tenant's last good snapshot was taken (its server's backup status)"),
    backupBytes: this.gauge("openclaw_tenant_backup_last_good_bytes", "the size of the tenant's last good snapshot"),
    backupOk: this.gauge("openclaw_tenant_backup_last_run_ok", "1 when the tenant's last snapshot run succeeded, 0 when it failed"),
    desired: this.gauge("openclaw_tenant_desired_active", "the roster's desired state: 1 active, 0 suspended (only tenants the roster names)"),
  };
  private readonly srv = {
    up: this.serverGauge("openclaw_server_up", "1 when the server's Docker engine answered the last refresh, 0 when it did not"),
    tenants: this.serverGauge("openclaw_server_tenants", "tenants shown on the server (its roster tenants when it did not answer)"),
    running: this.serverGauge("openclaw_server_running", "tenants running on the server"),
    memory: this.serverGauge("openclaw_server_memory_used_bytes", "memory in use by the server's tenants (only when it answered)"),
    committed: this.serverGauge("openclaw_server_memory_committed_bytes", "sum of the memory limits of the server's tenant containers"),
    capacity: this.serverGauge("openclaw_server_memory_capacity_bytes", "the server's memory (stack config memoryMb), when given"),
    cpu: this.serverGauge("openclaw_server_cpu_percent", "CPU use of the server's tenants in percent of one core (only when it answered)"),
    cpus: this.serverGauge("openclaw_server_cpus", "the server's CPUs (stack config cpus), when given"),
    backupCheck: this.serverGauge("openclaw_backup_repository_check_ok", "1 when the backup repository's last check passed, 0 when it failed (the server that maintains it)"),
    elapsed: this.serverGauge("openclaw_server_refresh_duration_seconds", "how long the server took to answer (or to fail) in the last refresh"),
    renewalFailed: this.serverGauge("openclaw_certificate_renewal_failed", "1 when the server's last certificate renewal failed (the certificate in use is kept), 0 when it succeeded"),
  };
  /** Alert on `openclaw_certificate_expiry_timestamp_seconds - time() < 14 * 86400`. */
  private readonly certExpiry = new Gauge({
    name: "openclaw_certificate_expiry_timestamp_seconds", help: "when each certificate a server serves expires (Unix time; from the server's daily record)",
    labelNames: ["server", "name"], registers: [this.registry],
  });
  private readonly scrapeAge = new Gauge({ name: "openclaw_dashboard_report_age_seconds", help: "age of the report these figures come from", registers: [this.registry] });
  private readonly refreshMs = new Gauge({ name: "openclaw_dashboard_refresh_duration_seconds", help: "how long the last refresh of every tenant took", registers: [this.registry] });
  private reportAt = 0;
  private pending: { report: StatusReport; desired: readonly DesiredTenant[] | undefined } | null = null;

  private gauge(name: string, help: string): Gauge<(typeof LABELS)[number]> {
    return new Gauge({ name, help, labelNames: LABELS, registers: [this.registry] });
  }

  private serverGauge(name: string, help: string): Gauge<"server"> {
    return new Gauge({ name, help, labelNames: ["server"], registers: [this.registry] });
  }

  /** Remembers the report; the gauges follow at the next scrape. */
  update(report: StatusReport, desired: readonly DesiredTenant[] | undefined): void {
    this.pending = { report, desired };
  }

  private apply(report: StatusReport, desired: readonly DesiredTenant[] | undefined): void {
    for (const g of [...Object.values(this.g), ...Object.values(this.srv)]) g.reset();
    this.certExpiry.reset();
    const unanswered = new Set(report.servers.filter((s) => !s.reachable).map((s) => s.server));
    for (const t of report.tenants) {
      const l = { tenant: t.tenant, server: t.server, tier: t.tier ?? "" };
      if (unanswered.has(t.server)) {
        this.g.flagged.set(l, 1);
        continue;
      }
      this.g.up.set(l, t.state === "running" ? 1 : 0);
      if (t.health !== "none") this.g.healthy.set(l, t.health === "healthy" ? 1 : 0);
      this.g.flagged.set(l, t.flags.length > 0 ? 1 : 0);
      if (t.memoryUsedBytes !== null) this.g.memory.set(l, t.memoryUsedBytes);
      if (t.memoryLimitBytes !== null) this.g.memoryLimit.set(l, t.memoryLimitBytes);
      if (t.cpuPercent !== null) this.g.cpu.set(l, t.cpuPercent);
      if (t.restartCount !== null) this.g.restarts.set(l, t.restartCount);
      if (t.diskUsedBytes !== null) this.g.disk.set(l, t.diskUsedBytes);
      if (t.diskBudgetBytes !== null) this.g.diskBudget.set(l, t.diskBudgetBytes);
      if (t.backup?.lastGoodAt != null) this.g.backupTime.set(l, Date.parse(t.backup.lastGoodAt) / 1000);
      if (t.backup?.lastGoodBytes != null) this.g.backupBytes.set(l, t.backup.lastGoodBytes);
      if (t.backup?.lastRunOk != null) this.g.backupOk.set(l, t.backup.lastRunOk ? 1 : 0);
    }
    for (const s of report.servers) {
      const l = { server: s.server };
      this.srv.up.set(l, s.reachable ? 1 : 0);
      this.srv.tenants.set(l, s.tenants);
      this.srv.running.set(l, s.running);
      if (s.reachable) {
        this.srv.memory.set(l, s.memoryUsedBytes);
        this.srv.committed.set(l, s.memoryCommittedBytes);
        this.srv.cpu.set(l, s.cpuPercent);
      }
      if (s.memoryCapacityBytes !== null) this.srv.capacity.set(l, s.memoryCapacityBytes);
      if (s.cpus !== null) this.srv.cpus.set(l, s.cpus);
      if (s.elapsedMs !== null) this.srv.elapsed.set(l, s.elapsedMs / 1000);
      if (s.certificates?.renewal != null) this.srv.renewalFailed.set(l, s.certificates.renewal.ok ? 0 : 1);
      for (const c of s.certificates?.certificates ?? []) this.certExpiry.set({ server: s.server, name: c.name }, Date.parse(c.notAfter) / 1000);
      if (s.backupCheck !== undefined) this.srv.backupCheck.set(l, s.backupCheck.ok ? 1 : 0);
    }
    for (const d of desired ?? []) this.g.desired.set({ tenant: d.tenant, server: d.server, tier: d.tier }, d.state === "active" ? 1 : 0);
    this.reportAt = Date.parse(report.checkedAt);
    this.refreshMs.set(report.elapsedMs / 1000);
  }

  async text(now = Date.now()): Promise<string> {
    if (this.pending !== null) {
      this.apply(this.pending.report, this.pending.desired);
      this.pending = null;
    }
    if (this.reportAt > 0) this.scrapeAge.set((now - this.reportAt) / 1000);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
