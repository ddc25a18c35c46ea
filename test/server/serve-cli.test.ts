import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { spawnServe } from "../helpers/serve-process.js";
import { addOneSpec, call, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();

describe("gpux serve from the command line", () => {
  test("a model repository: bare folders, gpux.yml folders and numbered versions, all served", async () => {
    const repo = join(dir, "repo");
    mkdirSync(repo);
    writeModelFolder(repo, "bare", addOneSpec);
    writeModelFolder(repo, "configured", addOneSpec, "name: with-config\nmodel:\n  source: model.onnx\n");
    mkdirSync(join(repo, "versioned"));
    writeModelFolder(join(repo, "versioned"), "1", addOneSpec);
    writeModelFolder(join(repo, "versioned"), "2", addOneSpec);
    const server = await spawnServe([repo]);
    const body = { inputs: [{ name: "x", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }] };
    for (const name of ["bare", "with-config", "versioned"]) {
      assert.equal((await call(`${server.url}v2/models/${name}/ready`)).status, 200, name);
      const answer = await call(`${server.url}v2/models/${name}/infer`, { body });
      assert.deepEqual(
        (answer.body as { outputs: Array<{ data: number[] }> }).outputs[0]?.data,
        [2, 3, 4, 5],
      );
    }
    assert.deepEqual((await call(`${server.url}health`)).body, {
      status: "healthy",
      model: "bare",
      models: ["bare", "with-config", "versioned"],
    });
    const several = await call(`${server.url}predict`, { body: { x: [[1, 2, 3, 4]] } });
    assert.equal(several.status, 400);
    assert.match((several.body as { error: string }).error, /Several models/);
    server.child.kill("SIGTERM");
    assert.equal(await server.exited, 0);
  });

  test("with several models the banner prints each one's /predict and OIP URL, and each answers as printed", async () => {
    const plain = writeModelFolder(dir, "banner-plain", addOneSpec);
    const slashed = writeModelFolder(
      dir,
      "banner-slashed",
      addOneSpec,
      "name: org/adder\nmodel:\n  source: model.onnx\n",
    );
    const server = await spawnServe([plain, slashed]);
    const printed = server.stdout().match(/http:\/\/\S+/g) ?? [];
    assert.deepEqual(
      printed.filter((u) => u.includes("/predict/")),
      [`${server.url}predict/banner-plain`, `${server.url}predict/org/adder`],
      server.stdout(),
    );
    const oip = printed.filter((u) => u.endsWith("/infer"));
    assert.deepEqual(oip, [
      `${server.url}v2/models/banner-plain/infer`,
      `${server.url}v2/models/org/adder/infer`,
    ]);
    for (const url of oip) {
      const body = { inputs: [{ name: "x", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }] };
      const answer = await call(url, { body });
      assert.equal(answer.status, 200, `${url}: ${JSON.stringify(answer.body)}`);
    }
    for (const url of printed.filter((u) => u.includes("/predict/"))) {
      const answer = await call(url, { body: { x: [[1, 2, 3, 4]] } });
      assert.equal(answer.status, 200, `${url}: ${JSON.stringify(answer.body)}`);
      assert.equal((await call(url.replace("/predict/", "/info/"))).status, 200, url);
    }
    server.child.kill("SIGTERM");
    assert.equal(await server.exited, 0);
  });

  test("a folder like /mnt/models with only model.onnx, renamed with --model-name", async () => {
    const server = await spawnServe([
      writeModelFolder(dir, "mnt-models", addOneSpec),
      "--model-name",
      "my-isvc",
    ]);
    assert.equal((await call(`${server.url}v2/models/my-isvc/ready`)).status, 200);
    server.child.kill("SIGTERM");
    assert.equal(await server.exited, 0);
  });

  test("every gpux.yml serving field takes effect; flags override them", async () => {
    const yaml = `name: tuned
model:
  source: model.onnx
serving:
  host: 127.0.0.1
  api_key: \${TEST_GPUX_KEY}
  workers: 2
  max_batch_size: 4
  max_queue_delay_ms: 3
  max_concurrency: 7
  timeout_ms: 1234
  worker_nice: 5
  cors: "*"
`;
    const folder = writeModelFolder(dir, "tuned", addOneSpec, yaml);
    process.env.TEST_GPUX_KEY = "from-env";
    const server = await spawnServe([folder, "--max-batch-size", "2"]);
    assert.equal((await call(`${server.url}info`)).status, 401);
    const info = await call(`${server.url}info`, {
      headers: { authorization: "Bearer from-env", origin: "https://anywhere.example" },
    });
    assert.equal(info.status, 200);
    assert.equal(info.headers.get("access-control-allow-origin"), "*");
    assert.deepEqual((info.body as { serving: Record<string, unknown> }).serving, {
      state: "ready",
      workers: 2,
      max_batch_size: 2,
      max_queue_delay_ms: 3,
      max_concurrency: 7,
      timeout_ms: 1234,
      warmup_ms: (info.body as { serving: { warmup_ms: number } }).serving.warmup_ms,
      auth_required: true,
    });
    server.child.kill("SIGINT");
    assert.equal(await server.exited, 0);
  });

  test("the earlier names work: batch_size, max_workers, timeout in seconds", async () => {
    const yaml =
      "name: old\nmodel:\n  source: model.onnx\nserving:\n  batch_size: 3\n  max_workers: 2\n  timeout: 2\n";
    const server = await spawnServe([writeModelFolder(dir, "old", addOneSpec, yaml)]);
    const serving = ((await call(`${server.url}info`)).body as { serving: Record<string, number> }).serving;
    assert.equal(serving.max_batch_size, 3);
    assert.equal(serving.workers, 2);
    assert.equal(serving.timeout_ms, 2000);
    server.child.kill("SIGTERM");
    assert.equal(await server.exited, 0);
  });

  test("bad flags and missing models exit non-zero with a message, not a stack", async () => {
    const bad = await runCli(["serve", join(dir, "bare-missing")]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /error: /);
    const workers = await runCli(["serve", writeModelFolder(dir, "w", addOneSpec), "--workers", "0"]);
    assert.equal(workers.code, 1);
    assert.match(workers.stderr, /--workers must be a whole number ≥ 1/);
    assert.doesNotMatch(workers.stderr, /at .*\.js:\d+/);
  });
});
