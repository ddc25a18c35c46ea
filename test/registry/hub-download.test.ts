import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { HuggingFaceRegistry } from "../../src/registry/huggingface/huggingface-registry.js";
import { parseModelRef } from "../../src/registry/registries.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { tempDir } from "../helpers/temp-dir.js";

const big = onnxRepo("org/Big", {
  width: 256 * 1024,
  extraFiles: { "model.safetensors": new Uint8Array(4096) },
});
const hub = await startFakeHub({
  repos: [big, onnxRepo("org/Variants", { variants: ["fp16", "quantized"] })],
});
after(() => hub.close());
process.env.GPUX_HUB_BACKOFF_MS = "10";

function registry(cacheDir: string, extra: { offline?: boolean; token?: string } = {}) {
  return new HuggingFaceRegistry({ cacheDir, env: { HF_ENDPOINT: hub.url }, ...extra });
}

async function pull(cacheDir: string, typed: string, options = {}) {
  const reg = registry(cacheDir);
  const { ref } = parseModelRef(typed);
  return reg.pull(await reg.info(ref), options);
}

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

test("pulls the ONNX model, its external data and companions, not the rest, into the HF cache layout", async () => {
  const cache = tempDir();
  const pulled = await pull(cache, "org/big");
  assert.equal(pulled.remote.repoId, "org/Big");
  assert.deepEqual(
    pulled.files.map((f) => f.path),
    ["README.md", "config.json", "onnx/model.onnx", "onnx/model.onnx_data"],
  );
  const commit = hub.commitOf("org/Big");
  const repoDir = join(cache, "models--org--Big");
  assert.equal(readFileSync(join(repoDir, "refs", "main"), "utf8"), commit);
  const data = join(repoDir, "snapshots", commit, "onnx", "model.onnx_data");
  const blob = sha256(big.files["onnx/model.onnx_data"] as Uint8Array);
  assert.equal(readlinkSync(data), `../../../blobs/${blob}`);
  assert.equal(sha256(readFileSync(data)), blob);
  assert.equal(pulled.files.find((f) => f.path === "onnx/model.onnx_data")?.sha256, blob);
  assert.equal(hub.stats.bytesByFile.get("org/Big/model.safetensors"), undefined);
});

test("a dropped connection resumes with a Range request: bytes served stay under size + one chunk", async () => {
  const cache = tempDir();
  hub.resetStats();
  const size = (big.files["onnx/model.onnx_data"] as Uint8Array).length;
  hub.faults.dropAfter = { file: "onnx/model.onnx_data", bytes: Math.floor(size / 2) };
  await pull(cache, "org/Big");
  const served = hub.stats.bytesByFile.get("org/Big/onnx/model.onnx_data") ?? 0;
  assert.equal(hub.stats.downloads.get("org/Big/onnx/model.onnx_data"), 2);
  assert.ok(served < size + 64 * 1024, `served ${served} for a ${size}-byte file`);
  assert.ok(served >= size);
});

test("a stalled connection is cut after HF_HUB_DOWNLOAD_TIMEOUT and resumed where it stopped", {
  timeout: 30_000,
}, async () => {
  const cache = tempDir();
  hub.resetStats();
  const size = (big.files["onnx/model.onnx_data"] as Uint8Array).length;
  hub.faults.stallAfter = { file: "onnx/model.onnx_data", bytes: Math.floor(size / 3) };
  process.env.HF_HUB_DOWNLOAD_TIMEOUT = "0.3";
  try {
    const pulled = await pull(cache, "org/Big");
    const blob = sha256(big.files["onnx/model.onnx_data"] as Uint8Array);
    assert.equal(pulled.files.find((f) => f.path === "onnx/model.onnx_data")?.sha256, blob);
  } finally {
    delete process.env.HF_HUB_DOWNLOAD_TIMEOUT;
  }
  const served = hub.stats.bytesByFile.get("org/Big/onnx/model.onnx_data") ?? 0;
  assert.equal(hub.stats.downloads.get("org/Big/onnx/model.onnx_data"), 2);
  assert.ok(served < size + 64 * 1024, `served ${served} for a ${size}-byte file`);
});

test("a corrupted byte is detected and the file fetched again", async () => {
  const cache = tempDir();
  hub.resetStats();
  hub.faults.corrupt = { file: "onnx/model.onnx_data", offset: 1000 };
  const pulled = await pull(cache, "org/Big");
  assert.equal(hub.stats.downloads.get("org/Big/onnx/model.onnx_data"), 2);
  const blob = sha256(big.files["onnx/model.onnx_data"] as Uint8Array);
  assert.equal(pulled.files.find((f) => f.path === "onnx/model.onnx_data")?.sha256, blob);
});

test("a file corrupt every time fails and leaves no blob behind", async () => {
  const cache = tempDir();
  hub.faults.corrupt = { file: "onnx/model.onnx_data", offset: 5, times: 5 };
  await assert.rejects(pull(cache, "org/Big"), /corrupt after two downloads/);
  hub.faults.corrupt = undefined;
  const blobs = readdirSync(join(cache, "models--org--Big", "blobs"));
  assert.ok(!blobs.includes(sha256(big.files["onnx/model.onnx_data"] as Uint8Array)));
  assert.ok(!existsSync(join(cache, "models--org--Big", "refs", "main")));
});

test("a second pull from a warm cache downloads nothing; offline works from the cache", async () => {
  const cache = tempDir();
  await pull(cache, "org/Big");
  hub.resetStats();
  const again = await pull(cache, "org/Big");
  assert.equal(again.downloadedBytes, 0);
  assert.equal(hub.stats.bytesServed, 0);
  const offline = registry(cache, { offline: true });
  const { ref } = parseModelRef("org/big");
  const remote = await offline.info(ref);
  assert.equal(remote.commit, hub.commitOf("org/Big"));
  const pulled = await offline.pull(remote);
  assert.equal(pulled.files.length, 4);
  await assert.rejects(offline.info(parseModelRef("org/Variants").ref), /not in the Hugging Face cache/);
});

test("variants pick their file; a missing variant lists the offered ones", async () => {
  const cache = tempDir();
  const fp16 = await pull(cache, "org/Variants", { variant: "fp16" });
  assert.ok(fp16.files.some((f) => f.path === "onnx/model_fp16.onnx"));
  assert.ok(!fp16.files.some((f) => f.path === "onnx/model.onnx"));
  const q8 = await pull(cache, "org/Variants", { variant: "q8", dryRun: true });
  assert.ok(q8.files.some((f) => f.path === "onnx/model_quantized.onnx"));
  await assert.rejects(pull(cache, "org/Variants", { variant: "q4" }), /offers fp32, fp16, q8, int8/);
});
