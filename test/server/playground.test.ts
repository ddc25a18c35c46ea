import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import sharp from "sharp";
import { repoRoot } from "../helpers/cli.js";
import { startServer } from "../helpers/serving.js";

const executablePath = process.env.GPUX_CHROMIUM ?? "/usr/bin/chromium";
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

test("the playground loads in headless Chromium, runs the model and shows labels and latency", async (t) => {
  if (!existsSync(executablePath)) {
    // CI installs Debian's chromium (.ci/run); a bare machine skips.
    if (process.env.CI) throw new Error(`no Chromium at ${executablePath}`);
    t.skip(`no Chromium at ${executablePath} (apt-get install chromium)`);
    return;
  }
  const server = await startServer([join(repoRoot, "examples", "text-direction")]);
  const browser = await chromium.launch({ executablePath, args: chromiumArgs, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(server.url);
    await page.waitForSelector("#model-text-direction form input[type=file]");
    assert.match((await page.textContent("#model-text-direction h2")) ?? "", /text-direction/);
    // Submitting without an image shows a message, not a broken page.
    await page.click("#model-text-direction button[type=submit]");
    await page.waitForSelector("#model-text-direction .error");
    const outDir = join(repoRoot, "test-output");
    mkdirSync(outDir, { recursive: true });
    const image = join(outDir, "playground-input.png");
    await sharp({ create: { width: 192, height: 48, channels: 3, background: { r: 240, g: 240, b: 240 } } })
      .png()
      .toFile(image);
    await page.setInputFiles("#model-text-direction input[type=file]", image);
    await page.click("#model-text-direction button[type=submit]");
    await page.waitForSelector("#model-text-direction .bar", { timeout: 20_000 });
    const labels = await page.$$eval("#model-text-direction .bar span", (spans) =>
      spans.map((s) => s.textContent),
    );
    assert.deepEqual([...labels].sort(), ["0", "180"]);
    const latency = (await page.textContent("#model-text-direction .latency")) ?? "";
    assert.match(latency, /latency \d+\.\d ms \(HTTP 200\)/);
    assert.match(latency, /compute;dur=/);
    assert.deepEqual(pageErrors, []);
    await page.screenshot({ path: join(outDir, "playground.png"), fullPage: true });
    assert.ok(existsSync(join(outDir, "playground.png")));
  } finally {
    await browser.close();
  }
});
