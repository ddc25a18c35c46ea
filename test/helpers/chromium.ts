/** Headless Chromium for the playground tests: Debian's package (installed by .ci/run) through playwright-core. */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const chromiumPath = process.env.GPUX_CHROMIUM ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined; on CI a missing Chromium is an error, not a skip. */
export function missingChromium(): string | undefined {
  if (existsSync(chromiumPath)) return undefined;
  if (process.env.CI) throw new Error(`no Chromium at ${chromiumPath}`);
  return `no Chromium at ${chromiumPath} (apt-get install chromium)`;
}

/** A headless browser; the caller closes it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
