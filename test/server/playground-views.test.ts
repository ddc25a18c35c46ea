/**
 * The playground's similarity and rerank views behind an API key, in headless Chromium: a tiny sentence
 * embedder and a tiny cross-encoder pulled from the fake hub and served by gpux on 127.0.0.1. One key bar
 * serves every section; errors (the page's own, the server's 400s) are shown in the view that caused them.
 * That the figures equal sentence-transformers' is checked in openai-api.test.ts.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium, missingChromium } from "../helpers/chromium.js";
import { repoRoot } from "../helpers/cli.js";
import { repoFromFolder } from "../helpers/fake-hub-repos.js";
import { pullRepos } from "../helpers/pull-repos.js";
import { missingPythonModules } from "../helpers/python.js";
import { startServer } from "../helpers/serving.js";
import { tinyReference, tinyTransformersDir } from "../helpers/tiny-transformers.js";

const missingPython = missingPythonModules([
  "torch",
  "transformers",
  "onnx",
  "onnxruntime",
  "sentence_transformers",
]);
if (missingPython && process.env.CI) throw new Error(`Python modules missing: ${missingPython}`);
const skip = missingPython ?? missingChromium();
const embedder = "tiny/bert-sentence-embedding";
const reranker = "tiny/bert-cross-encoder";
const apiKey = "sk-playground-test";

function tinyRepo(id: string) {
  const dir = join(tinyTransformersDir(), id.split("/")[1] as string);
  const repo = repoFromFolder(dir, id, { pipelineTag: tinyReference(dir).pipeline_tag });
  delete repo.files["reference.json"];
  return repo;
}

// Served at the top level, so that the server and the hub close when the file ends, not after a hook.
const server = skip
  ? undefined
  : await startServer(await pullRepos([tinyRepo(embedder), tinyRepo(reranker)]), { apiKey });

describe("the playground's similarity and rerank views, behind an API key", { skip }, () => {
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const section = (model: string) => page.locator(`[id="model-${model}"]`);
  const similarity = () => section(embedder).locator("form.similarity");
  const rerank = () => section(reranker).locator("form.rerank");

  before(async () => {
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto((server as NonNullable<typeof server>).url);
  });
  after(() => browser?.close());

  test("one key bar for the server: a wrong key is refused in every section, the right one loads them all", async () => {
    await page.locator("#auth").waitFor();
    for (const model of [embedder, reranker]) {
      await section(model).locator(".error").waitFor();
      assert.match((await section(model).locator(".error").textContent()) ?? "", /API key/);
    }
    await page.locator("#auth input").fill("sk-wrong");
    await page.locator("#auth button").click();
    for (const model of [embedder, reranker]) await section(model).locator(".error").waitFor();
    assert.equal(await similarity().count(), 0);
    await page.locator("#auth input").fill(apiKey);
    await page.locator("#auth button").click();
    await similarity().waitFor();
    await rerank().waitFor();
  });

  test("similarity: one text is refused in the page; three give a symmetric 3×3 cosine matrix", async () => {
    await similarity().locator("textarea").fill("only one text");
    await similarity().locator("button").click();
    await similarity().locator("xpath=..").locator(".error").waitFor();
    assert.equal(
      await similarity().locator("xpath=..").locator(".error").textContent(),
      "Write two or more texts, one per line.",
    );
    await similarity().locator("textarea").fill("a cat sat\na dog ran\n\nthe weather is nice");
    await similarity().locator("button").click();
    const matrix = section(embedder).locator("table.cosine-matrix");
    await matrix.waitFor({ timeout: 20_000 });
    const cells = await matrix.locator("td").evaluateAll((tds) => tds.map((td) => Number(td.textContent)));
    assert.equal(cells.length, 9); // the blank line is not a text
    for (let i = 0; i < 3; i++) {
      assert.equal(cells[i * 4], 1, `diagonal ${i}`);
      for (let j = 0; j < 3; j++) assert.equal(cells[i * 3 + j], cells[j * 3 + i]);
    }
    assert.equal(await section(embedder).locator(".error").count(), 0);
  });

  test("rerank: the server's 400 is shown; a query and documents give a ranking, best first", async () => {
    const view = rerank().locator("xpath=..");
    await rerank().locator("textarea").fill("");
    await rerank().locator("button").click();
    await view.locator(".error").waitFor();
    assert.match((await view.locator(".error").textContent()) ?? "", /'documents' must be a non-empty list/);
    await rerank().locator("textarea").fill("gpux serves models\nbananas are yellow\na server answers");
    await rerank().locator("button").click();
    await view.locator("ol.ranking li").first().waitFor({ timeout: 20_000 });
    const scores = await view
      .locator("ol.ranking em")
      .evaluateAll((ems) => ems.map((em) => Number.parseFloat(em.textContent ?? "")));
    assert.equal(scores.length, 3);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
    );
    assert.equal(await view.locator(".error").count(), 0);
    assert.deepEqual(pageErrors, []);
    const outDir = join(repoRoot, "test-output");
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: join(outDir, "playground-views.png"), fullPage: true });
  });
});
