// With no pulumi on PATH the launcher decides to install the SDK's CLI; a failed or hung download
// ends quickly in a message that says what to do. No network: the download itself is stubbed.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { chooseCli } from "../../../../tools/launcher/decisions";
import { CliInstallError, ensureCli } from "../../../../tools/launcher/pulumiCli";

describe("ensureCli", () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-cli-"));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  const choice = () => chooseCli({ onPath: undefined, sdkVersion: "3.270.0", minimumVersion: "3.2.0-alpha", pulumiHome: home });

  it("reports a failed install with the fix", async () => {
    const err = await ensureCli(choice(), () => Promise.reject(new Error("Failed to download https://get.pulumi.com/install.sh: fetch failed")), 5000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliInstallError);
    expect((err as Error).message).toBe(
      `could not install the Pulumi CLI 3.270.0 into ${home}/versions/3.270.0: Failed to download https://get.pulumi.com/install.sh: fetch failed\n` +
        "  fix: this needs the internet (get.pulumi.com); or install the CLI yourself (https://www.pulumi.com/docs/install/, " +
        "e.g. curl -fsSL https://get.pulumi.com | sh), put it on PATH, and run npm start again",
    );
  });

  it("bounds a download that never ends", async () => {
    const started = Date.now();
    const err = await ensureCli(choice(), () => new Promise<PulumiCommand>(() => undefined), 300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliInstallError);
    expect((err as Error).message).toContain("installing the Pulumi CLI 3.270.0 timed out after 300 ms");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("runs the SDK's real PulumiCommand.install into the Pulumi home, and reports its download failure", async () => {
    const realFetch = globalThis.fetch;
    const asked: string[] = [];
    // Offline, as this machine is: the SDK downloads install.sh with fetch.
    globalThis.fetch = ((url: string | URL) => {
      asked.push(String(url));
      return Promise.reject(new TypeError("fetch failed"));
    }) as typeof fetch;
    try {
      const err = await ensureCli(choice(), undefined, 20000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CliInstallError);
      expect((err as Error).message).toContain(`could not install the Pulumi CLI 3.270.0 into ${home}/versions/3.270.0`);
      expect((err as Error).message).toContain("Failed to download https://get.pulumi.com/install.sh: fetch failed");
      expect(asked).toEqual(["https://get.pulumi.com/install.sh"]);
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});
