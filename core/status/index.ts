/**
 * The status model and its pieces, one concern per file:
 *   dockerApi.ts  the Docker API's answers (zod)        metrics.ts  docker stats' CPU and memory math
 *   discovery.ts  which tenants an engine has            flags.ts    when a tenant needs attention
 *   model.ts      rows per tenant, summary per server    desired.ts  the roster's side (from the plan)
 *   table.ts      the CLI's table and JSON               args.ts     the CLI's options
 *   redact.ts     secrets out of log lines (dashboard) servers.ts  several servers in one report
 * No I/O here: engine/ does the Docker calls for both views (npm run status, npm run dashboard).
 */
export * from "./dockerApi";
export * from "./metrics";
export * from "./discovery";
export * from "./flags";
export * from "./model";
export * from "./desired";
export * from "./table";
export * from "./args";
export * from "./redact";
export * from "./servers";
