import * as fs from "fs";
import * as path from "path";
import { CapturedResource, runProgram } from "../support/program";
import { UPGRADE_CONFIGS, UPGRADE_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS } from "./fixtures/upgradeConfigs";

/**
 * fixtures/upgrade-baseline.json is what the program registered for these stacks at commit 61a95ae,
 * the last one before `servers` existed (recorded with this commit's test/support/program.ts, which
 * only adds URNs and providers to what it captures). An upgrade replaces or re-creates a resource
 * exactly when its URN, provider or a replacing input changes, so all of them must stay equal.
 */
interface Recorded {
  urn: string;
  provider?: string;
  inputs: Record<string, unknown>;
  options: CapturedResource["options"];
}
const BASELINE = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "upgrade-baseline.json"), "utf8")) as Record<string, Recorded[]>;

function recorded(resources: CapturedResource[]): Recorded[] {
  return resources
    .filter((r) => r.type !== "pulumi:pulumi:Stack")
    .map((r) => JSON.parse(JSON.stringify({ urn: r.urn, provider: r.provider, inputs: r.inputs, options: r.options })) as Recorded);
}
const byUrn = (list: Recorded[]) => new Map(list.map((r) => [r.urn, r]));

describe.each(Object.keys(UPGRADE_CONFIGS))("upgrading a single-server stack (%s) to this version", (name) => {
  test("registers the same resources, by URN, with the same providers, inputs and options", async () => {
    const run = await runProgram(UPGRADE_CONFIGS[name], UPGRADE_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS);
    const before = byUrn(BASELINE[name]);
    const after = byUrn(recorded(run.resources));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [urn, was] of before) expect(after.get(urn) ?? `missing ${urn}`).toEqual(was);
  });

  test("the same stack written as servers.default registers the same resources too", async () => {
    const legacy = UPGRADE_CONFIGS[name];
    const { ssh, serverIp, server, portPool, tenantNetworks, ...rest } = legacy as Record<string, Record<string, unknown> | undefined>;
    const size = (server ?? { memoryMb: 8192, cpus: 4 }) as Record<string, unknown>;
    const asMap = {
      ...rest,
      servers: { default: { ...(ssh !== undefined ? { ssh } : { local: true }), ...(serverIp !== undefined ? { publicIp: serverIp } : {}), ...size, portPool, tenantNetworks } },
    };
    const run = await runProgram(asMap, UPGRADE_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS);
    const before = byUrn(BASELINE[name]);
    const after = byUrn(recorded(run.resources));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [urn, was] of before) expect(after.get(urn) ?? `missing ${urn}`).toEqual(was);
  });
});
