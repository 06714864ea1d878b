import * as pulumi from "@pulumi/pulumi";
import { BackupConfig, backupBundle, backupFiles, backupSettings } from "../core/backup";
import { inlineScript } from "../core/shell";
import { ServerConnection, serverCommand } from "../program/serverCommand";
import { serverScript } from "../program/serverScripts";

export const BACKUP_MARKER = "OPENCLAW_TENANT_BACKUP_EOF";

export interface BackupScheduleArgs {
  backup: BackupConfig;
  /** This server's name (the snapshots' host and `server=` tag). */
  server: string;
  /** Every server of the stack: the first by name (or backup.maintenanceServer) forgets, prunes and checks. */
  servers: readonly string[];
  stack: string;
  /** Set for a remote server; absent means the server is this machine. */
  connection?: ServerConnection;
}

/**
 * A server's scheduled snapshots (server-scripts/tenant-backup.sh): the repository's settings and
 * secrets in root-only files under /etc/openclaw/backup (sent on the command's stdin, a Pulumi
 * secret, never in its arguments), a systemd timer that snapshots every tenant container on the
 * server, and on the maintenance server a daily forget/prune/check. Names no tenant: a roster edit
 * never touches it. Removing the backup block removes the units and secrets, never a snapshot.
 */
export class BackupSchedule extends pulumi.ComponentResource {
  /** Tenants' pre-upgrade snapshots wait for it (they need the settings in place). */
  public readonly ready: pulumi.Resource;

  constructor(name: string, args: BackupScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openclaw:hosting:BackupSchedule", name, {}, opts);
    const script = serverScript("tenant-backup");
    this.ready = serverCommand(
      `${name}-install`,
      {
        create: inlineScript(script, ["install", args.server, args.stack, ...backupSettings(args.backup, args.server, args.servers)], BACKUP_MARKER),
        delete: inlineScript(script, ["remove"], BACKUP_MARKER),
        stdin: pulumi.secret(backupBundle(backupFiles(args.backup, args.server, args.stack))),
      },
      args.connection,
      { parent: this },
    );
    this.registerOutputs({});
  }
}

/**
 * The command a tenant's container waits for: a snapshot of the tenant before its image changes
 * (`triggers`: a new image replaces it, so it runs again, with the old container still in place).
 * It runs first when the tenant is created (nothing to snapshot yet) and is a no-op on other changes.
 */
export function snapshotBeforeUpgrade(name: string, tenant: string, image: string, connection: ServerConnection | undefined, opts: pulumi.CustomResourceOptions): pulumi.Resource {
  return serverCommand(
    `${name}-snapshot-before-upgrade`,
    { create: inlineScript(serverScript("tenant-backup"), ["tenant", tenant, "before-upgrade"], BACKUP_MARKER), update: "true", triggers: [image] },
    connection,
    opts,
  );
}
