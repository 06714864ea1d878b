// The boot unit server-scripts/tenant-disk.sh installs (`tenant-disk.sh unit` prints it, no root
// needed): one tenant's failing disk must not keep Docker, and so every tenant, from starting.
import { execFileSync } from "child_process";
import { serverScriptPath } from "../../../program/serverScripts";

const unit = execFileSync("bash", [serverScriptPath("tenant-disk"), "unit"], { encoding: "utf8" });
const lines = unit.trim().split("\n");

describe("openclaw-disks.service", () => {
  test("ordered before Docker and wanted by it, never required by it (a failed mount fails only its tenant)", () => {
    expect(lines).toContain("Before=docker.service");
    expect(lines).toContain("WantedBy=multi-user.target docker.service");
    expect(unit).not.toMatch(/^(RequiredBy|Requires|BindsTo|RequisiteOf|Requisite)=/m);
    expect(unit).not.toMatch(/^(RequiredBy|Requires)=.*docker/m);
  });

  test("a oneshot that runs the installed script's boot action and stays active", () => {
    expect(lines).toEqual(expect.arrayContaining(["Type=oneshot", "RemainAfterExit=yes", "ExecStart=/usr/local/lib/openclaw-hosting/tenant-disk.sh boot"]));
  });

  test("an upgrade removes the old RequiredBy link (the old file's [Install] is disabled before it is rewritten)", () => {
    const script = execFileSync("cat", [serverScriptPath("tenant-disk")], { encoding: "utf8" });
    expect(script).toContain("rm -f -- /etc/systemd/system/docker.service.requires/openclaw-disks.service");
    expect(script.indexOf("systemctl disable openclaw-disks.service")).toBeLessThan(script.indexOf('printf \'%s\\n\' "$unit" >"$BOOT_UNIT"'));
  });
});
