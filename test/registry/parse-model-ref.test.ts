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
