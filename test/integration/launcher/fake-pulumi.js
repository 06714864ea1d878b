// A stand-in for the Pulumi CLI (which cannot be downloaded here), answering the commands the
// Automation API sends the way the real CLI does, and recording each call (arguments and the
// environment the launcher gives it) in $FAKE_PULUMI_DIR/calls.jsonl. It changes nothing else.
const fs = require("fs");
const path = require("path");

const dir = process.env.FAKE_PULUMI_DIR;
const args = process.argv.slice(2);
const pick = (k) => process.env[k];
fs.appendFileSync(path.join(dir, "calls.jsonl"), JSON.stringify({
  args,
  env: { PULUMI_BACKEND_URL: pick("PULUMI_BACKEND_URL"), PULUMI_CONFIG_PASSPHRASE_FILE: pick("PULUMI_CONFIG_PASSPHRASE_FILE"), DOCKER_HOST: pick("DOCKER_HOST") },
}) + "\n");

const P = "urn:pulumi:dev::openclaw-hosting::";
const TI = "openclaw:hosting:TenantInstance";
const stacks = path.join(dir, "stacks");
fs.mkdirSync(stacks, { recursive: true });

function events(fail, op = "create", planning = false) {
  let seq = 0;
  const ev = (e) => JSON.stringify({ sequence: seq++, timestamp: Math.floor(Date.now() / 1000), ...e });
  const md = (o, type, urn) => ({ metadata: { op: o === "create" ? op : o, type, urn, provider: "" }, ...(planning ? { planning: true } : {}) });
  const lines = [ev({ preludeEvent: { config: {} } }), ev({ resourcePreEvent: md("create", "pulumi:pulumi:Stack", `${P}pulumi:pulumi:Stack::openclaw-hosting-dev`) })];
  for (const t of ["alice", "bob", "carol"]) {
    lines.push(ev({ resourcePreEvent: md("create", TI, `${P}${TI}::${t}`) }));
    if (t === "carol") continue; // suspended: no container
    const c = md("create", "docker:index/container:Container", `${P}${TI}$docker:index/container:Container::${t}-gateway`);
    lines.push(ev({ resourcePreEvent: c }));
    if (fail && t === "bob") {
      lines.push(ev({ diagnosticEvent: { urn: c.metadata.urn, message: "container bob-gateway did not become healthy within 180s\n", color: "never", severity: "error" } }));
      lines.push(ev({ resOpFailedEvent: { ...c, status: 1, steps: 1 } }));
      lines.push(ev({ summaryEvent: { maybeCorrupt: false, durationSeconds: 3, resourceChanges: { create: 3 }, policyPacks: {} } }));
      return lines;
    }
    lines.push(ev({ resOutputsEvent: c }));
  }
  const edge = md("create", "command:local:Command", `${P}openclaw:hosting:Edge$command:local:Command::edge-caddyfile`);
  lines.push(ev({ resourcePreEvent: edge }), ev({ resOutputsEvent: edge }));
  lines.push(ev({ summaryEvent: { maybeCorrupt: false, durationSeconds: 42, resourceChanges: { create: 9 }, policyPacks: {} } }));
  return lines;
}

const tenants = {
  alice: { url: "https://alice.claw.localhost:8443", port: 18879, tier: "standard", state: "active" },
  bob: { url: "https://bob.claw.localhost:8443", port: 18844, tier: "light", state: "active" },
  carol: { url: "https://carol.claw.localhost:8443", port: 18862, tier: "heavy", state: "suspended" },
};

const [a0, a1] = args;
if (a0 === "version") {
  process.stdout.write("v3.200.0\n");
} else if (a0 === "stack" && a1 === "select") {
  const name = args[args.indexOf("--stack") + 1];
  if (!fs.existsSync(path.join(stacks, name))) {
    process.stderr.write(`error: no stack named '${name}' found\n`);
    process.exit(255);
  }
} else if (a0 === "stack" && a1 === "init") {
  fs.writeFileSync(path.join(stacks, args[2]), "");
} else if (a0 === "up") {
  const fail = process.env.FAKE_PULUMI_FAIL === "1";
  fs.writeFileSync(args[args.indexOf("--event-log") + 1], events(fail).join("\n") + "\n");
  if (fail) {
    process.stderr.write("error: update failed\n");
    process.exit(255);
  }
} else if (a0 === "preview" || a0 === "destroy") {
  const file = args[args.indexOf("--event-log") + 1];
  fs.writeFileSync(file, events(false, a0 === "destroy" ? "delete" : "create", a0 === "preview" || args.includes("--preview-only")).join("\n") + "\n");
} else if (a0 === "stack" && a1 === "output") {
  const secrets = args.includes("--show-secrets");
  process.stdout.write(JSON.stringify({ tenants, urls: Object.values(tenants).map((t) => t.url), gatewayTokens: secrets ? { alice: "fake-token-alice", bob: "fake-token-bob", carol: "fake-token-carol" } : "[secret]" }));
} else if (a0 === "stack" && a1 === "history") {
  const now = new Date().toISOString();
  process.stdout.write(JSON.stringify([{ kind: "update", startTime: now, endTime: now, message: "", environment: {}, config: {}, result: "succeeded", version: 1, resourceChanges: { create: 9 } }]));
}
