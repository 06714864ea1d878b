// openclaw-hosting policy pack: the hardening every tenant gateway relies on, checked on the resources
// Pulumi is about to create or update, whatever the program's code says. Run it with
//   pulumi preview --policy-pack policy [--policy-pack-config policy-config.json]
// The rules live in rules.ts as pure functions (unit-tested in test/unit/policy/rules.test.ts).
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("openclaw-hosting", {
  description: "Hardened OpenClaw gateways (memory limit, read-only, cap-drop ALL, no-new-privileges, loopback ports) and DNS-only records.",
  enforcementLevel: "mandatory",
  policies,
});
