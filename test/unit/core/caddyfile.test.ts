import { CaddyfileError, EdgeOptions, ROUTE_CHECK_PATH, caddyfileProblems, renderCaddyfile, renderRoutes, routesDirOf } from "../../../core/caddyfile";

const options: EdgeOptions = { adminAddress: "localhost:2019", domain: "claw.example.com", routesDir: "/etc/caddy/routes", acmeEmail: "ops@example.com", localCerts: false };
const sites = [
  { host: "carol.claw.example.com", port: 18802, state: "suspended" as const },
  { host: "alice.claw.example.com", port: 18800, state: "active" as const },
  { host: "bob.claw.example.com", port: 18801, state: "active" as const },
];

describe("renderCaddyfile: one site for every tenant, routed from files per request", () => {
  const text = renderCaddyfile(options);

  test("names no tenant and no port of one, so a roster change never changes it (nor reloads Caddy)", () => {
    for (const s of sites) {
      expect(text).not.toContain(s.host.split(".")[0]);
      expect(text).not.toContain(String(s.port));
    }
  });

  test("serves *.<domain> with on-demand certificates, asked of the route files on loopback", () => {
    expect(text).toContain("*.claw.example.com {\n\ttls {\n\t\ton_demand\n\t}\n");
    expect(text).toContain(`\ton_demand_tls {\n\t\tpermission http http://127.0.0.1:80${ROUTE_CHECK_PATH}\n\t}\n`);
    const check = text.slice(text.indexOf("http://127.0.0.1:80 {"), text.indexOf("*.claw.example.com {"));
    expect(check).toContain("\t\tremote_ip 127.0.0.1/32\n");
    expect(check).toContain(`\t\tpath ${ROUTE_CHECK_PATH}\n`);
    expect(check).toContain("\t\tvars_regexp {query.domain} ^[a-z0-9-]+\\.claw\\.example\\.com$\n");
    expect(check).toContain("\t\t\troot /etc/caddy/routes\n\t\t\ttry_files /{query.domain}/*\n");
    expect(check).toContain("\trespond @routed 200\n\trespond 404\n");
  });

  test("proxies a host whose entry is port-<port> to 127.0.0.1:<port>, keeping WebSockets across the rare reload", () => {
    expect(text).toContain("\t\ttry_files /{host}/*\n");
    expect(text).toContain("\t\t@active vars_regexp route {http.matchers.file.relative} ^/[^/]+/port-([0-9]{1,5})$\n");
    expect(text).toContain("\t\t\treverse_proxy 127.0.0.1:{re.route.1} {\n\t\t\t\tstream_close_delay 5m\n\t\t\t}\n");
  });

  test("answers any other routed host (suspended) with 503 and the suspended text, and closes an unrouted one", () => {
    expect(text).toContain('\t\t\trespond "{host} is suspended. Its data is kept; ask your operator to resume it." 503\n');
    expect(text).toContain('\t\t\theader Retry-After "3600"\n');
    expect(text).toMatch(/\thandle \{\n\t\tabort\n\t\}\n\}\n$/);
  });

  test("writes global options from config, and only those set; the permission endpoint follows the HTTP port", () => {
    const local = renderCaddyfile({ ...options, acmeEmail: undefined, adminAddress: "127.0.0.1:2999", localCerts: true, httpPort: 8080, httpsPort: 8443, storageDir: "/srv/caddy" });
    expect(local).toContain(
      "{\n\tadmin 127.0.0.1:2999\n\tlocal_certs\n\tskip_install_trust\n\thttp_port 8080\n\thttps_port 8443\n\tstorage file_system /srv/caddy\n\ton_demand_tls {\n\t\tpermission http http://127.0.0.1:8080/openclaw-route-check\n\t}\n}",
    );
    expect(local).toContain("http://127.0.0.1:8080 {");
    expect(local).not.toContain("email");
    expect(text).toContain("\temail ops@example.com\n");
  });
});

describe("renderRoutes: the route table", () => {
  test("one line per host, port-<port> or suspended, independent of roster order", () => {
    expect(renderRoutes(sites)).toBe("alice.claw.example.com port-18800\nbob.claw.example.com port-18801\ncarol.claw.example.com suspended\n");
    expect(renderRoutes([...sites].reverse())).toBe(renderRoutes(sites));
    expect(renderRoutes([])).toBe("");
  });

  test("one tenant's edit changes only that tenant's line", () => {
    const before = renderRoutes(sites).split("\n");
    const after = renderRoutes(sites.map((s) => (s.host.startsWith("bob") ? { ...s, port: 18850 } : s))).split("\n");
    expect(after.filter((line, i) => line !== before[i])).toEqual(["bob.claw.example.com port-18850"]);
  });

  test("the route folder is caddy.routesDir, else `routes` beside the Caddyfile", () => {
    expect(routesDirOf({ caddyfilePath: "/etc/caddy/Caddyfile" })).toBe("/etc/caddy/routes");
    expect(routesDirOf({ caddyfilePath: "/etc/caddy/Caddyfile", routesDir: "/srv/routes" })).toBe("/srv/routes");
  });
});

describe("the renderers refuse anything that could change the Caddyfile's structure or a route's path (defence in depth)", () => {
  const good: EdgeOptions = { ...options, acmeCa: "https://acme.example.com/directory", storageDir: "/srv/caddy" };
  const breakers = ["\n", "\r", " ", "\t", "{", "}", '"', "'", "`", "#", "\\", "<<", ";", "\u0000", "\u2028"];
  const fields = ["adminAddress", "acmeEmail", "acmeCa", "storageDir", "routesDir"] as const;
  const cases = fields.flatMap((field) => breakers.map((b) => [field, JSON.stringify(b)] as [typeof field, string]));

  test.each(cases)("caddy.%s with %s", (field, shown) => {
    const bad = { ...good, [field]: `${good[field]}${JSON.parse(shown) as string}evil.example.com` };
    expect(caddyfileProblems(sites, bad)).toEqual([expect.objectContaining({ field: `caddy.${field}`, message: expect.stringContaining("structure") })]);
    expect(() => renderCaddyfile(bad)).toThrow(CaddyfileError);
  });

  test.each(breakers.map((b) => [JSON.stringify(b)]))("a site host with %s", (shown) => {
    const bad = [...sites, { host: `dave${JSON.parse(shown) as string}.claw.example.com`, port: 18803, state: "active" as const }];
    expect(caddyfileProblems(bad, good)).toEqual([expect.objectContaining({ field: "name", message: expect.stringContaining("not a plain host name") })]);
    expect(() => renderRoutes(bad)).toThrow(CaddyfileError);
  });

  test("a host that is not one label under the domain is refused (the one site would not route it)", () => {
    for (const host of ["dave.other.example.com", "a.dave.claw.example.com", "claw.example.com"]) {
      expect(caddyfileProblems([{ host, port: 18803, state: "active" }], good)).toEqual([expect.objectContaining({ field: "name", message: expect.stringContaining("one label under claw.example.com") })]);
    }
  });

  test.each([0, -1, 65536, 1.5, Number.NaN])("port %p", (port) => {
    expect(() => renderRoutes([{ host: "dave.claw.example.com", port, state: "active" }])).toThrow(CaddyfileError);
    expect(() => renderCaddyfile({ ...good, httpPort: port })).toThrow(CaddyfileError);
  });

  test("a domain with structure is refused", () => {
    expect(() => renderCaddyfile({ ...good, domain: "claw.example.com {" })).toThrow(CaddyfileError);
  });

  test("good values render", () => {
    expect(caddyfileProblems(sites, good)).toEqual([]);
    expect(renderCaddyfile(good)).toContain("\tstorage file_system /srv/caddy\n");
  });
});
