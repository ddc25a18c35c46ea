import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import OpenAI, { APIError } from "openai";
import { launchChromium, missingChromium } from "../helpers/chromium.js";
import { repoRoot } from "../helpers/cli.js";
import { repoFromFolder } from "../helpers/fake-hub-repos.js";
import { pullRepos } from "../helpers/pull-repos.js";
import { missingPythonModules } from "../helpers/python.js";
import { type ServeProcess, spawnServe } from "../helpers/serve-process.js";
import { call, startServer } from "../helpers/serving.js";
import { maxAbsDiff, tinyReference, tinyTransformersDir } from "../helpers/tiny-transformers.js";

// The tiny repos are made by Python (transformers, sentence-transformers) and converted by `gpux pull`.
const missing = missingPythonModules([
  "torch",
  "transformers",
  "onnx",
  "onnxruntime",
  "sentence_transformers",
]);
if (missing && process.env.CI) throw new Error(`Python modules missing: ${missing}`);
const fixtures = missing ? undefined : tinyTransformersDir();
const embedder = "tiny/bert-sentence-embedding";
const reranker = "tiny/bert-cross-encoder";
const apiKey = "sk-gpux-test";
const bodyLimit = 64 * 1024;

const reference = (name: string) => tinyReference(join(fixtures as string, name.split("/")[1] as string));

/** Pull both tiny repos from the fake hub (converting them to ONNX) and return their store entries. */
function pullModels(): Promise<string[]> {
  const repos = [embedder, reranker].map((id) => {
    const dir = join(fixtures as string, id.split("/")[1] as string);
    const repo = repoFromFolder(dir, id, { pipelineTag: tinyReference(dir).pipeline_tag });
    delete repo.files["reference.json"];
    return repo;
  });
  return pullRepos(repos);
}

/** Status, OpenAI error body and the client's error class of a call that must fail. */
async function failure(run: () => Promise<unknown>): Promise<APIError> {
  try {
    await run();
  } catch (error) {
    assert.ok(error instanceof APIError, String(error));
    return error;
  }
  throw new Error("the call succeeded");
}

const decodeBase64 = (text: string) => {
  const bytes = Buffer.from(text, "base64");
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
};

// Set up at the top level: `after` hooks registered inside a `before` would run when that hook ends.
const entries = fixtures ? await pullModels() : [];
const serve = fixtures
  ? await spawnServe([...entries, "--api-key", apiKey, "--body-limit", String(bodyLimit)])
  : ({ url: "" } as ServeProcess);
const client = new OpenAI({ baseURL: `${serve.url}v1`, apiKey, maxRetries: 0 });

describe("OpenAI-compatible API: the openai npm client against gpux serve on 127.0.0.1", {
  skip: missing,
}, () => {
  test("models.list and models.retrieve: every served model with its task; ids with a slash work", async () => {
    const list = await client.models.list();
    assert.deepEqual(
      list.data.map((m) => [m.id, m.object, m.owned_by, (m as unknown as { task: string }).task]),
      [
        [embedder, "model", "gpux", "sentence-similarity"],
        [reranker, "model", "gpux", "text-classification"],
      ],
    );
    const one = await client.models.retrieve(reranker); // the client sends tiny%2Fbert-cross-encoder
    assert.equal(one.id, reranker);
    const literal = await call(`${serve.url}v1/models/${reranker}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    assert.equal((literal.body as { id: string }).id, reranker);
  });

  test("embeddings equal sentence-transformers' within 1e-4: float, base64, and the client's default", async () => {
    const ref = reference(embedder);
    const input = (ref.texts as { input: string[] }).input;
    const expected = ref.text_outputs?.embeddings as number[][];
    const float = await client.embeddings.create({ model: embedder, input, encoding_format: "float" });
    assert.equal(float.model, embedder);
    assert.deepEqual(
      float.data.map((d) => [d.object, d.index]),
      input.map((_, i) => ["embedding", i]),
    );
    const diff = maxAbsDiff(
      float.data.map((d) => d.embedding),
      expected,
    );
    assert.ok(diff <= 1e-4, `float: max abs diff ${diff}`);
    // [CLS] + words + [SEP] for each text: 5+2, 2+2, 7+2
    assert.deepEqual(float.usage, { prompt_tokens: 20, total_tokens: 20 });
    // without encoding_format the client asks for base64 and decodes it itself
    const byDefault = await client.embeddings.create({ model: embedder, input });
    assert.ok(
      maxAbsDiff(
        byDefault.data.map((d) => d.embedding),
        expected,
      ) <= 1e-4,
    );
    const base64 = await client.embeddings.create({ model: embedder, input, encoding_format: "base64" });
    const decoded = base64.data.map((d) => decodeBase64(d.embedding as unknown as string));
    assert.ok(maxAbsDiff(decoded, expected) <= 1e-4, "base64 decodes as little-endian float32");
  });

  test("embeddings of token ids equal those of the text; dimensions truncates and renormalises", async () => {
    const expected = reference(embedder).text_outputs?.embeddings as number[][];
    // "w1 w2 w3 a b" without its special tokens: w<i> is id 31 + i, letters follow the 5 specials
    const ids = await client.embeddings.create({
      model: embedder,
      input: [[32, 33, 34, 5, 6]],
      encoding_format: "float",
    });
    assert.ok(maxAbsDiff(ids.data[0]?.embedding, expected[0]) <= 1e-4);
    const short = await client.embeddings.create({
      model: embedder,
      input: "c d",
      dimensions: 8,
      encoding_format: "float",
    });
    const head = (expected[1] as number[]).slice(0, 8);
    const norm = Math.hypot(...head);
    assert.ok(
      maxAbsDiff(
        short.data[0]?.embedding,
        head.map((v) => v / norm),
      ) <= 1e-4,
    );
    const tooMany = await failure(() =>
      client.embeddings.create({ model: embedder, input: "c d", dimensions: 33 }),
    );
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.param, "dimensions");
    assert.match(tooMany.message, /embeddings have 32/);
  });

  test("rerank scores equal the cross-encoder's (CrossEncoder.predict: sigmoid of the logit) within 1e-4", async () => {
    const ref = reference(reranker);
    const { query, documents } = ref.texts as { query: string; documents: string[] };
    const scores = ref.text_outputs?.scores as number[];
    const answer = (await client.post("/rerank", {
      body: { model: reranker, query, documents, return_documents: true },
    })) as {
      model: string;
      results: Array<{ index: number; relevance_score: number; document: { text: string } }>;
    };
    assert.equal(answer.model, reranker);
    const order = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
    assert.deepEqual(
      answer.results.map((r) => r.index),
      order.map(([, i]) => i),
    );
    for (const result of answer.results) {
      assert.ok(Math.abs(result.relevance_score - (scores[result.index] as number)) <= 1e-4);
      assert.equal(result.document.text, documents[result.index]);
    }
    const top = await call(`${serve.url}v1/rerank`, {
      headers: { authorization: `Bearer ${apiKey}` },
      body: { model: reranker, query, documents: documents.map((text) => ({ text })), top_n: 2 },
    });
    const results = (top.body as { results: Array<Record<string, unknown>> }).results;
    assert.deepEqual(
      results.map((r) => r.index),
      order.slice(0, 2).map(([, i]) => i),
    );
    assert.ok(
      results.every((r) => !("document" in r)),
      "documents only when asked for",
    );
  });

  test("errors of each kind reach the client as APIError with OpenAI's code and param", async () => {
    const unknown = await failure(() => client.embeddings.create({ model: "nope", input: "a" }));
    assert.ok(unknown instanceof OpenAI.NotFoundError);
    assert.equal(unknown.code, "model_not_found");
    assert.match(
      unknown.message,
      /Served models: tiny\/bert-sentence-embedding \(sentence-similarity\), tiny\/bert-cross-encoder/,
    );
    const wrongTask = await failure(() => client.embeddings.create({ model: reranker, input: "a" }));
    assert.ok(wrongTask instanceof OpenAI.BadRequestError);
    assert.equal(wrongTask.code, "model_not_supported");
    assert.match(wrongTask.message, /Served models that can: tiny\/bert-sentence-embedding/);
    const missingField = await failure(() => client.embeddings.create({ model: embedder } as never));
    assert.deepEqual(
      [missingField.status, missingField.code, missingField.param],
      [400, "missing_required_parameter", "input"],
    );
    const wrongType = await failure(() => client.embeddings.create({ model: embedder, input: 5 } as never));
    assert.deepEqual([wrongType.status, wrongType.code, wrongType.param], [400, "invalid_type", "input"]);
    const tooLarge = await failure(() =>
      client.embeddings.create({ model: embedder, input: "a ".repeat(bodyLimit) }),
    );
    assert.deepEqual([tooLarge.status, tooLarge.code], [413, "request_too_large"]);
    assert.match(tooLarge.message, /larger than the 65536-byte limit .* --body-limit BYTES/);
    const badKey = new OpenAI({ baseURL: `${serve.url}v1`, apiKey: "sk-wrong", maxRetries: 0 });
    const denied = await failure(() => badKey.models.list());
    assert.ok(denied instanceof OpenAI.AuthenticationError);
    assert.equal(denied.code, "invalid_api_key");
    const chat = await failure(() =>
      client.chat.completions.create({ model: embedder, messages: [{ role: "user", content: "hi" }] }),
    );
    assert.deepEqual([chat.status, chat.code, chat.param], [400, "model_not_supported", "model"]);
    assert.match(chat.message, /not a text-generation model/);
    const twoChoices = await failure(() =>
      client.chat.completions.create({ model: embedder, n: 2, messages: [{ role: "user", content: "hi" }] }),
    );
    assert.deepEqual([twoChoices.status, twoChoices.param], [400, "n"]);
    const completion = await failure(() =>
      client.completions.create({ model: reranker, prompt: "hi", echo: true }),
    );
    assert.deepEqual([completion.status, completion.code], [400, "model_not_supported"]);
  });

  test("raw HTTP: every error body is exactly OpenAI's shape", async () => {
    const auth = { authorization: `Bearer ${apiKey}` };
    const cases: Array<[string, Parameters<typeof call>[1], number, string | null, string | null]> = [
      ["v1/embeddings", { raw: "{not json", headers: auth }, 400, null, "invalid_json"],
      ["v1/embeddings", { body: [1, 2], headers: auth }, 400, null, "invalid_json"],
      [
        "v1/embeddings",
        { body: { model: embedder, input: "a", colour: "red" }, headers: auth },
        400,
        "colour",
        "unknown_parameter",
      ],
      [
        "v1/embeddings",
        { body: { model: embedder, input: "a", encoding_format: "int8" }, headers: auth },
        400,
        "encoding_format",
        "invalid_value",
      ],
      [
        "v1/rerank",
        { body: { model: reranker, query: "a", documents: [] }, headers: auth },
        400,
        "documents",
        "invalid_value",
      ],
      [
        "v1/rerank",
        { body: { model: embedder, query: "a", documents: ["b"] }, headers: auth },
        400,
        "model",
        "model_not_supported",
      ],
      ["v1/models/nope", { headers: auth }, 404, "model", "model_not_found"],
      // decoded once only: a second decoding of "100%" would throw and answer 500
      ["v1/models/100%25", { headers: auth }, 404, "model", "model_not_found"],
      ["v1/no-such-route", { headers: auth }, 404, null, "unknown_url"],
      ["v1/models", {}, 401, null, "invalid_api_key"],
    ];
    for (const [path, init, status, param, code] of cases) {
      const answer = await call(`${serve.url}${path}`, init);
      assert.equal(answer.status, status, `${path}: ${JSON.stringify(answer.body)}`);
      const { error } = answer.body as { error: Record<string, unknown> };
      assert.deepEqual(Object.keys(error).sort(), ["code", "message", "param", "type"], path);
      assert.equal(typeof error.message, "string");
      assert.equal(error.type, status === 401 ? "authentication_error" : "invalid_request_error");
      assert.deepEqual([error.param, error.code], [param, code], `${path}: ${error.message}`);
    }
    // the other protocols keep gpux's own error shape
    const gpux = await call(`${serve.url}info/nope`, { headers: auth });
    assert.equal(typeof (gpux.body as { error: unknown }).error, "string");
  });

  test("/v1 requests are counted per model in /metrics", async () => {
    const metrics = await call(`${serve.url}metrics`, { headers: { authorization: `Bearer ${apiKey}` } });
    const line = (metrics.body as string)
      .split("\n")
      .find((l) => l.startsWith(`gpux_inference_request_success_total{model="${embedder}"`));
    assert.ok(line && Number(line.split(" ").pop()) >= 4, line);
  });
});

const cosine = (a: number[], b: number[]) =>
  a.reduce((s, v, i) => s + v * (b[i] as number), 0) / (Math.hypot(...a) * Math.hypot(...b));

describe("playground views over /v1 in headless Chromium", { skip: missing }, () => {
  test("the similarity view shows the cosine matrix, the rerank view the ranking", async (t) => {
    const noBrowser = missingChromium();
    if (noBrowser) {
      t.skip(noBrowser);
      return;
    }
    const server = await startServer(entries); // no API key: the page calls the routes directly
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
      await page.goto(server.url);
      const embedSection = page.locator(`[id="model-${embedder}"]`);
      const texts = (reference(embedder).texts as { input: string[] }).input;
      await embedSection.locator("form.similarity textarea").fill(texts.join("\n"));
      await embedSection.locator("form.similarity button").click();
      await embedSection.locator("table.cosine-matrix").waitFor({ timeout: 20_000 });
      const cells = await embedSection
        .locator("table.cosine-matrix td")
        .evaluateAll((tds) => tds.map((td) => Number(td.textContent)));
      const vectors = reference(embedder).text_outputs?.embeddings as number[][];
      const expected = vectors.flatMap((a) => vectors.map((b) => cosine(a, b)));
      assert.equal(cells.length, 9);
      assert.ok(maxAbsDiff(cells, expected) <= 1e-4 + 5e-5, `${cells} vs ${expected}`); // shown to 4 decimals

      const rerankSection = page.locator(`[id="model-${reranker}"]`);
      const { query, documents } = reference(reranker).texts as { query: string; documents: string[] };
      await rerankSection.locator("form.rerank input[name=query]").fill(query);
      await rerankSection.locator("form.rerank textarea").fill(documents.join("\n"));
      await rerankSection.locator("form.rerank button").click();
      await rerankSection.locator("ol.ranking li").first().waitFor({ timeout: 20_000 });
      const ranked = await rerankSection.locator("ol.ranking li span").allTextContents();
      const scores = reference(reranker).text_outputs?.scores as number[];
      const order = scores.map((score, i) => [score, i] as const).sort((a, b) => b[0] - a[0]);
      assert.deepEqual(
        ranked,
        order.map(([, i]) => documents[i]),
      );
      assert.deepEqual(pageErrors, []);
      const outDir = join(repoRoot, "test-output");
      mkdirSync(outDir, { recursive: true });
      await page.screenshot({ path: join(outDir, "playground-openai.png"), fullPage: true });
      assert.ok(existsSync(join(outDir, "playground-openai.png")));
    } finally {
      await browser.close();
    }
  });
});
