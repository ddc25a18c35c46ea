import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import OpenAI, { APIError, toFile } from "openai";
import { pipelineFixtures } from "../helpers/pipeline-fixtures.js";
import { missingPythonModules } from "../helpers/python.js";
import { spawnServe } from "../helpers/serve-process.js";
import { tempDir } from "../helpers/temp-dir.js";

// The embedding model is a tiny sentence-transformers export made by the pipeline fixture script.
const missing = missingPythonModules(["torch", "transformers", "onnx", "sentence_transformers"]);
if (missing && process.env.CI) throw new Error(`Python modules missing: ${missing}`);
const model = missing ? "" : join(pipelineFixtures(), "sentence-embeddings");
const apiKey = "sk-gpux-batch";

const jsonl = (lines: unknown[]) => `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`;
const embeddingLine = (id: string, input: string, name = "sentence-embeddings") => ({
  custom_id: id,
  method: "POST",
  url: "/v1/embeddings",
  body: { model: name, input },
});

async function startServer(home: string) {
  const serve = await spawnServe([model, "--api-key", apiKey], 60_000, { ...process.env, GPUX_HOME: home });
  const client = new OpenAI({ baseURL: `${serve.url}v1`, apiKey, maxRetries: 0 });
  return { serve, client };
}

async function upload(client: OpenAI, text: string) {
  return client.files.create({ file: await toFile(Buffer.from(text), "requests.jsonl"), purpose: "batch" });
}

/** Poll until the batch leaves the states it can still leave. */
async function settled(client: OpenAI, id: string, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (!["validating", "in_progress", "finalizing", "cancelling"].includes(batch.status)) return batch;
    if (Date.now() > end) throw new Error(`batch ${id} still ${batch.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function failure(run: () => Promise<unknown>): Promise<APIError> {
  try {
    await run();
  } catch (error) {
    assert.ok(error instanceof APIError, String(error));
    return error;
  }
  throw new Error("the call succeeded");
}

// One server for the tests that need no restart (set up at the top level, as `after` hooks need).
const shared = missing ? undefined : await startServer(tempDir());

describe("OpenAI Batch API with the real openai npm client", { skip: missing && `needs ${missing}` }, () => {
  test("files.create, batches.create, retrieve and the output file: each line answered as the live route answers it", async () => {
    const { client } = shared as Awaited<ReturnType<typeof startServer>>;
    const texts = ["a cat sat on the mat", "the stock market fell", "a kitten on a rug", "rain all week"];
    const lines = texts.map((text, i) => embeddingLine(`req-${i}`, text));
    lines.splice(2, 0, embeddingLine("req-missing", "who serves me?", "no/such-model"));
    const file = await upload(client, jsonl(lines));
    assert.equal(file.purpose, "batch");
    assert.equal(file.object, "file");
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/embeddings",
      completion_window: "24h",
      metadata: { job: "nightly" },
    });
    assert.equal(created.object, "batch");
    assert.equal(created.input_file_id, file.id);
    const batch = await settled(client, created.id);
    assert.equal(batch.status, "completed", JSON.stringify(batch.errors));
    assert.deepEqual(batch.request_counts, { total: 5, completed: 4, failed: 1 });
    assert.deepEqual(batch.metadata, { job: "nightly" });
    assert.ok(batch.output_file_id && batch.error_file_id);

    const output = (await (await client.files.content(batch.output_file_id)).text()).trim().split("\n");
    assert.equal(output.length, 4);
    for (const [i, text] of output.entries()) {
      const line = JSON.parse(text);
      assert.equal(line.custom_id, `req-${i}`, "written in input order");
      assert.equal(line.response.status_code, 200);
      assert.equal(line.error, null);
      const live = await client.embeddings.create({
        model: "sentence-embeddings",
        input: texts[i] as string,
      });
      const got = line.response.body.data[0].embedding as number[];
      const want = live.data[0]?.embedding as number[];
      assert.equal(got.length, want.length);
      assert.ok(Math.max(...got.map((v, j) => Math.abs(v - (want[j] as number)))) < 1e-5);
    }
    const errors = (await (await client.files.content(batch.error_file_id)).text()).trim().split("\n");
    const missingModel = JSON.parse(errors[0] as string);
    assert.equal(missingModel.custom_id, "req-missing");
    assert.equal(missingModel.response.status_code, 404);
    assert.match(
      missingModel.response.body.error.message,
      /sentence-embeddings/,
      "the 404 lists the served model",
    );

    const listed = await client.batches.list();
    assert.ok(listed.data.some((b) => b.id === batch.id));
    const outputFile = await client.files.retrieve(batch.output_file_id);
    assert.equal(outputFile.purpose, "batch_output");
  });

  test("a file with a bad line fails validation with the line number, and nothing runs", async () => {
    const { client } = shared as Awaited<ReturnType<typeof startServer>>;
    const text = `${JSON.stringify(embeddingLine("ok", "fine"))}\n{"custom_id": "broken", \n${JSON.stringify({ ...embeddingLine("ok", "again") })}\n`;
    const file = await upload(client, text);
    const batch = await settled(
      client,
      (
        await client.batches.create({
          input_file_id: file.id,
          endpoint: "/v1/embeddings",
          completion_window: "24h",
        })
      ).id,
    );
    assert.equal(batch.status, "failed");
    const errors = batch.errors?.data ?? [];
    assert.deepEqual(
      errors.map((e) => e.line),
      [2, 3],
    );
    assert.match(errors[0]?.message ?? "", /not valid JSON/);
    assert.match(errors[1]?.message ?? "", /custom_id 'ok' is used twice/);
    assert.equal(batch.output_file_id, null);
  });

  test("bad requests get OpenAI-shaped 4xx answers", async () => {
    const { client } = shared as Awaited<ReturnType<typeof startServer>>;
    const wrongPurpose = await failure(async () =>
      client.files.create({ file: await toFile(Buffer.from("{}\n"), "x.jsonl"), purpose: "fine-tune" }),
    );
    assert.equal(wrongPurpose.status, 400);
    assert.equal(wrongPurpose.param, "purpose");
    const before = (await client.files.list()).data.length;
    await failure(async () =>
      client.files.create({ file: await toFile(Buffer.from("{}\n"), "x.jsonl"), purpose: "assistants" }),
    );
    assert.equal((await client.files.list()).data.length, before, "a refused upload leaves no file");
    const noFile = await failure(() =>
      client.batches.create({
        input_file_id: "file-000000000000000000000000",
        endpoint: "/v1/embeddings",
        completion_window: "24h",
      }),
    );
    assert.equal(noFile.status, 404);
    const file = await upload(client, jsonl([embeddingLine("a", "x")]));
    const endpoint = await failure(() =>
      client.batches.create({
        input_file_id: file.id,
        endpoint: "/v1/responses" as "/v1/embeddings",
        completion_window: "24h",
      }),
    );
    assert.equal(endpoint.status, 400);
    assert.equal(endpoint.param, "endpoint");
    const unknown = await failure(() => client.batches.retrieve("batch_does-not-exist"));
    assert.equal(unknown.status, 404);
  });

  test("SIGTERM after the batches: the server drains and exits at once (batch lines hold no request open)", async () => {
    const { serve } = shared as Awaited<ReturnType<typeof startServer>>;
    const started = Date.now();
    serve.child.kill("SIGTERM");
    assert.equal(await serve.exited, 0);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });

  test("a server killed mid-batch: the next start marks the batch failed and no half-written output is listed", async () => {
    const home = tempDir();
    const first = await startServer(home);
    const lines = Array.from({ length: 3000 }, (_, i) =>
      embeddingLine(`r${i}`, `sentence number ${i} of many`),
    );
    const file = await upload(first.client, jsonl(lines));
    const created = await first.client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/embeddings",
      completion_window: "24h",
    });
    for (;;) {
      const batch = await first.client.batches.retrieve(created.id);
      if ((batch.request_counts?.completed ?? 0) > 0) break;
      assert.equal(batch.status === "completed", false, "the batch must still be running when killed");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    first.serve.child.kill("SIGKILL");
    await first.serve.exited;

    const second = await startServer(home);
    const batch = await second.client.batches.retrieve(created.id);
    assert.equal(batch.status, "failed");
    assert.equal(batch.errors?.data?.[0]?.code, "server_stopped");
    assert.equal(batch.output_file_id, null);
    const files = (await second.client.files.list()).data;
    assert.deepEqual(
      files.map((f) => f.id),
      [file.id],
      "only the input file is listed",
    );
    const leftovers = readdirSync(join(home, "batches", "batches")).filter((name) =>
      name.endsWith(".partial"),
    );
    assert.deepEqual(leftovers, []);
    assert.ok(existsSync(join(home, "batches", "files", file.id)));
  });
});
