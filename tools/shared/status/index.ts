/**
 * The status model and its pieces, one concern per file:
 *   dockerApi.ts  the Docker API's answers (zod)        metrics.ts  docker stats' CPU and memory math
 *   samples.ts    one CPU/memory sample per container (API stats or one `docker stats` per server)
 *   discovery.ts  which tenants an engine has            flags.ts    when a tenant needs attention
 *   model.ts      rows per tenant, summary per server    desired.ts  the roster's side (from the plan)
 *   redact.ts     secrets out of log lines (dashboard) servers.ts  several servers in one report
 *   serverDisk.ts a server's data filesystem filling up
 *   certificates.ts a server's certificates expiring or not renewed
 *   serverDisk.ts a server's data filesystem filling up  backups.ts  each tenant's last good snapshot
 * Shared by both views (npm run status, npm run dashboard); the status CLI's own options and table
 * are in tools/status/. No I/O here: tools/shared/engine/ does the Docker calls.
 */
export * from "./dockerApi";
export * from "./metrics";
export * from "./samples";
export * from "./discovery";
export * from "./flags";
export * from "./model";
export * from "./desired";
export * from "./redact";
export * from "./servers";
export * from "./serverDisk";
export * from "./certificates";
export * from "./backups";
