// npm run pin's pure part (tools/pin/pins.ts): only what the file does not say yet is written.
import { pinSummary, pinText } from "../../../../tools/pin/pins";

describe("pinText", () => {
  test("adds the missing server and port, keeps comments and what was there", () => {
    const r = pinText("# alice\ntier: light\n", { server: "b", port: 18801 });
    expect(r.written).toEqual(["server b", "port 18801"]);
    expect(r.text).toBe("# alice\ntier: light\nserver: b\nport: 18801\n");
    const pinned = pinText("tier: light\nserver: a # mine\n", { server: "b", port: 18801 });
    expect(pinned.written).toEqual(["port 18801"]);
    expect(pinned.text).toContain("server: a # mine");
  });

  test("adds the tenant's uid where the file has none, and never changes one it has", () => {
    expect(pinText("tier: light\nport: 18801\n", { port: 18801, uid: 1900000123 })).toEqual({ text: "tier: light\nport: 18801\nuid: 1900000123\n", written: ["uid 1900000123"] });
    const text = "tier: light\nuid: 1900000007\n";
    expect(pinText(text, { uid: 1900000123 })).toEqual({ text, written: [] });
  });

  test("a file that already says everything is left byte for byte", () => {
    const text = "tier:   light\nport: 18801\n";
    expect(pinText(text, { port: 18802 })).toEqual({ text, written: [] });
  });

  test("the summary", () => {
    expect(pinSummary(2, "tenants", true)).toBe("2 tenant(s) pinned; every tenant in tenants now has a fixed server, port and uid");
    expect(pinSummary(0, "", false)).toBe("0 tenant(s) pinned; every tenant in . now has a fixed port and uid");
  });
});
