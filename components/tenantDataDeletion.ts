import * as pulumi from "@pulumi/pulumi";
import { DISKS_DIR, diskPurge } from "../core/diskBudget";
import { tenantVolumes } from "../core/retainedData";
import { ServerConnection, serverCommand } from "../program/serverCommand";
import { serverScript } from "../program/serverScripts";

export interface TenantDataDeletionArgs {
  /** A tenant no longer in the roster (the core refuses a live one). */
  tenant: string;
  /** Its volumes on that server (every copy retainedData lists there); default: the first copy's. */
  volumes?: string[];
  connection?: ServerConnection;
}

/**
 * Deletes a departed tenant's volumes. It exists only because an operator listed the tenant in
 * `deleteData`, so deleting data is always its own reviewed change, never a side effect.
 */
export class TenantDataDeletion extends pulumi.ComponentResource {
  public readonly volumes: string[];

  constructor(name: string, args: TenantDataDeletionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openclaw:hosting:TenantDataDeletion", name, {}, opts);
    this.volumes = args.volumes ?? tenantVolumes(args.tenant);
    const create = [
      "set -euo pipefail",
      `for volume in ${this.volumes.join(" ")}; do`,
      '  if docker volume inspect "$volume" >/dev/null 2>&1; then docker volume rm "$volume"; else echo "already gone: $volume"; fi',
      "done",
      // With diskQuota: image the data lives in the tenant's own filesystem image: it goes too.
      `if [ -e ${DISKS_DIR}/${args.tenant}.img ]; then`,
      diskPurge(serverScript("tenant-disk"), args.tenant),
      "fi",
    ].join("\n");
    serverCommand(`${name}-volumes`, { create }, args.connection, { parent: this });
    this.registerOutputs({ volumes: this.volumes });
  }
}
