/**
 * OpenClaw's container contract (see shared field notes): the facts every tenant container is built on.
 * The stand-in image used by the real-runtime tests honours the same contract.
 */
export const GATEWAY_PORT = 18789;
export const STATE_DIR = "/home/node/.openclaw";
/** Holds the auth-profile encryption key: losing it makes stored credentials unreadable. */
export const CREDENTIALS_DIR = "/home/node/.config/openclaw";
export const GATEWAY_UID = "1000:1000";

/** The image has no curl; its own health check uses node's fetch. Checks the body, not only the status. */
export const HEALTHCHECK_TEST = [
  "CMD",
  "node",
  "-e",
  `fetch('http://127.0.0.1:${GATEWAY_PORT}/healthz').then(r=>r.json()).then(j=>process.exit(j&&j.ok===true?0:1)).catch(()=>process.exit(1))`,
];

/**
 * Writes the managed settings on every start (idempotent, and before the gateway runs, as newer
 * versions require), then runs the gateway on the container network instead of loopback.
 */
export const START_COMMAND = [
  "sh",
  "-c",
  `node dist/index.js config set --batch-json "$OPENCLAW_HOSTING_SETTINGS" && exec node dist/index.js gateway --bind lan --port ${GATEWAY_PORT}`,
];

/** V8 ignores cgroup limits: cap the heap below the container's memory so Node fails before the kernel kills it. */
export function heapCapMb(memoryMb: number): number {
  return Math.floor(memoryMb * 0.75);
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

export function gatewaySettings(origin: string, proxies: readonly string[]): GatewaySetting[] {
  return [
    { path: "gateway.mode", value: "local" },
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
    "OPENCLAW_DISABLE_BONJOUR=1",
    `OPENCLAW_HOSTING_SETTINGS=${JSON.stringify(plan.settings)}`,
    ...Object.entries(plan.env).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`),
  ];
}
