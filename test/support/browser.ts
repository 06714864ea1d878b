/**
 * Debian's Chromium (apt package `chromium`, installed by test/machinery/runtime-env.sh), driven by
 * playwright-core: no browser download. Every launch gets a fresh profile, removed on close.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BrowserContext, chromium } from "playwright-core";

export const CHROMIUM = process.env.OPENCLAW_CHROMIUM ?? "/usr/bin/chromium";

export interface LaunchedBrowser {
  context: BrowserContext;
  close: () => Promise<void>;
}

export async function launchChromium(): Promise<LaunchedBrowser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (bash test/machinery/runtime-env.sh install)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "openclaw-chromium-"));
  // A persistent context is how playwright takes a user-data-dir: a fresh one per launch.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
    ],
    viewport: { width: 1500, height: 1000 },
    timeout: 60000,
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
