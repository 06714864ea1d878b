/**
 * OpenClaw's container contract (see shared field notes): the facts every tenant container is built on.
 * The stand-in image used by the real-runtime tests honours the same contract.
 */
export const GATEWAY_PORT = 18789;
export const STATE_DIR = "/home/node/.openclaw";
/** Holds the auth-profile encryption key: losing it makes stored credentials unreadable. */
export const CREDENTIALS_DIR = "/home/node/.config/openclaw";
/** CREDENTIALS_DIR's parent. */
export const CONFIG_DIR = "/home/node/.config";
/**
 * The gateway's own cache and fallback temp dir (openclaw 2026.9.6 refuses to start without it:
 * "Unable to create fallback OpenClaw temp dir: /home/node/.cache/openclaw-1000"; the suffix is
 * the uid it runs as, so the tmpfs belongs to the tenant's own uid).
 */
export const CACHE_DIR = "/home/node/.cache";
/**
 * Set in the environment: Docker derives HOME from /etc/passwd, and a tenant's own uid has no entry
 * there (Docker would give HOME=/, and the gateway would look for its state in /.openclaw).
 */
export const HOME_DIR = "/home/node";

/**
 * Every path the real gateway writes outside its two state volumes (found with `docker diff` on a
 * writable root and the EROFS errors of a read-only one; test/integration/gateway). Nothing in
 * them needs to outlive the container: rolling logs (/tmp/openclaw), lock files, caches. The
 * cache belongs to the tenant's own uid (core/tenantIdentity.ts); /tmp is shared-sticky.
 */
export function writableTmpfs(uid: number): Record<string, string> {
  return {
    "/tmp": "rw,nosuid,nodev,size=64m,mode=1777",
    [CACHE_DIR]: `rw,nosuid,nodev,size=64m,uid=${uid},gid=${uid},mode=0700`,
    // The image's ~/.config is 0700 and uid 1000's: another uid could not even reach the credentials
    // volume mounted inside it. A small tmpfs of the tenant's own replaces it; Docker mounts the
    // volume at CREDENTIALS_DIR on top (parents first).
    [CONFIG_DIR]: `rw,nosuid,nodev,size=1m,uid=${uid},gid=${uid},mode=0700`,
  };
}
/** The paths of writableTmpfs. */
export const WRITABLE_PATHS: readonly string[] = Object.keys(writableTmpfs(0));

/** The image has no curl; its own health check uses node's fetch. Checks the body, not only the status. */
export const HEALTHCHECK_TEST = [
  "CMD",
  "node",
  "-e",
  `fetch('http://127.0.0.1:${GATEWAY_PORT}/healthz').then(r=>r.json()).then(j=>process.exit(j&&j.ok===true?0:1)).catch(()=>process.exit(1))`,
];

/**
 * The health check. Starting takes the real gateway about 20 CPU-seconds: healthy after 13.7 s with
 * 2 CPUs, 19.3 s with 1, 42.9 s with the light tier's 0.5 (measured here, `npm run bench:gateway`).
 * The start period is about 3x the slowest, so gateways starting together on a busy server (after a
 * reboot) are not counted as failing. Failures only count after it.
 */
export const HEALTHCHECK_TIMING = { interval: "30s", timeout: "5s", startPeriod: "120s", retries: 3 } as const;

/**
 * On SIGTERM the gateway drains for up to 315 s, then shuts down within 10 s more, and upstream's
 * own service manager waits 330 s (gateway-shutdown-budget.mjs: GATEWAY_SERVICE_STOP_TIMEOUT_MS)
 * before killing it. Docker waits as long, so a stop never cuts a state write; an idle gateway
 * exits in seconds (measured), so an upgrade only waits as long as the tenant's own work needs.
 */
export const STOP_GRACE_SECONDS = 330;

/**
 * Writes the managed settings on every start (idempotent, and before the gateway runs, as newer
 * versions require), then runs the gateway on the container network instead of loopback.
 */
export const START_COMMAND = [
  "sh",
  "-c",
  `node dist/index.js config set --batch-json "$OPENCLAW_HOSTING_SETTINGS" && exec node dist/index.js gateway --bind lan --port ${GATEWAY_PORT}`,
];

/**
 * The real gateway's resident memory outside the V8 heap (code, native modules, worker threads),
 * measured on openclaw 2026.9.6 / Node 24.21 at idle: RSS 815 MB with 225 MB of heap in use, so
 * about 590 MB; rounded up for headroom. `npm run bench:gateway` re-measures it.
 */
export const NON_HEAP_RESERVE_MB = 640;

/**
 * V8 ignores cgroup limits: cap the heap so heap + the rest of the process stays under the
 * container's memory, and Node fails with a heap error before the kernel's OOM killer picks a victim.
 * Never above 75 % of the limit, never below 256 MB.
 */
export function heapCapMb(memoryMb: number): number {
  return Math.max(256, Math.min(Math.floor(memoryMb * 0.75), memoryMb - NON_HEAP_RESERVE_MB));
}

/**
 * The smallest memory limit each OpenClaw version was seen to start and idle under, with the heap
 * capped as above (measured here; see README "The real gateway"): below it the gateway is killed
 * before it is ready, or runs with no room for a second process (`docker exec ... openclaw`).
 * Newest last. A version not in the table gets the newest floor.
 */
export const MEMORY_FLOORS: ReadonlyArray<{ version: string; floorMb: number }> = [{ version: "2026.9.6", floorMb: 1024 }];

/** The OpenClaw version an image reference names (`...:2026.9.6-r20260923` → 2026.9.6), if any. */
export function openclawVersion(image: string): string | undefined {
  if (image.includes("@sha256:")) return undefined;
  const last = image.split("/").pop() ?? "";
  const tag = last.includes(":") ? (last.split(":").pop() ?? "") : "";
  return /^(\d{4}\.\d{1,2}\.\d{1,3})(?![\d.])/.exec(tag)?.[1];
}

/** The floor for an image: its version's, or the newest known floor for an unknown version or a digest. */
export function memoryFloor(image: string): { version: string | undefined; floorMb: number; measured: boolean } {
  const version = openclawVersion(image);
  const row = MEMORY_FLOORS.find((f) => f.version === version);
  if (row !== undefined) return { version, floorMb: row.floorMb, measured: true };
  return { version, floorMb: MEMORY_FLOORS[MEMORY_FLOORS.length - 1].floorMb, measured: false };
}

/**
 * The addresses the gateway sees for requests arriving through the published loopback port:
 * Docker's proxy connects from the tenant bridge's gateway, written IPv4-mapped by Node.
 */
export function trustedProxies(bridgeGateway: string): string[] {
  return [bridgeGateway, `::ffff:${bridgeGateway}`];
}

export interface GatewaySetting {
  path: string;
  value: unknown;
}

/**
 * The managed settings, written to openclaw.json at every start. `gateway.bind` repeats the
 * command line's `--bind lan` because `openclaw doctor` reads the config, not the command line.
 */
export function gatewaySettings(origin: string, proxies: readonly string[]): GatewaySetting[] {
  return [
    { path: "gateway.mode", value: "local" },
    { path: "gateway.bind", value: "lan" },
    { path: "gateway.auth.mode", value: "token" },
    { path: "gateway.trustedProxies", value: [...proxies] },
    { path: "gateway.controlUi.allowedOrigins", value: [origin] },
  ];
}

export interface ContainerEnvInput {
  apiKeyEnv: string;
  heapMb: number;
  settings: readonly GatewaySetting[];
  /** The roster's own variables, already validated. */
  env: Readonly<Record<string, string>>;
}

/**
 * The container's environment, `NAME=value` each: the managed variables first, then the roster's
 * in name order. Every value arrives verbatim: validation, not escaping, keeps structure out.
 */
export function containerEnv(plan: ContainerEnvInput, gatewayToken: string, apiKey: string): string[] {
  return [
    `OPENCLAW_GATEWAY_TOKEN=${gatewayToken}`,
    `${plan.apiKeyEnv}=${apiKey}`,
    `NODE_OPTIONS=--max-old-space-size=${plan.heapMb}`,
    `HOME=${HOME_DIR}`,
    "OPENCLAW_DISABLE_BONJOUR=1",
    `OPENCLAW_HOSTING_SETTINGS=${JSON.stringify(plan.settings)}`,
    ...Object.entries(plan.env).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`),
  ];
}
