import { diskImagesOutput } from "./diskBudget";
import { HostingPlan } from "./plan";
import { RetainedData, deletedBy } from "./retainedData";
import { StackConfig } from "./stackConfig";

/**
 * The stack outputs operators read after `pulumi up`, all but the gateway tokens (secrets, added by
 * the program). `npm run status`, the dashboard and the next deployment read them too.
 */
export function publicOutputs(plan: HostingPlan, retainedData: readonly RetainedData[], deleteData: StackConfig["deleteData"]) {
  const multi = plan.servers.length > 1;
  return {
    tenants: Object.fromEntries(plan.tenants.map((t) => [t.name, { url: t.url, port: t.port, uid: t.uid, tier: t.tier, state: t.state, server: t.server, ...(t.data === undefined ? {} : { data: t.data }) }])),
    urls: plan.tenants.map((t) => t.url),
    servers: Object.fromEntries(plan.servers.map((s) => [s.name, {
      tenants: s.tenants.length,
      activeTenants: s.utilisation.activeTenants,
      memoryLimitMb: s.utilisation.memoryLimitMb,
      cpus: s.utilisation.cpus,
      memoryPercent: s.utilisation.memoryPercent,
      cpuPercent: s.utilisation.cpuPercent,
      publicIp: s.publicIp,
    }])),
    ...(multi ? { caddyfiles: Object.fromEntries(plan.servers.map((s) => [s.name, s.caddyfile])) } : { caddyfile: plan.caddyfile }),
    // What each edge routes (host -> port or suspended); roster changes rewrite these, not the Caddyfile.
    ...(multi ? { routesByServer: Object.fromEntries(plan.servers.map((s) => [s.name, s.routes])) } : { routes: plan.routes }),
    retainedData: retainedData.filter((r) => !deletedBy(deleteData, r)),
    // The next deployment keeps these tenants on their images even if diskQuota changes (keepDiskImages).
    diskImages: diskImagesOutput(plan.tenants),
  };
}
