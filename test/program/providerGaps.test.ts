import * as path from "path";
import { REPO_ROOT, TYPES, baseConfig, fakeKey, ofType, runProgram } from "../support/program";
import { SERVERS_CONFIG, UPGRADE_CONFIGS, UPGRADE_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS } from "./fixtures/upgradeConfigs";

/**
 * Provider behaviour the mock engine cannot show, pinned as resource options. @pulumi/docker 5.x
 * bridges kreuzwerker/terraform-provider-docker, whose container update only calls Docker's
 * ContainerUpdate (restart policy, CPU shares/set, memory, swap). A field that is neither ForceNew
 * nor in that list is shown by `pulumi preview` as an update and written to the state on `up`, but
 * the running container keeps its old value, and no later preview shows the drift:
 * - healthcheck: kreuzwerker/terraform-provider-docker#988 (fixed by #989, merged 2026-08, not in a
 *   released @pulumi/docker);
 * - tmpfs and init: the same in that provider's resource_docker_container.go (Optional, not ForceNew,
 *   not in resourceDockerContainerUpdate's list); no tracker issue yet.
 * replaceOnChanges makes Pulumi replace the container (delete first: fixed name and port) instead.
 * If a field is added to the gateway container that the provider cannot update, add it here.
 */
const APPLIED_ONLY_AT_CREATE = ["healthcheck", "tmpfs", "init"];

const runs = {
  sample: () => runProgram(baseConfig(path.join(REPO_ROOT, "tenants"), { apiKeys: { alice: fakeKey("alice"), bob: fakeKey("bob") } })),
  remote: () => runProgram(UPGRADE_CONFIGS.remote, UPGRADE_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS),
  servers: () => runProgram(SERVERS_CONFIG, UPGRADE_PREVIOUS_OUTPUTS, UPGRADE_SECRET_KEYS),
};

describe.each(Object.keys(runs) as (keyof typeof runs)[])("gateway containers (%s stack)", (name) => {
  test("a change of healthcheck, tmpfs or init replaces the container (delete first) instead of an update that is never applied", async () => {
    const containers = ofType(await runs[name](), TYPES.container);
    expect(containers.length).toBeGreaterThan(0);
    for (const c of containers) {
      expect({ name: c.name, replaceOnChanges: c.options.replaceOnChanges, deleteBeforeReplace: c.options.deleteBeforeReplace })
        .toEqual({ name: c.name, replaceOnChanges: APPLIED_ONLY_AT_CREATE, deleteBeforeReplace: true });
      // replaceOnChanges names input properties: a misspelt one ("healthCheck") would match nothing.
      for (const field of APPLIED_ONLY_AT_CREATE) expect(`${c.name}.${field} set: ${c.inputs[field] !== undefined}`).toBe(`${c.name}.${field} set: true`);
    }
  });
});

describe("the Docker provider of a server reached over SSH", () => {
  test("shares one ssh connection per server (multiplexing in a private directory, bounded in time) for all its Docker calls, and gates the connections of its own it opens past that", async () => {
    const run = await runs.servers();
    const remote = run.resources.filter((r) => r.type === "pulumi:providers:docker" && typeof r.inputs.host === "string" && r.inputs.host.startsWith("ssh://"));
    expect(remote.map((r) => r.name).sort()).toEqual(["server-b", "server-c"]);
    for (const p of remote) {
      expect(JSON.parse(p.inputs.sshOpts as string)).toEqual([
        "-i", "test/program/fixtures/not-a-key", "-o", "BatchMode=yes",
        "-o", "ControlMaster=auto", "-o", "ControlPath=~/.ssh/openclaw-mux/%C", "-o", "ControlPersist=60",
        "-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3",
        "-o", `ProxyCommand='${process.execPath}' '${path.resolve(__dirname, "../../program/sshGate.js")}' '6' '900' %h %p`, "-o", "ConnectTimeout=930",
      ]);
    }
  });
});
