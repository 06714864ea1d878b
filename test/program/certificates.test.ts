// tls.mode under Pulumi's mock engine: every server gets its certificate timer; in wildcard mode the
// Cloudflare token reaches the server only on the command's stdin, as a secret, and the edge waits
// for the first certificate.
import * as path from "path";
import { WILDCARD_CERT_FILE } from "../../core/tls";
import { PROJECT, ProgramFailure, REPO_ROOT, baseConfig, fakeKey, runProgram } from "../support/program";

const sampleRoster = path.join(REPO_ROOT, "tenants");
const apiKeys = { alice: fakeKey("alice"), bob: fakeKey("bob") };
const TOKEN = "cf-token-for-tests-0123456789";
const dns = { zoneId: "0123456789abcdef0123456789abcdef" };

describe("certificates in the program", () => {
  test("perTenant (the default): a timer per server that only records; the Caddyfile names no certificate file", async () => {
    const run = await runProgram(baseConfig(sampleRoster, { apiKeys }));
    const renewal = run.resources.find((r) => r.name === "default-certificates-renewal");
    expect(renewal?.inputs.stdin).toContain("MODE=perTenant\n");
    expect(renewal?.secretInputs).not.toContain("stdin");
    expect(String(run.outputs.caddyfile)).not.toContain(WILDCARD_CERT_FILE);
    expect(run.resources.find((r) => r.name === "edge" && r.type === "openclaw:hosting:Edge")?.options.dependsOn).toBe(2);
  });

  test("wildcard without the Cloudflare token is refused before anything is registered, naming the key", async () => {
    const failure = await runProgram(baseConfig(sampleRoster, { apiKeys, dns, serverIp: "203.0.113.7", tls: { mode: "wildcard" } })).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ProgramFailure);
    const { message, registered } = failure as ProgramFailure;
    expect(registered).toEqual([]);
    expect(message).toContain("nothing was changed");
    expect(message).toContain("config cloudflare:apiToken: tls.mode is wildcard, which needs the Cloudflare token");
  });

  test("wildcard: the token only on stdin, held as a secret, never in the command text or the Caddyfile; the tenants' site serves the wildcard files", async () => {
    const run = await runProgram(
      baseConfig(sampleRoster, { apiKeys, dns, serverIp: "203.0.113.7", tls: { mode: "wildcard" }, "cloudflare:apiToken": TOKEN }),
      {},
      [`${PROJECT}:apiKeys`, "cloudflare:apiToken"],
    );
    const renewal = run.resources.find((r) => r.name === "default-certificates-renewal");
    expect(renewal?.inputs.stdin).toContain(`CLOUDFLARE_DNS_API_TOKEN=${TOKEN}\n`);
    expect(renewal?.inputs.stdin).toContain("MODE=wildcard\nDOMAIN=claw.example.com\nACME_SERVER=https://acme-v02.api.letsencrypt.org/directory\n");
    expect(renewal?.secretInputs).toContain("stdin");
    expect(String(renewal?.inputs.create)).not.toContain(TOKEN);
    const caddyfile = String(run.outputs.caddyfile);
    expect(caddyfile).not.toContain(TOKEN);
    // The one site every tenant host is served by (routes without reloads) names the wildcard's files.
    expect(caddyfile.match(new RegExp(`\\ttls ${WILDCARD_CERT_FILE} `, "g"))?.length).toBe(1);
    expect(caddyfile).toContain(`*.claw.example.com {\n\ttls ${WILDCARD_CERT_FILE} `);
    // The edge waits for the two active gateways and, now, the first certificate.
    expect(run.resources.find((r) => r.name === "edge" && r.type === "openclaw:hosting:Edge")?.options.dependsOn).toBe(3);
    expect(JSON.stringify(run.outputs)).not.toContain(TOKEN);
  });
});
