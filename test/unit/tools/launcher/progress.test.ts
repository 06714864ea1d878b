// Readable progress from engine events, the tenants table, and the message on failure.
import { failureMessage, newProgress, onEngineEvent, renderTenantTable, tenantOfUrn } from "../../../../tools/launcher/progress";

const P = "urn:pulumi:dev::openclaw-hosting::";
const TI = "openclaw:hosting:TenantInstance";
const pre = (op: string, type: string, urn: string, planning?: boolean) => ({ resourcePreEvent: { metadata: { op, type, urn }, planning } });
const out = (op: string, type: string, urn: string) => ({ resOutputsEvent: { metadata: { op, type, urn } } });

describe("tenantOfUrn", () => {
  const known = ["alice", "my", "my-bob", "carol"];
  it.each([
    [`${P}${TI}::alice`, "alice"],
    [`${P}${TI}$docker:index/container:Container::alice-gateway`, "alice"],
    [`${P}${TI}$docker:index/volume:Volume::my-bob-state`, "my-bob"],
    [`${P}${TI}$docker:index/volume:Volume::my-state`, "my"],
    [`${P}${TI}$random:index/randomPassword:RandomPassword::carol-gateway-token`, "carol"],
    [`${P}${TI}$docker:index/network:Network::dave-network`, undefined],
    [`${P}openclaw:hosting:Edge$command:local:Command::edge-caddyfile`, undefined],
    [`${P}pulumi:providers:docker::server`, undefined],
    ["not a urn", undefined],
  ])("%s -> %s", (urn, tenant) => expect(tenantOfUrn(urn, known)).toBe(tenant));
});

describe("onEngineEvent", () => {
  it("names the tenant being created and keeps a running count, unchanged resources quietly", () => {
    const s = newProgress();
    const lines = [
      pre("same", "pulumi:providers:docker", `${P}pulumi:providers:docker::server`),
      out("same", "pulumi:providers:docker", `${P}pulumi:providers:docker::server`),
      pre("create", TI, `${P}${TI}::alice`),
      pre("create", "docker:index/container:Container", `${P}${TI}$docker:index/container:Container::alice-gateway`),
      out("create", "docker:index/container:Container", `${P}${TI}$docker:index/container:Container::alice-gateway`),
      pre("update", "command:local:Command", `${P}openclaw:hosting:Edge$command:local:Command::edge-routes`),
      pre("create", "command:local:Command", `${P}openclaw:hosting:Edge$command:local:Command::edge-caddyfile`),
      { summaryEvent: { resourceChanges: { create: 7, same: 3 }, durationSeconds: 41.6 } },
    ].flatMap((e) => onEngineEvent(s, e));
    expect(lines).toEqual([
      "  tenant alice: creating",
      "  tenant alice: creating its container (waits until the gateway is healthy)",
      "  [2 resource(s) done: 1 create, 1 unchanged]",
      "  edge: writing the routes (no reload)",
      "  edge: installing the Caddyfile and reloading Caddy",
      "  done in 42 s: 7 create, 3 same",
    ]);
  });

  it("in a preview, says what would happen", () => {
    const s = newProgress();
    const lines = [pre("same", TI, `${P}${TI}::bob`, true), pre("replace", "docker:index/container:Container", `${P}${TI}$docker:index/container:Container::bob-gateway`, true)].flatMap((e) => onEngineEvent(s, e, true));
    expect(lines).toEqual(["  tenant bob: would replace its container"]);
  });

  it("keeps the engine's errors and names the failed resource's tenant", () => {
    const s = newProgress();
    const lines = [
      pre("same", TI, `${P}${TI}::alice`),
      { resOpFailedEvent: { metadata: { op: "create", type: "docker:index/container:Container", urn: `${P}${TI}$docker:index/container:Container::alice-gateway` } } },
      { diagnosticEvent: { severity: "error", message: "container openclaw-alice is unhealthy\n" } },
      { diagnosticEvent: { severity: "info", message: "noise" } },
    ].flatMap((e) => onEngineEvent(s, e));
    expect(lines).toEqual(["  ! create failed: alice-gateway (tenant alice)", "  ! container openclaw-alice is unhealthy"]);
    expect(failureMessage(s, "Command failed with exit code 255: pulumi up ...")).toBe("container openclaw-alice is unhealthy");
  });

  it("without error events, the failure is the command's last lines", () => {
    expect(failureMessage(newProgress(), "code: 255\n stdout: \n stderr: error: no Pulumi.yaml\n\n")).toBe("code: 255\n stdout:\n stderr: error: no Pulumi.yaml");
  });
});

describe("renderTenantTable", () => {
  it("lists tenants by name with URL, port, tier and state", () => {
    const table = renderTenantTable({
      bob: { url: "https://bob.claw.localhost:8443", port: 18844, tier: "light", state: "active" },
      alice: { url: "https://alice.claw.localhost:8443", port: 18879, tier: "standard", state: "active" },
      carol: { url: "https://carol.claw.localhost:8443", port: 18862, tier: "heavy", state: "suspended" },
    });
    expect(table.split("\n")).toEqual([
      "TENANT  URL                                PORT   TIER      STATE",
      "alice   https://alice.claw.localhost:8443  18879  standard  active",
      "bob     https://bob.claw.localhost:8443    18844  light     active",
      "carol   https://carol.claw.localhost:8443  18862  heavy     suspended (answers 503)",
    ]);
  });
});
