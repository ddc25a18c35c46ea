/**
 * The playground's chat view streaming a real answer: a tiny Qwen3 (random weights, a real chat template)
 * pulled from the fake hub and served by gpux on 127.0.0.1; greedy decoding in the page must give
 * transformers' own greedy text for the fixture's chat, token for token, and a second turn must be answered
 * too. A screenshot is saved under test-output/. The page's stream handling in detail (stop, errors, history) is playground-chat.test.ts.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { launchChromium, missingChromium } from "../helpers/chromium.js";
import { repoRoot } from "../helpers/cli.js";
import { pullRepos } from "../helpers/pull-repos.js";
import { missingPythonModules } from "../helpers/python.js";
import { startServer } from "../helpers/serving.js";
import {
  causalLmPythonModules,
  tinyCausalLmReference,
  tinyCausalLmRepo,
} from "../helpers/tiny-causal-lms.js";

const missingPython = missingPythonModules([...causalLmPythonModules]);
if (missingPython && process.env.CI) throw new Error(`Python modules missing: ${missingPython}`);
const skip = missingPython ?? missingChromium();
const model = "tiny/qwen3";

test("the chat view streams a greedy answer from a served tiny Qwen3, equal to transformers'", {
  skip,
}, async () => {
  const reference = tinyCausalLmReference("qwen3").chat;
  assert.ok(reference);
  const system = reference.messages.find((m) => m.role === "system")?.content ?? "";
  const user = reference.messages.find((m) => m.role === "user")?.content ?? "";
  const server = await startServer(await pullRepos([tinyCausalLmRepo("qwen3", model)]));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(server.url);
    const chat = page.locator(`[id="model-${model}"] form.chat`);
    await chat.locator("input[name=system]").fill(system);
    await chat.locator("input[name=temperature]").fill("0");
    await chat.locator("input[name=max_tokens]").fill(String(reference.output_ids.length));
    await chat.locator("textarea[name=prompt]").fill(user);
    await chat.locator("button[type=submit]").click();
    const stats = chat.locator(".chat-stats");
    await Promise.race([
      stats.filter({ hasText: /finish: (stop|length)$/ }).waitFor({ timeout: 60_000 }),
      chat
        .locator(".error")
        .filter({ hasText: /\S/ })
        .waitFor({ timeout: 60_000 })
        .then(async () => assert.fail(`the page shows: ${await chat.locator(".error").textContent()}`)),
    ]);
    assert.equal(await chat.locator(".chat-log .assistant").textContent(), reference.text);
    assert.match(
      (await stats.textContent()) ?? "",
      new RegExp(
        `^${reference.output_ids.length} tokens · \\d+\\.\\d tokens/s · first token \\d+ ms · finish: `,
      ),
    );
    // A second turn: the real route takes the conversation as the page sends it (assistant turn included).
    await chat.locator("textarea[name=prompt]").fill("And in French?");
    await chat.locator("textarea[name=prompt]").press("Enter");
    await stats.filter({ hasText: /finish: (stop|length)$/ }).waitFor({ timeout: 60_000 });
    assert.equal(await chat.locator(".chat-log .turn").count(), 4);
    assert.equal(await chat.locator(".error").textContent(), "");
    assert.deepEqual(pageErrors, []);
    const outDir = join(repoRoot, "test-output");
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: join(outDir, "playground-chat.png"), fullPage: true });
    assert.ok(existsSync(join(outDir, "playground-chat.png")));
  } finally {
    await browser.close();
  }
});
