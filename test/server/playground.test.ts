import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { launchChromium, missingChromium } from "../helpers/chromium.js";
import { repoRoot } from "../helpers/cli.js";
import { startServer } from "../helpers/serving.js";

test("the playground loads in headless Chromium, runs the model and shows labels and latency", {
  skip: missingChromium(),
}, async () => {
  const server = await startServer([join(repoRoot, "examples", "text-direction")]);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(server.url);
    // text-direction is an image-classification model: the playground offers a file input.
    await page.waitForSelector("#model-text-direction form input[type=file]");
    assert.match((await page.textContent("#model-text-direction h2")) ?? "", /text-direction/);
    const samples = join(repoRoot, "examples", "text-direction", "samples");
    await page.setInputFiles("#model-text-direction input[type=file]", join(samples, "upside-down.png"));
    await page.click("#model-text-direction button[type=submit]");
    await page.waitForSelector("#model-text-direction .result .bar, #model-text-direction .result .error", {
      timeout: 20_000,
    });
    assert.equal(
      await page.$("#model-text-direction .result .error"),
      null,
      (await page.textContent(".result")) ?? "",
    );
    const labels = await page.$$eval("#model-text-direction .bar span", (spans) =>
      spans.map((s) => s.textContent),
    );
    assert.equal(labels[0], "180");
    assert.deepEqual([...labels].sort(), ["0", "180"]);
    const latency = (await page.textContent("#model-text-direction .latency")) ?? "";
    assert.match(latency, /latency \d+\.\d ms \(HTTP 200\)/);
    assert.match(latency, /compute;dur=/);
    // A bad request (not an image) shows the server's error message, not a broken page.
    await page.setInputFiles(
      "#model-text-direction input[type=file]",
      join(repoRoot, "examples", "text-direction", "gpux.yml"),
    );
    await page.click("#model-text-direction button[type=submit]");
    await page.waitForSelector("#model-text-direction .error");
    assert.match((await page.textContent("#model-text-direction .error")) ?? "", /not an image/);
    assert.deepEqual(pageErrors, []);
    const outDir = join(repoRoot, "test-output");
    mkdirSync(outDir, { recursive: true });
    await page.setInputFiles("#model-text-direction input[type=file]", join(samples, "upright.png"));
    await page.click("#model-text-direction button[type=submit]");
    await page.waitForSelector("#model-text-direction .bar");
    await page.screenshot({ path: join(outDir, "playground.png"), fullPage: true });
    assert.ok(existsSync(join(outDir, "playground.png")));
  } finally {
    await browser.close();
  }
});
