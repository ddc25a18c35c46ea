import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { tempDir } from "../helpers/temp-dir.js";

const hub = await startFakeHub({
  repos: [
    onnxRepo("org/Onnx"),
    {
      id: "org/Checkpoint",
      pipelineTag: "text-classification",
      files: {
        "config.json": JSON.stringify({
          architectures: ["BertForSequenceClassification"],
          model_type: "bert",
        }),
        "model.safetensors": new Uint8Array(4096),
      },
    },
  ],
});
after(() => hub.close());

const env = (home: string) => ({
  HF_ENDPOINT: hub.url,
  HF_HUB_CACHE: join(home, "hub"),
  HF_TOKEN: "",
  GPUX_HOME: join(home, "gpux"),
});

test("pull --dry-run of cached files says they are cached and would fetch nothing", async () => {
  const home = tempDir();
  assert.equal((await runCli(["pull", "org/Onnx"], { env: env(home) })).code, 0);
  const dry = await runCli(["pull", "org/Onnx", "--dry-run"], { env: env(home) });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would fetch 0 files, 0 B \(\d+ already in the cache\)/);
  assert.match(dry.stdout, /^onnx\/model\.onnx\s+\d+ B\s+cached$/m);
  assert.doesNotMatch(dry.stdout, /to fetch/);
  const lines = (await runCli(["pull", "org/Onnx", "--dry-run", "--json"], { env: env(home) })).stdout;
  const json = JSON.parse(lines.trim().split("\n").at(-1) as string);
  assert.ok(json.files.every((f: { cached: boolean }) => f.cached === true));
});

test("pull --dry-run of a checkpoint says a conversion follows", async () => {
  const home = tempDir();
  const dry = await runCli(["pull", "org/Checkpoint", "--dry-run"], { env: env(home) });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would fetch 2 files/);
  assert.match(dry.stdout, /^model\.safetensors\s+4\.1 KB\s+to fetch$/m);
  assert.match(dry.stdout, /then convert the safetensors checkpoint to ONNX/);
  assert.ok(!existsSync(join(home, "gpux", "models")));
});
