import { CaddyfileError, EdgeOptions, caddyfileProblems, renderCaddyfile } from "../../../core/caddyfile";

const options: EdgeOptions = { adminAddress: "localhost:2019", acmeEmail: "ops@example.com", localCerts: false };
const sites = [
  { host: "carol.claw.example.com", port: 18802, state: "suspended" as const },
  { host: "alice.claw.example.com", port: 18800, state: "active" as const },
  { host: "bob.claw.example.com", port: 18801, state: "active" as const },
];

describe("renderCaddyfile", () => {
  test("is independent of roster order", () => {
    expect(renderCaddyfile([...sites].reverse(), options)).toBe(renderCaddyfile(sites, options));
  });

  test("proxies each active tenant to its loopback port with WebSockets kept across reloads", () => {
    const text = renderCaddyfile(sites, options);
    expect(text).toContain("alice.claw.example.com {\n\treverse_proxy 127.0.0.1:18800 {\n\t\tstream_close_delay 5m\n\t}\n}");
    expect(text.indexOf("alice.")).toBeLessThan(text.indexOf("bob."));
  });

  test("answers 503 with a clear message for a suspended tenant, and never proxies it", () => {
    const text = renderCaddyfile(sites, options);
    const carol = text.slice(text.indexOf("carol.claw.example.com {"));
    expect(carol).toContain('respond "carol.claw.example.com is suspended.');
    expect(carol).toContain("503");
    expect(text).not.toContain("127.0.0.1:18802");
  });

  test("writes global options from config, and only those set", () => {
    const local = renderCaddyfile(sites, { adminAddress: "127.0.0.1:2999", localCerts: true, httpPort: 8080, httpsPort: 8443, storageDir: "/srv/caddy" });
    expect(local).toContain("{\n\tadmin 127.0.0.1:2999\n\tlocal_certs\n\tskip_install_trust\n\thttp_port 8080\n\thttps_port 8443\n\tstorage file_system /srv/caddy\n}");
    expect(local).not.toContain("email");
    expect(renderCaddyfile(sites, options)).toContain("\temail ops@example.com\n");
  });

  test("one tenant's edit changes only that tenant's block", () => {
    const before = renderCaddyfile(sites, options).split("\n");
    const after = renderCaddyfile(sites.map((s) => (s.host.startsWith("bob") ? { ...s, port: 18850 } : s)), options).split("\n");
    const changed = after.filter((line, i) => line !== before[i]);
    expect(changed).toEqual(["\treverse_proxy 127.0.0.1:18850 {"]);
  });
});

describe("the renderer refuses anything that could change the Caddyfile's structure (defence in depth)", () => {
  const good: EdgeOptions = { adminAddress: "localhost:2019", acmeEmail: "ops@example.com", acmeCa: "https://acme.example.com/directory", localCerts: false, storageDir: "/srv/caddy" };
  const breakers = ["\n", "\r", " ", "\t", "{", "}", '"', "'", "`", "#", "\\", "<<", ";", "\u0000", "\u2028"];
  const fields = ["adminAddress", "acmeEmail", "acmeCa", "storageDir"] as const;
  const cases = fields.flatMap((field) => breakers.map((b) => [field, JSON.stringify(b)] as [typeof field, string]));

  test.each(cases)("caddy.%s with %s", (field, shown) => {
    const bad = { ...good, [field]: `${good[field]}${JSON.parse(shown) as string}evil.example.com` };
    expect(caddyfileProblems(sites, bad)).toEqual([expect.objectContaining({ field: `caddy.${field}`, message: expect.stringContaining("structure") })]);
    expect(() => renderCaddyfile(sites, bad)).toThrow(CaddyfileError);
  });

  test.each(breakers.map((b) => [JSON.stringify(b)]))("a site host with %s", (shown) => {
    const bad = [...sites, { host: `dave${JSON.parse(shown) as string}.claw.example.com`, port: 18803, state: "active" as const }];
    expect(caddyfileProblems(bad, good)).toEqual([expect.objectContaining({ field: "name", message: expect.stringContaining("not a plain host name") })]);
    expect(() => renderCaddyfile(bad, good)).toThrow(CaddyfileError);
  });

  test.each([0, -1, 65536, 1.5, Number.NaN])("port %p", (port) => {
    expect(() => renderCaddyfile([{ host: "dave.claw.example.com", port, state: "active" }], good)).toThrow(CaddyfileError);
    expect(() => renderCaddyfile(sites, { ...good, httpPort: port })).toThrow(CaddyfileError);
  });

  test("good values render", () => {
    expect(caddyfileProblems(sites, good)).toEqual([]);
    expect(renderCaddyfile(sites, good)).toContain("\tstorage file_system /srv/caddy\n");
  });
});
