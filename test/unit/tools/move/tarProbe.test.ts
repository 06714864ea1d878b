// npm run move's copy needs a tar that writes the POSIX format (a tenant's uid does not fit an older
// header): an image without one is refused before the tenant is stopped. The Docker CLI here is a
// stand-in on PATH that answers as an engine would and records every call.
import * as fs from "fs";
import * as path from "path";
import { MoveError, moveTenantData } from "../../../../tools/move/transfer";
import { outsideTempDir } from "../../../support/roster";

const FAKE_DOCKER = `#!/bin/sh
echo "$*" >>"$DOCKER_CALLS"
case "$*" in
  "container inspect -f"*) echo true; exit 0 ;;        # the tenant runs on the old server
  "container inspect"*) exit 1 ;;                      # the new server has no container of the tenant
  "volume inspect -f"*) echo null; exit 0 ;;           # the old server's volumes: plain local volumes
  "volume inspect"*) exit 1 ;;                         # the new server has none of them
  "image inspect"*) exit 0 ;;
  run*"--entrypoint tar"*) [ "$TAR" = gnu ] && exit 0; echo "tar: unrecognized option '--format=posix'" >&2; exit 1 ;;
  *) exit 0 ;;
esac
`;

function engines(tar: "gnu" | "busybox") {
  const dir = outsideTempDir();
  fs.writeFileSync(path.join(dir, "docker"), FAKE_DOCKER, { mode: 0o755 });
  const calls = path.join(dir, "calls");
  fs.writeFileSync(calls, "");
  const env = { ...process.env, PATH: `${dir}:${process.env.PATH ?? ""}`, DOCKER_CALLS: calls, TAR: tar };
  return { from: { name: "s1", env }, to: { name: "s2", env }, calls: () => fs.readFileSync(calls, "utf8").trim().split("\n") };
}

const bob = { name: "bob", diskMb: 2048, diskQuota: "off" as const };

test("an image whose tar cannot write the POSIX format (busybox's) is refused before bob is stopped: nothing was changed", async () => {
  const e = engines("busybox");
  const err = await moveTenantData(bob, "example/gateway:1", e.from, e.to).then(() => undefined, (x: unknown) => x);
  expect(err).toBeInstanceOf(MoveError);
  expect((err as MoveError).message).toBe(
    "server s1: the image example/gateway:1 has no tar that writes the POSIX format (GNU tar), which the copy needs to keep bob's own uid (tar: unrecognized option '--format=posix'); nothing was changed");
  const calls = e.calls();
  expect(calls.filter((c) => /^(stop|volume create|rm)\b/.test(c))).toEqual([]);
  expect(calls[calls.length - 1]).toBe("run --rm --network none --entrypoint tar example/gateway:1 --format=posix --sort=name -cf /dev/null -T /dev/null");
});

test("with GNU tar on both servers the move goes on to stop bob (the probe passes)", async () => {
  const e = engines("gnu");
  // The stand-in engine answers no manifest, so the move stops later; what matters is that it got past the probe to the stop.
  await moveTenantData(bob, "example/gateway:1", e.from, e.to).catch(() => undefined);
  const calls = e.calls();
  expect(calls.filter((c) => c.includes("-cf /dev/null -T /dev/null")).length).toBe(2);
  expect(calls.some((c) => c.startsWith("stop "))).toBe(true);
});
