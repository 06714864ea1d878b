import { formatProblem } from "../../../core/problems";
import { ServerAnswer, serverCheckSettings, unansweredServerProblems } from "../../../core/serverCheck";

const servers = [
  { name: "a", fieldPrefix: "servers.a.", tenants: ["alice"] },
  { name: "b", fieldPrefix: "servers.b.", ssh: { host: "b.example.net" }, tenants: Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, "0")}`) },
  { name: "c", fieldPrefix: "servers.c.", ssh: { host: "c.example.net" }, tenants: [] },
];
const answer = (server: string, answered: boolean, reason?: string): ServerAnswer => ({ server, engine: `ssh://deploy@${server}.example.net:22`, answered, reason, ms: 5 });

test("only the servers that did not answer are problems, in name order, each naming its field, engine, reason and tenants", () => {
  const out = unansweredServerProblems([answer("c", false, "ssh exited with 255:\n  Connection refused"), answer("a", true), answer("b", false)], servers, 10, true).map(formatProblem);
  expect(out).toEqual([
    "config servers.b.ssh: server b does not answer at ssh://deploy@b.example.net:22 within 10 s (no reason given). Its 12 tenant(s) (t00, t01, t02, t03, t04, t05, t06, t07, t08, t09 and 2 more) are down until it is back or they are moved; the other servers were not touched either. Bring it back (is sshd up, is dockerd running?), or see the README, \"Losing a server\"; OPENCLAW_SERVER_CHECK=off pulumi up --continue-on-error updates the servers that answer",
    "config servers.c.ssh: server c does not answer at ssh://deploy@c.example.net:22 within 10 s (ssh exited with 255: Connection refused). It has no tenants; the other servers were not touched either. Bring it back (is sshd up, is dockerd running?), or see the README, \"Losing a server\"; OPENCLAW_SERVER_CHECK=off pulumi up --continue-on-error updates the servers that answer",
  ]);
  expect(unansweredServerProblems([answer("a", true), answer("b", true)], servers, 10, true)).toEqual([]);
});

test("a local server of several is named by its local field; a long reason is cut", () => {
  const [p] = unansweredServerProblems([answer("a", false, "x".repeat(1000))], servers, 10, true);
  expect(p.field).toBe("servers.a.local");
  expect(p.message).toContain(`(${"x".repeat(297)}...)`);
});

test("settings: on by default with 10 s; off, a timeout, and bad values named", () => {
  expect(serverCheckSettings({}).settings).toEqual({ OPENCLAW_SERVER_CHECK: "on", OPENCLAW_SERVER_CHECK_TIMEOUT: 10 });
  expect(serverCheckSettings({ OPENCLAW_SERVER_CHECK: "off", OPENCLAW_SERVER_CHECK_TIMEOUT: "30" }).settings).toEqual({ OPENCLAW_SERVER_CHECK: "off", OPENCLAW_SERVER_CHECK_TIMEOUT: 30 });
  expect(serverCheckSettings({ OPENCLAW_SERVER_CHECK_TIMEOUT: "301" }).problems.map(formatProblem)).toEqual(["config (environment).OPENCLAW_SERVER_CHECK_TIMEOUT: must be at most 300 (seconds)"]);
  expect(serverCheckSettings({ OPENCLAW_SERVER_CHECK_TIMEOUT: "2.5" }).problems.map(formatProblem)).toEqual(["config (environment).OPENCLAW_SERVER_CHECK_TIMEOUT: must be a whole number of seconds"]);
});
