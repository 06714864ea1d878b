import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  CREDENTIALS_DIR, GATEWAY_PORT, HEALTHCHECK_TEST, HEALTHCHECK_TIMING, START_COMMAND, STATE_DIR, STOP_GRACE_SECONDS,
  containerEnv, writableTmpfs,
} from "../core/gateway";
import { ownerOf, ownershipApply } from "../core/tenantIdentity";
import { DISK_BUDGET_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE, TENANT_LABEL, TIER_LABEL, URL_LABEL } from "../core/labels";
import { TenantPlan } from "../core/plan";
import { diskApply, diskRelease, volumeDriverOpts } from "../core/diskBudget";
import { BRIDGE_NAME_OPTION } from "../core/egressGuard";
import { processLimitApply, processLimitRemove } from "../core/processLimit";
import { tenantVolumes } from "../core/retainedData";
import { ServerConnection, serverCommand } from "../program/serverCommand";
import { serverScript } from "../program/serverScripts";
import { snapshotBeforeUpgrade } from "./backupSchedule";

/**
 * Container fields the provider shows as an in-place update but never applies: its update only
 * calls Docker's ContainerUpdate (restart policy and resources), and the field is not ForceNew, so
 * the running container keeps the old value while the state says the new one (healthcheck:
 * kreuzwerker/terraform-provider-docker#988, fixed by #989, not in a released @pulumi/docker 5.x;
 * tmpfs and init: the same schema shape in that provider's source, neither ForceNew nor in its
 * update). replaceOnChanges turns a change of one of them into the replacement that applies it.
 */
const APPLIED_ONLY_AT_CREATE = ["healthcheck", "tmpfs", "init"] as const;

export interface TenantInstanceArgs {
  /** The tenant's plan from the pure core; it depends on no other tenant. */
  plan: TenantPlan;
  /** The tenant's model-provider key; absent only for a suspended tenant. */
  apiKey?: pulumi.Input<string>;
  /** How commands reach the server; absent when it is this machine. */
  connection?: ServerConnection;
  /** What must be in place on the server before the gateway runs (the egress guard). */
  serverReady?: pulumi.Resource[];
  /** The server's installed backups: when set, a new image is snapshotted before the container is replaced. */
  backupReady?: pulumi.Resource;
}

/**
 * One tenant: its gateway token, its two data volumes, its own bridge network and, while active,
 * its hardened gateway container. The volumes outlive the tenant's removal from the roster.
 */
export class TenantInstance extends pulumi.ComponentResource {
  /** The tenant's name in the roster. */
  public readonly tenant: string;
  public readonly url: string;
  public readonly port: number;
  /** The host uid and gid (one number) the gateway runs as and the volumes belong to. */
  public readonly uid: number;
  public readonly gatewayToken: pulumi.Output<string>;
  public readonly volumeNames: pulumi.Output<string>[];
  /** The running gateway; absent while the tenant is suspended. */
  public readonly gateway: docker.Container | undefined;

  constructor(name: string, args: TenantInstanceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openclaw:hosting:TenantInstance", name, {}, opts);
    const { plan } = args;
    // Volume and network labels force replacement when changed, so they carry only what never
    // changes for a tenant; the tier label lives on the container alone.
    const stableLabels = [
      { label: TENANT_LABEL, value: plan.name },
      { label: MANAGED_BY_LABEL, value: MANAGED_BY_VALUE },
    ];
    // `npm run status` reads these to report on a tenant without the roster at hand.
    const labels = [
      ...stableLabels,
      { label: TIER_LABEL, value: plan.tier },
      { label: URL_LABEL, value: plan.url },
      { label: DISK_BUDGET_LABEL, value: String(plan.diskMb) },
    ];

    // No keepers: the token must survive image upgrades, re-tiering and suspension.
    const token = new random.RandomPassword(`${name}-gateway-token`, { length: 48, special: false }, { parent: this });

    // Deleting a tenant's data is a separate, explicit act (see README): never a side effect of an edit.
    // After a restore (`data:` in the roster) these are the fresh volumes it filled; the previous
    // ones are retained on the server (retainOnDelete) and listed in retainedData.
    const [stateVolume, credentialsVolume] = tenantVolumes(plan.name, plan.data);
    // The tenant's own filesystem of diskMb, mounted before its volumes are used (diskQuota: image).
    const disk =
      plan.diskQuota === "image"
        ? serverCommand(
            `${name}-disk`,
            { create: diskApply(serverScript("tenant-disk"), plan.name, plan.diskMb, ownerOf(plan.uid)), delete: diskRelease(serverScript("tenant-disk"), plan.name) },
            args.connection,
            { parent: this },
          )
        : undefined;

    // How a volume enforces the budget is set when it is created and never changed by the program:
    // a changed driverOpts would replace the volume, so it is ignored after creation (README, Disk).
    const volumes = [
      { key: "state" as const, path: STATE_DIR, volumeName: stateVolume },
      { key: "credentials" as const, path: CREDENTIALS_DIR, volumeName: credentialsVolume },
    ].map(({ key, path: containerPath, volumeName }) => {
      const driverOpts = volumeDriverOpts(plan.name, key, plan.diskMb, plan.diskQuota);
      return {
        path: containerPath,
        volume: new docker.Volume(
          `${name}-${key}`,
          { name: volumeName, labels: stableLabels, ...(driverOpts === undefined ? {} : { driverOpts }) },
          { parent: this, retainOnDelete: true, ignoreChanges: ["driverOpts"] },
        ),
      };
    });

    const network = new docker.Network(
      `${name}-network`,
      {
        name: `openclaw-${plan.name}`,
        driver: "bridge",
        ipamConfigs: [{ subnet: plan.subnet, gateway: plan.bridgeGateway }],
        // A fixed interface name the egress guard matches; changing it replaces the network (and so
        // the container attached to it), never the volumes.
        options: { [BRIDGE_NAME_OPTION]: plan.bridgeName },
        labels: stableLabels,
      },
      { parent: this, deleteBeforeReplace: true },
    );

    // The kernel's bound on the tenant's processes lives on its own parent cgroup, set before the
    // container exists, so it holds from the gateway's first process and across restarts,
    // replacements and engine restarts (the provider has no pidsLimit; see README).
    const script = serverScript("process-limit");
    const processLimit = serverCommand(
      `${name}-process-limit`,
      {
        create: processLimitApply(script, plan.name, plan.pidsLimit, plan.cgroupDriver),
        delete: processLimitRemove(script, plan.name, plan.cgroupDriver),
      },
      args.connection,
      { parent: this },
    );

    let container: docker.Container | undefined;
    if (plan.state === "active") {
      // Upgrades take a snapshot first (docs/backups.md#rollback): OpenClaw migrates its database
      // one way, so the old image is only safe to go back to with the data from before.
      const snapshot =
        args.backupReady === undefined
          ? undefined
          : snapshotBeforeUpgrade(name, plan.name, plan.image, args.connection, { parent: this, dependsOn: [args.backupReady] });
      // The volumes belong to the tenant's own uid before its gateway starts: a new volume's root,
      // and every file an earlier uid (the shared 1000, a changed pin) owns. Re-run only when the
      // uid, the former uids or the image change; it never removes anything (server-scripts/tenant-owner.sh).
      const owner = serverCommand(
        `${name}-owner`,
        {
          create: ownershipApply(serverScript("tenant-owner"), {
            tenant: plan.name, uid: plan.uid, formerUids: plan.formerUids, image: plan.image, container: `openclaw-${plan.name}`,
            volumes: [stateVolume, credentialsVolume], graceSeconds: STOP_GRACE_SECONDS,
          }),
        },
        args.connection,
        // After the snapshot before an upgrade: that copy runs as the old container's uid, which can
        // still read the files only before they are re-owned.
        { parent: this, dependsOn: [...volumes.map(({ volume }) => volume), ...(disk === undefined ? [] : [disk]), ...(snapshot === undefined ? [] : [snapshot])] },
      );
      const envs = pulumi
        .all([token.result, args.apiKey ?? ""])
        .apply(([gatewayToken, apiKey]) => containerEnv(plan, gatewayToken, apiKey));
      container = new docker.Container(
        `${name}-gateway`,
        {
          name: `openclaw-${plan.name}`,
          image: plan.image,
          command: START_COMMAND,
          // The tenant's own uid and gid: no other tenant's process can read its environment or files.
          user: ownerOf(plan.uid),
          envs: pulumi.secret(envs),
          // Only the tenant's own bridge (the default bridge lets containers reach each other). Not
          // also in networksAdvanced: the provider would connect it twice and fail.
          networkMode: network.name,
          ports: [{ internal: GATEWAY_PORT, external: plan.port, ip: "127.0.0.1", protocol: "tcp" }],
          memory: plan.memoryMb,
          memoryReservation: plan.reservationMb,
          memorySwap: plan.memoryMb,
          cpus: String(plan.cpus),
          cgroupParent: plan.cgroupParent,
          readOnly: true,
          // Everything the gateway writes outside its volumes (logs, locks, caches): nothing to keep.
          tmpfs: writableTmpfs(plan.uid),
          capabilities: { drops: ["ALL"] },
          securityOpts: ["no-new-privileges:true"],
          init: true,
          restart: "unless-stopped",
          healthcheck: { tests: HEALTHCHECK_TEST, ...HEALTHCHECK_TIMING },
          // A new image must become healthy before `pulumi up` succeeds.
          wait: true,
          waitTimeout: 180,
          logDriver: "json-file",
          logOpts: { "max-size": "10m", "max-file": "3" },
          labels,
          // noCopy: Docker would otherwise copy the image's folder over an empty volume at every
          // container creation, owner (1000) and mode included, taking it from the tenant's uid.
          mounts: volumes.map(({ volume, path }) => ({ type: "volume", source: volume.name, target: path, volumeOptions: { noCopy: true } })),
          removeVolumes: false,
          // The gateway's own drain budget (see STOP_GRACE_SECONDS): a replacement never kills a write.
          destroyGraceSeconds: STOP_GRACE_SECONDS,
          stopTimeout: STOP_GRACE_SECONDS,
        },
        // The name and host port are fixed, so the old container must go before the new one starts.
        {
          parent: this,
          deleteBeforeReplace: true,
          replaceOnChanges: [...APPLIED_ONLY_AT_CREATE],
          dependsOn: [processLimit, owner, ...(disk === undefined ? [] : [disk]), ...(snapshot === undefined ? [] : [snapshot]), ...(args.serverReady ?? [])],
        },
      );
    }

    this.tenant = plan.name;
    this.url = plan.url;
    this.port = plan.port;
    this.uid = plan.uid;
    this.gatewayToken = token.result;
    this.volumeNames = volumes.map(({ volume }) => volume.name);
    this.gateway = container;
    this.registerOutputs({ url: this.url, port: this.port, uid: this.uid, gatewayToken: this.gatewayToken, volumeNames: this.volumeNames });
  }
}
