import assert from "node:assert/strict";
import { test } from "node:test";
import { parseModelRef } from "../../src/registry/registries.js";
import { isSafeRepoPath } from "../../src/registry/safe-repo-path.js";

test("Hub references: org/name, @revision, prefixes, single segment", () => {
  const cases: Array<[string, string, string | undefined]> = [
    ["org/Name", "org/Name", undefined],
    ["org/name@v1.0", "org/name", "v1.0"],
    ["hf:org/name", "org/name", undefined],
    [
      "huggingface:org/name@0123456789abcdef0123456789abcdef01234567",
      "org/name",
      "0123456789abcdef0123456789abcdef01234567",
    ],
    ["gpt2", "gpt2", undefined],
    ["distilbert-base-uncased@main", "distilbert-base-uncased", "main"],
    ["org/name@refs/pr/1", "org/name", "refs/pr/1"],
  ];
  for (const [typed, repoId, revision] of cases) {
    const { registry, ref } = parseModelRef(typed);
    assert.equal(registry.name, "huggingface", typed);
    assert.equal(ref.repoId, repoId, typed);
    assert.equal(ref.revision, revision, typed);
    assert.equal(ref.typed, typed);
  }
  assert.equal(parseModelRef("org/name", { registry: "hf" }).registry.name, "huggingface");
});

test("bad references and unknown registries are user errors", () => {
  for (const typed of ["a/b/c", "org/..", "org/name@../x", "-bad/name", "org/na--me", "", "org/name@"]) {
    assert.throws(() => parseModelRef(typed), { name: "UserError" }, typed);
  }
  assert.throws(() => parseModelRef("org/name", { registry: "dockerhub" }), /Unknown registry 'dockerhub'/);
  assert.throws(() => parseModelRef("mlflow:org/name"), /Unknown registry 'mlflow'/);
});

test("repo paths that would leave the cache are refused", () => {
  for (const path of ["../x", "a/../../b", "/etc/passwd", "C:/x", "a\\b", "./a", "a//b", "", "a/\u0000"]) {
    assert.equal(isSafeRepoPath(path), false, JSON.stringify(path));
  }
  for (const path of ["model.onnx", "onnx/model.onnx_data", "1_Pooling/config.json", ".gitattributes"]) {
    assert.equal(isSafeRepoPath(path), true, path);
  }
});

test("Docker's name:tag reads as name@tag, :latest as the default branch", () => {
  const cases: Array<[string, string, string | undefined]> = [
    ["bert-tiny-like:latest", "bert-tiny-like", undefined],
    ["bert-tiny-like:v1", "bert-tiny-like", "v1"],
    ["org/Name:v2.0", "org/Name", "v2.0"],
    ["hf:org/name:v3", "org/name", "v3"],
  ];
  for (const [typed, repoId, revision] of cases) {
    const { registry, ref } = parseModelRef(typed);
    assert.equal(registry.name, "huggingface", typed);
    assert.deepEqual([ref.repoId, ref.revision], [repoId, revision], typed);
  }
  assert.throws(() => parseModelRef("org/name@v1:x"), { name: "UserError" });
  assert.throws(
    () => parseModelRef("mlflow:org/name"),
    (error: Error & { hint?: string }) => {
      assert.match(error.message, /Unknown registry 'mlflow'/);
      assert.match(error.hint ?? "", /name@revision/);
      return true;
    },
  );
});

test("a model page's URL pasted in place of an id is read as the id, from the Hub or the mirror in use", () => {
  const mirror = "http://127.0.0.1:9999/hub";
  const cases: Array<[string, string, string | undefined]> = [
    ["https://huggingface.co/org/Name", "org/Name", undefined],
    ["https://huggingface.co/org/Name/", "org/Name", undefined],
    ["https://huggingface.co/gpt2", "gpt2", undefined],
    ["https://huggingface.co/org/Name/tree/v1", "org/Name", "v1"],
    ["https://huggingface.co/org/Name/blob/main/config.json", "org/Name", "main"],
    [`${mirror}/org/Name`, "org/Name", undefined],
  ];
  for (const [typed, repoId, revision] of cases) {
    const { ref } = parseModelRef(typed, { env: { HF_ENDPOINT: mirror } });
    assert.deepEqual([ref.repoId, ref.revision], [repoId, revision], typed);
    assert.equal(ref.typed, typed);
  }
  assert.throws(
    () => parseModelRef("https://example.com/org/Name"),
    (error: Error & { hint?: string }) => {
      assert.match(error.message, /is not a model reference huggingface understands/);
      assert.match(error.hint ?? "", /rather than a page's URL \(such as 'org\/Name'\)/);
      return true;
    },
  );
});
