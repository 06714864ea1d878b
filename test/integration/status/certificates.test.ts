/**
 * How `npm run status` and the dashboard read a server's certificate record on the real engine: a
 * throwaway container of a tenant's image (here the stand-in, in a stopped container labelled like a
 * tenant's) that sees only the record's folder, read-only, as nobody. A folder that is not there
 * gives "not read", and Docker does not create it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Docker from "dockerode";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../../../core/labels";
import { certificatesOf } from "../../../tools/shared/engine/collect";
import { certificateReasons } from "../../../tools/shared/status";

const DOCKER_HOST = process.env.DOCKER_HOST ?? "unix:///run/openclaw-test/docker.sock";
const docker = new Docker({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, "") });
const IMAGE = process.env.OPENCLAW_STANDIN_TAG ?? "openclaw-standin:test";
const NAME = "openclaw-certs-reader-test";
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-it-certs-"));
  fs.chmodSync(dir, 0o755);
  await docker.getContainer(NAME).remove({ force: true }).catch(() => undefined);
  // Only its image and label matter: the reader uses the image of any managed container.
  await docker.createContainer({ name: NAME, Image: IMAGE, Cmd: ["true"], Labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, "openclaw-hosting.test": "certificates" } });
});

afterAll(async () => {
  await docker.getContainer(NAME).remove({ force: true }).catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("the record is read through a helper container and judged; the helper is removed", async () => {
  fs.writeFileSync(path.join(dir, "status.json"), JSON.stringify({
    version: 1, server: "s1", mode: "wildcard", checkedAt: "2026-12-31T04:10:00Z",
    certificates: [{ name: "*.claw.example.com", source: "lego", notAfter: "2027-01-05T00:00:00Z", serial: "0A1B" }],
    renewal: { at: "2026-12-31T04:10:00Z", ok: false, error: "lego renew exited 1: connection refused" },
  }), { mode: 0o644 });
  const before = (await docker.listContainers({ all: true })).length;
  const certs = await certificatesOf(docker, 30_000, new Date("2027-01-01T00:00:00Z"), dir);
  expect(certs?.certificates).toEqual([{ name: "*.claw.example.com", source: "lego", notAfter: "2027-01-05T00:00:00Z", daysLeft: 4 }]);
  expect(certificateReasons(certs ?? null)).toHaveLength(2);
  expect((await docker.listContainers({ all: true })).length).toBe(before);
});

test("a server without the folder: not read, and the folder is not created", async () => {
  const missing = path.join(dir, "absent");
  await expect(certificatesOf(docker, 30_000, new Date(), missing)).rejects.toThrow();
  expect(fs.existsSync(missing)).toBe(false);
});
